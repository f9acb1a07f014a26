//! The administrators' list of accounts, and what they do to each.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use super::listing::{Pager, Status};
use crate::app::components::{ErrorPage, PageFrame};
use crate::app::server::admin_actions::{Administer, IssuedLink, list_users};
use crate::domain::{Role, UserSummary, format_utc, query_string};

/// Accounts: search, page through, and act on each.
#[component]
pub fn AccountsPage() -> impl IntoView {
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
                        <th scope="col">"Two-step"</th>
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
                                    <td data-testid="two-step">{if u.factors.is_empty() { "Off".to_owned() } else { "Authenticator app".to_owned() }}</td>
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
    if !is_me && !user.factors.is_empty() {
        actions.push(("reset-two-step", "Reset two-step", "danger"));
    }
    actions.push(("reset-link", "Reset link", ""));
    actions
        .into_iter()
        .map(|(name, label, class)| {
            let aria = format!("{label} for {}", user.username);
            let (id, username, back) = (user.id.to_string(), user.username.clone(), back.clone());
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
