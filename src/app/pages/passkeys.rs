use leptos::prelude::*;

use crate::app::components::ErrorPage;
use crate::app::server::passkeys::{PasskeyRow, RemovePasskey, passkeys};
use crate::domain::format_utc;

/// The person's passkeys: each with its name, when it was added and last
/// used, and a way to remove it; and a way to add one. Adding needs
/// JavaScript (WebAuthn does); the list and removal work without.
#[component]
pub fn PasskeysSection(
    /// As wide as the page's other card.
    #[prop(optional)]
    wide: bool,
) -> impl IntoView {
    let remove = ServerAction::<RemovePasskey>::new();
    let list = Resource::new_blocking(move || remove.version().get(), |_| passkeys());
    view! {
        <section class=if wide { "card wide" } else { "card" } aria-labelledby="passkeys-title" data-passkey-area>
            <h2 id="passkeys-title">"Passkeys"</h2>
            <p class="muted">
                "Sign in with your fingerprint, face or device PIN instead of a password. A passkey counts as
                 two-step sign-in on its own, and no one can phish it."
            </p>
            <p class="form-error" role="alert" data-testid="passkey-remove-error">
                {move || remove.value().get().and_then(Result::err).map(|e| e.to_string())}
            </p>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(view) if !view.on => view! {
                            <p class="notice" data-testid="passkeys-off">
                                "Passkeys are off on this server: its address names no domain. Open it at
                                 http://localhost:<port>, or ask its operator to set GATEHOUSE_PUBLIC_ORIGIN."
                            </p>
                        }.into_any(),
                        Ok(view) => view! { <PasskeyList list=view.passkeys remove /> <AddPasskey /> }.into_any(),
                        Err(e) => view! { <ErrorPage error=e /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn PasskeyList(list: Vec<PasskeyRow>, remove: ServerAction<RemovePasskey>) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="muted small" data-testid="no-passkeys">"No passkeys yet."</p> }.into_any();
    }
    view! {
        <ul class="sessions" data-testid="passkey-list">
            {list
                .into_iter()
                .map(|p| {
                    let used = p.last_used_at.map_or_else(|| "never used".to_owned(), |at| format!("last used {}", format_utc(at)));
                    let label = format!("Remove the passkey {}", p.name);
                    view! {
                        <li class="session" data-testid="passkey">
                            <div>
                                <strong data-testid="passkey-name">{p.name}</strong>
                                <p class="muted small">"added " {format_utc(p.created_at)} " · " {used}</p>
                            </div>
                            <ActionForm action=remove attr:class="inline-form">
                                <input type="hidden" name="id" value=p.id />
                                <button type="submit" class="button small" aria-label=label data-testid="passkey-remove">
                                    "Remove"
                                </button>
                            </ActionForm>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
fn AddPasskey() -> impl IntoView {
    view! {
        <div class="passkey-only add-passkey">
            <label for="passkey-name">"Name for a new passkey"</label>
            <div class="inline-field">
                <input id="passkey-name" name="name" type="text" maxlength="64" placeholder="Laptop" autocomplete="off" />
                <button type="button" class="button" data-passkey="add" data-testid="passkey-add">"Add a passkey"</button>
            </div>
            <p class="form-error" role="alert" data-passkey-status data-testid="passkey-status"></p>
        </div>
        <noscript><p class="muted small">"Adding a passkey needs JavaScript."</p></noscript>
    }
}
