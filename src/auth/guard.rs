//! The one guard. Pages, server functions and the JSON API all find out
//! who is calling here: a Bearer header or the access cookie, a fully
//! verified token, then the account and the token's session read from the
//! database on every request, so ending a session, disabling or deleting
//! an account takes effect at once, on every instance.
//!
//! Browsers also carry a refresh cookie: when the access cookie is gone or
//! no longer valid, [`authenticate_browser`] rotates the refresh token and
//! hands back the new cookies (a "silent refresh").

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::caller::{Authorization, authorization};
pub use super::caller::{Client, CurrentUser};
use super::cookies;
use super::token::{self, TokenError, TokenType};
use crate::accounts::{self, RefreshError, Refreshed};
use crate::db::sessions;
use crate::error::AppError;
use crate::state::AppState;

/// Why a request is not authenticated.
#[derive(Debug, PartialEq, Eq)]
pub enum AuthError {
    /// No Bearer header and no cookie.
    Missing,
    /// An `Authorization` header that is not `Bearer <token>`.
    BadScheme,
    Token(TokenError),
    /// The token's session was ended (sign-out, reuse, an admin).
    SessionEnded,
    /// The account was disabled or deleted after the token was issued.
    AccountUnavailable,
    /// The check itself failed (already logged).
    Internal,
}

impl From<AuthError> for AppError {
    fn from(e: AuthError) -> Self {
        let msg = match e {
            AuthError::Missing => "Missing Authorization header or session cookie",
            AuthError::BadScheme => "Authorization header must be 'Bearer <token>'",
            AuthError::Token(TokenError::Expired) => "Token has expired",
            AuthError::Token(TokenError::NotYetValid) => "Token is not valid yet",
            AuthError::Token(TokenError::Malformed) => "Token is malformed",
            AuthError::Token(TokenError::WrongType) => "Token is not an access token",
            AuthError::Token(_) => "Token is invalid",
            AuthError::SessionEnded => "Token has been revoked",
            AuthError::AccountUnavailable => "Account is not available",
            // The guard's only outside dependency is the database.
            AuthError::Internal => return AppError::Unavailable,
        };
        AppError::Unauthorized(msg.to_owned())
    }
}

fn credential(headers: &HeaderMap) -> Result<String, AuthError> {
    match authorization(headers) {
        Authorization::Absent => cookies::read_access(headers).ok_or(AuthError::Missing),
        Authorization::Bearer(token) if !token.is_empty() => Ok(token.to_owned()),
        Authorization::Bearer(_) | Authorization::Other => Err(AuthError::BadScheme),
    }
}

/// Authenticates a request by its access token alone (Bearer header
/// first, else the cookie).
///
/// # Errors
/// The [`AuthError`] that stops it.
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<CurrentUser, AuthError> {
    let token = credential(headers)?;
    let now = state.clock.now();
    let claims = token::verify(&state.keys.ring(now), &state.tokens, &token, TokenType::Access, now)
        .map_err(AuthError::Token)?;
    let principal = sessions::principal(&state.db, &claims.sub, &claims.sid)
        .await
        .map_err(|e| {
            let _ = crate::error::db_error(e);
            AuthError::Internal
        })?
        .ok_or(AuthError::SessionEnded)?;
    if principal.session_revoked {
        return Err(AuthError::SessionEnded);
    }
    if principal.disabled {
        return Err(AuthError::AccountUnavailable);
    }
    Ok(CurrentUser {
        id: claims.sub,
        username: principal.username,
        role: principal.role,
        session_id: claims.sid,
        authenticated_at: principal.authenticated_at,
    })
}

/// `Set-Cookie` values to send after a silent refresh.
pub type Renewal = Option<[HeaderValue; 2]>;

/// Authenticates a browser request: the access token, or failing that
/// (and with no Bearer header) a silent refresh with the refresh cookie.
///
/// # Errors
/// The access token's [`AuthError`] when no refresh helps.
pub async fn authenticate_browser(
    state: &AppState,
    headers: &HeaderMap,
    client: &Client,
) -> Result<(CurrentUser, Renewal), AuthError> {
    let access_error = match authenticate(state, headers).await {
        Ok(user) => return Ok((user, None)),
        Err(AuthError::Internal) => return Err(AuthError::Internal),
        Err(e) => e,
    };
    if headers.contains_key(header::AUTHORIZATION) {
        return Err(access_error);
    }
    let Some(presented) = cookies::read_refresh(headers) else { return Err(access_error) };
    match accounts::refresh(state, &presented, client).await {
        Ok(Refreshed::Renewed(renewed)) => {
            let cookies = renewed.cookies(state);
            Ok((renewed.user, Some(cookies)))
        }
        Ok(Refreshed::Superseded(user)) => Ok((user, None)),
        Err(RefreshError::Internal) => Err(AuthError::Internal),
        Err(_) => Err(access_error),
    }
}

/// As [`authenticate_browser`] from request parts, reusing the page
/// guard's result when it already ran for this request.
///
/// # Errors
/// The [`AuthError`] that stops it.
pub async fn authenticate_parts(state: &AppState, parts: &Parts) -> Result<(CurrentUser, Renewal), AuthError> {
    match parts.extensions.get::<CurrentUser>() {
        Some(user) => Ok((user.clone(), None)),
        None => {
            authenticate_browser(state, &parts.headers, &Client::from_request(&parts.headers, &parts.extensions)).await
        }
    }
}

/// API handlers take the caller as an argument: access token only, no
/// silent refresh (API clients call `/api/refresh` themselves).
impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        authenticate(state, &parts.headers).await.map_err(AppError::from)
    }
}

/// Middleware: a protected page is rendered only for an authenticated
/// caller (renewing their tokens on the way when needed); anyone else gets
/// a 303 to the sign-in page, with `next`, before a single byte of the page
/// is produced, and dead cookies are cleared. A page for sensitive actions
/// sends a caller whose sign-in is not recent to confirm their password
/// first; a page for another role is answered 403 (its server functions
/// refuse the data as well).
pub async fn protect_pages(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let is_page_load = matches!(*req.method(), Method::GET | Method::HEAD);
    let Some(rule) = crate::domain::page_rule(req.uri().path()).filter(|_| is_page_load) else {
        return next.run(req).await;
    };
    let client = Client::from_request(req.headers(), req.extensions());
    let (user, renewal) = match authenticate_browser(&state, req.headers(), &client).await {
        Ok(found) => found,
        Err(AuthError::Internal) => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "Gatehouse cannot check your session right now. Please try again in a moment.",
            )
                .into_response();
        }
        Err(_) => {
            let mut res = see_other("/login", req.uri());
            if cookies::any_present(req.headers()) {
                for cookie in cookies::clear_all() {
                    res.headers_mut().append(header::SET_COOKIE, cookie);
                }
            }
            return res;
        }
    };
    let allowed = rule.role.is_none_or(|role| user.role == role);
    let mut res =
        if allowed && rule.fresh && user.require_fresh(state.clock.now(), state.accounts.reauth_window).is_err() {
            see_other("/reauth", req.uri())
        } else {
            req.extensions_mut().insert(user);
            let mut res = next.run(req).await;
            if !allowed {
                *res.status_mut() = StatusCode::FORBIDDEN;
            }
            res
        };
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for cookie in renewal.into_iter().flatten() {
        h.append(header::SET_COOKIE, cookie);
    }
    res
}

/// A 303 to `page` that brings the person back to `target` afterwards.
fn see_other(page: &str, target: &axum::http::Uri) -> Response {
    let target = target.path_and_query().map_or(target.path(), |pq| pq.as_str());
    let location = format!("{page}?{}", serde_urlencoded::to_string([("next", target)]).unwrap_or_default());
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, location)
        .header(header::CACHE_CONTROL, "no-store")
        .body(axum::body::Body::empty())
        .unwrap_or_else(|_| StatusCode::SEE_OTHER.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(k.clone(), HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn bearer_wins_over_the_cookie() {
        let h = headers(&[(header::AUTHORIZATION, "Bearer a.b.c"), (header::COOKIE, "__Host-gatehouse-access=x.y.z")]);
        assert_eq!(credential(&h).unwrap(), "a.b.c");
    }

    #[test]
    fn the_scheme_is_case_insensitive_and_must_be_bearer() {
        assert!(credential(&headers(&[(header::AUTHORIZATION, "bearer a.b.c")])).is_ok());
        for bad in ["Basic dXNlcjpwdw==", "Bearer", "Bearer ", "a.b.c", "Token a.b.c"] {
            let h = headers(&[(header::AUTHORIZATION, bad)]);
            assert_eq!(credential(&h).err(), Some(AuthError::BadScheme), "{bad}");
        }
    }

    #[test]
    fn nothing_presented_is_missing() {
        assert_eq!(credential(&HeaderMap::new()).err(), Some(AuthError::Missing));
    }
}
