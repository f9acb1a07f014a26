//! The boundary around server functions (everything under
//! [`super::SERVER_FN_PREFIX`]), and the page URLs leptos_axum would put errors in.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::Response;

use super::{SERVER_FN_PREFIX, cookies, origin, respond};
use crate::error::AppError;
use crate::state::AppState;

/// Wraps every server function response:
/// - a `Location` may only point back at this site (leptos_axum redirects
///   plain form posts to their `Referer`, which a cross-site form controls);
/// - a plain form post that failed returns to its page with the error (and
///   the username it carried) in the one-time flash cookie, not in the URL
///   where a crafted link could put words in our mouth;
/// - an error gets the status its [`AppError`] names instead of a blanket 500;
/// - nothing is cached.
///
/// Pages never accept an error from their URL: one there is dropped by a
/// redirect to the same page without it.
pub async fn server_fn_boundary(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with(SERVER_FN_PREFIX) {
        return match without_url_error(req.uri()) {
            Some(clean) if matches!(*req.method(), Method::GET | Method::HEAD) => respond::see_other(&clean),
            _ => next.run(req).await,
        };
    }
    let plain_post = *req.method() == Method::POST && wants_a_page(req.headers());
    let reference = crate::error::request_id_in(req.headers());
    let (req, typed_username) = if plain_post {
        match typed_username(req).await {
            Ok(read) => read,
            Err(refusal) => return refusal,
        }
    } else {
        (req, None)
    };
    let mut res = respond::no_store(next.run(req).await);

    if let Some(location) = res.headers().get(header::LOCATION) {
        let safe = same_site_location(location, &state.origins);
        res.headers_mut().insert(header::LOCATION, safe);
    }
    if plain_post {
        move_error_to_flash(&mut res, typed_username, reference);
    }

    if res.status() == StatusCode::INTERNAL_SERVER_ERROR && is_json(res.headers()) {
        let (mut parts, body) = res.into_parts();
        let bytes = axum::body::to_bytes(body, 64 * 1024).await.unwrap_or_default();
        if let Ok(err) = serde_json::from_slice::<AppError>(&bytes) {
            parts.status = err.status_code();
            if let Some(secs) = err.retry_after() {
                parts.headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
        }
        return Response::from_parts(parts, Body::from(bytes));
    }
    res
}

/// Whether the caller is a browser posting a plain form (no JavaScript)
/// rather than a hydrated page calling a server function: it wants a page
/// back, not data. The same test leptos_axum makes.
pub fn wants_a_page(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("text/html"))
}

/// Reads the form body to keep the `username` it carries (never any other
/// field), and rebuilds the request around the same bytes.
async fn typed_username(req: Request) -> Result<(Request, Option<String>), Response> {
    #[derive(serde::Deserialize)]
    struct Typed {
        username: Option<String>,
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, super::middleware::MAX_BODY_BYTES).await else {
        return Err(super::middleware::body_too_large(parts.uri.path()));
    };
    let typed = serde_urlencoded::from_bytes::<Typed>(&bytes).ok().and_then(|t| t.username);
    Ok((Request::from_parts(parts, Body::from(bytes)), typed))
}

/// The error leptos_axum put into the redirect's URL, moved into the flash
/// cookie with the typed username.
fn move_error_to_flash(res: &mut Response, typed_username: Option<String>, reference: Option<String>) {
    let Some(location) = res.headers().get(header::LOCATION).and_then(|l| l.to_str().ok()) else {
        return;
    };
    let Ok(uri) = location.parse::<Uri>() else {
        return;
    };
    let Some(encoded) = query_pairs(&uri).into_iter().find(|(k, _)| k == "__err").map(|(_, v)| v) else {
        return;
    };
    let error = decode_url_error(&encoded).unwrap_or(AppError::Internal { reference });
    let clean = without_url_error(&uri).unwrap_or_else(|| uri.path().to_owned());
    let flash = crate::flash::Flash::failed(error, typed_username);
    let h = res.headers_mut();
    h.insert(header::LOCATION, HeaderValue::from_str(&clean).unwrap_or(HeaderValue::from_static("/")));
    if let Some(cookie) = cookies::set_flash(&flash) {
        h.append(header::SET_COOKIE, cookie);
    }
}

/// leptos_axum's URL form of a server function error: base64url JSON.
fn decode_url_error(encoded: &str) -> Option<AppError> {
    use base64::Engine as _;
    let json = base64::engine::general_purpose::URL_SAFE.decode(encoded).ok()?;
    serde_json::from_slice(&json).ok()
}

/// The path and query of `uri` without the error leptos_axum would read
/// from it, or `None` when it carries none.
fn without_url_error(uri: &Uri) -> Option<String> {
    let pairs = query_pairs(uri);
    let is_error = |k: &str| k == "__err" || k == "__path";
    if !pairs.iter().any(|(k, _)| is_error(k)) {
        return None;
    }
    let kept: Vec<_> = pairs.into_iter().filter(|(k, _)| !is_error(k)).collect();
    let query = serde_urlencoded::to_string(kept).unwrap_or_default();
    Some(if query.is_empty() { uri.path().to_owned() } else { format!("{}?{query}", uri.path()) })
}

fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    uri.query().and_then(|q| serde_urlencoded::from_str(q).ok()).unwrap_or_default()
}

fn is_json(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| ct.starts_with("application/json"))
}

/// `location` as a path if it stays on our site (a path, or a URL at one
/// of our origins, the same ones the cross-site check accepts); otherwise
/// `/`. The request's `Host` is not consulted: a proxy may rewrite it.
fn same_site_location(location: &HeaderValue, ours: &[String]) -> HeaderValue {
    let fallback = HeaderValue::from_static("/");
    let Ok(text) = location.to_str() else {
        return fallback;
    };
    if text.contains('\\') || text.bytes().any(|b| b.is_ascii_control()) {
        return fallback;
    }
    let Ok(uri) = text.parse::<Uri>() else {
        return fallback;
    };
    let path_and_query = uri.path_and_query().map_or("/", |pq| pq.as_str());
    if !path_and_query.starts_with('/') || path_and_query.starts_with("//") {
        return fallback;
    }
    let on_our_site = match origin::origin_of(&uri) {
        None => uri.scheme().is_none() && uri.authority().is_none(),
        Some(o) => ours.contains(&o),
    };
    if on_our_site { HeaderValue::from_str(path_and_query).unwrap_or(fallback) } else { fallback }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(location: &'static str, origin: &str) -> String {
        same_site_location(&HeaderValue::from_static(location), &[origin.to_owned()]).to_str().unwrap().to_owned()
    }

    #[test]
    fn same_site_redirects_are_kept_as_paths() {
        assert_eq!(check("/dashboard", "https://app.example"), "/dashboard");
        let back = "https://app.example/login?next=%2Fx&__err=abc";
        assert_eq!(check(back, "https://app.example"), "/login?next=%2Fx&__err=abc");
        assert_eq!(check("https://APP.example/login", "https://app.example"), "/login");
        assert_eq!(check("http://127.0.0.1:3000/login", "http://127.0.0.1:3000"), "/login");
    }

    #[test]
    fn errors_are_taken_out_of_urls_and_the_rest_is_kept() {
        let uri = |s: &'static str| Uri::from_static(s);
        assert_eq!(
            without_url_error(&uri("/login?next=%2Fx&__path=%2F_fn%2Flogin&__err=abc")).as_deref(),
            Some("/login?next=%2Fx")
        );
        assert_eq!(without_url_error(&uri("/login?__err=abc")).as_deref(), Some("/login"));
        assert_eq!(without_url_error(&uri("/login?__path=x")).as_deref(), Some("/login"));
        assert_eq!(without_url_error(&uri("/login?next=%2Fx")), None);
        assert_eq!(without_url_error(&uri("/login")), None);
    }

    #[test]
    fn a_url_error_decodes_only_when_it_is_ours() {
        use base64::Engine as _;
        let ours =
            base64::engine::general_purpose::URL_SAFE.encode(serde_json::to_vec(&AppError::BadCredentials).unwrap());
        assert_eq!(decode_url_error(&ours), Some(AppError::BadCredentials));
        for junk in ["", "%%%", "bm90IGpzb24=", "eyJOb3BlIjoxfQ=="] {
            assert_eq!(decode_url_error(junk), None, "{junk}");
        }
    }

    #[test]
    fn off_site_redirects_go_home() {
        for evil in [
            "https://evil.example/",
            "http://app.example.evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "javascript:alert(1)",
            "https://app.example:8443/other-port",
            "http://app.example/other-scheme",
        ] {
            assert_eq!(check(evil, "https://app.example"), "/", "{evil}");
        }
    }
}
