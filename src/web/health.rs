//! Health for load balancers and orchestrators: `/health/live` says the
//! process answers; `/health/ready` says it can serve, which needs the
//! database. Neither needs authentication or reveals anything internal.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use super::respond::no_store;
use crate::state::AppState;

/// How long readiness waits for the database.
const READY_TIMEOUT: Duration = Duration::from_secs(1);

/// `GET /health/live` → 200 while the process runs.
pub async fn live() -> Response {
    no_store(Json(json!({ "status": "live" })))
}

/// `GET /health/ready` → 200 when the database answers within a second,
/// else 503 (take this instance out of the rotation; it comes back by
/// itself when the database does).
pub async fn ready(State(state): State<AppState>) -> Response {
    let ping = state.db.ping();
    let (status, body) = match tokio::time::timeout(READY_TIMEOUT, ping).await {
        Ok(Ok(_)) => (StatusCode::OK, json!({ "status": "ready" })),
        Ok(Err(e)) => {
            tracing::warn!(error = %crate::error::chain(&e), "not ready: the database cannot be reached");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({ "status": "unavailable", "msg": "The database cannot be reached" }),
            )
        }
        Err(_) => {
            tracing::warn!("not ready: the database did not answer within a second");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({ "status": "unavailable", "msg": "The database did not answer in time" }),
            )
        }
    };
    no_store((status, Json(body)))
}
