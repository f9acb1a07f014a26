use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::app::auth::ChangePassword;
use crate::app::components::{Field, FormError, Submit};

/// Account settings: changing the password.
#[component]
pub fn AccountPage() -> impl IntoView {
    let action = ServerAction::<ChangePassword>::new();
    let query = use_query_map();
    let changed = move || {
        let fresh = action.value().with(|v| matches!(v, Some(Ok(()))));
        let submitted_again = action.value().with(|v| matches!(v, Some(Err(_))));
        (fresh || query.read().get("changed").is_some()) && !submitted_again
    };
    let pending = action.pending();
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
                    "Your password was changed. Every other session has been signed out."
                </p>
            </Show>
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
                <FormError error=Signal::derive(move || action.value().get().and_then(Result::err)) />
                <Submit pending label="Change password" pending_label="Changing password…" testid="change-password" />
            </ActionForm>
        </section>
    }
}
