//! Layers every response passes through: body-size limits, security
//! headers, and the boundary around server functions.

use axum::body::Body;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::Limited;

use crate::auth::{cookies, origin};
use crate::error::AppError;
use crate::proxy::Forwarded;
use crate::state::AppState;

/// The URL prefix of every server function; the JSON API lives under
/// `/api`, so the two never collide.
pub const SERVER_FN_PREFIX: &str = "/_fn";

/// No request body may exceed this: sign-in forms and JSON bodies are tiny.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Answers `405` to methods nothing here serves (`TRACE`, `CONNECT`,
/// `PATCH`, made-up ones) before any routing, so no handler or page ever
/// sees them.
pub async fn refuse_unknown_methods(req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::POST | Method::DELETE | Method::OPTIONS) {
        return next.run(req).await;
    }
    let mut res = if req.uri().path().starts_with("/api/") {
        let body = serde_json::json!({ "msg": "Method not allowed on this endpoint" });
        (StatusCode::METHOD_NOT_ALLOWED, axum::Json(body)).into_response()
    } else {
        (StatusCode::METHOD_NOT_ALLOWED, "Method not allowed").into_response()
    };
    res.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD, POST, DELETE, OPTIONS"));
    res
}

/// Refuses oversized bodies: at once when `Content-Length` says so, and
/// mid-stream otherwise.
pub async fn limit_body(req: Request, next: Next) -> Response {
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return body_too_large(req.uri().path());
    }
    let req = req.map(|body| Body::new(Limited::new(body, MAX_BODY_BYTES)));
    next.run(req).await
}

/// A body over [`MAX_BODY_BYTES`], in words.
pub fn too_large() -> AppError {
    AppError::TooLarge(format!("Request body is too large (limit {} KiB)", MAX_BODY_BYTES / 1024))
}

/// `413`: JSON under `/api/`, plain text elsewhere.
fn body_too_large(path: &str) -> Response {
    if path.starts_with("/api/") {
        too_large().into_response()
    } else {
        (StatusCode::PAYLOAD_TOO_LARGE, too_large().to_string()).into_response()
    }
}

/// Refuses state changes a browser could make with our cookies unless
/// they come from our own origin: every non-GET server function call
/// (login and register included: login CSRF needs no cookie), and API
/// calls that carry a session cookie and no Bearer header. Bearer calls
/// are not subject to it: a foreign page cannot attach our tokens.
pub async fn refuse_cross_site(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let h = req.headers();
    let changes_state = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let path = req.uri().path();
    let by_cookie = !h.contains_key(header::AUTHORIZATION) && cookies::any_present(h);
    let subject = path.starts_with(SERVER_FN_PREFIX) || (path.starts_with("/api/") && by_cookie);
    if !changes_state || !subject {
        return next.run(req).await;
    }
    match origin::check(h, &state.origins) {
        Ok(()) => next.run(req).await,
        Err(reason) => {
            tracing::warn!(%reason, path, "cross-site request refused");
            let msg = format!("This request came from another site and was refused ({reason}).");
            if path.starts_with("/api/") {
                AppError::Forbidden(msg).into_response()
            } else {
                (StatusCode::FORBIDDEN, [(header::CACHE_CONTROL, "no-store")], msg).into_response()
            }
        }
    }
}

/// Finds out who is calling: the peer, or behind a trusted proxy the
/// client it forwarded for (and whether the browser used HTTPS), for
/// everything downstream as a [`Forwarded`] extension.
pub async fn resolve_client(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|ci| ci.0.ip());
    if let Some(peer) = peer {
        let h = req.headers();
        let forwarded_for = h.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok());
        let proto = h.get_all("x-forwarded-proto").iter().filter_map(|v| v.to_str().ok()).next_back();
        let forwarded = state.proxies.resolve(peer, forwarded_for, proto, state.tls);
        req.extensions_mut().insert(forwarded);
    }
    next.run(req).await
}

/// The policy for everything that is not one of our pages (JSON, files,
/// plain-text errors): nothing in it may run, load or be framed.
const NOTHING_RUNS_POLICY: &str =
    "default-src 'none'; frame-ancestors 'none'; object-src 'none'; base-uri 'none'; form-action 'none'";

/// The Content-Security-Policy of a page whose inline scripts carry
/// `nonce` (a fresh one per response). Scripts: our own files and the
/// nonce's inline hydration script only; WebAssembly may be compiled
/// (`wasm-unsafe-eval`, not `unsafe-eval`: JavaScript `eval` stays off).
/// Styles, images and fetches: this origin. Forms post only here, the
/// page cannot be framed, and `<base>` and plugins are off.
pub fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
         frame-ancestors 'none'; form-action 'self'"
    )
}

/// Headers that cost nothing and close whole classes of attack. Pages set
/// their own Content-Security-Policy with a nonce (see `app::shell`);
/// every other response gets [`NOTHING_RUNS_POLICY`].
pub async fn security_headers(req: Request, next: Next) -> Response {
    let https = req.extensions().get::<Forwarded>().is_some_and(|f| f.https);
    let mut res = next.run(req).await;
    let html = res.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    let h = res.headers_mut();
    if html {
        // Pages show who is signed in: no copy of one belongs in a cache.
        h.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    }
    if https {
        // Two years, as the preload list asks; only ever sent over HTTPS,
        // where a browser believes it.
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=63072000; includeSubDomains"));
    }
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CONTENT_SECURITY_POLICY, NOTHING_RUNS_POLICY),
    ] {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    }
    h.entry(header::HeaderName::from_static("permissions-policy"))
        .or_insert(HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"));
    res
}

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
            Some(clean) if matches!(*req.method(), Method::GET | Method::HEAD) => see_other(&clean),
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
    let mut res = next.run(req).await;
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));

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
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return Err(body_too_large(parts.uri.path()));
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

fn see_other(location: &str) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        res.headers_mut().insert(header::LOCATION, value);
    }
    res
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
