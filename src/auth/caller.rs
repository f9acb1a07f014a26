//! Who is calling: the verified person ([`CurrentUser`], made by
//! `admission` alone) and the client they call from ([`Client`]). The web
//! layer finds them in a request, the flows in `accounts` act for them.

pub use super::admission::CurrentUser;
use super::clock::UnixTime;
use crate::domain::{AuthMethod, Role, SessionId, UserId};

/// Who a live session belongs to, as the database says right now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionOwner {
    pub user_id: UserId,
    pub username: String,
    /// Read from the database, so a role change applies at once, whatever
    /// a token says.
    pub role: Role,
    pub session_id: SessionId,
    /// When they last proved who they are in this session.
    pub authenticated_at: UnixTime,
    /// How they signed in to it.
    pub methods: Vec<AuthMethod>,
}

/// What the database says, right now, of the account and the session a
/// token names.
#[derive(Clone, Debug)]
pub struct Standing {
    pub username: String,
    pub role: Role,
    pub disabled: bool,
    pub session_revoked: bool,
    /// When the person last proved who they are in this session.
    pub authenticated_at: UnixTime,
    /// How the session was signed in.
    pub methods: Vec<AuthMethod>,
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
