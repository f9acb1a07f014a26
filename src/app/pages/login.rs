use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::app::components::{Field, FormError, Submit, WithFlash, form_feedback};
use crate::app::server::session::Login;

/// Sign-in form. Works as a plain form post without JavaScript and as a
/// server-function call when hydrated.
#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<Login>::new();
    form_feedback(action);
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let pending = action.pending();
    // A refused password is not left in the form; the username stays.
    let password = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if action.value().with(|v| matches!(v, Some(Err(_))))
            && let Some(input) = password.get()
        {
            input.set_value("");
        }
    });
    view! {
        <Title text="Sign in" />
        <section class="card" aria-labelledby="login-title" data-passkey-area>
            <h1 id="login-title">"Sign in"</h1>
            <WithFlash>
                <ActionForm action=action>
                    <input type="hidden" name="next" value=next />
                    <Field id="username" label="Username" autocomplete="username webauthn" maxlength=32 keep=true />
                    <Field id="password" label="Password" kind="password" autocomplete="current-password" node_ref=password />
                    <FormError />
                    <Submit pending label="Sign in" pending_label="Signing in…" testid="login-submit" />
                </ActionForm>
            </WithFlash>
            <div class="passkey-only">
                <p class="or">"or"</p>
                <button type="button" class="button secondary wide" data-passkey="sign-in" data-testid="passkey-sign-in">
                    "Sign in with a passkey"
                </button>
                <p class="form-error" role="alert" data-passkey-status data-testid="passkey-status"></p>
            </div>
            <p class="alt">"New to Gatehouse? " <A href="/register">"Create an account"</A></p>
        </section>
    }
}
