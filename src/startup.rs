//! Builds the application from settings and serves it. Binds its own
//! listener, so tests start it on port 0 and read the port back.

use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, Request};
use axum::middleware::{from_fn, from_fn_with_state};
use axum_server::tls_rustls::RustlsConfig;
use leptos::prelude::{IntoView, provide_context};
use leptos_axum::LeptosRoutes;
use tokio::net::TcpListener;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::app::shell;
use crate::auth::clock::Clock;
use crate::auth::hasher::Hasher;
use crate::config::Settings;
use crate::db::{self, Db, Engine};
use crate::state::{AppState, Shared};
use crate::web::guard;
use crate::web::{boundary, middleware, tls};
use crate::{api, keystore};

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("could not prepare the data directory {0}")]
    DataDir(String, #[source] std::io::Error),
    #[error(transparent)]
    Database(#[from] db::ConnectError),
    #[error(transparent)]
    Keys(#[from] keystore::KeystoreError),
    #[error("could not start password hashing")]
    Hashing(#[from] crate::auth::hasher::HasherError),
    #[error("could not listen on {0}")]
    Bind(SocketAddr, #[source] std::io::Error),
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
}

/// A request's head (request line and headers) may be at most this big;
/// hyper answers a bigger one with 431 before anything here runs.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
/// And have at most this many header lines.
pub const MAX_HEADERS: usize = 64;

/// A built application with a bound listener, ready to serve.
pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    tls: Option<RustlsConfig>,
    /// With TLS: a plain-HTTP listener that redirects to this HTTPS origin.
    redirect: Option<(TcpListener, String)>,
}

impl Application {
    /// Opens the database (migrating it), loads or creates the signing key,
    /// builds the router and binds the listener.
    ///
    /// # Errors
    /// [`StartupError`] saying which step failed.
    pub async fn build(settings: Settings, clock: Arc<dyn Clock>) -> Result<Self, StartupError> {
        let listener =
            TcpListener::bind(settings.listen_addr).await.map_err(|e| StartupError::Bind(settings.listen_addr, e))?;
        let port = listener.local_addr().map_err(|e| StartupError::Bind(settings.listen_addr, e))?.port();
        let state = build_state(&settings, port, clock).await?;
        let tls = tls::config(&settings.tls, &settings.data_dir).await?;
        let redirect = match settings.http_redirect_addr {
            Some(addr) if tls.is_some() => {
                let listener = TcpListener::bind(addr).await.map_err(|e| StartupError::Bind(addr, e))?;
                let origin = settings.public_origin.clone().unwrap_or_else(|| format!("https://localhost:{port}"));
                Some((listener, origin))
            }
            _ => None,
        };
        Ok(Self { listener, router: router(state.clone()), state, tls, redirect })
    }

    /// The shared state, for tests that inspect what was stored.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// The address of the plain-HTTP redirect listener, when there is one.
    pub fn redirect_addr(&self) -> Option<SocketAddr> {
        self.redirect.as_ref().and_then(|(l, _)| l.local_addr().ok())
    }

    /// Serves (over TLS when configured, with the HTTP redirect beside
    /// it) until Ctrl-C or SIGTERM, then drains in-flight requests.
    ///
    /// # Errors
    /// When the server fails while running.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let addr = self.local_addr();
        // Where people open it: passkeys need its domain name, not an IP.
        let open = self.state.passkeys.as_ref().and_then(|rp| rp.get_allowed_origins().first().cloned());
        let open = open.map_or_else(|| "its public address".to_owned(), |url| url.to_string());
        tokio::spawn(purge(self.state.clone()));
        tokio::spawn(keystore::keep_reloading(Arc::clone(&self.state.keys), self.state.db.clone()));
        let handle = axum_server::Handle::new();
        tokio::spawn(stop_on_signal(handle.clone()));
        if let Some((listener, origin)) = self.redirect {
            let from = listener.local_addr()?;
            let mut server = axum_server::from_tcp(listener.into_std()?)?.handle(handle.clone());
            limit_headers(&mut server);
            tracing::info!(addr = %from, to = %origin, "redirecting plain HTTP to HTTPS");
            tokio::spawn(server.serve(tls::redirect_router(origin).into_make_service()));
        }
        let app = self.router.into_make_service_with_connect_info::<SocketAddr>();
        let listener = self.listener.into_std()?;
        if let Some(config) = self.tls {
            tracing::info!(%addr, %open, "gatehouse is listening (HTTPS)");
            let mut server = axum_server::from_tcp_rustls(listener, config)?.handle(handle);
            limit_headers(&mut server);
            server.serve(app).await
        } else {
            tracing::info!(%addr, %open, "gatehouse is listening");
            let mut server = axum_server::from_tcp(listener)?.handle(handle);
            limit_headers(&mut server);
            server.serve(app).await
        }
    }
}

/// Bounds what one request's head may hold, on HTTP/1 and HTTP/2.
fn limit_headers<A>(server: &mut axum_server::Server<SocketAddr, A>) {
    let builder = server.http_builder();
    builder.http1().max_buf_size(MAX_HEADER_BYTES).max_headers(MAX_HEADERS);
    builder.http2().max_header_list_size(u32::try_from(MAX_HEADER_BYTES).unwrap_or(u32::MAX));
}

/// Password checks allowed to wait per hashing thread. A waiting check
/// holds a few kilobytes (Argon2's memory belongs to the threads), so the
/// bound is about waiting time: at OWASP costs a thread does about 60 a
/// second, so a full queue drains in about four seconds; beyond it sign-in
/// answers 503 with `Retry-After` at once.
pub const HASH_QUEUE_PER_THREAD: usize = 256;

/// Opens the database (migrating it), loads or creates the signing key and
/// assembles the shared state for a server on `port` (or for the command
/// line, which serves nothing).
///
/// # Errors
/// [`StartupError`] saying which step failed.
pub async fn build_state(settings: &Settings, port: u16, clock: Arc<dyn Clock>) -> Result<AppState, StartupError> {
    if Engine::of(&settings.database_url) == Some(Engine::Sqlite) {
        prepare_data_dir(&settings.data_dir)?;
    }
    let db = Db::connect(&settings.database_url, settings.database_pool).await?;
    let keys = keystore::load(settings, &db, clock.now()).await?;
    let hasher = Hasher::new(
        settings.hash_params,
        settings.hash_concurrency,
        settings.hash_concurrency * HASH_QUEUE_PER_THREAD,
    )?;
    let origins = match &settings.public_origin {
        Some(origin) => vec![origin.clone()],
        None => {
            let scheme = if settings.tls == crate::config::Tls::Off { "http" } else { "https" };
            crate::config::origins::loopback_origins(scheme, port)
        }
    };
    let scheme = if settings.tls == crate::config::Tls::Off { "http" } else { "https" };
    let passkeys = match crate::auth::passkey::relying_party(settings.public_origin.as_deref(), scheme, port) {
        Ok(rp) => Some(Arc::new(rp)),
        Err(e) => {
            tracing::warn!("{e}");
            None
        }
    };
    Ok(AppState::new(Shared {
        db,
        keys: Arc::new(keys),
        tokens: settings.tokens.clone(),
        refresh: settings.refresh,
        accounts: settings.accounts,
        origins,
        throttle: settings.throttle,
        proxies: settings.trusted_proxies.clone(),
        tls: settings.tls != crate::config::Tls::Off,
        hasher,
        turns: Arc::default(),
        passkeys,
        clock,
        leptos: settings.site.clone(),
    }))
}

/// The whole HTTP surface.
pub fn router(state: AppState) -> Router {
    let routes = crate::app::route_list();
    // A whole page: the HTML shell around the app.
    let page = {
        let options = state.leptos.clone();
        move || shell(options.clone())
    };
    let request_id = HeaderName::from_static(crate::error::REQUEST_ID);
    let (api, api_doc) = api::router();
    let openapi = api::openapi(api_doc).to_json().unwrap_or_default();
    Router::new()
        .nest("/api", api)
        .route(
            "/api/openapi.json",
            axum::routing::get(
                move || async move { ([(axum::http::header::CONTENT_TYPE, "application/json")], openapi) },
            ),
        )
        .route("/.well-known/jwks.json", axum::routing::get(api::jwks))
        .route("/health/live", axum::routing::get(crate::web::health::live))
        .route("/health/ready", axum::routing::get(crate::web::health::ready))
        .leptos_routes_with_context(&state, routes, app_context(&state), page.clone())
        .fallback_service(static_files(&state, page))
        .layer(from_fn_with_state(state.clone(), guard::protect_pages))
        .layer(from_fn_with_state(state.clone(), middleware::refuse_cross_site))
        .layer(from_fn_with_state(state.clone(), boundary::server_fn_boundary))
        .layer(from_fn(middleware::limit_body))
        .layer(from_fn(middleware::refuse_unknown_methods))
        .layer(from_fn(middleware::security_headers))
        .layer(from_fn_with_state(state.clone(), middleware::resolve_client))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req.headers().get(crate::error::REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}

/// What every page render and server function is given besides the request.
fn app_context(state: &AppState) -> impl Fn() + Clone + Send + Sync + 'static {
    let state = state.clone();
    move || provide_context(state.clone())
}

/// The site's files (`/pkg/…`, the favicon), precompressed where a build
/// made it so; any other path is the app's own 404 page, rendered as `page`.
///
/// Not leptos_axum's `file_and_error_handler`: it answers each file inside
/// a reactive owner whose parent is whatever owner the worker thread last
/// had, and takes that owner's response headers for the file. Under load
/// a page rendering at the same moment lost its Content-Security-Policy to
/// a stylesheet that way, and could not hydrate.
fn static_files<V: IntoView + 'static>(
    state: &AppState,
    page: impl Fn() -> V + Clone + Send + Sync + 'static,
) -> axum::routing::MethodRouter {
    use axum::handler::HandlerWithoutStateExt as _;
    // Rendered whole before it is sent, as the pages are (`SsrMode::Async`):
    // the 404 page, or the 403 page in its place, must read without JavaScript.
    let not_found = leptos_axum::render_app_async_with_context(app_context(state), page);
    let files = tower_http::services::ServeDir::new(state.leptos.site_root.as_ref())
        .precompressed_br()
        .precompressed_gzip()
        .call_fallback_on_method_not_allowed(true)
        .fallback(not_found.into_service());
    axum::routing::any_service(files)
}

fn prepare_data_dir(dir: &std::path::Path) -> Result<(), StartupError> {
    let err = |e| StartupError::DataDir(dir.display().to_string(), e);
    std::fs::create_dir_all(dir).map_err(err)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(err)
}

/// Every few minutes deletes sessions past their idle or absolute limit
/// (and with them their refresh-token history) and audit events past
/// their retention, so the tables stay bounded.
async fn purge(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(300));
    loop {
        tick.tick().await;
        let now = state.clock.now();
        let p = state.refresh;
        let purged = [
            ("expired sessions", db::sessions::purge(&state.db, now - p.absolute_ttl, now - p.idle_ttl).await),
            ("old audit events", db::audit::purge(&state.db, now - state.accounts.audit_retention).await),
            ("ended throttle counts", db::throttles::purge(&state.db, now).await),
        ];
        for (what, result) in purged {
            match result {
                Ok(0) => {}
                Ok(n) => tracing::info!(purged = n, what, "purged"),
                Err(e) => tracing::warn!(error = %e, what, "could not purge"),
            }
        }
    }
}

/// On Ctrl-C or SIGTERM: stop accepting, give requests in flight 30
/// seconds to finish.
async fn stop_on_signal(handle: axum_server::Handle<SocketAddr>) {
    shutdown_signal().await;
    handle.graceful_shutdown(Some(Duration::from_secs(30)));
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { () = ctrl_c => {}, () = terminate => {} }
    tracing::info!("shutting down, draining requests");
}
