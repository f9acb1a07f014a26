//! Trading a refresh token for new tokens, and catching a stolen one.

use super::audit::event;
use super::{RefreshError, Rotation, SessionTokens, issue};
use crate::auth::caller::{Client, SessionOwner};
use crate::auth::refresh::{self, RefreshToken, Verdict};
use crate::db::audit::Event;
use crate::db::sessions;
use crate::domain::AuditKind;
use crate::error::AppError;
use crate::state::AppState;

/// Rotates a refresh token: the presented one dies, a new access and
/// refresh token are issued for the same session. Presenting a token that
/// was rotated earlier (outside the short grace for concurrent requests)
/// ends the whole session: the thief's and the owner's newest tokens alike.
///
/// # Errors
/// A [`RefreshError`] saying why the token was refused.
pub async fn refresh(state: &AppState, presented: &str, client: &Client) -> Result<Rotation, RefreshError> {
    let internal = |e: sqlx::Error| RefreshError::Failed(e.into());
    let token = RefreshToken::parse(presented).ok_or(RefreshError::Invalid)?;
    let record =
        sessions::find_refresh(&state.db, &token.hash()).await.map_err(internal)?.ok_or(RefreshError::Invalid)?;
    let now = state.clock.now();
    match refresh::judge(&record.stored, &state.refresh, now) {
        Verdict::Rotate | Verdict::Superseded => {}
        Verdict::Expired => return Err(RefreshError::Expired),
        Verdict::Revoked => return Err(RefreshError::SessionEnded),
        Verdict::Reused => {
            let subject = Some(record.user_id.as_str());
            let detail = "an already rotated refresh token came back; the session was ended";
            let reuse =
                Event { success: false, subject_id: subject, detail, ..event(AuditKind::RefreshReuse, client, now) };
            sessions::revoke(&state.db, &record.user_id, &record.session_id, "refresh token reuse", &reuse, now)
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
    let standing = sessions::standing(&state.db, &record.user_id, &record.session_id)
        .await
        .map_err(internal)?
        .ok_or(RefreshError::SessionEnded)?;
    if standing.disabled {
        return Err(RefreshError::AccountUnavailable);
    }
    let owner = SessionOwner {
        user_id: record.user_id,
        username: standing.username,
        role: standing.role,
        session_id: record.session_id,
        authenticated_at: standing.authenticated_at,
        methods: standing.methods,
    };
    if record.stored.rotated_at.is_some() {
        return Ok(Rotation::Superseded(owner));
    }
    let next = RefreshToken::generate().map_err(|e| RefreshError::Failed(AppError::internal(&e)))?;
    let me = Some(owner.user_id.as_str());
    let refreshed = Event { actor_id: me, subject_id: me, ..event(AuditKind::Refresh, client, now) };
    let (old_hash, new_hash) = (token.hash(), next.hash());
    let rotated = sessions::rotate(&state.db, &owner.session_id, &old_hash, &new_hash, &refreshed, now);
    if !rotated.await.map_err(internal)? {
        // Another request rotated it between our read and our write.
        return Ok(Rotation::Superseded(owner));
    }
    let access = issue(state, &owner).map_err(RefreshError::Failed)?;
    Ok(Rotation::Rotated(Box::new(SessionTokens { owner, access, refresh: next })))
}
