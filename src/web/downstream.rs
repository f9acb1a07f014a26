//! Another service trusting Gatehouse tokens, knowing nothing but where
//! Gatehouse publishes its keys. This is what `examples/orders_service.rs`
//! runs; it shares no verification code with the server's own guard on
//! purpose, so it shows exactly what any service in any language has to do:
//!
//! 1. fetch `/.well-known/jwks.json` and keep it (5 minutes), fetching
//!    again early only when a token names a key it does not know, and then
//!    at most every 30 seconds, whatever the tokens say;
//! 2. refuse any token that is not EdDSA, names no known `kid`, or asks to
//!    fetch or embed keys (`jku`, `x5u`, `jwk`, `x5c`) or for extensions
//!    (`crit`);
//! 3. check the signature, `iss`, `aud`, `typ` and `exp`/`nbf` (with a
//!    little leeway), then the role the route needs.
//!
//! What it cannot know: whether the session was ended a minute ago. It has
//! no database; an access token stays good here until it expires (15
//! minutes by default), which is what the short access lifetime is for.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, RwLock};

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::clock::{Clock, UnixTime};
use crate::web::caller::{Authorization, authorization};

/// Where the key set comes from: an HTTP GET of Gatehouse's
/// `/.well-known/jwks.json` in a real service.
pub trait KeySource: Send + Sync + 'static {
    /// The key set as JSON, or why it could not be had.
    fn fetch(&self) -> impl Future<Output = Result<Value, String>> + Send;
}

/// A cached key set is used this long (the JWKS's `max-age`).
pub const KEYS_MAX_AGE: i64 = 300;
/// An unknown `kid` makes a fetch at most this often.
pub const MIN_REFETCH: i64 = 30;

/// What this service expects of a token.
#[derive(Clone, Debug)]
pub struct Expect {
    pub issuer: String,
    pub audience: String,
    pub leeway: i64,
}

/// The claims this service reads.
#[derive(Clone, Debug, Deserialize)]
pub struct Caller {
    pub sub: String,
    pub role: String,
    pub exp: i64,
    pub nbf: i64,
    iss: String,
    aud: String,
    typ: String,
}

/// Why a token was refused; each is a 401 with its text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("Missing Authorization: Bearer header")]
    Missing,
    #[error("Token is malformed")]
    Malformed,
    #[error("Token header is refused")]
    ForbiddenHeader,
    #[error("Token is not signed with a published key")]
    UnknownKey,
    #[error("Token signature is invalid")]
    BadSignature,
    #[error("Token was issued by someone else")]
    WrongIssuer,
    #[error("Token is meant for another audience")]
    WrongAudience,
    #[error("Token is not an access token")]
    WrongType,
    #[error("Token has expired")]
    Expired,
    #[error("Token is not valid yet")]
    NotYetValid,
}

#[derive(Default)]
struct Cache {
    keys: HashMap<String, DecodingKey>,
    fetched_at: Option<UnixTime>,
    tried_at: Option<UnixTime>,
}

/// Verifies Gatehouse access tokens against the published keys.
pub struct Verifier<S> {
    source: S,
    expect: Expect,
    clock: Arc<dyn Clock>,
    cache: RwLock<Cache>,
}

impl<S: KeySource> Verifier<S> {
    pub fn new(source: S, expect: Expect, clock: Arc<dyn Clock>) -> Self {
        Self { source, expect, clock, cache: RwLock::new(Cache::default()) }
    }

    /// The caller a token speaks for.
    ///
    /// # Errors
    /// The [`Refusal`] that stops it.
    pub async fn verify(&self, token: &str) -> Result<Caller, Refusal> {
        if token.len() > 4096 {
            return Err(Refusal::Malformed);
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| Refusal::Malformed)?;
        if header.jku.is_some()
            || header.x5u.is_some()
            || header.jwk.is_some()
            || header.x5c.is_some()
            || header.crit.is_some()
        {
            return Err(Refusal::ForbiddenHeader);
        }
        // Only the published kind of key: an HS256 token could only be
        // checked with a shared secret, and this service holds none.
        if header.alg != Algorithm::EdDSA {
            return Err(Refusal::UnknownKey);
        }
        let kid = header.kid.ok_or(Refusal::UnknownKey)?;
        let key = self.key(&kid).await.ok_or(Refusal::UnknownKey)?;

        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let caller = jsonwebtoken::decode::<Caller>(token, &key, &validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::InvalidSignature => Refusal::BadSignature,
                _ => Refusal::Malformed,
            })?
            .claims;
        let now = self.clock.now();
        let e = &self.expect;
        match () {
            () if caller.iss != e.issuer => Err(Refusal::WrongIssuer),
            () if caller.aud != e.audience => Err(Refusal::WrongAudience),
            () if caller.typ != "access" => Err(Refusal::WrongType),
            () if now >= caller.exp.saturating_add(e.leeway) => Err(Refusal::Expired),
            () if now < caller.nbf.saturating_sub(e.leeway) => Err(Refusal::NotYetValid),
            () => Ok(caller),
        }
    }

    /// The key named `kid`: from the cache while it is fresh; else, or when
    /// `kid` is unknown, from one new fetch (at most every
    /// [`MIN_REFETCH`] seconds). `kid` is only ever compared.
    async fn key(&self, kid: &str) -> Option<DecodingKey> {
        let now = self.clock.now();
        {
            let cache = self.cache.read().unwrap_or_else(std::sync::PoisonError::into_inner);
            let fresh = cache.fetched_at.is_some_and(|at| now - at < KEYS_MAX_AGE);
            let may_try = cache.tried_at.is_none_or(|at| now - at >= MIN_REFETCH);
            match cache.keys.get(kid) {
                Some(key) if fresh || !may_try => return Some(key.clone()),
                None if !may_try => return None,
                _ => {}
            }
        }
        self.cache.write().unwrap_or_else(std::sync::PoisonError::into_inner).tried_at = Some(now);
        match self.source.fetch().await {
            Ok(set) => {
                let keys = parse_key_set(&set);
                tracing::info!(keys = keys.len(), "fetched the key set");
                let mut cache = self.cache.write().unwrap_or_else(std::sync::PoisonError::into_inner);
                cache.keys = keys;
                cache.fetched_at = Some(now);
                cache.keys.get(kid).cloned()
            }
            Err(e) => {
                // Keep what we had: a brief outage of Gatehouse does not
                // stop this service from checking tokens.
                tracing::warn!(error = %e, "could not fetch the key set");
                self.cache.read().unwrap_or_else(std::sync::PoisonError::into_inner).keys.get(kid).cloned()
            }
        }
    }
}

/// The Ed25519 signing keys of a JWK Set; anything else is skipped.
fn parse_key_set(set: &Value) -> HashMap<String, DecodingKey> {
    let keys = set.get("keys").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    keys.iter()
        .filter(|k| k["kty"] == "OKP" && k["crv"] == "Ed25519" && k["alg"] == "EdDSA")
        .filter(|k| k.get("use").is_none_or(|u| u == "sig"))
        .filter_map(|k| {
            let kid = k["kid"].as_str()?;
            let key = DecodingKey::from_ed_components(k["x"].as_str()?).ok()?;
            Some((kid.to_owned(), key))
        })
        .collect()
}

/// The example service: `GET /orders` for any signed-in caller,
/// `GET /reports` for administrators only.
pub fn router<S: KeySource>(verifier: Arc<Verifier<S>>) -> Router {
    Router::new().route("/orders", get(orders::<S>)).route("/reports", get(reports::<S>)).with_state(verifier)
}

/// A verified caller, or the 401 that says why not.
pub struct Authorized(pub Caller);

impl<S: KeySource> FromRequestParts<Arc<Verifier<S>>> for Authorized {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, verifier: &Arc<Verifier<S>>) -> Result<Self, Self::Rejection> {
        let result = match authorization(&parts.headers) {
            Authorization::Bearer(token) => verifier.verify(token).await,
            Authorization::Absent | Authorization::Other => Err(Refusal::Missing),
        };
        result.map(Authorized).map_err(unauthorized)
    }
}

fn unauthorized(why: Refusal) -> Response {
    let challenge = match why {
        Refusal::Missing => r#"Bearer realm="orders""#,
        _ => r#"Bearer realm="orders", error="invalid_token""#,
    };
    let mut res = (StatusCode::UNAUTHORIZED, Json(json!({ "msg": why.to_string() }))).into_response();
    res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
    res
}

async fn orders<S: KeySource>(State(_): State<Arc<Verifier<S>>>, Authorized(caller): Authorized) -> Response {
    Json(json!({ "orders": [], "for": caller.sub })).into_response()
}

async fn reports<S: KeySource>(State(_): State<Arc<Verifier<S>>>, Authorized(caller): Authorized) -> Response {
    if caller.role != "admin" {
        return (StatusCode::FORBIDDEN, Json(json!({ "msg": "Reports are for administrators" }))).into_response();
    }
    Json(json!({ "reports": [], "for": caller.sub })).into_response()
}
