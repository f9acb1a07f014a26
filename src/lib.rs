//! Gatehouse: sign people in and keep pages and APIs safe with JWTs.
//!
//! A guided tour, from the pure core outwards:

/// The Leptos user interface and its server functions.
pub mod app;
/// Tokens, keys and password hashing (pure), and the guard that serves every entry point.
#[cfg(feature = "ssr")]
pub mod auth;
/// Domain values (usernames, passwords, roles, safe redirect targets), shared with the browser.
pub mod domain;
/// The error every boundary speaks, shared with the browser.
pub mod error;
/// The one-time message a page shows after a redirect.
pub mod flash;

/// Register, sign in, re-authenticate, sign out, change or reset a password: the rules shared by every entry point.
#[cfg(feature = "ssr")]
pub mod accounts;
/// What administrators do to accounts, for the admin pages, API and command line.
#[cfg(feature = "ssr")]
pub mod admin;
/// The JSON API under `/api`.
#[cfg(feature = "ssr")]
pub mod api;
/// Throttled actions: sign-in guesses, registrations, reset links.
#[cfg(feature = "ssr")]
pub mod attempts;
/// Audit events made by clients' actions.
#[cfg(feature = "ssr")]
pub mod audit;
/// The command line: serve, or manage accounts.
#[cfg(feature = "ssr")]
pub mod cli;
/// Settings from `GATEHOUSE_*` environment variables.
#[cfg(feature = "ssr")]
pub mod config;
/// Pools, migrations and all SQL.
#[cfg(feature = "ssr")]
pub mod db;
/// Another service trusting Gatehouse tokens through the published keys.
#[cfg(feature = "ssr")]
pub mod downstream;
/// `/health/live` and `/health/ready`.
#[cfg(feature = "ssr")]
pub mod health;
/// Loading or creating the signing key.
#[cfg(feature = "ssr")]
pub mod keystore;
/// Body limits, security headers, the server-function boundary.
#[cfg(feature = "ssr")]
pub mod middleware;
/// Who is calling, behind trusted proxies.
#[cfg(feature = "ssr")]
pub mod proxy;
/// Building the router and serving it.
#[cfg(feature = "ssr")]
pub mod startup;
/// The shared application state.
#[cfg(feature = "ssr")]
pub mod state;
/// Logging.
#[cfg(feature = "ssr")]
pub mod telemetry;
/// Terminating TLS: rustls from PEM files or a local self-signed pair.
#[cfg(feature = "ssr")]
pub mod tls;

/// Browser entry point: attaches the app to the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    // A marker for people and tests: from here on the page is interactive.
    if let Some(body) = leptos::prelude::document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
