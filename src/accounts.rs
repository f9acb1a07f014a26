//! What people do with their accounts: register, sign in, sign out. Used
//! alike by the server functions behind the pages and by the JSON API, so
//! both speak with one set of rules and one set of messages.

use crate::auth::guard::CurrentUser;
use crate::auth::hasher::HasherError;
use crate::auth::token::{self, Issued};
use crate::db::{revocations, users};
use crate::domain::{Password, Username};
use crate::error::AppError;
use crate::state::AppState;

/// A successful sign-in.
#[derive(Debug)]
pub struct SignedIn {
    pub username: String,
    pub access: Issued,
}

fn hasher_error(e: HasherError) -> AppError {
    match e {
        HasherError::Busy => AppError::Busy,
        other => AppError::internal(&other),
    }
}

/// Creates an account with role `user`.
///
/// # Errors
/// [`AppError::Invalid`] naming the field, [`AppError::Conflict`] when the
/// name is taken (case-insensitively).
pub async fn register(
    state: &AppState,
    username: &str,
    password: &str,
) -> Result<Username, AppError> {
    let username = Username::parse(username).map_err(|e| AppError::invalid("username", e))?;
    let password = Password::parse_new(password).map_err(|e| AppError::invalid("password", e))?;
    let hash = state.hasher.hash(password).await.map_err(hasher_error)?;
    let id = uuid::Uuid::new_v4().to_string();
    match users::create(&state.db, &id, &username, &hash, state.clock.now()).await {
        Ok(()) => {
            tracing::info!(user_id = %id, "account created");
            Ok(username)
        }
        Err(users::CreateError::Taken) => Err(AppError::Conflict(
            "That username is taken. Choose another one.".into(),
        )),
        Err(users::CreateError::Db(e)) => Err(AppError::internal(&e)),
    }
}

/// Checks a username and password and issues an access token.
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
) -> Result<SignedIn, AppError> {
    let password =
        Password::parse_attempt(password).map_err(|e| AppError::invalid("password", e))?;
    let user = match Username::parse(username) {
        Ok(name) => users::find_by_username(&state.db, &name)
            .await
            .map_err(|e| AppError::internal(&e))?,
        Err(_) => None,
    };
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let matched = state
        .hasher
        .verify(password, stored)
        .await
        .map_err(hasher_error)?;
    let user = match user {
        Some(u) if matched && !u.disabled => u,
        _ => {
            tracing::info!("sign-in refused");
            return Err(AppError::BadCredentials);
        }
    };
    let jti = uuid::Uuid::new_v4().to_string();
    let access = token::issue_access(
        &state.keys,
        &state.tokens,
        &user.id,
        user.role,
        jti,
        state.clock.now(),
    )
    .map_err(|e| AppError::internal(&e))?;
    tracing::info!(user_id = %user.id, "signed in");
    Ok(SignedIn {
        username: user.username,
        access,
    })
}

/// Ends the session behind `user`'s access token: the token is revoked on
/// the server until it would have expired.
///
/// # Errors
/// [`AppError::Internal`] when the revocation cannot be stored.
pub async fn sign_out(state: &AppState, user: &CurrentUser) -> Result<(), AppError> {
    let c = &user.claims;
    revocations::revoke(
        &state.db,
        &c.jti,
        &user.id,
        c.exp + state.tokens.leeway,
        state.clock.now(),
    )
    .await
    .map_err(|e| AppError::internal(&e))?;
    tracing::info!(user_id = %user.id, "signed out");
    Ok(())
}
