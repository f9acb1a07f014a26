//! The JSON API for SPAs, mobile apps and other services: the seeds'
//! `/login` and `/protected`, plus `/register` and `/logout`. Handlers stay
//! thin: read the body, call `accounts`, shape the answer.

mod json;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use crate::accounts;
use crate::auth::guard::CurrentUser;
use crate::error::AppError;
use crate::state::AppState;
use json::JsonBody;

/// The routes, to be nested under `/api`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", post(login))
        .route("/register", post(register))
        .route("/protected", get(protected))
        .route("/logout", post(logout))
        .method_not_allowed_fallback(|| async {
            (
                StatusCode::METHOD_NOT_ALLOWED,
                Json(json!({ "msg": "Method not allowed on this endpoint" })),
            )
        })
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                Json(json!({ "msg": "No such API endpoint" })),
            )
        })
}

/// `POST /api/login {"username", "password"}` → `{"access_token", "token_type", "expires_in"}`.
async fn login(State(state): State<AppState>, body: JsonBody) -> Result<Response, AppError> {
    let (username, password) = body.credentials()?;
    let signed_in = accounts::sign_in(&state, username, password).await?;
    let claims = &signed_in.access.claims;
    let body = json!({
        "access_token": signed_in.access.token,
        "token_type": "Bearer",
        "expires_in": claims.exp - claims.iat,
    });
    Ok(no_store(Json(body)))
}

/// `POST /api/register {"username", "password"}` → 201 `{"username"}`.
async fn register(State(state): State<AppState>, body: JsonBody) -> Result<Response, AppError> {
    let (username, password) = body.credentials()?;
    let username = accounts::register(&state, username, password).await?;
    Ok(no_store((
        StatusCode::CREATED,
        Json(json!({ "username": username.as_str() })),
    )))
}

/// `GET /api/protected` with a valid token → `{"logged_in_as"}`.
async fn protected(user: CurrentUser) -> Response {
    no_store(Json(json!({ "logged_in_as": user.username })))
}

/// `POST /api/logout` → 204; the presented access token is revoked.
async fn logout(State(state): State<AppState>, user: CurrentUser) -> Result<Response, AppError> {
    accounts::sign_out(&state, &user).await?;
    Ok(no_store(StatusCode::NO_CONTENT))
}

fn no_store(r: impl IntoResponse) -> Response {
    let mut r = r.into_response();
    r.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    r
}
