//! One module per page.

mod account;
mod dashboard;
mod home;
mod login;
mod not_found;
mod register;
mod sessions;

pub use account::AccountPage;
pub use dashboard::DashboardPage;
pub use home::HomePage;
pub use login::LoginPage;
pub use not_found::NotFoundPage;
pub use register::RegisterPage;
pub use sessions::SessionsPage;
