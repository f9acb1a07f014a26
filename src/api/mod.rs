//! The JSON API for SPAs, mobile apps and other services: `/login` and
//! `/protected` (the endpoints of the tutorial Gatehouse grew from), plus
//! registration, refresh-token rotation, re-authentication, sign-out, the
//! session list, password change and reset, and the administrators'
//! endpoints. Handlers stay thin: read the request, call `accounts`, shape
//! the answer.

mod admin_routes;
mod json;
mod mfa_routes;
mod passkey_routes;
pub mod schema;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::accounts::{self, NewPasswordForm, Rotation, SECOND_STEP_METHODS, SessionTokens, SignIn};
use crate::auth::caller::{Client, CurrentUser};
use crate::auth::token::Issued;
use crate::domain::SessionId;
use crate::error::AppError;
use crate::keystore::KeySet;
use crate::state::AppState;
use crate::web::caller::{Authorization, authorization};
use crate::web::guard::SettingUp;
use crate::web::respond::no_store;
use json::JsonBody;
use schema::{
    AccessToken, Credentials, LoggedInAs, LoginAnswer, Message, MfaRequired, PasswordChange, PasswordReset,
    Reauthentication, Registered, Sessions, TokenPair,
};

/// The API's routes (to be nested under `/api`) and their OpenAPI
/// document, from the same registrations: a route cannot exist without
/// its documentation.
pub fn router() -> (Router<AppState>, OpenApi) {
    let (router, doc) = OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(register))
        .routes(routes!(protected))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(logout_everywhere))
        .routes(routes!(reauthenticate))
        .routes(routes!(change_password))
        .routes(routes!(reset_password))
        .routes(routes!(list_sessions))
        .routes(routes!(end_session))
        .merge(mfa_routes::router())
        .merge(passkey_routes::router())
        .nest("/admin", admin_routes::router())
        .split_for_parts();
    let router = router
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
        .fallback(|| async { AppError::NotFound("No such API endpoint".into()) });
    (router, doc)
}

/// The whole document: the API under `/api`, the key set, the bearer
/// scheme, and what the service is.
pub fn openapi(api: OpenApi) -> OpenApi {
    let (_, keys) = OpenApiRouter::<AppState>::new().routes(routes!(jwks)).split_for_parts();
    let mut doc = OpenApi::builder()
        .info(
            utoipa::openapi::InfoBuilder::new()
                .title("Gatehouse")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Sign-in, sessions and JWTs. Send the access token as `Authorization: Bearer <token>`; \
                     every error is `{\"msg\"}` with a 4xx status.",
                ))
                .build(),
        )
        .build()
        .nest("/api", api);
    doc.merge(keys);
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(Http::builder().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
    );
    document_refused_tokens(&mut doc);
    doc
}

/// Every operation that takes the access token can answer 401 (none, a
/// forged or expired one, a session ended): stated once here, so no
/// operation's documentation can forget it.
fn document_refused_tokens(doc: &mut OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let refused = ResponseBuilder::new()
        .description("No valid access token: absent, malformed, forged, expired, or its session has ended")
        .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("Message"))).build())
        .build();
    for item in doc.paths.paths.values_mut() {
        let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for op in operations.into_iter().flatten().filter(|op| op.security.is_some()) {
            op.responses.responses.entry("401".to_owned()).or_insert_with(|| RefOr::T(refused.clone()));
        }
    }
}

/// How long services may cache the key set. A rotation publishes the new
/// key well before it signs (`gatehouse keys rotate --in`, 10 minutes by
/// default), so a cached set always knows the signing key.
pub const JWKS_MAX_AGE: u64 = 300;

/// The public signing keys, so other services verify Gatehouse tokens
/// without any shared secret. Symmetric keys are never listed.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "keys",
    responses((status = 200, description = "The published keys; cacheable for 5 minutes", body = KeySet)))]
pub async fn jwks(State(state): State<AppState>) -> Response {
    let cache = format!("public, max-age={JWKS_MAX_AGE}");
    let mut res = Json(state.keys.jwks(state.clock.now())).into_response();
    if let Ok(value) = HeaderValue::from_str(&cache) {
        res.headers_mut().insert(header::CACHE_CONTROL, value);
    }
    res.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    res
}

fn access_token(access: &Issued) -> AccessToken {
    AccessToken { access_token: access.token.clone(), token_type: "Bearer", expires_in: access.lifetime() }
}

fn token_pair(r: &SessionTokens) -> TokenPair {
    TokenPair { access: access_token(&r.access), refresh_token: r.refresh.expose().to_owned() }
}

/// Sign in: starts a session, or, for an account with a second factor,
/// answers an `mfa_token` for `POST /api/login/mfa` and no session yet.
#[utoipa::path(post, path = "/login", tag = "sessions", request_body = Credentials,
    responses(
        (status = 200, description = "Tokens, or `mfa_required` with an `mfa_token`", body = LoginAnswer),
        (status = 400, description = "A missing or malformed field", body = Message),
        (status = 401, description = "Bad username or password (the same for every cause)", body = Message),
        (status = 429, description = "Too many attempts; see Retry-After", body = Message),
    ))]
async fn login(State(state): State<AppState>, client: Client, body: JsonBody) -> Result<Response, AppError> {
    let c = Credentials::read(&body)?;
    let answer = match accounts::sign_in(&state, c.username, c.password, &client).await? {
        SignIn::Session(tokens) => LoginAnswer::Tokens(token_pair(&tokens)),
        SignIn::SecondStep(step) => LoginAnswer::SecondStep(MfaRequired {
            mfa_required: true,
            mfa_token: step.token.expose().to_owned(),
            methods: SECOND_STEP_METHODS.to_vec(),
            expires_in: step.expires_in,
        }),
    };
    Ok(no_store(Json(answer)))
}

/// Create an account (role `user`).
#[utoipa::path(post, path = "/register", tag = "accounts", request_body = Credentials,
    responses(
        (status = 201, body = Registered),
        (status = 400, description = "The name or password is refused; the message says why", body = Message),
        (status = 409, description = "The name is taken", body = Message),
        (status = 429, description = "Too many registrations from this address", body = Message),
    ))]
async fn register(State(state): State<AppState>, client: Client, body: JsonBody) -> Result<Response, AppError> {
    let c = Credentials::read(&body)?;
    let username = accounts::sign_up(&state, c.username, c.password, &client).await?;
    Ok(no_store((StatusCode::CREATED, Json(Registered { username: username.as_str().to_owned() }))))
}

/// Who the access token belongs to.
#[utoipa::path(get, path = "/protected", tag = "sessions", security(("bearer" = [])),
    responses((status = 200, body = LoggedInAs), (status = 401, body = Message)))]
async fn protected(user: CurrentUser) -> Response {
    no_store(Json(LoggedInAs { logged_in_as: user.username }))
}

/// Trade the refresh token (as the Bearer credential) for a new pair; the
/// presented one dies. A reused refresh token ends its session.
#[utoipa::path(post, path = "/refresh", tag = "sessions", security(("bearer" = [])),
    responses(
        (status = 200, body = TokenPair),
        (status = 401, description = "Unknown, expired, ended or reused refresh token", body = Message),
        (status = 409, description = "A concurrent request rotated it a moment ago", body = Message),
    ))]
async fn refresh(State(state): State<AppState>, client: Client, headers: HeaderMap) -> Result<Response, AppError> {
    let Authorization::Bearer(presented) = authorization(&headers) else {
        return Err(AppError::Unauthorized("Send the refresh token as 'Authorization: Bearer <refresh_token>'".into()));
    };
    match accounts::refresh(&state, presented, &client).await? {
        Rotation::Rotated(tokens) => Ok(no_store(Json(token_pair(&tokens)))),
        Rotation::Superseded(_) => Err(AppError::Conflict(
            "This refresh token was just used by a concurrent request; use the tokens that request received".into(),
        )),
    }
}

/// End this session.
#[utoipa::path(post, path = "/logout", tag = "sessions", security(("bearer" = [])),
    responses((status = 204, description = "The session has ended"), (status = 401, body = Message)))]
async fn logout(
    State(state): State<AppState>,
    SettingUp(user): SettingUp,
    client: Client,
) -> Result<Response, AppError> {
    accounts::sign_out(&state, &user, &client).await?;
    Ok(no_store(StatusCode::NO_CONTENT))
}

/// End every session of the caller.
#[utoipa::path(post, path = "/logout/everywhere", tag = "sessions", security(("bearer" = [])),
    responses((status = 204, description = "Every session has ended"), (status = 401, body = Message)))]
async fn logout_everywhere(
    State(state): State<AppState>,
    SettingUp(user): SettingUp,
    client: Client,
) -> Result<Response, AppError> {
    accounts::sign_out_everywhere(&state, &user, false, &client).await?;
    Ok(no_store(StatusCode::NO_CONTENT))
}

/// Confirm who you are, by password or by a code: a new access token
/// whose `auth_time` is now, for sensitive actions.
#[utoipa::path(post, path = "/reauth", tag = "sessions", security(("bearer" = [])), request_body = Reauthentication,
    responses(
        (status = 200, body = AccessToken),
        (status = 400, description = "Wrong password or code, or neither or both sent", body = Message),
        (status = 401, body = Message),
        (status = 429, description = "Too many attempts; see Retry-After", body = Message),
    ))]
async fn reauthenticate(
    State(state): State<AppState>,
    SettingUp(user): SettingUp,
    client: Client,
    body: JsonBody,
) -> Result<Response, AppError> {
    let confirmation = Reauthentication::read(&body)?;
    let access = accounts::reauthenticate(&state, &user, confirmation, &client).await?;
    Ok(no_store(Json(access_token(&access))))
}

/// Change the password; every other session ends, this one stays. Needs a
/// recent sign-in.
#[utoipa::path(post, path = "/password", tag = "accounts", security(("bearer" = [])), request_body = PasswordChange,
    responses(
        (status = 204, description = "Changed"),
        (status = 400, description = "Wrong current password, or the new one is refused", body = Message),
        (status = 401, description = "With `error=\"insufficient_user_authentication\"`: sign-in too old, call /api/reauth", body = Message),
        (status = 429, description = "Too many wrong passwords for this account or address; see Retry-After", body = Message),
    ))]
async fn change_password(
    State(state): State<AppState>,
    user: CurrentUser,
    client: Client,
    body: JsonBody,
) -> Result<Response, AppError> {
    let c = PasswordChange::read(&body)?;
    let form = NewPasswordForm { new: c.new_password, confirm: None };
    accounts::change_password(&state, &user, &form, c.current_password, &client).await?;
    Ok(no_store(StatusCode::NO_CONTENT))
}

/// Set a new password with a reset link's secret; the link dies and every
/// session of the account ends.
#[utoipa::path(post, path = "/password/reset", tag = "accounts", request_body = PasswordReset,
    responses(
        (status = 204, description = "The password is set"),
        (status = 400, description = "Used, expired, replaced or unknown link, or a refused password", body = Message),
        (status = 429, description = "Too many attempts from this address", body = Message),
    ))]
async fn reset_password(State(state): State<AppState>, client: Client, body: JsonBody) -> Result<Response, AppError> {
    let r = PasswordReset::read(&body)?;
    accounts::reset_password(&state, r.token, &NewPasswordForm { new: r.new_password, confirm: None }, &client).await?;
    Ok(no_store(StatusCode::NO_CONTENT))
}

/// The caller's live sessions, the current one marked.
#[utoipa::path(get, path = "/sessions", tag = "sessions", security(("bearer" = [])),
    responses((status = 200, body = Sessions), (status = 401, body = Message)))]
async fn list_sessions(State(state): State<AppState>, user: CurrentUser) -> Result<Response, AppError> {
    let sessions = accounts::list_sessions(&state, &user).await?;
    Ok(no_store(Json(Sessions { sessions })))
}

/// End one of the caller's sessions.
#[utoipa::path(delete, path = "/sessions/{id}", tag = "sessions", security(("bearer" = [])),
    params(("id" = String, Path, description = "A session id from GET /api/sessions")),
    responses(
        (status = 204, description = "That session has ended"),
        (status = 404, description = "Not a live session of yours (ended already, or never yours)", body = Message),
        (status = 401, body = Message),
    ))]
async fn end_session(
    State(state): State<AppState>,
    user: CurrentUser,
    client: Client,
    Path(id): Path<SessionId>,
) -> Result<Response, AppError> {
    accounts::end_session(&state, &user, &id, &client).await?;
    Ok(no_store(StatusCode::NO_CONTENT))
}
