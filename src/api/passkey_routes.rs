//! `/api/passkeys`, `/api/login/passkey` and `/api/reauth/passkey`: adding,
//! listing and removing passkeys, and signing in or confirming who one is
//! with one. Each ceremony is an `options` call and a finishing call; the
//! rules live in `accounts`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::json::JsonBody;
use super::schema::{
    AccessToken, Message, NewPasskey, PasskeyAdded, PasskeyAnswer, PasskeyOptions, PasskeyView, TokenPair,
};
use super::{access_token, token_pair};
use crate::accounts::{self, Ceremony, PasskeySummary};
use crate::auth::caller::Client;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::guard::SettingUp;
use crate::web::respond::no_store;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_passkeys, add_passkey))
        .routes(routes!(adding_options))
        .routes(routes!(remove_passkey))
        .routes(routes!(sign_in_options))
        .routes(routes!(sign_in))
        .routes(routes!(confirming_options))
        .routes(routes!(confirm))
}

/// The caller's passkeys.
#[utoipa::path(get, path = "/passkeys", tag = "factors", security(("bearer" = [])),
    responses((status = 200, body = [PasskeyView]), (status = 401, body = Message)))]
async fn list_passkeys(State(state): State<AppState>, SettingUp(user): SettingUp) -> Result<Response, AppError> {
    let list: Vec<PasskeyView> = accounts::list_passkeys(&state, &user).await?.into_iter().map(view).collect();
    Ok(no_store(Json(list)))
}

/// Start adding a passkey: options for `navigator.credentials.create`.
/// Needs a recent sign-in.
#[utoipa::path(post, path = "/passkeys/options", tag = "factors", security(("bearer" = [])),
    responses(
        (status = 200, body = PasskeyOptions),
        (status = 401, description = "With `error=\"insufficient_user_authentication\"`: sign-in too old, call /api/reauth", body = Message),
        (status = 409, description = "Passkeys are off on this server, or the account has the most it may", body = Message),
    ))]
async fn adding_options(State(state): State<AppState>, SettingUp(user): SettingUp) -> Result<Response, AppError> {
    options(accounts::begin_adding(&state, &user).await?)
}

/// Finish adding a passkey with the browser's answer. Answers the passkey
/// and an access token that says this session has shown it.
#[utoipa::path(post, path = "/passkeys", tag = "factors", security(("bearer" = [])), request_body = NewPasskey,
    responses(
        (status = 201, body = PasskeyAdded),
        (status = 400, description = "A refused name or answer", body = Message),
        (status = 401, description = "The ceremony is unknown, expired or used, or the sign-in is too old", body = Message),
        (status = 409, description = "This passkey is registered already, or the account has the most it may", body = Message),
    ))]
async fn add_passkey(
    State(state): State<AppState>,
    SettingUp(user): SettingUp,
    client: Client,
    body: JsonBody,
) -> Result<Response, AppError> {
    let new = NewPasskey::read(&body)?;
    let (added, access) =
        accounts::finish_adding(&state, &user, new.ceremony, new.name, &new.credential, &client).await?;
    Ok(no_store((StatusCode::CREATED, Json(PasskeyAdded { passkey: view(added), access_token: access.token }))))
}

/// Remove one of the caller's passkeys. Needs a recent sign-in.
#[utoipa::path(delete, path = "/passkeys/{id}", tag = "factors", security(("bearer" = [])),
    params(("id" = String, Path, description = "A passkey id from GET /api/passkeys")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, body = Message),
        (status = 404, description = "No such passkey on this account", body = Message),
        (status = 409, description = "The last second factor, which this server requires", body = Message),
    ))]
async fn remove_passkey(
    State(state): State<AppState>,
    SettingUp(user): SettingUp,
    client: Client,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    accounts::remove_passkey(&state, &user, &id, &client).await?;
    Ok(no_store(StatusCode::NO_CONTENT))
}

/// Start signing in with a passkey: options for
/// `navigator.credentials.get` (no username: the passkey says whose it is).
#[utoipa::path(post, path = "/login/passkey/options", tag = "sessions",
    responses(
        (status = 200, body = PasskeyOptions),
        (status = 409, description = "Passkeys are off on this server", body = Message),
        (status = 429, description = "This address started too many passkey sign-ins; see `Retry-After`", body = Message),
        (status = 503, description = "As many passkey sign-ins are under way as the server holds; see `Retry-After`", body = Message),
    ))]
async fn sign_in_options(State(state): State<AppState>, client: Client) -> Result<Response, AppError> {
    options(accounts::begin_sign_in(&state, &client).await?)
}

/// Finish signing in with a passkey: starts a session, as a password
/// sign-in does. A passkey counts as two factors.
#[utoipa::path(post, path = "/login/passkey", tag = "sessions", request_body = PasskeyAnswer,
    responses(
        (status = 200, body = TokenPair),
        (status = 400, description = "A malformed body", body = Message),
        (status = 401, description = "A refused passkey, or a ceremony that is unknown, expired or used", body = Message),
        (status = 429, description = "Too many failed sign-ins from this address; see `Retry-After`", body = Message),
    ))]
async fn sign_in(State(state): State<AppState>, client: Client, body: JsonBody) -> Result<Response, AppError> {
    let answer = PasskeyAnswer::read(&body)?;
    let tokens = accounts::finish_sign_in(&state, answer.ceremony, &answer.credential, &client).await?;
    Ok(no_store(Json(token_pair(&tokens))))
}

/// Start confirming who the caller is with one of their passkeys.
#[utoipa::path(post, path = "/reauth/passkey/options", tag = "sessions", security(("bearer" = [])),
    responses(
        (status = 200, body = PasskeyOptions),
        (status = 401, body = Message),
        (status = 409, description = "Passkeys are off, or the account has none", body = Message),
    ))]
async fn confirming_options(State(state): State<AppState>, SettingUp(user): SettingUp) -> Result<Response, AppError> {
    options(accounts::begin_confirming(&state, &user).await?)
}

/// Confirm who the caller is with a passkey: the session counts as freshly
/// signed in.
#[utoipa::path(post, path = "/reauth/passkey", tag = "sessions", security(("bearer" = [])), request_body = PasskeyAnswer,
    responses(
        (status = 200, body = AccessToken),
        (status = 400, description = "A refused answer", body = Message),
        (status = 401, description = "The ceremony is unknown, expired or used", body = Message),
    ))]
async fn confirm(
    State(state): State<AppState>,
    SettingUp(user): SettingUp,
    client: Client,
    body: JsonBody,
) -> Result<Response, AppError> {
    let answer = PasskeyAnswer::read(&body)?;
    let access = accounts::finish_confirming(&state, &user, answer.ceremony, &answer.credential, &client).await?;
    Ok(no_store(Json(access_token(&access))))
}

fn options<T: Serialize>(ceremony: Ceremony<T>) -> Result<Response, AppError> {
    let options = serde_json::to_value(&ceremony.options).map_err(|e| AppError::internal(&e))?;
    Ok(no_store(Json(PasskeyOptions { ceremony: ceremony.handle.expose().to_owned(), options })))
}

fn view(p: PasskeySummary) -> PasskeyView {
    PasskeyView { id: p.id, name: p.name, created_at: p.created_at, last_used_at: p.last_used_at }
}
