//! An "orders" service that trusts Gatehouse tokens and knows nothing but
//! Gatehouse's URL: it fetches the published keys and checks each Bearer
//! token's signature, issuer, audience, expiry and role itself.
//!
//! ```sh
//! GATEHOUSE_JWT_ALGORITHM=EdDSA bash scripts/run.sh          # Gatehouse on :3000
//! cargo run --features ssr --example orders_service          # this, on :4000
//! TOKEN=$(curl -s -X POST -H 'Content-Type: application/json' \
//!   -d '{"username":"alice","password":"a long passphrase"}' \
//!   http://127.0.0.1:3000/api/login | jq -r .access_token)
//! curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:4000/orders    # 200
//! curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:4000/reports   # 403 unless admin
//! ```
//!
//! Settings: `GATEHOUSE_URL` (default `http://127.0.0.1:3000`),
//! `ORDERS_ADDR` (`127.0.0.1:4000`), `GATEHOUSE_JWT_ISSUER` and
//! `GATEHOUSE_JWT_AUDIENCE` (both `gatehouse`), as Gatehouse has them.

use std::sync::Arc;

use gatehouse::auth::clock::SystemClock;
use gatehouse::web::downstream::{Expect, KeySource, Verifier, router};
use serde_json::Value;

/// The key set over HTTP(S).
struct PublishedKeys {
    client: reqwest::Client,
    url: String,
}

impl KeySource for PublishedKeys {
    async fn fetch(&self) -> Result<Value, String> {
        let res = self.client.get(&self.url).send().await.map_err(|e| e.to_string())?;
        res.error_for_status().map_err(|e| e.to_string())?.json().await.map_err(|e| e.to_string())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_target(false).init();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let var = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
    let gatehouse = var("GATEHOUSE_URL", "http://127.0.0.1:3000");
    let addr = var("ORDERS_ADDR", "127.0.0.1:4000");
    let keys = PublishedKeys {
        client: reqwest::Client::builder().timeout(std::time::Duration::from_secs(5)).build()?,
        url: format!("{}/.well-known/jwks.json", gatehouse.trim_end_matches('/')),
    };
    let expect = Expect {
        issuer: var("GATEHOUSE_JWT_ISSUER", "gatehouse"),
        audience: var("GATEHOUSE_JWT_AUDIENCE", "gatehouse"),
        leeway: 10,
    };
    let verifier = Arc::new(Verifier::new(keys, expect, Arc::new(SystemClock)));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    tracing::info!(%addr, %gatehouse, "orders service is listening");
    axum::serve(listener, router(verifier)).await?;
    Ok(())
}
