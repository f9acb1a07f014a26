//! `/api/admin/...`: the administrators' endpoints. Every handler checks
//! the caller's role (and, for changes, a recent sign-in) in `admin`.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::json::{JsonBody, query};
use super::no_store;
use crate::admin::{self, Actor, AuditQuery};
use crate::auth::guard::{Client, CurrentUser};
use crate::domain::Role;
use crate::error::AppError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users", get(list_users))
        .route("/users/{id}/role", post(set_role))
        .route("/users/{id}/disable", post(disable))
        .route("/users/{id}/enable", post(enable))
        .route("/users/{id}/sessions", delete(end_sessions))
        .route("/users/{id}/reset-link", post(reset_link))
        .route("/audit", get(audit))
}

#[derive(Deserialize)]
struct UserQuery {
    search: Option<String>,
    page: Option<u32>,
}

/// `GET /api/admin/users?search=&page=` → `{"items", "page", "per_page", "total"}`.
async fn list_users(
    State(state): State<AppState>,
    me: CurrentUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let q: UserQuery = query(raw.as_deref())?;
    Ok(no_store(Json(admin::list_users(&state, &me, q.search.as_deref(), q.page).await?)))
}

/// `POST /api/admin/users/{id}/role {"role": "admin"|"user"}` → `{"changed"}`.
async fn set_role(
    State(state): State<AppState>,
    me: CurrentUser,
    client: Client,
    Path(id): Path<String>,
    body: JsonBody,
) -> Result<Response, AppError> {
    let role = Role::from_stored(body.string("role")?)
        .ok_or_else(|| AppError::invalid("role", "role must be 'user' or 'admin'"))?;
    let changed = admin::set_role(&state, Actor::Admin(&me), &id, role, &client).await?;
    Ok(no_store(Json(json!({ "changed": changed }))))
}

/// `POST /api/admin/users/{id}/disable` → `{"changed"}`; every session ends.
async fn disable(
    State(state): State<AppState>,
    me: CurrentUser,
    client: Client,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let changed = admin::set_disabled(&state, Actor::Admin(&me), &id, true, &client).await?;
    Ok(no_store(Json(json!({ "changed": changed }))))
}

/// `POST /api/admin/users/{id}/enable` → `{"changed"}`.
async fn enable(
    State(state): State<AppState>,
    me: CurrentUser,
    client: Client,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let changed = admin::set_disabled(&state, Actor::Admin(&me), &id, false, &client).await?;
    Ok(no_store(Json(json!({ "changed": changed }))))
}

/// `DELETE /api/admin/users/{id}/sessions` → `{"ended"}`.
async fn end_sessions(
    State(state): State<AppState>,
    me: CurrentUser,
    client: Client,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let ended = admin::end_sessions(&state, Actor::Admin(&me), &id, &client).await?;
    Ok(no_store(Json(json!({ "ended": ended }))))
}

/// `POST /api/admin/users/{id}/reset-link` → 201 `{"url", "expires_at"}`.
async fn reset_link(
    State(state): State<AppState>,
    me: CurrentUser,
    client: Client,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let issued = admin::issue_reset(&state, Actor::Admin(&me), &id, &client).await?;
    Ok(no_store((StatusCode::CREATED, Json(json!({ "url": issued.url, "expires_at": issued.expires_at })))))
}

#[derive(Deserialize)]
struct AuditParams {
    kind: Option<String>,
    user: Option<String>,
    outcome: Option<String>,
    page: Option<u32>,
}

/// `GET /api/admin/audit?kind=&user=&outcome=&page=` → a page of events.
async fn audit(State(state): State<AppState>, me: CurrentUser, RawQuery(raw): RawQuery) -> Result<Response, AppError> {
    let p: AuditParams = query(raw.as_deref())?;
    let q = AuditQuery { kind: p.kind, user: p.user, outcome: p.outcome, page: p.page };
    Ok(no_store(Json(admin::audit_log(&state, &me, &q).await?)))
}
