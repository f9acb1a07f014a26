//! Small pieces shared by the pages.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

use crate::app::auth::{Logout, current_user};
use crate::domain::Role;
use crate::error::AppError;

/// The Gatehouse mark, inline so it never depends on a font.
#[component]
fn Mark() -> impl IntoView {
    view! {
        <svg class="brand-mark" viewBox="0 0 64 64" width="26" height="26" aria-hidden="true" focusable="false">
            <path d="M32 4 8 13v17c0 15 10 26 24 30 14-4 24-15 24-30V13L32 4Z" fill="currentColor" />
            <path d="M22 30h20v16H22z" fill="var(--surface)" />
            <path d="M26 30v-5a6 6 0 0 1 12 0v5" fill="none" stroke="var(--surface)" stroke-width="4" />
        </svg>
    }
}

/// The site header: who is signed in and a sign-out button, or the ways
/// in. Re-checked on every navigation; rendered on the server before the
/// page is sent, so it is right without JavaScript too.
#[component]
pub fn Header() -> impl IntoView {
    let location = use_location();
    let viewer = Resource::new_blocking(move || location.pathname.get(), |_| current_user());
    view! {
        <header class="site-header">
            <A href="/" attr:class="brand">
                <Mark />
                "Gatehouse"
            </A>
            <nav aria-label="Main">
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match viewer.await {
                            Ok(Some(v)) => {
                                view! {
                                    <A href="/dashboard">"Dashboard"</A>
                                    <A href="/sessions">"Sessions"</A>
                                    <A href="/account">"Account"</A>
                                    {(v.role == Role::Admin).then(|| view! { <A href="/admin">"Admin"</A> })}
                                    <span class="who" data-testid="header-user">
                                        {v.username} <span class="role">{v.role.to_string()}</span>
                                    </span>
                                    <SignOut />
                                }
                                    .into_any()
                            }
                            _ => {
                                view! {
                                    <A href="/login">"Sign in"</A>
                                    <A href="/register" attr:class="button-link">"Create account"</A>
                                }
                                    .into_any()
                            }
                        }
                    })}
                </Suspense>
            </nav>
        </header>
    }
}

/// Signs out: revokes the token on the server and clears the cookie.
#[component]
fn SignOut() -> impl IntoView {
    let action = ServerAction::<Logout>::new();
    view! {
        <ActionForm action=action attr:class="inline-form">
            <button type="submit" class="button small" data-testid="sign-out" disabled=move || action.pending().get()>
                "Sign out"
            </button>
        </ActionForm>
    }
}

/// A form's submit button: disabled and relabelled while the server
/// function runs, so a form cannot be sent twice.
#[component]
pub fn Submit(
    #[prop(into)] pending: Signal<bool>,
    label: &'static str,
    pending_label: &'static str,
    testid: &'static str,
) -> impl IntoView {
    view! {
        <button type="submit" class="button primary" disabled=move || pending.get() data-testid=testid>
            {move || if pending.get() { pending_label } else { label }}
        </button>
    }
}

/// The error of the last submission, announced to screen readers. When
/// the sign-in is too old for the action, a link leads to confirming the
/// password and back to this page.
#[component]
pub fn FormError(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    let location = use_location();
    let reauth = move || format!("/reauth?{}", crate::domain::query_string(&[("next", &location.pathname.get())]));
    view! {
        <p class="form-error" id="form-error" role="alert" aria-live="assertive" data-testid="form-error">
            {move || error.get().map(|e| e.to_string())}
            {move || {
                matches!(error.get(), Some(AppError::ReauthRequired))
                    .then(|| view! { " " <A href=reauth attr:data-testid="reauth-link">"Confirm your password"</A> })
            }}
        </p>
    }
}

/// Shown instead of a page the person's role does not allow.
#[component]
pub fn Forbidden() -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="forbidden-title" data-testid="forbidden">
            <h1 id="forbidden-title">"You do not have access to this page"</h1>
            <p>"This area is for administrators. If you need it, ask one of them to give your account the admin role."</p>
            <A href="/dashboard">"Back to your dashboard"</A>
        </section>
    }
}

/// A labelled input; `hint` is shown under it and tied to it for
/// assistive technology. A password field gets a Show/Hide button once the
/// page is interactive (without JavaScript it would do nothing, so it
/// stays hidden; it sits over the input's padding, so appearing moves
/// nothing).
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
    let described_by = if hint.is_some() { format!("{hint_id} form-error") } else { "form-error".to_owned() };
    let secret = kind == "password";
    let shown = RwSignal::new(false);
    let interactive = RwSignal::new(false);
    // Effects run only in the browser, after hydration.
    Effect::new(move |_| interactive.set(true));
    let input_type = move || if secret && shown.get() { "text" } else { kind };
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <div class="input-wrap" class:has-reveal=secret>
                <input
                    id=id
                    name=id
                    type=input_type
                    autocomplete=autocomplete
                    required
                    maxlength=maxlength
                    aria-describedby=described_by
                    spellcheck="false"
                    autocapitalize="none"
                />
                {secret
                    .then(|| {
                        view! {
                            <button
                                type="button"
                                class="reveal"
                                hidden=move || !interactive.get()
                                aria-controls=id
                                aria-pressed=move || shown.get().to_string()
                                data-testid=format!("{id}-reveal")
                                on:click=move |_| shown.update(|s| *s = !*s)
                            >
                                {move || if shown.get() { "Hide" } else { "Show" }}
                                <span class="visually-hidden">" password"</span>
                            </button>
                        }
                    })}
            </div>
            {hint.map(|h| view! { <p class="hint" id=hint_id>{h}</p> })}
        </div>
    }
}
