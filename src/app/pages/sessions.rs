use leptos::prelude::*;
use leptos_meta::Title;

use crate::app::components::ErrorPage;
use crate::app::server::session::{EndSession, LogoutEverywhere, list_sessions};
use crate::domain::{SessionSummary, describe_user_agent, format_utc};

/// Every device signed in to this account, and a way to end any of them.
#[component]
pub fn SessionsPage() -> impl IntoView {
    let end = ServerAction::<EndSession>::new();
    let everywhere = ServerAction::<LogoutEverywhere>::new();
    let sessions = Resource::new_blocking(move || end.version().get(), |_| list_sessions());
    view! {
        <Title text="Sessions" />
        <section class="card wide" aria-labelledby="sessions-title">
            <h1 id="sessions-title">"Your sessions"</h1>
            <p class="muted">"Each browser or app you signed in with. End any you do not recognise."</p>
            {move || {
                end.value()
                    .get()
                    .and_then(Result::ok)
                    .map(|said| view! { <p class="notice" role="status" data-testid="notice">{said}</p> })
            }}
            <p class="form-error" role="alert" data-testid="form-error">
                {move || end.value().get().and_then(Result::err).map(|e| e.to_string())}
            </p>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match sessions.await {
                        Ok(list) => view! { <SessionList list end /> }.into_any(),
                        Err(e) => view! { <ErrorPage error=e /> }.into_any(),
                    }
                })}
            </Suspense>
            <div class="actions start">
                <ActionForm action=end>
                    <input type="hidden" name="session_id" value="others" />
                    <button type="submit" class="button" data-testid="end-others">"Sign out all other sessions"</button>
                </ActionForm>
                <ActionForm action=everywhere>
                    <button type="submit" class="button danger" data-testid="sign-out-everywhere">"Sign out everywhere"</button>
                </ActionForm>
            </div>
        </section>
    }
}

#[component]
fn SessionList(list: Vec<SessionSummary>, end: ServerAction<EndSession>) -> impl IntoView {
    view! {
        <ul class="sessions" data-testid="session-list">
            {list
                .into_iter()
                .map(|s| {
                    let device = describe_user_agent(&s.user_agent);
                    let ip = if s.ip.is_empty() { "address unknown".to_owned() } else { s.ip.clone() };
                    let with = s.methods.iter().map(|m| m.describe()).collect::<Vec<_>>().join(" and ");
                    let with = if with.is_empty() { String::new() } else { format!(" with {with}") };
                    view! {
                        <li class="session" data-testid="session">
                            <div>
                                <strong>{device}</strong>
                                {s.current.then(|| view! { <span class="badge" data-testid="current">"This device"</span> })}
                                <p class="muted small">
                                    {ip} " · signed in " {format_utc(s.created_at)} {with}
                                    " · last active " {format_utc(s.last_used_at)}
                                </p>
                            </div>
                            {(!s.current)
                                .then(|| {
                                    view! {
                                        <ActionForm action=end attr:class="inline-form">
                                            <input type="hidden" name="session_id" value=s.id.to_string() />
                                            <button type="submit" class="button small" data-testid="end-session">
                                                "End"
                                            </button>
                                        </ActionForm>
                                    }
                                })}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}
