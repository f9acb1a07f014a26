//! Spawns the real application on a random port with a fresh database
//! (SQLite by default, PostgreSQL when `GATEHOUSE_TEST_DB=postgres`) and an
//! injected clock, and talks to it over HTTP.

use std::sync::Arc;

use gatehouse::auth::clock::{Clock, ManualClock};
use gatehouse::auth::password::HashParams;
use gatehouse::config::Settings;
use gatehouse::startup::Application;
use gatehouse::state::AppState;
use leptos::config::LeptosOptions;
use reqwest::header::{HeaderMap, HeaderValue, SET_COOKIE};
use reqwest::{Client, Response, redirect};
use serde_json::{Value, json};

pub const ACCESS_COOKIE: &str = "__Host-gatehouse-access";
pub const REFRESH_COOKIE: &str = "__Host-gatehouse-refresh";
pub const FLASH_COOKIE: &str = "__Host-gatehouse-flash";
pub const START: i64 = 1_900_000_000;

pub struct TestApp {
    pub base: String,
    pub redirect_addr: Option<std::net::SocketAddr>,
    pub client: Client,
    pub clock: Arc<ManualClock>,
    pub state: AppState,
    pub settings: Settings,
    pub data_dir: Arc<tempfile::TempDir>,
}

/// Options that differ between tests.
pub struct Options {
    pub hash_params: HashParams,
    pub tls: gatehouse::config::Tls,
    /// With TLS: also listen for plain HTTP (on a free port) to redirect.
    pub http_redirect: bool,
    pub jwt_algorithm: gatehouse::auth::keys::KeyAlgorithm,
    pub public_origin: Option<String>,
    pub trusted_proxies: gatehouse::config::proxies::TrustedProxies,
    /// Rewrites the database URL before start (e.g. to go through a relay).
    pub database_url: Option<fn(&str) -> String>,
    /// Who must have a second factor.
    pub require_mfa: gatehouse::auth::policy::SecondFactorPolicy,
    /// Any other setting, changed last.
    pub configure: fn(&mut Settings),
}

impl Default for Options {
    fn default() -> Self {
        // Cheap hashing keeps the suite fast; one test covers the default.
        Self {
            hash_params: HashParams { memory_kib: 1024, iterations: 1, parallelism: 1 },
            public_origin: None,
            trusted_proxies: Default::default(),
            tls: gatehouse::config::Tls::Off,
            http_redirect: false,
            jwt_algorithm: gatehouse::auth::keys::KeyAlgorithm::Hs256,
            database_url: None,
            require_mfa: Default::default(),
            configure: |_| {},
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub async fn spawn_app_with(options: Options) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    // Static files from `public/`: a clean checkout has no built site yet.
    let site = LeptosOptions::builder().output_name("gatehouse").site_root("public").build();
    let mut settings = Settings::local(data_dir.path().to_owned(), site);
    settings.listen_addr = "127.0.0.1:0".parse().unwrap();
    settings.hash_params = options.hash_params;
    settings.public_origin = options.public_origin;
    settings.trusted_proxies = options.trusted_proxies;
    settings.jwt_algorithm = options.jwt_algorithm;
    settings.accounts.second_factor = options.require_mfa;
    let https = options.tls != gatehouse::config::Tls::Off;
    settings.tls = options.tls;
    settings.http_redirect_addr = options.http_redirect.then(|| "127.0.0.1:0".parse().unwrap());
    // The test client speaks TLS with the same cryptography as the server.
    let _ = rustls::crypto::ring::default_provider().install_default();
    if let Some(url) = postgres_database().await {
        settings.database_url = url;
    }
    if let Some(rewrite) = options.database_url {
        settings.database_url = rewrite(&settings.database_url);
    }
    (options.configure)(&mut settings);
    start(settings, Arc::new(ManualClock::new(START)), Arc::new(data_dir), https).await
}

async fn start(settings: Settings, clock: Arc<ManualClock>, data_dir: Arc<tempfile::TempDir>, https: bool) -> TestApp {
    let app = Application::build(settings.clone(), clock.clone() as Arc<dyn Clock>).await.expect("app builds");
    let addr = app.local_addr();
    let redirect_addr = app.redirect_addr();
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        base: format!("{}://{addr}", if https { "https" } else { "http" }),
        redirect_addr,
        client: Client::builder()
            .redirect(redirect::Policy::none())
            // The self-signed certificate of a local TLS run.
            .danger_accept_invalid_certs(https)
            .timeout(std::time::Duration::from_secs(15))
            .build()
            .unwrap(),
        clock,
        state,
        settings,
        data_dir,
    }
}

/// A fresh database on the PostgreSQL server named by
/// `GATEHOUSE_TEST_POSTGRES_URL`, when the suite runs against PostgreSQL.
pub async fn postgres_database() -> Option<String> {
    if std::env::var("GATEHOUSE_TEST_DB").ok().as_deref() != Some("postgres") {
        return None;
    }
    let admin = std::env::var("GATEHOUSE_TEST_POSTGRES_URL")
        .expect("GATEHOUSE_TEST_DB=postgres needs GATEHOUSE_TEST_POSTGRES_URL (scripts/test.sh sets both)");
    sqlx::any::install_default_drivers();
    let name = format!("gatehouse_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn =
        <sqlx::AnyConnection as sqlx::Connection>::connect(&admin).await.expect("connect to test PostgreSQL");
    sqlx::Executor::execute(&mut conn, sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .expect("create test database");
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    Some(format!("{base}/{name}"))
}

impl TestApp {
    /// Another instance of the same deployment: the same database, master
    /// key and clock, its own port and memory (as behind a load balancer).
    pub async fn second_instance(&self) -> TestApp {
        let https = self.base.starts_with("https");
        start(self.settings.clone(), self.clock.clone(), self.data_dir.clone(), https).await
    }

    pub fn clock_now(&self) -> i64 {
        self.clock.now()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client.post(self.url(path)).json(body).send().await.unwrap()
    }

    pub async fn register(&self, username: &str, password: &str) -> Response {
        self.post_json("/api/register", &json!({ "username": username, "password": password })).await
    }

    pub async fn login(&self, username: &str, password: &str) -> Response {
        self.post_json("/api/login", &json!({ "username": username, "password": password })).await
    }

    /// Registers `username` and signs in through the API; returns the
    /// access token.
    pub async fn signed_in(&self, username: &str) -> String {
        self.signed_in_pair(username).await.0
    }

    /// Registers `username` and signs in; returns (access, refresh).
    pub async fn signed_in_pair(&self, username: &str) -> (String, String) {
        assert_eq!(self.register(username, "correct horse battery").await.status(), 201);
        self.login_pair(username).await
    }

    /// Signs in again (a new session); returns (access, refresh).
    pub async fn login_pair(&self, username: &str) -> (String, String) {
        let res = self.login(username, "correct horse battery").await;
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        (body["access_token"].as_str().unwrap().to_owned(), body["refresh_token"].as_str().unwrap().to_owned())
    }

    pub async fn refresh(&self, refresh_token: &str) -> Response {
        self.client.post(self.url("/api/refresh")).bearer_auth(refresh_token).send().await.unwrap()
    }

    /// A page load with any set of cookies.
    pub async fn page_with(&self, path: &str, cookies: &[(&str, &str)]) -> Response {
        let header = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        self.client.get(self.url(path)).header("accept", "text/html").header("cookie", header).send().await.unwrap()
    }

    pub async fn protected_with_bearer(&self, token: &str) -> Response {
        self.client.get(self.url("/api/protected")).bearer_auth(token).send().await.unwrap()
    }

    /// A page load as a browser makes it, optionally with the access cookie.
    pub async fn page(&self, path: &str, cookie: Option<&str>) -> Response {
        let mut req = self.client.get(self.url(path)).header("accept", "text/html");
        if let Some(c) = cookie {
            req = req.header("cookie", format!("{ACCESS_COOKIE}={c}"));
        }
        req.send().await.unwrap()
    }

    /// Follows `res`'s redirect as a browser would: with the flash cookie
    /// it set, and `session` (an access token) if given.
    pub async fn follow(&self, res: &Response, session: Option<&str>) -> Response {
        let flash = flash_cookie(res.headers()).expect("the redirect leaves a flash");
        let mut cookies = vec![(FLASH_COOKIE, flash.as_str())];
        cookies.extend(session.map(|s| (ACCESS_COOKIE, s)));
        self.page_with(&location(res), &cookies).await
    }

    /// A plain HTML form post (the no-JS path) to `path`, before the
    /// headers that say where it came from.
    pub fn plain_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::RequestBuilder {
        self.client.post(self.url(path)).header("accept", "text/html,application/xhtml+xml").form(form)
    }

    /// A plain HTML form post to a server function from our page `referer`.
    pub async fn form_post(&self, path: &str, form: &[(&str, &str)], referer: &str, cookie: Option<&str>) -> Response {
        let mut req = self.plain_form(path, form).header("origin", &self.base).header("referer", referer);
        if let Some(c) = cookie {
            req = req.header("cookie", format!("{ACCESS_COOKIE}={c}"));
        }
        req.send().await.unwrap()
    }

    /// A plain form post as a browser sends it from a page with
    /// `Referrer-Policy: no-referrer`: a hidden origin, no `Referer`, and
    /// the browser's own word that it is same-origin.
    pub async fn form_post_from_hidden_page(&self, path: &str, form: &[(&str, &str)]) -> Response {
        let req = self.plain_form(path, form).header("origin", "null").header("sec-fetch-site", "same-origin");
        req.send().await.unwrap()
    }

    /// Signs in with a plain form post to the login server function.
    pub async fn form_login(&self, username: &str, password: &str, next: &str) -> Response {
        let form = [("username", username), ("password", password), ("next", next)];
        self.form_post("/_fn/login", &form, &self.url("/login"), None).await
    }

    /// A server function call as the hydrated app makes it.
    pub async fn fn_call(&self, path: &str, form: &[(&str, &str)], cookie: Option<&str>) -> Response {
        let mut req = self
            .client
            .post(self.url(path))
            .header("accept", "application/json")
            .header("origin", &self.base)
            .form(form);
        if let Some(c) = cookie {
            req = req.header("cookie", format!("{ACCESS_COOKIE}={c}"));
        }
        req.send().await.unwrap()
    }

    /// Creates an administrator (as the command line does) and signs them
    /// in; returns (access, user id).
    pub async fn admin(&self, username: &str) -> (String, String) {
        let cli = gatehouse::auth::caller::Client::command_line();
        let role = gatehouse::domain::Role::Admin;
        gatehouse::accounts::register(&self.state, username, "correct horse battery", role, &cli).await.unwrap();
        (self.login_pair(username).await.0, self.user_id(username).await)
    }

    pub async fn user_id(&self, username: &str) -> String {
        use sqlx::Row;
        sqlx::query("SELECT id FROM users WHERE username = $1")
            .bind(username)
            .fetch_one(self.state.db.pool())
            .await
            .unwrap()
            .get(0)
    }

    /// A JSON API call with a Bearer token (`body` is sent when not null).
    pub async fn call(&self, method: reqwest::Method, path: &str, token: &str, body: &Value) -> Response {
        let mut req = self.client.request(method, self.url(path)).bearer_auth(token);
        if !body.is_null() {
            req = req.json(body);
        }
        req.send().await.unwrap()
    }

    pub async fn count_text(&self, sql: &'static str) -> String {
        use sqlx::Row;
        sqlx::query(sql).fetch_one(self.state.db.pool()).await.unwrap().get::<String, _>(0)
    }

    pub async fn count(&self, sql: &'static str) -> i64 {
        use sqlx::Row;
        sqlx::query(sql).fetch_one(self.state.db.pool()).await.unwrap().get::<i64, _>(0)
    }
}

/// The value of the access cookie set by `headers`, if any.
pub fn access_cookie(headers: &HeaderMap) -> Option<String> {
    cookie_value(headers, ACCESS_COOKIE)
}

/// The value of the refresh cookie set by `headers`, if any.
pub fn refresh_cookie(headers: &HeaderMap) -> Option<String> {
    cookie_value(headers, REFRESH_COOKIE)
}

/// The value of the cookie `name` set by `headers`, unless it was cleared.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    cookie_line(headers, name).and_then(|line| {
        let value = line.split(';').next()?.split_once('=')?.1;
        (!value.is_empty()).then(|| value.to_owned())
    })
}

/// The whole `Set-Cookie` line for the access cookie, if any.
pub fn set_cookie_line(headers: &HeaderMap) -> Option<String> {
    cookie_line(headers, ACCESS_COOKIE)
}

/// The flash cookie's value a response set, unless it cleared it.
pub fn flash_cookie(headers: &HeaderMap) -> Option<String> {
    let line = cookie_line(headers, FLASH_COOKIE)?;
    let value = line[FLASH_COOKIE.len() + 1..].split(';').next()?;
    (!value.is_empty()).then(|| value.to_owned())
}

pub fn cookie_line(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v: &HeaderValue| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

pub fn location(res: &Response) -> String {
    res.headers().get("location").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

/// Polls all `futures` concurrently on this task; results in order.
pub async fn join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = (0..pinned.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, slot) in pinned.iter_mut().zip(out.iter_mut()) {
            if slot.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *slot = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending { std::task::Poll::Pending } else { std::task::Poll::Ready(()) }
    })
    .await;
    out.into_iter().flatten().collect()
}

/// Whether the tests run as root (PostgreSQL then runs as `postgres`, and
/// mounting needs no user namespace).
pub fn running_as_root() -> bool {
    std::process::Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}
