use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::app::components::{Field, FormError, Submit, WithFlash, form_feedback};
use crate::app::server::session::Register;

/// Account creation.
#[component]
pub fn RegisterPage() -> impl IntoView {
    let action = ServerAction::<Register>::new();
    let pending = action.pending();
    form_feedback(action);
    view! {
        <Title text="Create an account" />
        <section class="card" aria-labelledby="register-title">
            <h1 id="register-title">"Create an account"</h1>
            <WithFlash>
                <ActionForm action=action>
                <Field
                    id="username"
                    label="Username"
                    autocomplete="username"
                    maxlength=32
                    keep=true
                    hint="3 to 32 characters: letters, digits, '.', '_' or '-'. Case does not matter for signing in."
                />
                <Field
                    id="password"
                    label="Password"
                    kind="password"
                    autocomplete="new-password"
                    hint="At least 8 characters, not a common password. A long passphrase is best."
                />
                <FormError />
                <Submit pending label="Create account" pending_label="Creating account…" testid="register-submit" />
            </ActionForm>
            </WithFlash>
            <p class="alt">"Already have an account? " <A href="/login">"Sign in"</A></p>
        </section>
    }
}
