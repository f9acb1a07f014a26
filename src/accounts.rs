//! What people do with their accounts and sessions: register, sign in,
//! refresh, sign out (here, one device, or everywhere). Used alike by the
//! server functions behind the pages and by the JSON API, so both speak
//! with one set of rules and one set of messages.

use axum::http::HeaderValue;

use crate::auth::cookies;
use crate::auth::guard::{Client, CurrentUser};
use crate::auth::hasher::HasherError;
use crate::auth::refresh::{self, RefreshToken, Verdict};
use crate::auth::token::{self, Grant, Issued};
use crate::db::{sessions, users};
use crate::domain::{Password, SessionSummary, Username};
use crate::error::AppError;
use crate::state::AppState;

/// A new access token and refresh token for one session.
#[derive(Debug)]
pub struct Renewed {
    pub user: CurrentUser,
    pub access: Issued,
    pub refresh: RefreshToken,
}

impl Renewed {
    /// The two cookies a browser keeps them in.
    pub fn cookies(&self, state: &AppState) -> [HeaderValue; 2] {
        let c = &self.access.claims;
        [
            cookies::set_access(&self.access.token, c.exp - c.iat),
            cookies::set_refresh(self.refresh.expose(), state.refresh.idle_ttl),
        ]
    }
}

/// The outcome of presenting a refresh token.
#[derive(Debug)]
pub enum Refreshed {
    Renewed(Renewed),
    /// A concurrent request rotated this token a moment ago: the caller is
    /// who they say, but the new tokens went to that other request.
    Superseded(CurrentUser),
}

/// Why a refresh token was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum RefreshError {
    Invalid,
    Expired,
    SessionEnded,
    /// An already-rotated token came back: the session was ended.
    Reused,
    AccountUnavailable,
    Internal,
}

impl From<RefreshError> for AppError {
    fn from(e: RefreshError) -> Self {
        let msg = match e {
            RefreshError::Invalid => "Refresh token is invalid",
            RefreshError::Expired => "Refresh token has expired; sign in again",
            RefreshError::SessionEnded => "Session has ended; sign in again",
            RefreshError::Reused => "Refresh token was already used; the session has been ended for safety",
            RefreshError::AccountUnavailable => "Account is not available",
            RefreshError::Internal => return AppError::Internal,
        };
        AppError::Unauthorized(msg.to_owned())
    }
}

fn hasher_error(e: HasherError) -> AppError {
    match e {
        HasherError::Busy => AppError::Busy,
        other => AppError::internal(&other),
    }
}

fn db_error(e: sqlx::Error) -> AppError {
    AppError::internal(&e)
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Creates an account with role `user`.
///
/// # Errors
/// [`AppError::Invalid`] naming the field, [`AppError::Conflict`] when the
/// name is taken (case-insensitively).
pub async fn register(state: &AppState, username: &str, password: &str) -> Result<Username, AppError> {
    let username = Username::parse(username).map_err(|e| AppError::invalid("username", e))?;
    let password = Password::parse_new(password).map_err(|e| AppError::invalid("password", e))?;
    let hash = state.hasher.hash(password).await.map_err(hasher_error)?;
    let id = new_id();
    match users::create(&state.db, &id, &username, &hash, state.clock.now()).await {
        Ok(()) => {
            tracing::info!(user_id = %id, "account created");
            Ok(username)
        }
        Err(users::CreateError::Taken) => Err(AppError::Conflict("That username is taken. Choose another one.".into())),
        Err(users::CreateError::Db(e)) => Err(db_error(e)),
    }
}

/// Checks a username and password and starts a session on `client`.
///
/// An unknown user, a malformed name, a disabled account and a wrong
/// password all cost one Argon2id verification and get the same answer.
///
/// # Errors
/// [`AppError::BadCredentials`], or [`AppError::Invalid`] for a password
/// that is empty or over the size bound (refused before any hashing).
pub async fn sign_in(state: &AppState, username: &str, password: &str, client: &Client) -> Result<Renewed, AppError> {
    let password = Password::parse_attempt(password).map_err(|e| AppError::invalid("password", e))?;
    let user = match Username::parse(username) {
        Ok(name) => users::find_by_username(&state.db, &name).await.map_err(db_error)?,
        Err(_) => None,
    };
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let matched = state.hasher.verify(password, stored).await.map_err(hasher_error)?;
    let user = match user {
        Some(u) if matched && !u.disabled => u,
        _ => {
            tracing::info!("sign-in refused");
            return Err(AppError::BadCredentials);
        }
    };
    let now = state.clock.now();
    let refresh = RefreshToken::generate().map_err(|e| AppError::internal(&e))?;
    let session_id = new_id();
    let session =
        sessions::NewSession { id: &session_id, user_id: &user.id, user_agent: &client.user_agent, ip: &client.ip };
    sessions::create(&state.db, &session, &refresh.hash(), now).await.map_err(db_error)?;
    let current = CurrentUser { id: user.id, username: user.username, role: user.role, session_id };
    let access = issue(state, &current)?;
    tracing::info!(user_id = %current.id, session_id = %current.session_id, "signed in");
    Ok(Renewed { user: current, access, refresh })
}

fn issue(state: &AppState, user: &CurrentUser) -> Result<Issued, AppError> {
    let grant = Grant { user_id: &user.id, role: user.role, session_id: &user.session_id };
    token::issue_access(&state.keys, &state.tokens, grant, new_id(), state.clock.now())
        .map_err(|e| AppError::internal(&e))
}

/// Rotates a refresh token: the presented one dies, a new access and
/// refresh token are issued for the same session. Presenting a token that
/// was rotated earlier (outside the short grace for concurrent requests)
/// ends the whole session: the thief's and the owner's newest tokens alike.
///
/// # Errors
/// A [`RefreshError`] saying why the token was refused.
pub async fn refresh(state: &AppState, presented: &str, client: &Client) -> Result<Refreshed, RefreshError> {
    let internal = |e: sqlx::Error| {
        let _ = AppError::internal(&e);
        RefreshError::Internal
    };
    let token = RefreshToken::parse(presented).ok_or(RefreshError::Invalid)?;
    let record =
        sessions::find_refresh(&state.db, &token.hash()).await.map_err(internal)?.ok_or(RefreshError::Invalid)?;
    let now = state.clock.now();
    match refresh::judge(&record.stored, &state.refresh, now) {
        Verdict::Rotate | Verdict::Superseded => {}
        Verdict::Expired => return Err(RefreshError::Expired),
        Verdict::Revoked => return Err(RefreshError::SessionEnded),
        Verdict::Reused => {
            sessions::revoke(&state.db, &record.user_id, &record.session_id, "refresh token reuse", now)
                .await
                .map_err(internal)?;
            tracing::warn!(
                user_id = %record.user_id,
                session_id = %record.session_id,
                ip = %client.ip,
                "refresh token reuse detected; session ended"
            );
            return Err(RefreshError::Reused);
        }
    }
    let principal = sessions::principal(&state.db, &record.user_id, &record.session_id)
        .await
        .map_err(internal)?
        .ok_or(RefreshError::SessionEnded)?;
    if principal.disabled {
        return Err(RefreshError::AccountUnavailable);
    }
    let user = CurrentUser {
        id: record.user_id,
        username: principal.username,
        role: principal.role,
        session_id: record.session_id,
    };
    if record.stored.rotated_at.is_some() {
        return Ok(Refreshed::Superseded(user));
    }
    let next = RefreshToken::generate().map_err(|e| {
        let _ = AppError::internal(&e);
        RefreshError::Internal
    })?;
    if !sessions::rotate(&state.db, &user.session_id, &token.hash(), &next.hash(), now).await.map_err(internal)? {
        // Another request rotated it between our read and our write.
        return Ok(Refreshed::Superseded(user));
    }
    let access = issue(state, &user).map_err(|_| RefreshError::Internal)?;
    Ok(Refreshed::Renewed(Renewed { user, access, refresh: next }))
}

/// Ends the session `user` is signed in with: every access and refresh
/// token of it stops working at once.
///
/// # Errors
/// [`AppError::Internal`] when it cannot be stored.
pub async fn sign_out(state: &AppState, user: &CurrentUser) -> Result<(), AppError> {
    sessions::revoke(&state.db, &user.id, &user.session_id, "signed out", state.clock.now()).await.map_err(db_error)?;
    tracing::info!(user_id = %user.id, session_id = %user.session_id, "signed out");
    Ok(())
}

/// Ends the session a refresh token belongs to, whatever state the token
/// is in: for signing out when the access token has already expired.
///
/// # Errors
/// [`AppError::Internal`] when it cannot be stored.
pub async fn sign_out_by_refresh(state: &AppState, presented: &str) -> Result<(), AppError> {
    let Some(token) = RefreshToken::parse(presented) else { return Ok(()) };
    if let Some(r) = sessions::find_refresh(&state.db, &token.hash()).await.map_err(db_error)? {
        sessions::revoke(&state.db, &r.user_id, &r.session_id, "signed out", state.clock.now())
            .await
            .map_err(db_error)?;
        tracing::info!(user_id = %r.user_id, session_id = %r.session_id, "signed out");
    }
    Ok(())
}

/// Ends all of `user`'s sessions, or all but the current one.
///
/// # Errors
/// [`AppError::Internal`] when it cannot be stored.
pub async fn sign_out_everywhere(state: &AppState, user: &CurrentUser, keep_current: bool) -> Result<u64, AppError> {
    let keep = keep_current.then_some(user.session_id.as_str());
    let n = sessions::revoke_all(&state.db, &user.id, keep, "signed out everywhere", state.clock.now())
        .await
        .map_err(db_error)?;
    tracing::info!(user_id = %user.id, ended = n, "signed out of other sessions");
    Ok(n)
}

/// Changes `user`'s password after checking the current one, and ends
/// every other session of the account; this one stays signed in.
///
/// # Errors
/// [`AppError::Invalid`] naming the field: a wrong current password, or a
/// new one that breaks the policy or equals the current one.
pub async fn change_password(state: &AppState, user: &CurrentUser, current: &str, new: &str) -> Result<u64, AppError> {
    let current = Password::parse_attempt(current).map_err(|e| AppError::invalid("current_password", e))?;
    let new = Password::parse_new(new).map_err(|e| AppError::invalid("new_password", e))?;
    if new.expose() == current.expose() {
        return Err(AppError::invalid("new_password", "Choose a password different from your current one."));
    }
    let record = users::find_by_id(&state.db, &user.id).await.map_err(db_error)?.ok_or(AppError::Internal)?;
    if !state.hasher.verify(current, Some(record.password_hash)).await.map_err(hasher_error)? {
        return Err(AppError::invalid("current_password", "Your current password is not correct."));
    }
    let hash = state.hasher.hash(new).await.map_err(hasher_error)?;
    let ended =
        users::set_password(&state.db, &user.id, &hash, &user.session_id, state.clock.now()).await.map_err(db_error)?;
    tracing::info!(user_id = %user.id, other_sessions_ended = ended, "password changed");
    Ok(ended)
}

/// Ends every session of the account `user_id`: for administrators and
/// for changes (a new password, a disabled account) that must sign a
/// person out everywhere. Returns how many ended.
///
/// # Errors
/// [`AppError::Internal`] when it cannot be stored.
pub async fn end_all_sessions_of(state: &AppState, user_id: &str, reason: &str) -> Result<u64, AppError> {
    let n = sessions::revoke_all(&state.db, user_id, None, reason, state.clock.now()).await.map_err(db_error)?;
    tracing::info!(user_id = %user_id, ended = n, reason, "ended all sessions of an account");
    Ok(n)
}

/// Ends one of `user`'s own sessions.
///
/// # Errors
/// [`AppError::Invalid`] when it is not a live session of theirs.
pub async fn end_session(state: &AppState, user: &CurrentUser, session_id: &str) -> Result<(), AppError> {
    if sessions::revoke(&state.db, &user.id, session_id, "ended by owner", state.clock.now()).await.map_err(db_error)? {
        Ok(())
    } else {
        Err(AppError::invalid("session", "That session has already ended."))
    }
}

/// `user`'s live sessions, newest use first, the current one marked.
///
/// # Errors
/// [`AppError::Internal`] when they cannot be read.
pub async fn list_sessions(state: &AppState, user: &CurrentUser) -> Result<Vec<SessionSummary>, AppError> {
    let now = state.clock.now();
    let rows = sessions::list_live(&state.db, &user.id, now - state.refresh.absolute_ttl, now - state.refresh.idle_ttl)
        .await
        .map_err(db_error)?;
    let mut list: Vec<SessionSummary> = rows
        .into_iter()
        .map(|r| SessionSummary {
            current: r.id == user.session_id,
            id: r.id,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            user_agent: r.user_agent,
            ip: r.ip,
        })
        .collect();
    // This device first, then the most recently used.
    list.sort_by_key(|s| !s.current);
    Ok(list)
}
