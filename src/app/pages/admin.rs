use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::app::admin::{Administer, IssuedLink, audit_log, list_users};

use crate::app::components::{ErrorPage, PageFrame};
use crate::domain::{AuditEntry, AuditKind, Page, Role, UserSummary, describe_user_agent, format_utc, query_string};

/// A green `yes` or a red `no`.
#[component]
fn Status(good: bool, yes: &'static str, no: &'static str) -> impl IntoView {
    view! { <span class=if good { "status on" } else { "status off" }>{if good { yes } else { no }}</span> }
}

/// "Showing 21–40 of 57", and links to the neighbouring pages.
#[component]
fn Pager(
    page: u32,
    per_page: u32,
    total: i64,
    has_previous: bool,
    has_next: bool,
    href: Callback<u32, String>,
) -> impl IntoView {
    let first = i64::from(page - 1) * i64::from(per_page) + 1;
    let last = (i64::from(page) * i64::from(per_page)).min(total);
    view! {
        <nav class="pager" aria-label="Pages">
            <span class="muted small">
                {if total == 0 { "Nothing found".to_owned() } else { format!("Showing {first}–{last} of {total}") }}
            </span>
            {has_previous.then(|| view! { <A href=href.run(page - 1) attr:rel="prev">"← Previous"</A> })}
            {has_next.then(|| view! { <A href=href.run(page + 1) attr:rel="next" attr:data-testid="next-page">"Next →"</A> })}
        </nav>
    }
}

/// Accounts: search, page through, and act on each.
#[component]
pub fn AdminPage() -> impl IntoView {
    let query = use_query_map();
    let search = move || query.read().get("search").unwrap_or_default();
    let page = move || query.read().get("page").and_then(|p| p.parse::<u32>().ok());
    let action = ServerAction::<Administer>::new();
    let users = Resource::new_blocking(
        move || (search(), page(), action.version().get()),
        |(search, page, _)| list_users(Some(search), page),
    );
    let frame = PageFrame::here();
    // Where a plain form post returns to: this list as it is.
    let back = move || {
        let page = page().map(|p| p.to_string()).unwrap_or_default();
        let q = query_string(&[("search", &search()), ("page", &page)]);
        if q.is_empty() { "/admin".to_owned() } else { format!("/admin?{q}") }
    };
    // Without JavaScript the list comes again with the notice as its flash.
    let notice = move || action.value().get().and_then(Result::ok).map(|o| o.notice);
    let link = move || action.value().get().and_then(Result::ok).and_then(|o| o.link);
    view! {
        <Title text="Accounts" />
        <Suspense fallback=|| view! { <p class="card">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let me = frame.viewer().await.ok().flatten().map(|v| v.username).unwrap_or_default();
                match users.await {
                    Err(e) => view! { <ErrorPage error=e /> }.into_any(),
                    Ok(list) => {
                        view! {
                            <section class="card full" aria-labelledby="admin-title">
                                <div class="title-row">
                                    <h1 id="admin-title">"Accounts"</h1>
                                    <A href="/admin/audit">"Audit log"</A>
                                </div>
                                {move || notice().map(|n| view! { <p class="notice" role="status" data-testid="notice">{n}</p> })}
                                {move || link().map(|l| view! { <ResetLinkPanel link=l /> })}
                                <p class="form-error" role="alert" data-testid="form-error">
                                    {move || action.value().get().and_then(Result::err).map(|e| e.to_string())}
                                </p>
                                <form method="get" action="/admin" class="search" role="search">
                                    <label for="search" class="visually-hidden">"Search by username"</label>
                                    <input id="search" name="search" type="search" placeholder="Search by username" value=search maxlength=64 />
                                    <button type="submit" class="button">"Search"</button>
                                </form>
                                <UserTable list=list.items.clone() me action back=back() />
                                <Pager
                                    page=list.page
                                    per_page=list.per_page
                                    total=list.total
                                    has_previous=list.has_previous()
                                    has_next=list.has_next()
                                    href=Callback::new(move |p: u32| format!("/admin?{}", query_string(&[("search", &search()), ("page", &p.to_string())])))
                                />
                            </section>
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn UserTable(list: Vec<UserSummary>, me: String, action: ServerAction<Administer>, back: String) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="data" data-testid="user-table">
                <thead>
                    <tr>
                        <th scope="col">"Username"</th>
                        <th scope="col">"Role"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Sessions"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col">"Actions"</th>
                    </tr>
                </thead>
                <tbody>
                    {list
                        .into_iter()
                        .map(|u| {
                            let is_me = u.username == me;
                            let (name, row_name) = (u.username.clone(), u.username.clone());
                            view! {
                                <tr data-testid="user-row" data-username=row_name>
                                    <th scope="row">
                                        {name}
                                        {is_me.then(|| view! { " " <span class="badge">"You"</span> })}
                                    </th>
                                    <td>{u.role.to_string()}</td>
                                    <td>
                                        <Status good=!u.disabled yes="Active" no="Disabled" />
                                    </td>
                                    <td>{u.open_sessions}</td>
                                    <td class="small nowrap">{format_utc(u.created_at)}</td>
                                    <td>
                                        <div class="row-actions">
                                            <RowActions user=u is_me action back=back.clone() />
                                        </div>
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// One button per action, each its own small form so every one works
/// without JavaScript.
#[component]
fn RowActions(user: UserSummary, is_me: bool, action: ServerAction<Administer>, back: String) -> impl IntoView {
    let mut actions: Vec<(&'static str, &'static str, &'static str)> = Vec::new();
    if !is_me {
        actions.push(match user.role {
            Role::Admin => ("make-user", "Make user", ""),
            Role::User => ("make-admin", "Make admin", ""),
        });
        actions.push(if user.disabled { ("enable", "Enable", "") } else { ("disable", "Disable", "danger") });
    }
    actions.push(("end-sessions", "End sessions", ""));
    actions.push(("reset-link", "Reset link", ""));
    actions
        .into_iter()
        .map(|(name, label, class)| {
            let aria = format!("{label} for {}", user.username);
            let (id, username, back) = (user.id.clone(), user.username.clone(), back.clone());
            view! {
                <ActionForm action=action attr:class="inline-form">
                    <input type="hidden" name="user_id" value=id />
                    <input type="hidden" name="username" value=username />
                    <input type="hidden" name="back" value=back />
                    <button type="submit" name="action" value=name class=format!("button small {class}") aria-label=aria data-testid=name>
                        {label}
                    </button>
                </ActionForm>
            }
        })
        .collect_view()
}

/// A just-issued reset link, shown once, with a copy button.
#[component]
fn ResetLinkPanel(link: IssuedLink) -> impl IntoView {
    let url = link.url.clone();
    let copied = RwSignal::new(false);
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let clipboard = window().navigator().clipboard();
            let _ = clipboard.write_text(&url);
            copied.set(true);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &url;
    };
    view! {
        <div class="reset-link" role="status" data-testid="issued-link">
            <p>
                "Reset link for " <strong>{link.username}</strong> ". Give it to them privately; it works once, until "
                {format_utc(link.expires_at)} ", and any older link no longer works."
            </p>
            <div class="copy-row">
                <label for="reset-url" class="visually-hidden">"Reset link"</label>
                <input id="reset-url" type="text" readonly value=link.url data-testid="reset-url" />
                <button type="button" class="button small" on:click=copy>
                    {move || if copied.get() { "Copied" } else { "Copy" }}
                </button>
            </div>
        </div>
    }
}

/// The audit log: who did what, when, from where; filtered and paged.
#[component]
pub fn AuditPage() -> impl IntoView {
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
fn AuditView(list: Page<AuditEntry>, kind: String, user: String, outcome: String) -> impl IntoView {
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
