//! Who is calling: the verified person ([`CurrentUser`]) and the client
//! they call from ([`Client`]). Plain types: the web layer finds them in a
//! request, the flows in `accounts` act for them.

use super::clock::UnixTime;
use crate::domain::Role;

/// Who a live session belongs to, as the database says right now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionOwner {
    pub user_id: String,
    pub username: String,
    /// Read from the database, so a role change applies at once, whatever
    /// a token says.
    pub role: Role,
    pub session_id: String,
    /// When they last proved who they are in this session.
    pub authenticated_at: UnixTime,
}

/// The verified caller. Only [`super::admission`] makes one, from a token
/// or refresh token it verified and a session it found live: holding a
/// `CurrentUser` is proof of both.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub id: String,
    pub username: String,
    pub role: Role,
    pub session_id: String,
    pub authenticated_at: UnixTime,
    /// Keeps the struct from being built anywhere else.
    _admitted: Admitted,
}

/// Proof of admission: its only maker is [`CurrentUser::admitted`].
#[derive(Clone, Copy, Debug)]
struct Admitted;

impl CurrentUser {
    pub(in crate::auth) fn admitted(owner: SessionOwner) -> Self {
        Self {
            id: owner.user_id,
            username: owner.username,
            role: owner.role,
            session_id: owner.session_id,
            authenticated_at: owner.authenticated_at,
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
    pub fn may(&self, rule: crate::domain::Rule, now: UnixTime, window: i64) -> Result<(), crate::error::AppError> {
        let recent = || now.saturating_sub(self.authenticated_at) <= window;
        rule.check(Some(self.role), recent).map_err(Into::into)
    }

    /// The session this person holds.
    pub fn owner(&self) -> SessionOwner {
        SessionOwner {
            user_id: self.id.clone(),
            username: self.username.clone(),
            role: self.role,
            session_id: self.session_id.clone(),
            authenticated_at: self.authenticated_at,
        }
    }
}

/// Who is on the other end, as recorded for a session and counted by the
/// throttle: the user agent, and the address the web layer resolved (the
/// peer, or behind a trusted proxy the client it forwarded for).
#[derive(Clone, Debug, Default)]
pub struct Client {
    pub user_agent: String,
    pub ip: String,
}

impl Client {
    pub const MAX_USER_AGENT: usize = 256;

    /// The operator at the `gatehouse` command line.
    pub fn command_line() -> Self {
        Self { user_agent: "gatehouse command line".into(), ip: "local".into() }
    }

    /// What this client's guesses are counted under: the address, or its
    /// /64 for IPv6.
    pub fn address_bucket(&self) -> String {
        self.ip.parse().map_or_else(|_| self.ip.clone(), super::throttle::address_bucket)
    }
}
