//! How the web layer answers by itself, each shaped in one place: a
//! refusal (JSON under `/api/`, text elsewhere), a redirect to sign in or
//! to confirm a password (with the way back), and `no-store`.

use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use crate::domain::{reauth_url, sign_in_url};
use crate::error::AppError;

/// The `Cache-Control` of whatever names a person or carries a secret.
pub const NO_STORE: HeaderValue = HeaderValue::from_static("no-store");

/// `r`, never to be kept by a cache.
pub fn no_store(r: impl IntoResponse) -> Response {
    let mut r = r.into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, NO_STORE);
    r
}

/// A 303 to `location` (a path of ours).
pub fn see_other(location: &str) -> Response {
    let mut res = no_store(StatusCode::SEE_OTHER);
    if let Ok(value) = HeaderValue::from_str(location) {
        res.headers_mut().insert(header::LOCATION, value);
    }
    res
}

/// To the sign-in page, and back to `target` afterwards.
pub fn to_sign_in(target: &Uri) -> Response {
    see_other(&sign_in_url(path_and_query(target)))
}

/// To confirm the password, and back to `target` afterwards.
pub fn to_reauth(target: &Uri) -> Response {
    see_other(&reauth_url(path_and_query(target)))
}

fn path_and_query(uri: &Uri) -> &str {
    uri.path_and_query().map_or(uri.path(), |pq| pq.as_str())
}

/// `error` as the answer to a request for `path`: `{"msg"}` under `/api/`
/// (what API clients parse), its words as plain text elsewhere; the status,
/// `Retry-After` and `no-store` alike.
pub fn refusal(path: &str, error: AppError) -> Response {
    if path.starts_with("/api/") {
        return error.into_response();
    }
    let text = error.to_string();
    answer(&error, text)
}

/// `body` with `error`'s status, `Retry-After` when it has one, and `no-store`.
fn answer(error: &AppError, body: impl IntoResponse) -> Response {
    let mut res = no_store((error.status_code(), body));
    if let Some(secs) = error.retry_after() {
        res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    res
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut response = answer(&self, axum::Json(serde_json::json!({ "msg": self.to_string() })));
        if response.status() == StatusCode::UNAUTHORIZED {
            // RFC 6750: a 401 names the scheme it wants.
            let challenge = match self {
                Self::Unauthorized(_) => r#"Bearer realm="gatehouse", error="invalid_token""#,
                // RFC 9470 step-up: a valid token, but too old a sign-in.
                Self::ReauthRequired => r#"Bearer realm="gatehouse", error="insufficient_user_authentication""#,
                _ => r#"Bearer realm="gatehouse""#,
            };
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_speak_json_under_the_api_and_text_elsewhere() {
        let api = refusal("/api/login", AppError::MethodNotAllowed);
        assert_eq!(api.headers()[header::CONTENT_TYPE], "application/json");
        let page = refusal("/login", AppError::TooManyAttempts { retry_after: 30 });
        assert_eq!(page.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(page.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/plain"));
        assert_eq!(page.headers()[header::RETRY_AFTER], "30");
        for res in [api, page] {
            assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");
        }
    }

    #[test]
    fn the_way_to_sign_in_keeps_the_whole_target() {
        let res = to_sign_in(&Uri::from_static("/dashboard?tab=2"));
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(res.headers()[header::LOCATION], "/login?next=%2Fdashboard%3Ftab%3D2");
        assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");
    }
}
