//! Small pieces shared by the pages.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::error::AppError;

/// The site header with the main navigation.
#[component]
pub fn Header() -> impl IntoView {
    view! {
        <header class="site-header">
            <A href="/" attr:class="brand">
                <span class="brand-mark" aria-hidden="true">"⛨"</span>
                "Gatehouse"
            </A>
            <nav aria-label="Main">
                <A href="/dashboard">"Dashboard"</A>
                <A href="/login">"Sign in"</A>
                <A href="/register" attr:class="button-link">"Create account"</A>
            </nav>
        </header>
    }
}

/// The error of the last submission, announced to screen readers.
#[component]
pub fn FormError(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    view! {
        <p class="form-error" id="form-error" role="alert" aria-live="assertive" data-testid="form-error">
            {move || error.get().map(|e| e.to_string())}
        </p>
    }
}

/// A labelled input; `hint` is shown under it and tied to it for
/// assistive technology.
#[component]
pub fn Field(
    id: &'static str,
    label: &'static str,
    #[prop(default = "text")] kind: &'static str,
    autocomplete: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(optional)] maxlength: Option<u32>,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    let described_by = if hint.is_some() {
        format!("{hint_id} form-error")
    } else {
        "form-error".to_owned()
    };
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input
                id=id
                name=id
                type=kind
                autocomplete=autocomplete
                required
                maxlength=maxlength
                aria-describedby=described_by
                spellcheck="false"
                autocapitalize="none"
            />
            {hint.map(|h| view! { <p class="hint" id=hint_id>{h}</p> })}
        </div>
    }
}
