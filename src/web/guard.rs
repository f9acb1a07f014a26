//! The one guard. Pages, server functions and the JSON API all find out
//! who is calling through [`check`]: a Bearer header or the access cookie,
//! a fully verified token, then the account and the token's session read
//! from the database on every request, so ending a session, disabling or
//! deleting an account takes effect at once, on every instance. What it
//! decides is `auth::admission`'s; who may see what is the page table's
//! (`domain::pages`).
//!
//! Browsers also carry a refresh cookie: when the access cookie is gone or
//! no longer valid, the check rotates the refresh token and hands back the
//! new cookies (a "silent refresh").

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;

use super::caller::{Authorization, authorization};
use super::{cookies, respond};
use crate::accounts::{self, RefreshError, Rotation};
pub use crate::auth::admission::AuthError;
use crate::auth::admission::{admit, admit_refreshed};
use crate::auth::caller::{Client, CurrentUser};
use crate::auth::token::{self, TokenType};
use crate::db::sessions;
use crate::domain::{Page, Rule, SessionId, UserId};
use crate::error::AppError;
use crate::state::AppState;

/// Whether a browser's refresh cookie may stand in for a dead access token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refresh {
    /// Pages and their server functions: a silent refresh.
    Silently,
    /// The JSON API (clients call `/api/refresh` themselves) and sign-out.
    Never,
}

/// What [`check`] found.
#[derive(Debug)]
pub struct Checked {
    pub caller: Result<CurrentUser, AuthError>,
    /// `Set-Cookie` values the answer must carry: the renewed tokens after
    /// a silent refresh, or the removal of cookies that sign no one in.
    pub cookies: Vec<HeaderValue>,
}

/// The sign-in check. Reuses the page guard's result when it already ran
/// for this request.
pub async fn check(state: &AppState, headers: &HeaderMap, extensions: &Extensions, refresh: Refresh) -> Checked {
    if let Some(user) = extensions.get::<CurrentUser>() {
        return Checked { caller: Ok(user.clone()), cookies: Vec::new() };
    }
    let access_error = match by_access_token(state, headers).await {
        Ok(user) => return Checked { caller: Ok(user), cookies: Vec::new() },
        Err(e) => e,
    };
    let refreshable = refresh == Refresh::Silently && !headers.contains_key(header::AUTHORIZATION);
    let presented = cookies::read_refresh(headers).filter(|_| refreshable && access_error != AuthError::Internal);
    let caller = match presented {
        None => Err(access_error),
        Some(presented) => {
            let client = Client::from_request(headers, extensions);
            match accounts::refresh(state, &presented, &client).await {
                Ok(Rotation::Rotated(tokens)) => {
                    let renewed = cookies::set_session(&tokens, state.refresh.idle_ttl).into();
                    return Checked { caller: Ok(admit_refreshed(tokens.owner)), cookies: renewed };
                }
                Ok(Rotation::Superseded(owner)) => Ok(admit_refreshed(owner)),
                Err(RefreshError::Failed(_)) => Err(AuthError::Internal),
                Err(_) => Err(access_error),
            }
        }
    };
    let dead = matches!(&caller, Err(e) if *e != AuthError::Internal) && cookies::any_present(headers);
    Checked { caller, cookies: if dead { cookies::clear_all().into() } else { Vec::new() } }
}

/// The access token alone (Bearer header first, else the cookie).
async fn by_access_token(state: &AppState, headers: &HeaderMap) -> Result<CurrentUser, AuthError> {
    let token = credential(headers)?;
    let now = state.clock.now();
    let claims = token::verify(&state.keys.ring(now), &state.tokens, &token, TokenType::Access, now)
        .map_err(AuthError::Token)?;
    let (user_id, session_id) = (UserId::from(claims.sub.as_str()), SessionId::from(claims.sid.as_str()));
    let standing = sessions::standing(&state.db, &user_id, &session_id).await.map_err(|e| {
        let _ = AppError::from(e);
        AuthError::Internal
    })?;
    admit(claims, standing)
}

fn credential(headers: &HeaderMap) -> Result<String, AuthError> {
    match authorization(headers) {
        Authorization::Absent => cookies::read_access(headers).ok_or(AuthError::Missing),
        Authorization::Bearer(token) if !token.is_empty() => Ok(token.to_owned()),
        Authorization::Bearer(_) | Authorization::Other => Err(AuthError::BadScheme),
    }
}

/// API handlers take the caller as an argument: access token only, no
/// silent refresh (API clients call `/api/refresh` themselves). A person
/// the policy asks for a second factor that this session has not shown is
/// refused here, whatever the endpoint, except those that take
/// [`SettingUp`].
impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let SettingUp(user) = SettingUp::from_request_parts(parts, state).await?;
        if user.owes_second_factor(&state.accounts) {
            return Err(AppError::SecondFactorRequired);
        }
        Ok(user)
    }
}

/// The caller of an endpoint that sets up or confirms a second factor, or
/// signs out: open also to a person who still owes one.
pub struct SettingUp(pub CurrentUser);

impl FromRequestParts<AppState> for SettingUp {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let checked = check(state, &parts.headers, &parts.extensions, Refresh::Never).await;
        checked.caller.map(Self).map_err(AppError::from)
    }
}

/// Middleware: a page is loaded only by a caller its rule admits. Nobody
/// signed in is sent to sign in, with `next`, before a single byte of the
/// page is produced (dead cookies cleared); a sign-in too old for the page
/// is sent to confirm the password first. A caller of another role is let
/// through to the page's own guard (`app::components::Guarded`, around
/// every page of the table and the 404 page), which shows the 403 page in
/// its place, as on a client-side navigation.
pub async fn protect_pages(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let rule = Page::governing(req.uri().path()).rule();
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return next.run(req).await;
    }
    if rule == Rule::ANYONE {
        return public_page(&state, req, next).await;
    }
    let checked = check(&state, req.headers(), req.extensions(), Refresh::Silently).await;
    let mut res = match checked.caller {
        Err(AuthError::Internal) => respond::refusal(req.uri().path(), AppError::Unavailable),
        Err(_) => respond::to_sign_in(req.uri()),
        Ok(user) => match user.may(rule, state.clock.now(), &state.accounts) {
            Err(AppError::ReauthRequired) => respond::to_reauth(req.uri()),
            Err(AppError::SecondFactorRequired) => respond::see_other(Page::TwoStep.path()),
            _ => {
                req.extensions_mut().insert(user);
                respond::no_store(next.run(req).await)
            }
        },
    };
    for cookie in checked.cookies {
        res.headers_mut().append(header::SET_COOKIE, cookie);
    }
    res
}

/// A page anyone may see. Without session cookies it needs no check; with
/// them, the page shows who is signed in, so the check runs here once for
/// the page and its header: a person whose session cannot be read (the
/// database is away) is told so with a 503, never shown as signed out.
async fn public_page(state: &AppState, mut req: Request, next: Next) -> Response {
    if !cookies::any_present(req.headers()) {
        return next.run(req).await;
    }
    let checked = check(state, req.headers(), req.extensions(), Refresh::Silently).await;
    let mut res = match checked.caller {
        Err(AuthError::Internal) => respond::refusal(req.uri().path(), AppError::Unavailable),
        Err(_) => next.run(req).await,
        Ok(user) => {
            req.extensions_mut().insert(user);
            respond::no_store(next.run(req).await)
        }
    };
    for cookie in checked.cookies {
        res.headers_mut().append(header::SET_COOKIE, cookie);
    }
    res
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
