//! `/api/admin/...`: the administrators' endpoints. Every handler checks
//! the caller's role (and, for changes, a recent sign-in) in `accounts::administer`.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::json::{JsonBody, query};
use super::schema::{Changed, Ended, Message, Outcome, ResetLink, RoleChange};
use crate::accounts::administer::{self, Actor, AuditQuery};
use crate::auth::caller::{Client, CurrentUser};
use crate::domain::{AuditEntry, AuditKind, Paged, Role, UserId, UserSummary};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::respond::no_store;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users))
        .routes(routes!(set_role))
        .routes(routes!(disable))
        .routes(routes!(enable))
        .routes(routes!(end_sessions))
        .routes(routes!(reset_factors))
        .routes(routes!(reset_link))
        .routes(routes!(audit))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct UserQuery {
    /// Part of a username.
    search: Option<String>,
    #[param(minimum = 1, maximum = 1_000_000)]
    page: Option<u32>,
}

/// The API says when a page number is out of range (the admin pages,
/// where people type it into the address bar, clamp it instead).
fn page(page: Option<u32>) -> Result<Option<u32>, AppError> {
    match page {
        Some(p) if p != Paged::<()>::clamp(Some(p)) => {
            Err(AppError::invalid("page", format!("'page' counts from 1 to {}", Paged::<()>::clamp(Some(u32::MAX)))))
        }
        _ => Ok(page),
    }
}

/// A page of accounts, searchable by name.
#[utoipa::path(get, path = "/users", tag = "admin", security(("bearer" = [])), params(UserQuery),
    responses(
        (status = 200, body = Paged<UserSummary>),
        (status = 400, description = "A malformed query", body = Message),
        (status = 401, body = Message),
        (status = 403, description = "Not an administrator", body = Message),
    ))]
async fn list_users(
    State(state): State<AppState>,
    me: CurrentUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let q: UserQuery = query(raw.as_deref())?;
    Ok(no_store(Json(administer::list_users(&state, &me, q.search.as_deref(), page(q.page)?).await?)))
}

/// Give an account a role; applies at once. Needs a recent sign-in.
#[utoipa::path(post, path = "/users/{id}/role", tag = "admin", security(("bearer" = [])), params(("id" = String, Path, description = "The account's id")), request_body = RoleChange,
    responses(
        (status = 200, body = Changed),
        (status = 400, body = Message),
        (status = 403, description = "Your own account, or not an administrator", body = Message),
        (status = 404, body = Message),
        (status = 409, description = "It would leave no enabled administrator", body = Message),
    ))]
async fn set_role(
    State(state): State<AppState>,
    me: CurrentUser,
    client: Client,
    Path(id): Path<UserId>,
    body: JsonBody,
) -> Result<Response, AppError> {
    let role = Role::from_stored(RoleChange::read(&body)?.role)
        .ok_or_else(|| AppError::invalid("role", "role must be 'user' or 'admin'"))?;
    let changed = administer::set_role(&state, Actor::Admin(&me), &id, role, &client).await?;
    Ok(no_store(Json(Changed { changed })))
}

/// Disable an account; every session of it ends at once.
#[utoipa::path(post, path = "/users/{id}/disable", tag = "admin", security(("bearer" = [])), params(("id" = String, Path, description = "The account's id")),
    responses((status = 200, body = Changed), (status = 403, body = Message), (status = 404, body = Message), (status = 409, body = Message)))]
async fn disable(
    State(state): State<AppState>,
    me: CurrentUser,
    client: Client,
    Path(id): Path<UserId>,
) -> Result<Response, AppError> {
    let changed = administer::set_disabled(&state, Actor::Admin(&me), &id, true, &client).await?;
    Ok(no_store(Json(Changed { changed })))
}

/// Let a disabled account sign in again.
#[utoipa::path(post, path = "/users/{id}/enable", tag = "admin", security(("bearer" = [])), params(("id" = String, Path, description = "The account's id")),
    responses((status = 200, body = Changed), (status = 403, body = Message), (status = 404, body = Message)))]
async fn enable(
    State(state): State<AppState>,
    me: CurrentUser,
    client: Client,
    Path(id): Path<UserId>,
) -> Result<Response, AppError> {
    let changed = administer::set_disabled(&state, Actor::Admin(&me), &id, false, &client).await?;
    Ok(no_store(Json(Changed { changed })))
}

/// End every session of an account.
#[utoipa::path(delete, path = "/users/{id}/sessions", tag = "admin", security(("bearer" = [])), params(("id" = String, Path, description = "The account's id")),
    responses((status = 200, body = Ended), (status = 403, body = Message), (status = 404, body = Message)))]
async fn end_sessions(
    State(state): State<AppState>,
    me: CurrentUser,
    client: Client,
    Path(id): Path<UserId>,
) -> Result<Response, AppError> {
    let ended = administer::end_sessions(&state, Actor::Admin(&me), &id, &client).await?;
    Ok(no_store(Json(Ended { ended })))
}

/// Remove every second factor of an account (lost phone and recovery
/// codes) and end its sessions.
#[utoipa::path(delete, path = "/users/{id}/factors", tag = "admin", security(("bearer" = [])), params(("id" = String, Path, description = "The account's id")),
    responses((status = 200, description = "`changed`: whether it had one", body = Changed), (status = 401, body = Message), (status = 403, body = Message)))]
async fn reset_factors(
    State(state): State<AppState>,
    me: CurrentUser,
    client: Client,
    Path(id): Path<UserId>,
) -> Result<Response, AppError> {
    let changed = administer::reset_factors(&state, Actor::Admin(&me), &id, &client).await?;
    Ok(no_store(Json(Changed { changed })))
}

/// Issue a single-use password-reset link (older ones stop working).
#[utoipa::path(post, path = "/users/{id}/reset-link", tag = "admin", security(("bearer" = [])), params(("id" = String, Path, description = "The account's id")),
    responses((status = 201, body = ResetLink), (status = 403, body = Message), (status = 404, body = Message)))]
async fn reset_link(
    State(state): State<AppState>,
    me: CurrentUser,
    client: Client,
    Path(id): Path<UserId>,
) -> Result<Response, AppError> {
    let issued = administer::issue_reset(&state, Actor::Admin(&me), &id, &client).await?;
    Ok(no_store((StatusCode::CREATED, Json(ResetLink { url: issued.url, expires_at: issued.expires_at }))))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AuditParams {
    /// An event kind.
    #[param(value_type = Option<AuditKind>)]
    kind: Option<String>,
    /// A username (actor or subject).
    user: Option<String>,
    #[param(inline, value_type = Option<Outcome>)]
    outcome: Option<String>,
    #[param(minimum = 1, maximum = 1_000_000)]
    page: Option<u32>,
}

/// A page of audit events, newest first.
#[utoipa::path(get, path = "/audit", tag = "admin", security(("bearer" = [])), params(AuditParams),
    responses(
        (status = 200, body = Paged<AuditEntry>),
        (status = 400, description = "An unknown kind or outcome", body = Message),
        (status = 403, body = Message),
    ))]
async fn audit(State(state): State<AppState>, me: CurrentUser, RawQuery(raw): RawQuery) -> Result<Response, AppError> {
    let p: AuditParams = query(raw.as_deref())?;
    // Given, a filter must name something (the admin page sends blanks
    // for "any"; the API leaves the parameter out).
    if p.kind.as_deref().is_some_and(|k| AuditKind::from_stored(k).is_none()) {
        return Err(AppError::invalid(
            "kind",
            "Unknown event kind: leave 'kind' out, or send one this document lists.",
        ));
    }
    if p.outcome.as_deref().is_some_and(|o| !matches!(o, "success" | "failure")) {
        return Err(AppError::invalid("outcome", "'outcome' is 'success' or 'failure' (or left out)."));
    }
    let q = AuditQuery { kind: p.kind, user: p.user, outcome: p.outcome, page: page(p.page)? };
    Ok(no_store(Json(administer::audit_log(&state, &me, &q).await?)))
}
