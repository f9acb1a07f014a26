//! The audit log, for administrators.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use super::listing::{Pager, Status};
use crate::app::components::ErrorPage;
use crate::app::server::admin_actions::audit_log;
use crate::domain::{AuditEntry, AuditKind, Paged, describe_user_agent, format_utc, query_string};

/// The audit log: who did what, when, from where; filtered and paged.
#[component]
pub fn AuditLogPage() -> impl IntoView {
    let query = use_query_map();
    let get = move |k: &str| query.read().get(k).unwrap_or_default();
    let events = Resource::new_blocking(
        move || (get("kind"), get("user"), get("outcome"), get("page").parse::<u32>().ok()),
        |(kind, user, outcome, page)| audit_log(Some(kind), Some(user), Some(outcome), page),
    );
    view! {
        <Title text="Audit log" />
        <Suspense fallback=|| view! { <p class="card">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match events.await {
                    Err(e) => view! { <ErrorPage error=e /> }.into_any(),
                    Ok(list) => view! { <AuditView list kind=get("kind") user=get("user") outcome=get("outcome") /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn AuditView(list: Paged<AuditEntry>, kind: String, user: String, outcome: String) -> impl IntoView {
    let (k, u, o) = (kind.clone(), user.clone(), outcome.clone());
    let href = Callback::new(move |p: u32| {
        format!(
            "/admin/audit?{}",
            query_string(&[("kind", &k), ("user", &u), ("outcome", &o), ("page", &p.to_string())])
        )
    });
    view! {
        <section class="card full" aria-labelledby="audit-title">
            <div class="title-row">
                <h1 id="audit-title">"Audit log"</h1>
                <A href="/admin">"Accounts"</A>
            </div>
            <form method="get" action="/admin/audit" class="filters" aria-label="Filter events">
                <div class="field">
                    <label for="kind">"Event"</label>
                    <select id="kind" name="kind">
                        <option value="" selected=kind.is_empty()>"All events"</option>
                        {AuditKind::ALL
                            .into_iter()
                            .map(|k| view! { <option value=k.as_str() selected=kind == k.as_str()>{k.label()}</option> })
                            .collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="user">"Username"</label>
                    <input id="user" name="user" type="search" value=user maxlength=64 />
                </div>
                <div class="field">
                    <label for="outcome">"Outcome"</label>
                    <select id="outcome" name="outcome">
                        <option value="" selected=outcome.is_empty()>"Any"</option>
                        <option value="success" selected=outcome == "success">"Success"</option>
                        <option value="failure" selected=outcome == "failure">"Failure"</option>
                    </select>
                </div>
                <button type="submit" class="button">"Filter"</button>
            </form>
            <div class="table-wrap">
                <table class="data" data-testid="audit-table">
                    <thead>
                        <tr>
                            <th scope="col">"When"</th>
                            <th scope="col">"Event"</th>
                            <th scope="col">"Outcome"</th>
                            <th scope="col">"By"</th>
                            <th scope="col">"Account"</th>
                            <th scope="col">"From"</th>
                            <th scope="col">"Detail"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {list
                            .items
                            .iter()
                            .map(|e| {
                                let from = format!("{} · {}", if e.ip.is_empty() { "?" } else { &e.ip }, describe_user_agent(&e.user_agent));
                                view! {
                                    <tr data-testid="audit-row" data-kind=e.kind.as_str()>
                                        <td class="small nowrap">{format_utc(e.at)}</td>
                                        <td>{e.kind.label()}</td>
                                        <td>
                                            <Status good=e.success yes="Success" no="Failure" />
                                        </td>
                                        <td>{e.actor.clone().unwrap_or_else(|| "—".into())}</td>
                                        <td>{e.subject.clone().unwrap_or_else(|| "—".into())}</td>
                                        <td class="small">{from}</td>
                                        <td class="small">{e.detail.clone()}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
            <Pager
                page=list.page
                per_page=list.per_page
                total=list.total
                has_previous=list.has_previous()
                has_next=list.has_next()
                href
            />
        </section>
    }
}
