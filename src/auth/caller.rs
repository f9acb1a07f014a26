//! Who is calling: the verified person ([`CurrentUser`], made only by the
//! guard) and the client they call from ([`Client`]). Plain types, so
//! that what the guard calls (`accounts`) can name them without
//! depending on the guard.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap, header};

use super::clock::UnixTime;
use crate::domain::Role;
use crate::error::AppError;
use crate::proxy::Forwarded;

/// The verified caller, as the database says they are right now.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub id: String,
    pub username: String,
    /// Read from the database on every request, so a role change applies
    /// at once, whatever the token says.
    pub role: Role,
    pub session_id: String,
    /// When they last proved who they are in this session.
    pub authenticated_at: UnixTime,
}

impl CurrentUser {
    /// Refuses callers without `role`.
    ///
    /// # Errors
    /// [`AppError::Forbidden`].
    pub fn require(&self, role: Role) -> Result<(), AppError> {
        if self.role == role {
            Ok(())
        } else {
            Err(AppError::Forbidden("You do not have permission to do that.".into()))
        }
    }

    /// Refuses callers who have not signed in or confirmed their password
    /// within the last `window` seconds. A silent refresh does not count.
    ///
    /// # Errors
    /// [`AppError::ReauthRequired`].
    pub fn require_fresh(&self, now: UnixTime, window: i64) -> Result<(), AppError> {
        if now.saturating_sub(self.authenticated_at) <= window { Ok(()) } else { Err(AppError::ReauthRequired) }
    }
}

/// Who is on the other end, as recorded for a session: the user agent and
/// the peer address (forwarding headers are not trusted).
#[derive(Clone, Debug, Default)]
pub struct Client {
    pub user_agent: String,
    pub ip: String,
}

impl Client {
    const MAX_USER_AGENT: usize = 256;

    /// The operator at the `gatehouse` command line.
    pub fn command_line() -> Self {
        Self { user_agent: "gatehouse command line".into(), ip: "local".into() }
    }

    /// The caller as `middleware::resolve_client` found them (behind a
    /// trusted proxy, the address it forwarded), else the peer.
    pub fn from_request(headers: &HeaderMap, extensions: &Extensions) -> Self {
        let user_agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
        let user_agent: String = user_agent.chars().take(Self::MAX_USER_AGENT).collect();
        let ip = match (extensions.get::<Forwarded>(), extensions.get::<ConnectInfo<SocketAddr>>()) {
            (Some(f), _) => f.client.to_canonical().to_string(),
            (None, Some(ci)) => ci.0.ip().to_canonical().to_string(),
            (None, None) => String::new(),
        };
        Self { user_agent, ip }
    }

    /// What this client's guesses are counted under: the address, or its
    /// /64 for IPv6.
    pub fn address_bucket(&self) -> String {
        self.ip.parse().map_or_else(|_| self.ip.clone(), crate::proxy::throttle_bucket)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::from_request(&parts.headers, &parts.extensions))
    }
}

/// What a request's `Authorization` header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Authorization<'a> {
    Absent,
    /// `Bearer <token>` (scheme in any case), the token trimmed; it may be
    /// empty, which each caller refuses in its own words.
    Bearer(&'a str),
    /// Another scheme, or a value that is not text.
    Other,
}

/// Reads the `Authorization` header: the one place that parses it.
pub fn authorization(headers: &HeaderMap) -> Authorization<'_> {
    let Some(value) = headers.get(header::AUTHORIZATION) else { return Authorization::Absent };
    match value.to_str().ok().and_then(|v| v.split_once(' ')) {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => Authorization::Bearer(token.trim()),
        _ => Authorization::Other,
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn a_long_user_agent_is_cut_and_no_peer_is_empty() {
        let mut h = HeaderMap::new();
        h.insert(header::USER_AGENT, HeaderValue::from_str(&"x".repeat(1000)).unwrap());
        let c = Client::from_request(&h, &Extensions::new());
        assert_eq!(c.user_agent.len(), Client::MAX_USER_AGENT);
        assert_eq!(c.ip, "");
    }
}
