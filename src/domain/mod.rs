//! Domain values shared by the server and the browser: parsed once at the
//! edge, trusted afterwards. Pure: no IO, no framework types.

mod admin;
mod common_passwords;
mod display;
mod next_path;
mod pages;
mod password;
mod role;
mod session;
mod username;

pub use admin::{AuditEntry, AuditKind, Page, UserSummary};
pub use display::{describe_user_agent, device_and_address, format_utc, query_string};
pub use next_path::{DEFAULT_AFTER_SIGN_IN, safe_next_path};
pub use pages::{PROTECTED_PAGES, PageRule, page_rule};
pub use password::{Password, PasswordError};
pub use role::Role;
pub use session::{AccountOverview, SessionSummary, previous_sign_in};
pub use username::{Username, UsernameError};
