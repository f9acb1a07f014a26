use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::app::components::{ErrorPage, Field, FormError, Submit, WithFlash, form_feedback};
use crate::app::server::session::{ResetLinkView, ResetPassword, reset_link};

/// Where a password-reset link lands: a form to choose a new password, or
/// a plain explanation when the link is used, expired or not real.
#[component]
pub fn ResetPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let link = Resource::new_blocking(token, reset_link);
    let action = ServerAction::<ResetPassword>::new();
    let pending = action.pending();
    form_feedback(action);
    view! {
        <Title text="Choose a new password" />
        // The link's secret is in this page's address: never send it on.
        <Meta name="referrer" content="no-referrer" />
        <section class="card" aria-labelledby="reset-title">
            <h1 id="reset-title">"Choose a new password"</h1>
            <Suspense fallback=|| view! { <p>"Checking your link…"</p> }>
                {move || Suspend::new(async move {
                    match link.await {
                        Ok(ResetLinkView::Live { username }) => {
                            let account = StoredValue::new(username.clone());
                            view! {
                                <p class="muted">
                                    "For the account " <strong data-testid="reset-username">{username.clone()}</strong>
                                    ". Every device signed in to it will be signed out."
                                </p>
                                <WithFlash>
                                <ActionForm action=action>
                                    <input type="hidden" name="token" value=token />
                                    <input type="hidden" name="username" autocomplete="username" value=account.get_value() disabled />
                                    <Field
                                        id="new_password"
                                        label="New password"
                                        kind="password"
                                        autocomplete="new-password"
                                        hint="At least 8 characters, not a common password. A long passphrase is best."
                                    />
                                    <Field
                                        id="confirm_password"
                                        label="New password again"
                                        kind="password"
                                        autocomplete="new-password"
                                    />
                                    <FormError />
                                    <Submit pending label="Set password" pending_label="Setting password…" testid="reset-submit" />
                                </ActionForm>
                                </WithFlash>
                            }
                                .into_any()
                        }
                        Ok(ResetLinkView::Dead { reason }) => {
                            view! {
                                <p class="form-error" role="alert" data-testid="reset-dead">{reason}</p>
                                <p class="alt"><A href="/login">"Go to sign in"</A></p>
                            }
                                .into_any()
                        }
                        Err(e) => view! { <ErrorPage error=e /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
