//! Integration tests: the real server on a random port, a fresh database
//! per test, HTTP only. Run against PostgreSQL with `GATEHOUSE_TEST_DB=postgres`.
//!
//! They run in parallel, many apps in one process, as cargo runs any test.
//! (Page renders once stalled that way: the cause and its test are
//! `pages::pages_keep_rendering_while_other_apps_start_in_the_same_process`.)
//! The client's 15-second timeout turns any stall into a failure, not a hang.

mod admin;
mod api;
mod authenticator;
mod cli;
mod crash;
mod csrf;
mod downstream;
mod helpers;
mod instances;
mod keys;
mod mfa;
mod mfa_form;
mod mfa_setup;
mod openapi;
mod outage;
mod pages;
mod passkey_abuse;
mod passkeys;
mod password;
mod policy;
mod reset;
mod sessions;
mod sqlite_only;
mod throttle;
mod tls;
