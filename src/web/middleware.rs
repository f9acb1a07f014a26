//! Layers every request passes through: methods, body-size limits, the
//! cross-site check, the client's address, and security headers. The
//! boundary around server functions is `boundary`.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use http_body_util::Limited;

use super::{cookies, origin, respond};
use crate::config::proxies::Forwarded;
use crate::error::AppError;
use crate::state::AppState;

/// No request body may exceed this: sign-in forms and JSON bodies are tiny.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Answers `405` to methods nothing here serves (`TRACE`, `CONNECT`,
/// `PATCH`, made-up ones) before any routing, so no handler or page ever
/// sees them.
pub async fn refuse_unknown_methods(req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::POST | Method::DELETE | Method::OPTIONS) {
        return next.run(req).await;
    }
    let mut res = respond::refusal(req.uri().path(), AppError::MethodNotAllowed);
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

/// `413`, in the words of the part of the site asked.
pub(super) fn body_too_large(path: &str) -> Response {
    respond::refusal(path, too_large())
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
    let subject = path.starts_with(super::SERVER_FN_PREFIX) || (path.starts_with("/api/") && by_cookie);
    if !changes_state || !subject {
        return next.run(req).await;
    }
    match origin::check(h, &state.origins) {
        Ok(()) => next.run(req).await,
        Err(reason) => {
            tracing::warn!(%reason, path, "cross-site request refused");
            let msg = format!("This request came from another site and was refused ({reason}).");
            respond::refusal(path, AppError::Forbidden(msg))
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
        h.entry(header::CACHE_CONTROL).or_insert(respond::NO_STORE);
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
