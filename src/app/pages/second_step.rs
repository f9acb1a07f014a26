use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::app::components::{Field, FormError, Submit, WithFlash, form_feedback};
use crate::app::server::factors::SecondStep;

/// The second step of a password sign-in: the code from the authenticator
/// app, or a recovery code. Works as a plain form post without JavaScript
/// and as a server-function call when hydrated.
#[component]
pub fn SecondStepPage() -> impl IntoView {
    let action = ServerAction::<SecondStep>::new();
    form_feedback(action);
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let start_again = move || crate::domain::sign_in_url(&next());
    let pending = action.pending();
    // A refused code is not left in the field.
    let code = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if action.value().with(|v| matches!(v, Some(Err(_))))
            && let Some(input) = code.get()
        {
            input.set_value("");
        }
    });
    view! {
        <Title text="Enter your code" />
        <section class="card" aria-labelledby="code-title">
            <h1 id="code-title">"Enter your code"</h1>
            <p class="muted">
                "Your password was right. To finish signing in, type the 6-digit code your authenticator app
                 shows for Gatehouse."
            </p>
            <WithFlash>
                <ActionForm action=action>
                    <input type="hidden" name="next" value=next />
                    <Field
                        id="code"
                        label="Code"
                        autocomplete="one-time-code"
                        maxlength=40
                        hint="Lost your phone? Type one of your recovery codes instead."
                        node_ref=code
                    />
                    <FormError />
                    <Submit pending label="Sign in" pending_label="Checking…" testid="code-submit" />
                </ActionForm>
            </WithFlash>
            <p class="alt">
                "Not you, or took too long? " <A href=start_again>"Start again with your password"</A>
            </p>
        </section>
    }
}
