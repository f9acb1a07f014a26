//! Signing in with a password, and confirming it again for sensitive actions.

use super::audit::{event, note};
use super::{SessionTokens, attempts, hasher_error, issue, new_id};
use crate::auth::caller::{Client, CurrentUser, SessionOwner};
use crate::auth::refresh::RefreshToken;
use crate::auth::token::Issued;
use crate::db::audit::Event;
use crate::db::{sessions, users};
use crate::domain::{AuditKind, AuthMethod, Password, SessionId, Username};
use crate::error::AppError;
use crate::state::AppState;

/// Checks a username and password and starts a session on `client`.
///
/// An unknown user, a malformed name, a disabled account and a wrong
/// password all cost one Argon2id verification and get the same answer.
///
/// # Errors
/// [`AppError::BadCredentials`], or [`AppError::Invalid`] for a password
/// that is empty or over the size bound (refused before any hashing).
pub async fn sign_in(
    state: &AppState,
    username: &str,
    password: &str,
    client: &Client,
) -> Result<SessionTokens, AppError> {
    let password = Password::parse_attempt(password).map_err(|e| AppError::invalid("password", e))?;
    // Overload is refused first: it costs nothing and counts as no guess.
    let place = state.hasher.reserve().map_err(hasher_error)?;
    let attempt = attempts::password(state, client, username).await?;
    let user = match Username::parse(username) {
        Ok(name) => users::find_by_username(&state.db, &name).await?,
        Err(_) => None,
    };
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let matched = place.verify(password.clone(), stored).await.map_err(hasher_error)?;
    let now = state.clock.now();
    let user = match user {
        Some(u) if matched && !u.disabled => u,
        user => {
            attempt.failed(state, client).await;
            let detail = match &user {
                None => "no such account",
                Some(u) if u.disabled && matched => "account disabled",
                Some(_) => "wrong password",
            };
            let attempted: String = username.trim().chars().take(64).collect();
            let subject_id = user.as_ref().map(|u| u.id.as_str());
            note(
                state,
                &Event {
                    success: false,
                    subject_id,
                    username: Some(&attempted),
                    detail,
                    ..event(AuditKind::SignIn, client, now)
                },
            )
            .await;
            tracing::info!("sign-in refused");
            return Err(AppError::BadCredentials);
        }
    };
    attempt.succeeded(state).await;
    upgrade_hash(state, &user, password).await;
    let refresh = RefreshToken::generate().map_err(|e| AppError::internal(&e))?;
    let session_id = SessionId::from(new_id());
    let methods = [AuthMethod::Password];
    let session = sessions::NewSession {
        id: &session_id,
        user_id: &user.id,
        user_agent: &client.user_agent,
        ip: &client.ip,
        methods: &methods,
    };
    sessions::create(&state.db, &session, &refresh.hash(), now).await?;
    let owner = SessionOwner {
        user_id: user.id,
        username: user.username,
        role: user.role,
        session_id,
        authenticated_at: now,
        methods: methods.to_vec(),
    };
    let access = issue(state, &owner)?;
    note(
        state,
        &Event {
            actor_id: Some(owner.user_id.as_str()),
            subject_id: Some(owner.user_id.as_str()),
            ..event(AuditKind::SignIn, client, now)
        },
    )
    .await;
    tracing::info!(user_id = %owner.user_id, session_id = %owner.session_id, "signed in");
    Ok(SessionTokens { owner, access, refresh })
}

/// After a successful sign-in: replaces a hash made with other Argon2
/// parameters than the configured ones. Failing to is logged and does not
/// stop the sign-in; the next one tries again.
async fn upgrade_hash(state: &AppState, user: &users::UserRecord, password: Password) {
    if !state.hasher.needs_rehash(&user.password_hash) {
        return;
    }
    let upgraded = match state.hasher.hash(password).await {
        Ok(hash) => {
            users::upgrade_hash(&state.db, &user.id, &user.password_hash, &hash).await.map_err(|e| e.to_string())
        }
        Err(e) => Err(e.to_string()),
    };
    match upgraded {
        Ok(true) => tracing::info!(user_id = %user.id, "password hash upgraded to the configured parameters"),
        Ok(false) => {}
        Err(e) => tracing::warn!(user_id = %user.id, error = %e, "could not upgrade a password hash"),
    }
}

/// Confirms `user`'s password for sensitive actions: the session counts
/// as freshly signed in from now, and a new access token says so.
///
/// # Errors
/// [`AppError::Invalid`] for a wrong password (the person is signed in,
/// so this reveals nothing), [`AppError::Unauthorized`] when the session
/// ended meanwhile.
pub async fn reauthenticate(
    state: &AppState,
    user: &CurrentUser,
    password: &str,
    client: &Client,
) -> Result<Issued, AppError> {
    let password = Password::parse_attempt(password).map_err(|e| AppError::invalid("password", e))?;
    let place = state.hasher.reserve().map_err(hasher_error)?;
    let attempt = attempts::password(state, client, &user.username).await?;
    let record = users::find_by_id(&state.db, &user.id).await?.ok_or_else(AppError::unexpected)?;
    let matched = place.verify(password, Some(record.password_hash)).await.map_err(hasher_error)?;
    let now = state.clock.now();
    let mine = Event {
        actor_id: Some(user.id.as_str()),
        subject_id: Some(user.id.as_str()),
        ..event(AuditKind::Reauthenticate, client, now)
    };
    if !matched {
        attempt.failed(state, client).await;
        note(state, &Event { success: false, detail: "wrong password", ..mine }).await;
        return Err(AppError::invalid("password", "That password is not correct."));
    }
    attempt.succeeded(state).await;
    if !sessions::reauthenticate(&state.db, &user.session_id, now).await? {
        return Err(AppError::Unauthorized("Session has ended; sign in again".into()));
    }
    note(state, &mine).await;
    issue(state, &SessionOwner { authenticated_at: now, ..user.owner() })
}
