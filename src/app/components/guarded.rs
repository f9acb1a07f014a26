//! A page's own guard, in the page: the page table's rule for where the
//! person is, as the server judged it for this navigation.

use leptos::prelude::*;

use super::error_page::ErrorPage;
use super::layout::after_frame;

/// Renders `children` (the page) only when the rule of the page being
/// visited admits the viewer; else the way in (sign in, or confirm the
/// password, and back) or the 403 page, in its place. On a full page load
/// the server's page guard has already answered the first two; this is
/// what holds on a client-side navigation, and the page's server functions
/// check the same rule for its data.
#[component]
pub fn Guarded(children: ChildrenFn) -> impl IntoView {
    after_frame(children, |frame, children| match frame.map(|f| f.refused) {
        Ok(None) => children(),
        Ok(Some(error)) | Err(error) => view! { <ErrorPage error /> }.into_any(),
    })
}
