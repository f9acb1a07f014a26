//! What the signed-in person sees of their account: sessions and recent events.

use crate::auth::caller::CurrentUser;
use crate::db::{audit, sessions};
use crate::domain::{self, AccountOverview, AuditKind, SessionSummary};
use crate::error::AppError;
use crate::state::AppState;

/// How many security events the dashboard lists.
pub const RECENT_EVENTS: u32 = 6;

/// How far back the dashboard's one read of the account's events looks
/// for the sign-in before this one; further only when it is not there.
const SIGN_IN_LOOK_BACK: u32 = 20;

/// The signed-in person's account at a glance: sessions, the sign-in
/// before this one, and recent security events.
///
/// # Errors
/// [`AppError::Unavailable`] or [`AppError::Internal`] when they cannot be read.
pub async fn overview(state: &AppState, user: &CurrentUser) -> Result<AccountOverview, AppError> {
    let sessions = list_sessions(state, user).await?;
    let this_began = sessions.iter().find(|s| s.current).map_or(i64::MAX, |s| s.created_at);
    // One read serves both, unless a run of other events (a flood of
    // refused guesses, say) pushed the previous sign-in further back.
    let mut recent = audit::concerning(&state.db, &user.id, None, None, SIGN_IN_LOOK_BACK).await?;
    let mut previous_sign_in = domain::previous_sign_in(&recent, this_began);
    if previous_sign_in.is_none() && recent.len() == SIGN_IN_LOOK_BACK as usize {
        let sign_ins = audit::concerning(&state.db, &user.id, Some(AuditKind::SignIn), Some(true), 2).await?;
        previous_sign_in = domain::previous_sign_in(&sign_ins, this_began);
    }
    recent.truncate(RECENT_EVENTS as usize);
    Ok(AccountOverview { sessions, previous_sign_in, recent })
}

/// `user`'s live sessions, this device first, then the most recently
/// used.
///
/// # Errors
/// [`AppError::Unavailable`] or [`AppError::Internal`] when they cannot be read.
pub async fn list_sessions(state: &AppState, user: &CurrentUser) -> Result<Vec<SessionSummary>, AppError> {
    let now = state.clock.now();
    let rows = sessions::list_live(&state.db, &user.id, now - state.refresh.absolute_ttl, now - state.refresh.idle_ttl)
        .await?;
    let mut list: Vec<SessionSummary> = rows
        .into_iter()
        .map(|r| SessionSummary {
            current: r.id == user.session_id,
            id: r.id,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            user_agent: r.user_agent,
            ip: r.ip,
            methods: r.methods,
        })
        .collect();
    // This device first, then the most recently used.
    list.sort_by_key(|s| !s.current);
    Ok(list)
}
