use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::app::components::{ErrorPage, PageFrame};
use crate::app::server::session::{Viewer, overview};
use crate::domain::{AccountOverview, AuditEntry, Refusal, SessionSummary, device_and_address, format_utc};
use crate::error::AppError;

/// The signed-in home: who you are, where you are signed in, the sign-in
/// before this one, and what happened to your account lately. Only a
/// signed-in person reaches it (the page table's rule).
#[component]
pub fn DashboardPage() -> impl IntoView {
    let frame = PageFrame::here();
    let account = Resource::new_blocking(|| (), |()| overview());
    view! {
        <Title text="Dashboard" />
        <Suspense fallback=|| view! { <p class="card">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match (frame.viewer().await, account.await) {
                    (Ok(Some(v)), Ok(o)) => view! { <Overview viewer=v account=o /> }.into_any(),
                    (Ok(None), _) => view! { <ErrorPage error=AppError::from(Refusal::SignIn) /> }.into_any(),
                    (Err(e), _) | (_, Err(e)) => view! { <ErrorPage error=e /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Overview(viewer: Viewer, account: AccountOverview) -> impl IntoView {
    let this_device = account.sessions.iter().find(|s| s.current).cloned();
    let others = account.sessions.iter().filter(|s| !s.current).count();
    view! {
        <div class="dashboard">
            <section class="card full intro" aria-labelledby="dash-title">
                <h1 id="dash-title">"Dashboard"</h1>
                <p class="signed-in" data-testid="signed-in-as">
                    "Signed in as " <strong>{viewer.username}</strong>
                </p>
                <p class="muted">
                    "Role: " <span class="badge">{viewer.role.to_string()}</span>
                </p>
            </section>
            <div class="tiles">
                <section class="card tile" aria-labelledby="tile-sessions" data-testid="tile-sessions">
                    <h2 id="tile-sessions">"Sessions"</h2>
                    <p class="figure">{sessions_in_words(account.sessions.len())}</p>
                    {this_device.map(|s| view! { <p class="muted small">"This device: " {place(&s)}</p> })}
                    <p class="muted small">{other_devices(others)}</p>
                    <A href="/sessions">"Manage sessions"</A>
                </section>
                <section class="card tile" aria-labelledby="tile-last" data-testid="tile-last-sign-in">
                    <h2 id="tile-last">"Previous sign-in"</h2>
                    {match account.previous_sign_in {
                        Some(e) => {
                            view! {
                                <p class="figure small-figure">{format_utc(e.at)}</p>
                                <p class="muted small">{where_from(&e)}</p>
                                <p class="muted small">"Not you? Change your password."</p>
                            }
                                .into_any()
                        }
                        None => view! { <p class="muted">"This is the first sign-in to this account."</p> }.into_any(),
                    }}
                    <A href="/account">"Change password"</A>
                </section>
            </div>
            <section class="card full" aria-labelledby="tile-events" data-testid="recent-events">
                <h2 id="tile-events">"Recent security activity"</h2>
                <ul class="events">
                    {account
                        .recent
                        .into_iter()
                        .map(|e| {
                            view! {
                                <li class="event" data-testid="event">
                                    <span class=if e.success { "status on" } else { "status off" }>
                                        {if e.success { "OK" } else { "Refused" }}
                                    </span>
                                    <span class="what">{e.kind.label()}</span>
                                    <span class="muted small">{format_utc(e.at)} " · " {where_from(&e)}</span>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </section>
        </div>
    }
}

fn sessions_in_words(n: usize) -> String {
    format!("{n} active session{}", if n == 1 { "" } else { "s" })
}

fn other_devices(n: usize) -> String {
    match n {
        0 => "No other device is signed in.".to_owned(),
        1 => "1 other device is signed in.".to_owned(),
        n => format!("{n} other devices are signed in."),
    }
}

/// "Firefox on Linux · 203.0.113.7, since 2026-11-22 10:00 UTC"
fn place(s: &SessionSummary) -> String {
    format!("{}, since {}", device_and_address(&s.user_agent, &s.ip), format_utc(s.created_at))
}

fn where_from(e: &AuditEntry) -> String {
    device_and_address(&e.user_agent, &e.ip)
}
