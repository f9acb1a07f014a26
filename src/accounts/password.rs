//! Changing a password, and setting one with a reset link.

use super::attempts::{self, PerAddress};
use super::audit::{event, note};
use super::hasher_error;
use crate::auth::caller::{Client, CurrentUser};
use crate::auth::opaque::ResetToken;
use crate::db::audit::Event;
use crate::db::{resets, users};
use crate::domain::{AuditKind, Password, Rule, Username};
use crate::error::AppError;
use crate::state::AppState;

/// Changes `user`'s password after checking the current one, and ends
/// every other session of the account; this one stays signed in. Needs a
/// recent sign-in.
///
/// # Errors
/// [`AppError::ReauthRequired`] when the sign-in is not recent,
/// [`AppError::Invalid`] naming the field: a wrong current password, a
/// mismatched confirmation, or a new one that breaks the policy or equals
/// the current one.
pub async fn change_password(
    state: &AppState,
    user: &CurrentUser,
    form: &NewPasswordForm<'_>,
    current: &str,
    client: &Client,
) -> Result<u64, AppError> {
    user.may(Rule::RECENT_SIGN_IN, state.clock.now(), &state.accounts)?;
    let current = Password::parse_attempt(current).map_err(|e| AppError::invalid("current_password", e))?;
    let username = Username::parse(&user.username).map_err(|_| AppError::unexpected())?;
    let new = form.parse(&username)?;
    if new.expose() == current.expose() {
        return Err(AppError::invalid("new_password", "Choose a password different from your current one."));
    }
    // The current password is guessed like any other: the same account
    // and address limits as signing in, so a stolen session gains nothing.
    let place = state.hasher.reserve().map_err(hasher_error)?;
    let attempt = attempts::password(state, client, &user.username).await?;
    let record = users::find_by_id(&state.db, &user.id).await?.ok_or_else(AppError::unexpected)?;
    let who = Some(user.id.as_str());
    let changing =
        Event { actor_id: who, subject_id: who, ..event(AuditKind::PasswordChange, client, state.clock.now()) };
    if !place.verify(current, Some(record.password_hash)).await.map_err(hasher_error)? {
        attempt.failed(state, client).await;
        note(state, &Event { success: false, detail: "wrong current password", ..changing }).await;
        return Err(AppError::invalid("current_password", "Your current password is not correct."));
    }
    attempt.succeeded(state).await;
    let hash = state.hasher.hash(new).await.map_err(hasher_error)?;
    let event = Event { detail: "other sessions ended", ..changing };
    let ended = users::set_password(&state.db, &user.id, &hash, Some(&user.session_id), &event).await?;
    tracing::info!(user_id = %user.id, other_sessions_ended = ended, "password changed");
    Ok(ended)
}

/// A new password as typed twice on a form (or once in the API, where the
/// confirmation is the client's business).
#[derive(Clone, Copy, Debug)]
pub struct NewPasswordForm<'a> {
    pub new: &'a str,
    pub confirm: Option<&'a str>,
}

impl NewPasswordForm<'_> {
    fn parse(&self, username: &Username) -> Result<Password, AppError> {
        let new = Password::parse_new(self.new, username).map_err(|e| AppError::invalid("new_password", e))?;
        if self.confirm.is_some_and(|c| c != self.new) {
            return Err(AppError::invalid("confirm_password", "The two new passwords do not match."));
        }
        Ok(new)
    }
}

/// What a reset link is worth, in words for the reset page.
#[derive(Debug, PartialEq, Eq)]
pub enum ResetLink {
    /// Usable: it sets the password of this account.
    Live {
        username: String,
    },
    Dead(&'static str),
}

/// Looks at a presented reset link without using it.
///
/// # Errors
/// [`AppError::Internal`] when the database fails.
pub async fn reset_link(state: &AppState, presented: &str, client: &Client) -> Result<ResetLink, AppError> {
    attempts::count(state, client, PerAddress::Reset).await?;
    match ResetToken::parse(presented.trim()) {
        Some(token) => look_up_reset(state, &token.hash()).await,
        None => Ok(ResetLink::Dead(DEAD_LINK)),
    }
}

async fn look_up_reset(state: &AppState, hash: &str) -> Result<ResetLink, AppError> {
    Ok(match resets::status(&state.db, hash, state.clock.now()).await? {
        resets::Status::Live { username, .. } => ResetLink::Live { username },
        resets::Status::Used => {
            ResetLink::Dead("This reset link has already been used. Ask an administrator for a new one.")
        }
        resets::Status::Expired => ResetLink::Dead("This reset link has expired. Ask an administrator for a new one."),
        resets::Status::Unknown => ResetLink::Dead(DEAD_LINK),
    })
}

const DEAD_LINK: &str =
    "This reset link is not valid. It may have been replaced by a newer one; ask an administrator for a new link.";

/// Uses a reset link: sets the new password, ends every session of the
/// account and kills the link, all at once.
///
/// # Errors
/// [`AppError::Invalid`] for a dead link (field `token`) or a new
/// password that breaks the policy.
pub async fn reset_password(
    state: &AppState,
    presented: &str,
    form: &NewPasswordForm<'_>,
    client: &Client,
) -> Result<(), AppError> {
    attempts::count(state, client, PerAddress::Reset).await?;
    let dead = |message: &str| AppError::invalid("token", message);
    let hash = ResetToken::parse(presented.trim()).ok_or_else(|| dead(DEAD_LINK))?.hash();
    let username = match look_up_reset(state, &hash).await? {
        ResetLink::Live { username } => username,
        ResetLink::Dead(why) => return Err(dead(why)),
    };
    let username = Username::parse(&username).map_err(|_| AppError::unexpected())?;
    let password_hash = state.hasher.hash(form.parse(&username)?).await.map_err(hasher_error)?;
    let event = Event { detail: "all sessions ended", ..event(AuditKind::ResetUsed, client, state.clock.now()) };
    match resets::consume(&state.db, &hash, &password_hash, &event).await? {
        Some(user_id) => {
            tracing::info!(user_id = %user_id, "password reset with a link");
            Ok(())
        }
        // Used or expired between the look and the use.
        None => Err(dead("This reset link is no longer valid. Ask an administrator for a new one.")),
    }
}
