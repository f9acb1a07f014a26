//! Server-function calls as anything on the network may send them: any
//! function, any content type, plain form post or hydrated call, any body.
//! They go through the whole router, as the server serves them, on an
//! embedded database of their own. Every answer is a deliberate one: no
//! panic, no 500, no 5xx at all (nothing here is out of order).
#![no_main]

use std::sync::{Arc, LazyLock};

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, header};
use gatehouse::auth::clock::ManualClock;
use gatehouse::auth::throttle::{Limit, ThrottlePolicy};
use gatehouse::auth::password::HashParams;
use gatehouse::config::Settings;
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt as _;

const CONTENT_TYPES: [&str; 5] =
    ["application/x-www-form-urlencoded", "application/json", "text/plain", "multipart/form-data; boundary=x", ""];

const PORT: u16 = 3000;

struct Server {
    runtime: tokio::runtime::Runtime,
    router: Router,
    /// Every server function the app registers, in a fixed order so an
    /// input means the same function from run to run.
    functions: Vec<(&'static str, Method)>,
    _data: tempfile::TempDir,
}

static SERVER: LazyLock<Server> = LazyLock::new(|| {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    // Leptos spawns tasks while the routes are made: on this runtime.
    let inside = runtime.enter();
    let data = tempfile::tempdir().expect("a data directory");
    let site = leptos::config::LeptosOptions::builder().output_name("gatehouse").site_root("public").build();
    let mut settings = Settings::local(data.path().to_owned(), site);
    // Sign-ins are tried by the thousand: hashing stays cheap, and no
    // throttle locks, or most inputs would only meet a 429.
    settings.hash_params = HashParams { memory_kib: 64, iterations: 1, parallelism: 1 };
    let open = Limit { free: u32::MAX / 2, first_lock: 1, max_lock: 1, per_window: u32::MAX / 2 };
    settings.throttle = ThrottlePolicy { account: open, address: open, registration: open, reset: open, passkey: open };
    // A clock that stands still: an input means the same at any time.
    let clock = Arc::new(ManualClock::new(1_800_000_000));
    let state = runtime
        .block_on(gatehouse::startup::build_state(&settings, PORT, clock))
        .expect("the state builds on a fresh data directory");
    let router = gatehouse::startup::router(state);
    let mut functions: Vec<_> = leptos::server_fn::axum::server_fn_paths().collect();
    functions.sort_by_key(|(path, _)| *path);
    assert!(functions.len() > 20, "the server functions are registered");
    drop(inside);
    Server { router, functions, runtime, _data: data }
});

fuzz_target!(|data: &[u8]| {
    let [function, kind, body @ ..] = data else { return };
    let server = &*SERVER;
    let content_type = CONTENT_TYPES[usize::from(*kind) % CONTENT_TYPES.len()];
    let (path, method) = &server.functions[usize::from(*function) % server.functions.len()];
    let mut request = Request::builder()
        .method(method.clone())
        .uri(*path)
        .header(header::ORIGIN, format!("http://localhost:{PORT}"))
        .header(header::HOST, format!("localhost:{PORT}"));
    if !content_type.is_empty() {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    // The high bit: a plain form post, which wants a page back.
    if kind & 0x80 != 0 {
        request = request.header(header::ACCEPT, "text/html,application/xhtml+xml");
    }
    let request = request.body(Body::from(body.to_vec())).expect("a request");
    let response = server.runtime.block_on(server.router.clone().oneshot(request)).expect("the router answers");
    let status = response.status();
    assert!(!status.is_server_error(), "{status} for a body of {} bytes: {:?}", body.len(), String::from_utf8_lossy(body));
});
