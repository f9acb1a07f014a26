//! Creating accounts: by a stranger at the registration form or API, or by the operator.

use super::attempts::{self, PerAddress};
use super::audit::event;
use super::{hasher_error, new_id};
use crate::auth::caller::Client;
use crate::db::audit::Event;
use crate::db::users;
use crate::domain::{AuditKind, Password, Role, UserId, Username};
use crate::error::AppError;
use crate::state::AppState;

/// Registration by a stranger: counted per address (whatever the outcome,
/// so probing for taken names is throttled too), then an ordinary `user`.
///
/// # Errors
/// As [`register`], and [`AppError::TooManyAttempts`].
pub async fn sign_up(state: &AppState, username: &str, password: &str, client: &Client) -> Result<Username, AppError> {
    attempts::count(state, client, PerAddress::Registration).await?;
    register(state, username, password, Role::User, client).await
}

/// Creates an account with `role` (people registering get `user`; only
/// the command line makes administrators).
///
/// # Errors
/// [`AppError::Invalid`] naming the field, [`AppError::Conflict`] when the
/// normalised name is taken.
pub async fn register(
    state: &AppState,
    username: &str,
    password: &str,
    role: Role,
    client: &Client,
) -> Result<Username, AppError> {
    let username = Username::parse(username).map_err(|e| AppError::invalid("username", e))?;
    let password = Password::parse_new(password, &username).map_err(|e| AppError::invalid("password", e))?;
    let hash = state.hasher.hash(password).await.map_err(hasher_error)?;
    let id = UserId::from(new_id());
    let detail = format!("role {role}");
    let event = Event {
        subject_id: Some(id.as_str()),
        username: Some(username.as_str()),
        detail: &detail,
        ..event(AuditKind::Register, client, state.clock.now())
    };
    let user = users::NewUser { id: &id, username: &username, password_hash: &hash, role };
    match users::create(&state.db, user, &event).await {
        Ok(()) => {
            tracing::info!(user_id = %id, %role, "account created");
            Ok(username)
        }
        Err(users::CreateError::Taken) => Err(AppError::Conflict("That username is taken. Choose another one.".into())),
        Err(users::CreateError::Db(e)) => Err(e.into()),
    }
}
