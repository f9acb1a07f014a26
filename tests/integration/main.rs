//! Integration tests: the real server on a random port, a fresh database
//! per test, HTTP only. Run against PostgreSQL with `GATEHOUSE_TEST_DB=postgres`.
//!
//! Run them one at a time (`-- --test-threads=1`, as `scripts/test.sh`
//! does): with several Gatehouse apps alive in one process, an SSR page
//! render now and then stalls, which one app under hundreds of concurrent
//! page loads never does (`many_concurrent_page_and_file_loads_complete_each_with_its_own_policy`). The
//! client's 15-second timeout turns any stall into a failure, not a hang.

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
