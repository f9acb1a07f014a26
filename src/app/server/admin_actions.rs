//! Server functions behind the administrators' pages. Each checks, on the
//! server, the rule of the page it serves (an administrator who signed in
//! recently): hiding a button in the browser is only a convenience.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::ssr;
#[cfg(feature = "ssr")]
use crate::domain::Page;
use crate::domain::{AuditEntry, Paged, UserId, UserSummary};
use crate::error::AppError;

/// One page of accounts, filtered by name.
#[server(prefix = "/_fn", endpoint = "admin/users")]
pub async fn list_users(search: Option<String>, page: Option<u32>) -> Result<Paged<UserSummary>, AppError> {
    let (state, admin) = ssr::allowed(Page::Accounts).await?;
    crate::accounts::administer::list_users(&state, &admin, search.as_deref(), page).await
}

/// A freshly issued reset link, shown to the administrator once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedLink {
    pub username: String,
    pub url: String,
    /// Unix seconds.
    pub expires_at: i64,
}

/// What an administrative action came to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub notice: String,
    pub link: Option<IssuedLink>,
}

/// One change to an account: `action` is `make-admin`, `make-user`,
/// `disable`, `enable`, `end-sessions`, `reset-two-step` or `reset-link`. A hydrated page
/// gets the outcome back; a plain form post is sent back to `back` (the
/// list as it was), which shows the notice once.
#[server(prefix = "/_fn", endpoint = "admin/account")]
pub async fn administer(
    user_id: UserId,
    username: String,
    action: String,
    back: Option<String>,
) -> Result<Outcome, AppError> {
    use crate::accounts::administer::{self, Actor};
    use crate::domain::Role;
    let (state, me) = ssr::allowed(Page::Accounts).await?;
    let (actor, client) = (Actor::Admin(&me), ssr::client()?);
    let mut link = None;
    let notice = match action.as_str() {
        "make-admin" | "make-user" => {
            let role = if action == "make-admin" { Role::Admin } else { Role::User };
            administer::set_role(&state, actor, &user_id, role, &client).await?;
            format!("{username} is now {} {role}.", if role == Role::Admin { "an" } else { "a" })
        }
        "disable" => {
            administer::set_disabled(&state, actor, &user_id, true, &client).await?;
            format!("{username} is disabled and signed out everywhere.")
        }
        "enable" => {
            administer::set_disabled(&state, actor, &user_id, false, &client).await?;
            format!("{username} can sign in again.")
        }
        "end-sessions" => {
            let n = administer::end_sessions(&state, actor, &user_id, &client).await?;
            format!("Ended {n} session{} of {username}.", if n == 1 { "" } else { "s" })
        }
        "reset-two-step" => {
            administer::reset_factors(&state, actor, &user_id, &client).await?;
            format!("Two-step sign-in of {username} is reset, and every session of theirs has ended.")
        }
        "reset-link" => {
            let issued = administer::issue_reset(&state, actor, &user_id, &client).await?;
            link = Some(IssuedLink { username: username.clone(), url: issued.url, expires_at: issued.expires_at });
            format!("Reset link issued for {username}.")
        }
        _ => return Err(AppError::invalid("action", "Unknown action.")),
    };
    if ssr::is_plain_form_post()? {
        // The list again, with what happened. A reset link never goes into
        // a URL: without JavaScript it is not shown at all.
        let notice = if link.is_some() {
            format!(
                "A reset link for {username} was issued, but it can only be shown with JavaScript on. Issue another with JavaScript on, or use the command line."
            )
        } else {
            notice.clone()
        };
        ssr::redirect_with_notice(crate::domain::safe_next_path(Some(back.as_deref().unwrap_or("/admin"))), &notice);
    }
    Ok(Outcome { notice, link })
}

/// One page of the audit log, filtered.
#[server(prefix = "/_fn", endpoint = "admin/audit")]
pub async fn audit_log(
    kind: Option<String>,
    user: Option<String>,
    outcome: Option<String>,
    page: Option<u32>,
) -> Result<Paged<AuditEntry>, AppError> {
    let (state, admin) = ssr::allowed(Page::AuditLog).await?;
    crate::accounts::administer::audit_log(
        &state,
        &admin,
        &crate::accounts::administer::AuditQuery { kind, user, outcome, page },
    )
    .await
}
