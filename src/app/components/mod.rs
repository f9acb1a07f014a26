//! The pieces the pages are made of: the frame around every page, a page's
//! own guard, forms, and the error page.

mod error_page;
mod forms;
mod guarded;
mod layout;

pub use error_page::ErrorPage;
pub use forms::{Field, FormError, Submit, WithFlash, form_feedback};
pub use guarded::Guarded;
pub use layout::{Layout, PageFrame};
