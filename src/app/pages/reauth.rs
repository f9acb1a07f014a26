use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::app::components::{Field, FormError, PageFrame, Submit, WithFlash, form_feedback};
use crate::app::server::factors::confirm_ways;
use crate::app::server::session::Reauthenticate;

/// "Confirm it's you": asked before sensitive actions when the sign-in is
/// not recent, then back to where the person was going.
#[component]
pub fn ReauthPage() -> impl IntoView {
    let action = ServerAction::<Reauthenticate>::new();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let frame = PageFrame::here();
    let pending = action.pending();
    form_feedback(action);
    let ways = Resource::new_blocking(|| (), |_| confirm_ways());
    view! {
        <Title text="Confirm it’s you" />
        <section class="card" aria-labelledby="reauth-title">
            <h1 id="reauth-title">"Confirm it’s you"</h1>
            <WithFlash>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let ways = ways.await.unwrap_or_default();
                    let name = frame.viewer().await.ok().flatten().map(|v| v.username).unwrap_or_default();
                    view! {
                        <p class="muted">
                            {if ways.password() {
                                "This page lets you make sensitive changes, so Gatehouse asks for your password when you have not entered it for a while."
                            } else {
                                "This page lets you make sensitive changes, and your account has two-step sign-in: confirm with it."
                            }}
                            " You will then go straight on to where you were headed."
                        </p>
                        {ways.passkey.then(|| view! {
                            <div class="passkey-only" data-passkey-area>
                                <button type="button" class="button primary wide" data-passkey="confirm" data-testid="reauth-passkey">
                                    "Confirm with a passkey"
                                </button>
                                <p class="form-error" role="alert" data-passkey-status data-testid="passkey-status"></p>
                            </div>
                        })}
                        {ways.code.then(|| view! {
                            {ways.passkey.then(|| view! { <p class="or-line">"Or type the code your authenticator app shows now, or a recovery code:"</p> })}
                            <ActionForm action=action>
                                <input type="hidden" name="next" value=next />
                                <Field id="code" label="Code" autocomplete="one-time-code" maxlength=40 />
                                <FormError />
                                <Submit pending label="Continue" pending_label="Checking…" testid="reauth-code-submit" />
                            </ActionForm>
                        })}
                        {ways.password().then(|| view! {
                            {ways.passkey.then(|| view! { <p class="or-line">"Or type your password:"</p> })}
                            <ActionForm action=action>
                                <input type="hidden" name="next" value=next />
                                // For password managers: whose password this is.
                                <input type="hidden" name="username" autocomplete="username" value=name disabled />
                                <Field id="password" label="Password" kind="password" autocomplete="current-password" />
                                <FormError />
                                <Submit pending label="Continue" pending_label="Checking…" testid="reauth-submit" />
                            </ActionForm>
                        })}
                    }
                })}
            </Suspense>
            </WithFlash>
        </section>
    }
}
