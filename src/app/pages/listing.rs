//! Pieces of the administrators' lists.

use leptos::prelude::*;
use leptos_router::components::A;

/// A green `yes` or a red `no`.
#[component]
pub(super) fn Status(good: bool, yes: &'static str, no: &'static str) -> impl IntoView {
    view! { <span class=if good { "status on" } else { "status off" }>{if good { yes } else { no }}</span> }
}
/// "Showing 21–40 of 57", and links to the neighbouring pages.
#[component]
pub(super) fn Pager(
    page: u32,
    per_page: u32,
    total: i64,
    has_previous: bool,
    has_next: bool,
    href: Callback<u32, String>,
) -> impl IntoView {
    let first = i64::from(page - 1) * i64::from(per_page) + 1;
    let last = (i64::from(page) * i64::from(per_page)).min(total);
    view! {
        <nav class="pager" aria-label="Pages">
            <span class="muted small">
                {if total == 0 { "Nothing found".to_owned() } else { format!("Showing {first}–{last} of {total}") }}
            </span>
            {has_previous.then(|| view! { <A href=href.run(page - 1) attr:rel="prev">"← Previous"</A> })}
            {has_next.then(|| view! { <A href=href.run(page + 1) attr:rel="next" attr:data-testid="next-page">"Next →"</A> })}
        </nav>
    }
}
