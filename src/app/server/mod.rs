//! The server functions behind the pages, all under the stable `/_fn/`
//! prefix apart from the JSON API. Each is thin: it finds the caller
//! through the one guard, checks the rule of the page it serves, calls
//! `accounts`, and sets cookies and redirects.

pub mod admin_actions;
pub mod factors;
pub mod passkeys;
pub mod session;

#[cfg(feature = "ssr")]
pub(crate) mod ssr;
