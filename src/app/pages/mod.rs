//! One module per page.

mod account;
mod admin;
mod dashboard;
mod home;
mod login;
mod not_found;
mod reauth;
mod register;
mod reset;
mod sessions;

pub use account::AccountPage;
pub use admin::{AdminPage, AuditPage};
pub use dashboard::DashboardPage;
pub use home::HomePage;
pub use login::LoginPage;
pub use not_found::NotFoundPage;
pub use reauth::ReauthPage;
pub use register::RegisterPage;
pub use reset::ResetPage;
pub use sessions::SessionsPage;
