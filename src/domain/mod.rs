//! Domain values shared by the server and the browser: parsed once at the
//! edge, trusted afterwards. Pure: no IO, no framework types.

mod common_passwords;
mod display;
mod ids;
mod listing;
mod next_path;
mod pages;
mod password;
mod role;
mod session;
mod username;

pub use display::{describe_user_agent, device_and_address, format_utc, query_string};
pub use ids::{SessionId, UserId};
pub use listing::{AuditEntry, AuditKind, Paged, UserSummary};
pub use next_path::{DEFAULT_AFTER_SIGN_IN, safe_next_path};
pub use pages::{Access, Page, Refusal, Rule, Viewer, reauth_url, second_step_url, sign_in_url};
pub use password::{Password, PasswordError};
pub use role::Role;
pub use session::{AccountOverview, AuthMethod, SessionSummary, previous_sign_in};
pub use username::{Username, UsernameError};
