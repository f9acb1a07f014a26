//! What administrators do to other accounts: list them, change roles,
//! disable and enable, end sessions, issue password-reset links, read the
//! audit log. Called by the admin pages and API (an administrator with a
//! recent sign-in) and by the command line (the operator, who has the
//! database anyway). Every change is recorded in the audit log in the same
//! commit, and none may leave the deployment without an enabled
//! administrator.

use super::audit::{event, note};
use crate::auth::caller::{Client, CurrentUser};
use crate::auth::clock::UnixTime;
use crate::auth::opaque::ResetToken;
use crate::db::audit::{self, Event};
use crate::db::{self as store, resets, sessions, users};
use crate::domain::{Access, AuditEntry, AuditKind, Paged, Role, Rule, UserId, UserSummary, Username};
use crate::error::AppError;
use crate::state::AppState;

/// Reading the lists needs the admin role, at any age of sign-in (the
/// pages showing them ask for a recent one: `domain::pages`).
const READ_LISTS: Rule = Rule { access: Access::Admin, fresh: false, setup: false };

/// Who is acting.
#[derive(Clone, Copy, Debug)]
pub enum Actor<'a> {
    /// A signed-in administrator, on a page or the API.
    Admin(&'a CurrentUser),
    /// The operator, through the `gatehouse` command line.
    CommandLine,
}

impl Actor<'_> {
    fn id(&self) -> Option<&str> {
        match self {
            Self::Admin(user) => Some(user.id.as_str()),
            Self::CommandLine => None,
        }
    }

    /// An administrator who signed in recently, or the command line.
    fn authorise(&self, state: &AppState) -> Result<(), AppError> {
        if let Self::Admin(user) = self {
            user.may(Rule::ADMIN, state.clock.now(), &state.accounts)?;
        }
        Ok(())
    }

    /// Refuses changes an administrator would make to their own account
    /// that could lock them out.
    fn not_self(&self, target_id: &UserId, what: &str) -> Result<(), AppError> {
        match self {
            Self::Admin(user) if user.id == *target_id => {
                Err(AppError::Forbidden(format!("You cannot {what} your own account; ask another administrator.")))
            }
            _ => Ok(()),
        }
    }
}

/// The id of the account named `username` (for the command line).
///
/// # Errors
/// [`AppError::NotFound`] when there is none.
pub async fn find(state: &AppState, username: &str) -> Result<UserId, AppError> {
    let not_found = || AppError::NotFound(format!("There is no account named '{}'.", username.trim()));
    let name = Username::parse(username).map_err(|_| not_found())?;
    Ok(users::find_by_username(&state.db, &name).await?.ok_or_else(not_found)?.id)
}

/// One page of accounts whose name contains `search`.
///
/// # Errors
/// [`AppError::Forbidden`] for anyone but an administrator.
pub async fn list_users(
    state: &AppState,
    admin: &CurrentUser,
    search: Option<&str>,
    page: Option<u32>,
) -> Result<Paged<UserSummary>, AppError> {
    admin.may(READ_LISTS, state.clock.now(), &state.accounts)?;
    let search = search.map(str::trim).filter(|s| !s.is_empty()).map(|s| s.chars().take(64).collect::<String>());
    users::list(&state.db, search.as_deref(), Paged::<UserSummary>::clamp(page)).await.map_err(AppError::from)
}

/// Filters for [`audit_log`], as typed into the admin page or the API.
#[derive(Clone, Debug, Default)]
pub struct AuditQuery {
    pub kind: Option<String>,
    pub user: Option<String>,
    /// `success` or `failure`.
    pub outcome: Option<String>,
    pub page: Option<u32>,
}

/// One page of the audit log, newest first.
///
/// # Errors
/// [`AppError::Forbidden`] for anyone but an administrator,
/// [`AppError::Invalid`] for an unknown kind or outcome.
pub async fn audit_log(state: &AppState, admin: &CurrentUser, q: &AuditQuery) -> Result<Paged<AuditEntry>, AppError> {
    admin.may(READ_LISTS, state.clock.now(), &state.accounts)?;
    let blank = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let kind = match blank(&q.kind) {
        None => None,
        Some(k) => Some(AuditKind::from_stored(&k).ok_or_else(|| AppError::invalid("kind", "Unknown event kind."))?),
    };
    let success = match blank(&q.outcome).as_deref() {
        None => None,
        Some("success") => Some(true),
        Some("failure") => Some(false),
        Some(_) => return Err(AppError::invalid("outcome", "Outcome is 'success' or 'failure'.")),
    };
    let filter = audit::Filter { kind, user_key: blank(&q.user).map(|u| Username::fold(&u)), success };
    audit::list(&state.db, &filter, Paged::<AuditEntry>::clamp(q.page)).await.map_err(AppError::from)
}

fn change_result(change: Result<users::Change, sqlx::Error>) -> Result<bool, AppError> {
    match change {
        Ok(users::Change::Done) => Ok(true),
        Ok(users::Change::Unchanged) => Ok(false),
        Ok(users::Change::NotFound) => Err(AppError::NotFound("That account no longer exists.".into())),
        Ok(users::Change::LastAdmin) => Err(AppError::Conflict(
            "That would leave no enabled administrator. Make another account an administrator first.".into(),
        )),
        Err(e) if store::is_serialization_failure(&e) => {
            Err(AppError::Conflict("Another change to accounts happened at the same moment. Please try again.".into()))
        }
        Err(e) => Err(e.into()),
    }
}

fn admin_event<'a>(
    kind: AuditKind,
    actor: &'a Actor<'_>,
    client: &'a Client,
    target_id: &'a UserId,
    detail: &'a str,
    at: UnixTime,
) -> Event<'a> {
    Event { actor_id: actor.id(), subject_id: Some(target_id.as_str()), detail, ..event(kind, client, at) }
}

/// Gives `target_id` `role`. Applies at once: the guard reads the role on
/// every request. Returns whether anything changed.
///
/// # Errors
/// [`AppError::Forbidden`] (not an administrator, or their own account),
/// [`AppError::ReauthRequired`], [`AppError::Conflict`] for the last
/// administrator, [`AppError::NotFound`].
pub async fn set_role(
    state: &AppState,
    actor: Actor<'_>,
    target_id: &UserId,
    role: Role,
    client: &Client,
) -> Result<bool, AppError> {
    actor.authorise(state)?;
    actor.not_self(target_id, "change the role of")?;
    let detail = format!("role set to {role}");
    let event = admin_event(AuditKind::RoleChange, &actor, client, target_id, &detail, state.clock.now());
    let changed = change_result(users::set_role(&state.db, target_id, role, &event).await)?;
    tracing::info!(user_id = %target_id, %role, changed, "role set");
    Ok(changed)
}

/// Disables (ending every session at once) or enables `target_id`.
/// Returns whether anything changed.
///
/// # Errors
/// As [`set_role`].
pub async fn set_disabled(
    state: &AppState,
    actor: Actor<'_>,
    target_id: &UserId,
    disabled: bool,
    client: &Client,
) -> Result<bool, AppError> {
    actor.authorise(state)?;
    actor.not_self(target_id, "disable or enable")?;
    let kind = if disabled { AuditKind::Disable } else { AuditKind::Enable };
    let detail = if disabled { "every session ended" } else { "" };
    let event = admin_event(kind, &actor, client, target_id, detail, state.clock.now());
    let changed = change_result(users::set_disabled(&state.db, target_id, disabled, &event).await)?;
    tracing::info!(user_id = %target_id, disabled, changed, "account state set");
    Ok(changed)
}

/// Ends every session of `target_id`. Returns how many ended.
///
/// # Errors
/// [`AppError::Forbidden`], [`AppError::ReauthRequired`].
pub async fn end_sessions(
    state: &AppState,
    actor: Actor<'_>,
    target_id: &UserId,
    client: &Client,
) -> Result<u64, AppError> {
    actor.authorise(state)?;
    let now = state.clock.now();
    let n = sessions::revoke_all(&state.db, target_id, None, "ended by an administrator", now).await?;
    let detail = format!("{n} ended by an administrator");
    note(state, &admin_event(AuditKind::SessionsEnded, &actor, client, target_id, &detail, now)).await;
    tracing::info!(user_id = %target_id, ended = n, "sessions ended by an administrator");
    Ok(n)
}

/// Removes every second factor of `target_id` and ends its sessions, for
/// a person who lost their phone and their recovery codes. Returns whether
/// there was one. The person signs in with the password alone next time
/// (or, if the policy requires a factor, is asked to set one up).
///
/// # Errors
/// [`AppError::Forbidden`] for one's own account, [`AppError::ReauthRequired`].
pub async fn reset_factors(
    state: &AppState,
    actor: Actor<'_>,
    target_id: &UserId,
    client: &Client,
) -> Result<bool, AppError> {
    actor.authorise(state)?;
    actor.not_self(target_id, "reset the two-step sign-in of")?;
    let now = state.clock.now();
    let event = admin_event(AuditKind::FactorsReset, &actor, client, target_id, "every session ended", now);
    let done = crate::db::factors::reset(&state.db, target_id, &event).await?;
    tracing::info!(user_id = %target_id, done, "second factors reset by an administrator");
    Ok(done)
}

/// A freshly issued reset link.
#[derive(Debug)]
pub struct IssuedReset {
    /// The whole link, to hand to the person; it is shown once.
    pub url: String,
    pub expires_at: UnixTime,
}

/// Issues a single-use password-reset link for `target_id`; any older
/// unused link of the account dies.
///
/// # Errors
/// [`AppError::Forbidden`], [`AppError::ReauthRequired`],
/// [`AppError::NotFound`].
pub async fn issue_reset(
    state: &AppState,
    actor: Actor<'_>,
    target_id: &UserId,
    client: &Client,
) -> Result<IssuedReset, AppError> {
    actor.authorise(state)?;
    if users::find_by_id(&state.db, target_id).await?.is_none() {
        return Err(AppError::NotFound("That account no longer exists.".into()));
    }
    let token = ResetToken::generate().map_err(|e| AppError::internal(&e))?;
    let now = state.clock.now();
    let expires_at = now + state.accounts.reset_ttl;
    let event = admin_event(AuditKind::ResetIssued, &actor, client, target_id, "older unused links revoked", now);
    resets::issue(&state.db, target_id, &token.hash(), actor.id(), expires_at, &event).await?;
    tracing::info!(user_id = %target_id, "password reset link issued");
    let origin = state.origins.first().map_or("", String::as_str);
    Ok(IssuedReset { url: format!("{origin}/reset?token={}", token.expose()), expires_at })
}
