use crate::app::components::{Field, FormError, Submit, WithFlash, form_feedback};
use crate::app::server::session::{ChangePassword, PASSWORD_CHANGED};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use super::passkeys::PasskeysSection;

/// Account settings: changing the password.
#[component]
pub fn AccountPage() -> impl IntoView {
    let action = ServerAction::<ChangePassword>::new();
    // Without JavaScript the next page says so in its flash.
    let changed = move || action.value().with(|v| matches!(v, Some(Ok(()))));
    let pending = action.pending();
    form_feedback(action);
    // Passwords do not linger in the form after a successful change.
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if action.value().with(|v| matches!(v, Some(Ok(()))))
            && let Some(form) = form.get()
        {
            form.reset();
        }
    });
    view! {
        <Title text="Account" />
        <section class="card" aria-labelledby="account-title">
            <h1 id="account-title">"Change your password"</h1>
            <Show when=changed>
                <p class="notice" role="status" data-testid="notice">
                    {PASSWORD_CHANGED}
                </p>
            </Show>
            <WithFlash>
            <ActionForm action=action node_ref=form>
                <Field id="current_password" label="Current password" kind="password" autocomplete="current-password" />
                <Field
                    id="new_password"
                    label="New password"
                    kind="password"
                    autocomplete="new-password"
                    hint="At least 8 characters, not a common password. Other devices will be signed out."
                />
                <Field id="confirm_password" label="New password again" kind="password" autocomplete="new-password" />
                <FormError />
                <Submit pending label="Change password" pending_label="Changing password…" testid="change-password" />
            </ActionForm>
            </WithFlash>
        </section>
        <PasskeysSection />
        <section class="card" aria-labelledby="two-step-link-title">
            <h2 id="two-step-link-title">"Two-step sign-in"</h2>
            <p class="muted">"Ask for a code from an authenticator app after your password, with recovery codes for when your phone is lost."</p>
            <A href="/account/two-step" attr:class="button" attr:data-testid="two-step-link">"Manage two-step sign-in"</A>
        </section>
    }
}
