//! What people do with their accounts and sessions: register, sign in,
//! confirm their password, refresh, sign out (here, one device, or
//! everywhere), change or reset their password. Used alike by the server
//! functions behind the pages, the JSON API and the command line, so all
//! speak with one set of rules and one set of messages, and every change
//! leaves an audit event.

pub mod administer;
pub mod attempts;
pub mod audit;
mod overview;
mod passkey_use;
mod passkeys;
mod password;
mod refresh;
mod register;
mod second_factor;
mod sign_in;
mod sign_out;

use crate::auth::caller::SessionOwner;
use crate::auth::hasher::HasherError;
pub use crate::auth::policy::AccountPolicy;
use crate::auth::refresh::RefreshToken;
use crate::auth::token::{self, Grant, Issued};
use crate::error::AppError;
use crate::state::AppState;

pub use overview::{RECENT_EVENTS, list_sessions, overview};
pub use passkey_use::{begin_confirming, begin_sign_in, finish_confirming, finish_sign_in};
pub use passkeys::{
    CEREMONY_TTL, Ceremony, MAX_LIVE_SIGN_INS, MAX_NAME, PasskeySummary, begin_adding, finish_adding, list_passkeys,
    passkeys_on, remove_passkey,
};
pub use password::{NewPasswordForm, ResetLink, change_password, reset_link, reset_password};
pub use refresh::refresh;
pub use register::{register, sign_up};
pub use second_factor::{
    ISSUER, MALFORMED_CODE, TotpSetup, TotpStatus, begin_totp, confirm_totp, disable_totp, renew_recovery_codes,
    totp_status,
};
pub use sign_in::{
    Confirmation, PendingStep, SECOND_STEP_METHODS, SECOND_STEP_TTL, STEP_GONE, SignIn, reauthenticate, second_step,
    sign_in,
};
pub use sign_out::{end_session, sign_out, sign_out_by_refresh, sign_out_everywhere};

/// A new access token and refresh token for one session.
#[derive(Debug)]
pub struct SessionTokens {
    pub owner: SessionOwner,
    pub access: Issued,
    pub refresh: RefreshToken,
}

/// The outcome of presenting a refresh token.
#[derive(Debug)]
pub enum Rotation {
    Rotated(Box<SessionTokens>),
    /// A concurrent request rotated this token a moment ago: the caller is
    /// who they say, but the new tokens went to that other request.
    Superseded(SessionOwner),
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
    /// Not the token's fault: the database could not be reached
    /// ([`AppError::Unavailable`]) or something broke ([`AppError::Internal`]).
    Failed(AppError),
}

impl From<RefreshError> for AppError {
    fn from(e: RefreshError) -> Self {
        let msg = match e {
            RefreshError::Invalid => "Refresh token is invalid",
            RefreshError::Expired => "Refresh token has expired; sign in again",
            RefreshError::SessionEnded => "Session has ended; sign in again",
            RefreshError::Reused => "Refresh token was already used; the session has been ended for safety",
            RefreshError::AccountUnavailable => "Account is not available",
            RefreshError::Failed(e) => return e,
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

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn issue(state: &AppState, owner: &SessionOwner) -> Result<Issued, AppError> {
    let grant = Grant {
        user_id: owner.user_id.as_str(),
        role: owner.role,
        session_id: owner.session_id.as_str(),
        auth_time: owner.authenticated_at,
        methods: &owner.methods,
    };
    let now = state.clock.now();
    token::issue_access(&state.keys.ring(now), &state.tokens, grant, new_id(), now).map_err(|e| AppError::internal(&e))
}
