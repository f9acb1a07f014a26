//! Domain values shared by the server and the browser: parsed once at the
//! edge, trusted afterwards. Pure: no IO, no framework types.

mod display;
mod next_path;
mod password;
mod role;
mod session;
mod username;

pub use display::{describe_user_agent, format_utc};
pub use next_path::{DEFAULT_AFTER_SIGN_IN, safe_next_path};
pub use password::{Password, PasswordError};
pub use role::Role;
pub use session::SessionSummary;
pub use username::{Username, UsernameError};
