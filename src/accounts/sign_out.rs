//! Ending sessions: this one, by its refresh token, every one, or one chosen from the list.

use super::audit::{event, note};
use crate::auth::caller::{Client, CurrentUser};
use crate::auth::refresh::RefreshToken;
use crate::db::audit::Event;
use crate::db::sessions;
use crate::domain::{AuditKind, SessionId};
use crate::error::AppError;
use crate::state::AppState;

/// Ends the session `user` is signed in with: every access and refresh
/// token of it stops working at once.
///
/// # Errors
/// [`AppError::Internal`] when it cannot be stored.
pub async fn sign_out(state: &AppState, user: &CurrentUser, client: &Client) -> Result<(), AppError> {
    let now = state.clock.now();
    let who = Some(user.id.as_str());
    let signed_out = Event { actor_id: who, subject_id: who, ..event(AuditKind::SignOut, client, now) };
    sessions::revoke(&state.db, &user.id, &user.session_id, "signed out", &signed_out, now).await?;
    tracing::info!(user_id = %user.id, session_id = %user.session_id, "signed out");
    Ok(())
}

/// Ends the session a refresh token belongs to, whatever state the token
/// is in: for signing out when the access token has already expired.
///
/// # Errors
/// [`AppError::Internal`] when it cannot be stored.
pub async fn sign_out_by_refresh(state: &AppState, presented: &str, client: &Client) -> Result<(), AppError> {
    let Some(token) = RefreshToken::parse(presented) else { return Ok(()) };
    if let Some(r) = sessions::find_refresh(&state.db, &token.hash()).await? {
        let now = state.clock.now();
        let who = Some(r.user_id.as_str());
        let signed_out = Event { actor_id: who, subject_id: who, ..event(AuditKind::SignOut, client, now) };
        if sessions::revoke(&state.db, &r.user_id, &r.session_id, "signed out", &signed_out, now).await? {
            tracing::info!(user_id = %r.user_id, session_id = %r.session_id, "signed out");
        }
    }
    Ok(())
}

/// Ends all of `user`'s sessions, or all but the current one.
///
/// # Errors
/// [`AppError::Internal`] when it cannot be stored.
pub async fn sign_out_everywhere(
    state: &AppState,
    user: &CurrentUser,
    keep_current: bool,
    client: &Client,
) -> Result<u64, AppError> {
    let keep = keep_current.then_some(&user.session_id);
    let now = state.clock.now();
    let n = sessions::revoke_all(&state.db, &user.id, keep, "signed out everywhere", now).await?;
    let detail = format!("{n} ended by the owner{}", if keep_current { ", this one kept" } else { "" });
    let who = Some(user.id.as_str());
    note(
        state,
        &Event { actor_id: who, subject_id: who, detail: &detail, ..event(AuditKind::SessionsEnded, client, now) },
    )
    .await;
    tracing::info!(user_id = %user.id, ended = n, "signed out of other sessions");
    Ok(n)
}

/// Ends one of `user`'s own sessions.
///
/// # Errors
/// [`AppError::NotFound`] when it is not a live session of theirs: one
/// that has ended already and another person's look the same.
pub async fn end_session(
    state: &AppState,
    user: &CurrentUser,
    session_id: &SessionId,
    client: &Client,
) -> Result<(), AppError> {
    let now = state.clock.now();
    let who = Some(user.id.as_str());
    let detail = "one session ended by the owner";
    let ended = Event { actor_id: who, subject_id: who, detail, ..event(AuditKind::SessionsEnded, client, now) };
    if sessions::revoke(&state.db, &user.id, session_id, "ended by owner", &ended, now).await? {
        Ok(())
    } else {
        Err(AppError::NotFound("No live session of yours has that id: it has ended already.".into()))
    }
}
