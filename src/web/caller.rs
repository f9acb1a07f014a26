//! Finding the caller's parts in a request: the `Authorization` header,
//! and the [`Client`] (user agent and resolved address).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap, header};

use crate::auth::caller::Client;
use crate::config::proxies::Forwarded;

impl Client {
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
