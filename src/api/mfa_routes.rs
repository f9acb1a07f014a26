//! `/api/login/mfa` and `/api/mfa/...`: the second step of a password
//! sign-in, and the caller's authenticator app and recovery codes. The
//! rules (a recent sign-in for every change, codes spent once) live in
//! `accounts`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::json::JsonBody;
use super::schema::{Code, Factors, Message, RecoveryCodes, SecondStep, TokenPair, TotpEnrolment};
use super::token_pair;
use crate::accounts::{self, TotpStatus};
use crate::auth::caller::Client;
use crate::auth::recovery::RecoveryCode;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::guard::SettingUp;
use crate::web::respond::no_store;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(second_step))
        .routes(routes!(factors))
        .routes(routes!(begin_totp, disable_totp))
        .routes(routes!(confirm_totp))
        .routes(routes!(renew_recovery_codes))
}

/// The second step of a password sign-in: the `mfa_token` from
/// `POST /api/login` and a code. Starts the session.
#[utoipa::path(post, path = "/login/mfa", tag = "sessions", request_body = SecondStep,
    responses(
        (status = 200, body = TokenPair),
        (status = 400, description = "A wrong, reused or malformed code; the `mfa_token` stays usable", body = Message),
        (status = 401, description = "The `mfa_token` is unknown, expired, used, or has seen too many wrong codes", body = Message),
        (status = 429, description = "Too many attempts; see Retry-After", body = Message),
    ))]
async fn second_step(State(state): State<AppState>, client: Client, body: JsonBody) -> Result<Response, AppError> {
    let s = SecondStep::read(&body)?;
    let tokens = accounts::second_step(&state, s.mfa_token, s.code, &client).await?;
    Ok(no_store(Json(token_pair(&tokens))))
}

/// The caller's second factors.
#[utoipa::path(get, path = "/mfa", tag = "factors", security(("bearer" = [])),
    responses((status = 200, body = Factors), (status = 401, body = Message)))]
async fn factors(State(state): State<AppState>, SettingUp(user): SettingUp) -> Result<Response, AppError> {
    let answer = match accounts::totp_status(&state, &user).await? {
        TotpStatus::Off => Factors { totp: "off", recovery_codes_left: 0 },
        TotpStatus::Pending(_) => Factors { totp: "pending", recovery_codes_left: 0 },
        TotpStatus::On { recovery_codes_left, .. } => Factors { totp: "on", recovery_codes_left },
    };
    Ok(no_store(Json(answer)))
}

/// Add an authenticator app (pending until a code confirms it); replaces
/// a pending one. Needs a recent sign-in.
#[utoipa::path(post, path = "/mfa/totp", tag = "factors", security(("bearer" = [])),
    responses(
        (status = 200, body = TotpEnrolment),
        (status = 401, description = "With `error=\"insufficient_user_authentication\"`: sign-in too old, call /api/reauth", body = Message),
        (status = 409, description = "One is on already", body = Message),
    ))]
async fn begin_totp(State(state): State<AppState>, SettingUp(user): SettingUp) -> Result<Response, AppError> {
    let setup = accounts::begin_totp(&state, &user).await?;
    Ok(no_store(Json(TotpEnrolment { secret: setup.secret, otpauth_uri: setup.otpauth_uri })))
}

/// Turn the pending authenticator app on with a code from it: answers the
/// recovery codes, this once. Needs a recent sign-in.
#[utoipa::path(post, path = "/mfa/totp/confirm", tag = "factors", security(("bearer" = [])), request_body = Code,
    responses(
        (status = 200, body = RecoveryCodes),
        (status = 400, description = "A wrong or malformed code", body = Message),
        (status = 401, body = Message),
        (status = 409, description = "None is pending", body = Message),
    ))]
async fn confirm_totp(
    State(state): State<AppState>,
    SettingUp(user): SettingUp,
    client: Client,
    body: JsonBody,
) -> Result<Response, AppError> {
    let c = Code::read(&body)?;
    let (codes, access) = accounts::confirm_totp(&state, &user, c.code, &client).await?;
    Ok(no_store(Json(RecoveryCodes { recovery_codes: exposed(&codes), access_token: Some(access.token) })))
}

/// Turn the authenticator app off, with its recovery codes. Needs a
/// recent sign-in.
#[utoipa::path(delete, path = "/mfa/totp", tag = "factors", security(("bearer" = [])),
    responses(
        (status = 204, description = "Off"),
        (status = 401, body = Message),
        (status = 409, description = "It was off", body = Message),
    ))]
async fn disable_totp(
    State(state): State<AppState>,
    SettingUp(user): SettingUp,
    client: Client,
) -> Result<Response, AppError> {
    accounts::disable_totp(&state, &user, &client).await?;
    Ok(no_store(StatusCode::NO_CONTENT))
}

/// A new set of recovery codes; the old ones stop working. Needs a recent
/// sign-in.
#[utoipa::path(post, path = "/mfa/recovery-codes", tag = "factors", security(("bearer" = [])),
    responses(
        (status = 200, body = RecoveryCodes),
        (status = 401, body = Message),
        (status = 409, description = "No authenticator app is on", body = Message),
    ))]
async fn renew_recovery_codes(
    State(state): State<AppState>,
    SettingUp(user): SettingUp,
    client: Client,
) -> Result<Response, AppError> {
    let codes = accounts::renew_recovery_codes(&state, &user, &client).await?;
    Ok(no_store(Json(RecoveryCodes { recovery_codes: exposed(&codes), access_token: None })))
}

fn exposed(codes: &[RecoveryCode]) -> Vec<String> {
    codes.iter().map(|c| c.expose().to_owned()).collect()
}
