//! The ceiling: a bare axum handler that verifies an HS256 token and nothing else.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::net::TcpListener;
use std::sync::Arc;

/// A bare axum handler that verifies an HS256 token and answers JSON: what
/// any JWT-protected endpoint must at least do, with nothing of ours.
pub(crate) struct Ceiling {
    pub(crate) base: String,
    pub(crate) bearer: String,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct BareClaims {
    pub(crate) sub: String,
    pub(crate) iss: String,
    pub(crate) aud: String,
    pub(crate) iat: i64,
    pub(crate) exp: i64,
    pub(crate) jti: String,
}

pub(crate) struct BareKeys {
    pub(crate) decoding: DecodingKey,
    pub(crate) validation: Validation,
}

impl Ceiling {
    pub(crate) fn serve() -> Self {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).expect("random bytes");
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("time").as_secs();
        let now = i64::try_from(now).expect("a sane clock");
        let claims = BareClaims {
            sub: "0196a4e0-8b5e-7c31-9a3c-5f2d9e1b7a40".to_owned(),
            iss: "gatehouse".to_owned(),
            aud: "gatehouse".to_owned(),
            iat: now,
            exp: now + 900,
            jti: "0196a4e0-8b5e-7c31-9a3c-5f2d9e1b7a41".to_owned(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(&secret))
            .expect("a token");
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&["gatehouse"]);
        validation.set_audience(&["gatehouse"]);
        let keys = Arc::new(BareKeys { decoding: DecodingKey::from_secret(&secret), validation });

        let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
        listener.set_nonblocking(true).expect("non-blocking");
        let base = format!("http://{}", listener.local_addr().expect("its address"));
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
            rt.block_on(async move {
                let app = axum::Router::new().route("/protected", axum::routing::get(bare_protected)).with_state(keys);
                let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
                axum::serve(listener, app).await.expect("the ceiling serves");
            });
        });
        Self { base, bearer: format!("Authorization: Bearer {token}") }
    }
}

pub(crate) async fn bare_protected(
    State(keys): State<Arc<BareKeys>>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, StatusCode> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(StatusCode::UNAUTHORIZED)?;
    let claims = jsonwebtoken::decode::<BareClaims>(token, &keys.decoding, &keys.validation)
        .map_err(|_| StatusCode::UNAUTHORIZED)?
        .claims;
    Ok(Json(json!({ "logged_in_as": claims.sub })))
}
