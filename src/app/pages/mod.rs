//! One module per page of the page table, and the 404 page.

mod account;
mod accounts;
mod audit_log;
mod dashboard;
mod home;
mod listing;
mod login;
mod not_found;
mod passkeys;
mod reauth;
mod register;
mod reset;
mod second_step;
mod sessions;
mod two_step;

pub use account::AccountPage;
pub use accounts::AccountsPage;
pub use audit_log::AuditLogPage;
pub use dashboard::DashboardPage;
pub use home::HomePage;
pub use login::LoginPage;
pub use not_found::NotFoundPage;
pub use reauth::ReauthPage;
pub use register::RegisterPage;
pub use reset::ResetPage;
pub use second_step::SecondStepPage;
pub use sessions::SessionsPage;
pub use two_step::TwoStepPage;
