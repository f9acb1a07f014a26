//! The JSON API for SPAs, mobile apps and other services: the seeds'
//! `/login` and `/protected`, plus registration, refresh-token rotation,
//! re-authentication, sign-out, the session list, password change and
//! reset, and the administrators' endpoints. Handlers stay thin: read the
//! request, call `accounts` or `admin`, shape the answer.

mod admin;
mod json;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::accounts::{self, NewPasswordForm, Refreshed, Renewed};
use crate::auth::guard::{Client, CurrentUser};
use crate::auth::token::Issued;
use crate::error::AppError;
use crate::state::AppState;
use json::JsonBody;

/// The routes, to be nested under `/api`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", post(login))
        .route("/register", post(register))
        .route("/protected", get(protected))
        .route("/refresh", post(refresh))
        .route("/logout", post(logout))
        .route("/logout/everywhere", post(logout_everywhere))
        .route("/reauth", post(reauthenticate))
        .route("/password", post(change_password))
        .route("/password/reset", post(reset_password))
        .route("/sessions", get(list_sessions))
        .route("/sessions/{id}", delete(end_session))
        .nest("/admin", admin::router())
        .method_not_allowed_fallback(|| async {
            (StatusCode::METHOD_NOT_ALLOWED, Json(json!({ "msg": "Method not allowed on this endpoint" })))
        })
        .fallback(|| async { (StatusCode::NOT_FOUND, Json(json!({ "msg": "No such API endpoint" }))) })
}

/// How long services may cache the key set. A rotation publishes the new
/// key well before it signs (`gatehouse keys rotate --in`, 10 minutes by
/// default), so a cached set always knows the signing key.
pub const JWKS_MAX_AGE: u64 = 300;

/// `GET /.well-known/jwks.json` → the public keys (RFC 7517), so other
/// services verify Gatehouse tokens without any shared secret. Symmetric
/// keys are never listed.
pub async fn jwks(State(state): State<AppState>) -> Response {
    let cache = format!("public, max-age={JWKS_MAX_AGE}");
    let mut res = Json(state.keys.jwks(state.clock.now())).into_response();
    if let Ok(value) = HeaderValue::from_str(&cache) {
        res.headers_mut().insert(header::CACHE_CONTROL, value);
    }
    res.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    res
}

/// `{"access_token", "token_type", "expires_in"}`.
fn access_token(access: &Issued) -> Value {
    json!({ "access_token": access.token, "token_type": "Bearer", "expires_in": access.lifetime() })
}

/// [`access_token`] plus the `refresh_token`.
fn token_pair(r: &Renewed) -> Value {
    let mut pair = access_token(&r.access);
    pair["refresh_token"] = json!(r.refresh.expose());
    pair
}

/// `POST /api/login {"username", "password"}` → `{"access_token", "refresh_token", "token_type", "expires_in"}`.
async fn login(State(state): State<AppState>, client: Client, body: JsonBody) -> Result<Response, AppError> {
    let (username, password) = body.credentials()?;
    let signed_in = accounts::sign_in(&state, username, password, &client).await?;
    Ok(no_store(Json(token_pair(&signed_in))))
}

/// `POST /api/register {"username", "password"}` → 201 `{"username"}`.
async fn register(State(state): State<AppState>, client: Client, body: JsonBody) -> Result<Response, AppError> {
    let (username, password) = body.credentials()?;
    let username = accounts::sign_up(&state, username, password, &client).await?;
    Ok(no_store((StatusCode::CREATED, Json(json!({ "username": username.as_str() })))))
}

/// `GET /api/protected` with a valid access token → `{"logged_in_as"}`.
async fn protected(user: CurrentUser) -> Response {
    no_store(Json(json!({ "logged_in_as": user.username })))
}

/// `POST /api/refresh` with `Authorization: Bearer <refresh_token>` → a
/// new token pair; the presented refresh token dies.
async fn refresh(State(state): State<AppState>, client: Client, headers: HeaderMap) -> Result<Response, AppError> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or_else(|| {
            AppError::Unauthorized("Send the refresh token as 'Authorization: Bearer <refresh_token>'".into())
        })?;
    match accounts::refresh(&state, presented, &client).await? {
        Refreshed::Renewed(renewed) => Ok(no_store(Json(token_pair(&renewed)))),
        Refreshed::Superseded(_) => Err(AppError::Conflict(
            "This refresh token was just used by a concurrent request; use the tokens that request received".into(),
        )),
    }
}

/// `POST /api/logout` with the access token → 204; its session ends.
async fn logout(State(state): State<AppState>, user: CurrentUser, client: Client) -> Result<Response, AppError> {
    accounts::sign_out(&state, &user, &client).await?;
    Ok(no_store(StatusCode::NO_CONTENT))
}

/// `POST /api/logout/everywhere` → 204; every session of the user ends.
async fn logout_everywhere(
    State(state): State<AppState>,
    user: CurrentUser,
    client: Client,
) -> Result<Response, AppError> {
    accounts::sign_out_everywhere(&state, &user, false, &client).await?;
    Ok(no_store(StatusCode::NO_CONTENT))
}

/// `POST /api/reauth {"password"}` → a new access token whose `auth_time`
/// is now, for sensitive actions (`expires_in` as at login).
async fn reauthenticate(
    State(state): State<AppState>,
    user: CurrentUser,
    client: Client,
    body: JsonBody,
) -> Result<Response, AppError> {
    let (_, access) = accounts::reauthenticate(&state, &user, body.string("password")?, &client).await?;
    Ok(no_store(Json(access_token(&access))))
}

/// `POST /api/password {"current_password", "new_password"}` → 204; every
/// other session of the user ends, this one stays. Needs a recent sign-in
/// (else 401 with `error="insufficient_user_authentication"`).
async fn change_password(
    State(state): State<AppState>,
    user: CurrentUser,
    client: Client,
    body: JsonBody,
) -> Result<Response, AppError> {
    let (current, new) = (body.string("current_password")?, body.string("new_password")?);
    let form = NewPasswordForm { new, confirm: None };
    accounts::change_password(&state, &user, &form, current, &client).await?;
    Ok(no_store(StatusCode::NO_CONTENT))
}

/// `POST /api/password/reset {"token", "new_password"}` → 204; the link
/// dies and every session of the account ends.
async fn reset_password(State(state): State<AppState>, client: Client, body: JsonBody) -> Result<Response, AppError> {
    let (token, new) = (body.string("token")?, body.string("new_password")?);
    accounts::reset_password(&state, token, &NewPasswordForm { new, confirm: None }, &client).await?;
    Ok(no_store(StatusCode::NO_CONTENT))
}

/// `GET /api/sessions` → `{"sessions": [...]}`, the current one marked.
async fn list_sessions(State(state): State<AppState>, user: CurrentUser) -> Result<Response, AppError> {
    let sessions = accounts::list_sessions(&state, &user).await?;
    Ok(no_store(Json(json!({ "sessions": sessions }))))
}

/// `DELETE /api/sessions/{id}` → 204; that session of the user ends.
async fn end_session(
    State(state): State<AppState>,
    user: CurrentUser,
    client: Client,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    accounts::end_session(&state, &user, &id, &client).await?;
    Ok(no_store(StatusCode::NO_CONTENT))
}

pub(super) fn no_store(r: impl IntoResponse) -> Response {
    let mut r = r.into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}
