//! The guard's decision, without its IO: a verified access token and what
//! the database says of its session now become a [`CurrentUser`], or the
//! reason they do not. The web layer's guard (`web::guard`) reads the
//! credential and the database and asks here; nothing else makes a
//! `CurrentUser`.

use super::caller::{SessionOwner, Standing};
use super::clock::UnixTime;
use super::token::{Claims, TokenError};
use crate::domain::{AuthMethod, Role, SessionId, UserId};
use crate::error::AppError;

/// The verified caller. Only this module makes one (its private field
/// keeps struct literals out everywhere else), from a verified token and
/// a session found live, or from a session the refresh flow accepted;
/// `src/layers.rs` checks that only the guard calls here.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub id: UserId,
    pub username: String,
    pub role: Role,
    pub session_id: SessionId,
    pub authenticated_at: UnixTime,
    /// How they signed in to this session.
    pub methods: Vec<AuthMethod>,
    /// Keeps the struct from being built anywhere else.
    _admitted: Admitted,
}

/// Proof of admission: its only maker is [`CurrentUser::admitted`].
#[derive(Clone, Copy, Debug)]
struct Admitted;

impl CurrentUser {
    fn admitted(owner: SessionOwner) -> Self {
        Self {
            id: owner.user_id,
            username: owner.username,
            role: owner.role,
            session_id: owner.session_id,
            authenticated_at: owner.authenticated_at,
            methods: owner.methods,
            _admitted: Admitted,
        }
    }

    /// Whether this person may pass `rule` now: the one access rule of
    /// pages, server functions and the API. A sign-in is recent when it
    /// (or a password confirmation) happened within `window` seconds; a
    /// silent refresh does not count.
    ///
    /// # Errors
    /// [`crate::error::AppError::Forbidden`] or
    /// [`crate::error::AppError::ReauthRequired`].
    pub fn may(
        &self,
        rule: crate::domain::Rule,
        now: UnixTime,
        policy: &super::policy::AccountPolicy,
    ) -> Result<(), crate::error::AppError> {
        let recent = || now.saturating_sub(self.authenticated_at) <= policy.reauth_window;
        let viewer = crate::domain::Viewer { role: self.role, owes_second_factor: self.owes_second_factor(policy) };
        rule.check(Some(viewer), recent).map_err(Into::into)
    }

    /// Whether `policy` asks this person for a second factor that this
    /// session has not shown.
    pub fn owes_second_factor(&self, policy: &super::policy::AccountPolicy) -> bool {
        policy.second_factor.requires(self.role) && !self.methods.iter().any(|m| m.is_second_factor())
    }

    /// The session this person holds.
    pub fn owner(&self) -> SessionOwner {
        SessionOwner {
            user_id: self.id.clone(),
            username: self.username.clone(),
            role: self.role,
            session_id: self.session_id.clone(),
            authenticated_at: self.authenticated_at,
            methods: self.methods.clone(),
        }
    }
}

/// Why a request is not authenticated.
#[derive(Debug, PartialEq, Eq)]
pub enum AuthError {
    /// No Bearer header and no cookie.
    Missing,
    /// An `Authorization` header that is not `Bearer <token>`.
    BadScheme,
    Token(TokenError),
    /// The token's session was ended (sign-out, reuse, an admin).
    SessionEnded,
    /// The account was disabled or deleted after the token was issued.
    AccountUnavailable,
    /// The check itself failed (already logged).
    Internal,
}

impl From<AuthError> for AppError {
    fn from(e: AuthError) -> Self {
        let msg = match e {
            AuthError::Missing => "Missing Authorization header or session cookie",
            AuthError::BadScheme => "Authorization header must be 'Bearer <token>'",
            AuthError::Token(TokenError::Expired) => "Token has expired",
            AuthError::Token(TokenError::NotYetValid) => "Token is not valid yet",
            AuthError::Token(TokenError::Malformed) => "Token is malformed",
            AuthError::Token(TokenError::WrongType) => "Token is not an access token",
            AuthError::Token(_) => "Token is invalid",
            AuthError::SessionEnded => "Token has been revoked",
            AuthError::AccountUnavailable => "Account is not available",
            // The guard's only outside dependency is the database.
            AuthError::Internal => return AppError::Unavailable,
        };
        AppError::Unauthorized(msg.to_owned())
    }
}

/// Admits the holder of a verified access token whose session is `standing`
/// (`None`: the account or the session no longer exists).
///
/// # Errors
/// [`AuthError::SessionEnded`] or [`AuthError::AccountUnavailable`].
pub fn admit(claims: Claims, standing: Option<Standing>) -> Result<CurrentUser, AuthError> {
    let standing = standing.ok_or(AuthError::SessionEnded)?;
    if standing.session_revoked {
        return Err(AuthError::SessionEnded);
    }
    if standing.disabled {
        return Err(AuthError::AccountUnavailable);
    }
    Ok(CurrentUser::admitted(SessionOwner {
        user_id: claims.sub.into(),
        username: standing.username,
        role: standing.role,
        session_id: claims.sid.into(),
        authenticated_at: standing.authenticated_at,
        methods: standing.methods,
    }))
}

/// Admits the owner of a session whose refresh token the refresh flow has
/// just accepted (it checked the session and the account).
pub fn admit_refreshed(owner: SessionOwner) -> CurrentUser {
    CurrentUser::admitted(owner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Claims {
        Claims {
            sub: "u1".into(),
            iss: "i".into(),
            aud: "a".into(),
            iat: 0,
            nbf: 0,
            exp: 10,
            jti: "j".into(),
            sid: "s1".into(),
            auth_time: 0,
            role: Role::User,
            typ: super::super::token::TokenType::Access,
            amr: vec!["pwd".into()],
        }
    }

    fn standing() -> Standing {
        Standing {
            username: "alice".into(),
            role: Role::Admin,
            disabled: false,
            session_revoked: false,
            authenticated_at: 7,
            methods: vec![AuthMethod::Password],
        }
    }

    #[test]
    fn a_live_session_is_admitted_with_what_the_database_says_now() {
        let user = admit(claims(), Some(standing())).unwrap();
        assert_eq!((user.id.as_str(), user.session_id.as_str()), ("u1", "s1"));
        // The token said `user`; the database says `admin` now.
        assert_eq!((user.username.as_str(), user.role, user.authenticated_at), ("alice", Role::Admin, 7));
    }

    #[test]
    fn ended_sessions_and_disabled_or_deleted_accounts_are_not() {
        assert_eq!(admit(claims(), None).err(), Some(AuthError::SessionEnded));
        let revoked = Standing { session_revoked: true, ..standing() };
        assert_eq!(admit(claims(), Some(revoked)).err(), Some(AuthError::SessionEnded));
        let disabled = Standing { disabled: true, ..standing() };
        assert_eq!(admit(claims(), Some(disabled)).err(), Some(AuthError::AccountUnavailable));
    }
}
