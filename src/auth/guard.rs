//! The one guard. Pages, server functions and the JSON API all find out
//! who is calling through [`authenticate`]: a Bearer header or the access
//! cookie, a fully verified token, and the account and revocation state
//! read from the database on every request (so sign-out, a disabled account
//! or a deleted one take effect at once, on every instance).

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::cookies;
use super::token::{self, Claims, TokenError, TokenType};
use crate::db::revocations;
use crate::domain::Role;
use crate::error::AppError;
use crate::state::AppState;

/// The verified caller.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub id: String,
    pub username: String,
    pub role: Role,
    /// The claims of the access token that proved it.
    pub claims: Claims,
}

/// Why a request is not authenticated.
#[derive(Debug, PartialEq, Eq)]
pub enum AuthError {
    /// No Bearer header and no cookie.
    Missing,
    /// An `Authorization` header that is not `Bearer <token>`.
    BadScheme,
    Token(TokenError),
    Revoked,
    /// The account was deleted or disabled after the token was issued.
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
            AuthError::Revoked => "Token has been revoked",
            AuthError::AccountUnavailable => "Account is not available",
            AuthError::Internal => return AppError::Internal,
        };
        AppError::Unauthorized(msg.to_owned())
    }
}

/// Where the credential came from.
enum Credential {
    Bearer(String),
    Cookie(String),
}

fn credential(headers: &HeaderMap) -> Result<Credential, AuthError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let value = value.to_str().map_err(|_| AuthError::BadScheme)?;
        let (scheme, token) = value.split_once(' ').ok_or(AuthError::BadScheme)?;
        if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
            return Err(AuthError::BadScheme);
        }
        return Ok(Credential::Bearer(token.trim().to_owned()));
    }
    cookies::read_access(headers)
        .map(Credential::Cookie)
        .ok_or(AuthError::Missing)
}

/// Authenticates a request from its headers.
///
/// # Errors
/// The [`AuthError`] that stops it.
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<CurrentUser, AuthError> {
    let token = match credential(headers)? {
        Credential::Bearer(t) | Credential::Cookie(t) => t,
    };
    let now = state.clock.now();
    let claims = token::verify(&state.keys, &state.tokens, &token, TokenType::Access, now)
        .map_err(AuthError::Token)?;
    let principal = revocations::principal(&state.db, &claims.sub, &claims.jti)
        .await
        .map_err(|e| {
            let _ = AppError::internal(&e);
            AuthError::Internal
        })?
        .ok_or(AuthError::AccountUnavailable)?;
    if principal.revoked {
        return Err(AuthError::Revoked);
    }
    if principal.disabled {
        return Err(AuthError::AccountUnavailable);
    }
    Ok(CurrentUser {
        id: claims.sub.clone(),
        username: principal.username,
        role: principal.role,
        claims,
    })
}

/// Authenticates from request parts, reusing the page guard's result when
/// it already ran for this request.
///
/// # Errors
/// The [`AuthError`] that stops it.
pub async fn authenticate_parts(state: &AppState, parts: &Parts) -> Result<CurrentUser, AuthError> {
    match parts.extensions.get::<CurrentUser>() {
        Some(user) => Ok(user.clone()),
        None => authenticate(state, &parts.headers).await,
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        authenticate_parts(state, parts)
            .await
            .map_err(AppError::from)
    }
}

/// Middleware: a protected page is rendered only for an authenticated
/// caller; anyone else gets a 303 to the sign-in page (with `next`) before a
/// single byte of the page is produced, and a bad cookie is cleared.
pub async fn protect_pages(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path();
    let is_page_load = matches!(*req.method(), Method::GET | Method::HEAD);
    if !is_page_load || !crate::app::is_protected(path) {
        return next.run(req).await;
    }
    match authenticate(&state, req.headers()).await {
        Ok(user) => {
            req.extensions_mut().insert(user);
            let mut res = next.run(req).await;
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(AuthError::Internal) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "Gatehouse cannot check your session right now. Please try again in a moment.",
        )
            .into_response(),
        Err(reason) => {
            let target = req.uri().path_and_query().map_or(path, |pq| pq.as_str());
            let location = format!(
                "/login?{}",
                serde_urlencoded::to_string([("next", target)]).unwrap_or_default()
            );
            let mut res = Response::builder()
                .status(StatusCode::SEE_OTHER)
                .header(header::LOCATION, location)
                .header(header::CACHE_CONTROL, "no-store")
                .body(axum::body::Body::empty())
                .unwrap_or_else(|_| StatusCode::SEE_OTHER.into_response());
            if reason != AuthError::Missing {
                res.headers_mut()
                    .append(header::SET_COOKIE, cookies::clear_access());
            }
            res
        }
    }
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
        let h = headers(&[
            (header::AUTHORIZATION, "Bearer a.b.c"),
            (header::COOKIE, "__Host-gatehouse-access=x.y.z"),
        ]);
        assert!(matches!(credential(&h), Ok(Credential::Bearer(t)) if t == "a.b.c"));
    }

    #[test]
    fn the_scheme_is_case_insensitive_and_must_be_bearer() {
        assert!(matches!(
            credential(&headers(&[(header::AUTHORIZATION, "bearer a.b.c")])),
            Ok(Credential::Bearer(_))
        ));
        for bad in [
            "Basic dXNlcjpwdw==",
            "Bearer",
            "Bearer ",
            "a.b.c",
            "Token a.b.c",
        ] {
            let h = headers(&[(header::AUTHORIZATION, bad)]);
            assert_eq!(credential(&h).err(), Some(AuthError::BadScheme), "{bad}");
        }
    }

    #[test]
    fn nothing_presented_is_missing() {
        assert_eq!(
            credential(&HeaderMap::new()).err(),
            Some(AuthError::Missing)
        );
    }
}
