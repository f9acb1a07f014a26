//! Gatehouse: sign people in and keep pages and APIs safe with JWTs.
//!
//! A guided tour, from the pure core outwards:

/// The Leptos user interface and its server functions.
pub mod app;
/// Tokens, keys, password hashing and the guard's decision: the pure core.
#[cfg(feature = "ssr")]
pub mod auth;
/// Domain values (the page table, usernames, passwords, roles, safe redirect targets), shared with the browser.
pub mod domain;
/// The error every boundary speaks, shared with the browser.
pub mod error;
/// The one-time message a page shows after a redirect.
pub mod flash;

/// What people do with their accounts and sessions, and what
/// administrators do to accounts: the flows shared by the pages, the API
/// and the command line.
#[cfg(feature = "ssr")]
pub mod accounts;
/// The JSON API under `/api`.
#[cfg(feature = "ssr")]
pub mod api;
/// The command line: serve, or manage accounts.
#[cfg(feature = "ssr")]
pub mod cli;
/// Settings from `GATEHOUSE_*` environment variables.
#[cfg(feature = "ssr")]
pub mod config;
/// Pools, migrations and all SQL.
#[cfg(feature = "ssr")]
pub mod db;
/// Loading or creating the signing key.
#[cfg(feature = "ssr")]
pub mod keystore;
/// Building the router and serving it.
#[cfg(feature = "ssr")]
pub mod startup;
/// The shared application state.
#[cfg(feature = "ssr")]
pub mod state;
/// Logging.
#[cfg(feature = "ssr")]
pub mod telemetry;
/// Everything that speaks HTTP: the guard, cookies, middleware, responses.
#[cfg(feature = "ssr")]
pub mod web;

#[cfg(all(test, feature = "ssr"))]
mod layers;

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
