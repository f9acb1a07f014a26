use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::app::auth::Login;
use crate::app::components::{Field, FormError, Submit};

/// Sign-in form. Works as a plain form post without JavaScript and as a
/// server-function call when hydrated.
#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<Login>::new();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    // A notice from the previous step, until the person submits the form.
    let notice = move || {
        if action.version().get() > 0 || action.value().with(Option::is_some) {
            return None;
        }
        let q = query.read();
        if q.get("registered").is_some() {
            Some("Your account is ready. Sign in to continue.")
        } else if q.get("reset").is_some() {
            Some("Your new password is set and every old session has ended. Sign in with it.")
        } else if q.get("signed_out").is_some() {
            Some("You have been signed out.")
        } else {
            None
        }
    };
    let pending = action.pending();
    view! {
        <Title text="Sign in" />
        <section class="card" aria-labelledby="login-title">
            <h1 id="login-title">"Sign in"</h1>
            {move || notice().map(|n| view! { <p class="notice" role="status" data-testid="notice">{n}</p> })}
            <ActionForm action=action>
                <input type="hidden" name="next" value=next />
                <Field id="username" label="Username" autocomplete="username" maxlength=32 />
                <Field id="password" label="Password" kind="password" autocomplete="current-password" />
                <FormError error=Signal::derive(move || action.value().get().and_then(Result::err)) />
                <Submit pending label="Sign in" pending_label="Signing in…" testid="login-submit" />
            </ActionForm>
            <p class="alt">"New to Gatehouse? " <A href="/register">"Create an account"</A></p>
        </section>
    }
}
