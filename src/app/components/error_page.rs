//! The page shown instead of one that cannot be: 403, 429, 500, 503, and
//! the way back in when a session has ended.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

use crate::domain::{Page, reauth_url, sign_in_url};
use crate::error::AppError;

/// A page that could not be shown, in the site's design, answered with the
/// error's status: 403 "signed in, but not allowed", 429 with the wait,
/// 500 with the request's reference to quote, 503 while the database is
/// away. A session that ended while the page was open leads to signing in
/// again, and a sign-in too old for the page to confirming the password,
/// and back.
#[component]
pub fn ErrorPage(error: AppError) -> impl IntoView {
    let way_back = match &error {
        AppError::Unauthorized(_) => Some(sign_in_url as fn(&str) -> String),
        AppError::ReauthRequired => Some(reauth_url as fn(&str) -> String),
        AppError::SecondFactorRequired => Some((|_: &str| Page::TwoStep.path().to_owned()) as fn(&str) -> String),
        _ => None,
    };
    if let Some(url) = way_back {
        let here = super::here(use_location());
        return view! { <leptos_router::components::Redirect path=url(&here.get_untracked()) /> }.into_any();
    }
    #[cfg(feature = "ssr")]
    super::forms::answer_with_status(Some(&error));
    let (title, advice): (&str, &str) = match &error {
        AppError::Forbidden(_) => (
            "You do not have access to this page",
            "You are signed in, but this area is for administrators. If you need it, ask one of them to give your account the admin role.",
        ),
        AppError::TooManyAttempts { .. } => ("Too many attempts", "This protects your account from guessing."),
        AppError::Internal { .. } => (
            "Something went wrong",
            "The fault is ours, not yours, and it has been logged. Please try again in a moment.",
        ),
        AppError::StorageFull => (
            "Gatehouse cannot save right now",
            "Nothing you did caused this, and nothing was changed. Pages that only show things still work.",
        ),
        AppError::Unavailable | AppError::Busy | AppError::Network => {
            ("Gatehouse is busy", "Nothing you did caused this. Please try again in a moment.")
        }
        _ => ("This page could not be shown", ""),
    };
    let message = match &error {
        AppError::Forbidden(_) | AppError::Internal { .. } => None,
        e => Some(e.to_string()),
    };
    let reference = match &error {
        AppError::Internal { reference } => reference.clone(),
        _ => None,
    };
    let status = error.status();
    view! {
        <section class="card error-page" aria-labelledby="error-title" data-testid="error-page" data-status=status>
            <p class="status-code" aria-hidden="true">{status}</p>
            <h1 id="error-title">{title}</h1>
            {message.map(|m| view! { <p data-testid="error-message">{m}</p> })}
            {(!advice.is_empty()).then(|| view! { <p class="muted">{advice}</p> })}
            {reference
                .map(|r| {
                    view! {
                        <p class="reference">
                            "If you contact support, quote this reference: " <code data-testid="request-id">{r}</code>
                        </p>
                    }
                })}
            <p class="actions start">
                <A href="/dashboard" attr:class="button">"Go to your dashboard"</A>
                <A href="/">"Front page"</A>
            </p>
        </section>
    }
    .into_any()
}
