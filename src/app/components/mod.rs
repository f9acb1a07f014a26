//! The pieces the pages are made of: the frame around every page, a page's
//! own guard, forms, and the error page.

mod error_page;
mod forms;
mod guarded;
mod layout;

pub use error_page::ErrorPage;
pub use forms::{Field, FormError, Submit, WithFlash, flashed_recovery_codes, form_feedback};
pub use guarded::Guarded;
pub use layout::{Layout, PageFrame};

/// Where the person is: path and query, the way back after signing in or
/// confirming the password.
fn here(at: leptos_router::location::Location) -> leptos::prelude::Signal<String> {
    use leptos::prelude::{Get, Signal};
    Signal::derive(move || {
        let (path, search) = (at.pathname.get(), at.search.get());
        if search.is_empty() { path } else { format!("{path}?{search}") }
    })
}
