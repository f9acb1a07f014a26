//! Server-rendered pages and the server functions behind their forms, with
//! and without JavaScript.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE;
use gatehouse::error::NOT_TEXT;
use serde_json::{Value, json};

use crate::helpers::*;

const PASSWORD: &str = "correct horse battery";

/// Registers `alice` and signs in with a plain form post; returns the cookie.
async fn signed_in_cookie(app: &TestApp) -> String {
    app.register("alice", PASSWORD).await;
    let res = app.form_login("alice", PASSWORD, "").await;
    assert_eq!(res.status(), 302);
    access_cookie(res.headers()).expect("sign-in sets the access cookie")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_without_a_cookie_redirects_to_login_and_sends_no_protected_bytes() {
    let app = spawn_app().await;
    let res = app.page("/dashboard", None).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/login?next=%2Fdashboard");
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body = res.text().await.unwrap();
    assert!(body.is_empty(), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_redirect_keeps_the_query_in_next() {
    let app = spawn_app().await;
    let res = app.page("/dashboard?tab=2", None).await;
    assert_eq!(location(&res), "/login?next=%2Fdashboard%3Ftab%3D2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_without_javascript_sets_a_locked_down_cookie_and_lands_on_the_dashboard() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    let res = app.form_login("alice", PASSWORD, "").await;
    assert_eq!(res.status(), 302);
    assert_eq!(location(&res), "/dashboard");
    assert_eq!(res.headers()["cache-control"], "no-store");
    let line = set_cookie_line(res.headers()).unwrap();
    for flag in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/", "Max-Age=900"] {
        assert!(line.contains(flag), "{flag} missing: {line}");
    }
    assert!(!line.to_ascii_lowercase().contains("domain="), "{line}");
    let cookie = access_cookie(res.headers()).unwrap();
    assert!(!res.text().await.unwrap().contains(&cookie), "the token never appears in a body");

    let res = app.page("/dashboard", Some(&cookie)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let html = res.text().await.unwrap();
    assert!(html.contains("Signed in as <strong>alice</strong>"), "{html}");
    assert!(!html.contains(&cookie), "the token never appears in the page");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_safe_next_is_followed_and_an_unsafe_one_is_not() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    let cases = [
        ("/dashboard?tab=2", "/dashboard?tab=2"),
        ("//evil.example", "/dashboard"),
        ("https://evil.example", "/dashboard"),
        ("/\\evil.example", "/dashboard"),
        ("/%2F%2Fevil.example", "/dashboard"),
        ("javascript:alert(1)", "/dashboard"),
    ];
    for (next, expected) in cases {
        let res = app.form_login("alice", PASSWORD, next).await;
        assert_eq!(location(&res), expected, "next={next}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_no_js_sign_in_goes_back_to_the_form_with_the_message_and_username_once() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    let res = app
        .form_post(
            "/_fn/login",
            &[("username", "alice"), ("password", "wrong password"), ("next", "/dashboard")],
            &app.url("/login?next=%2Fdashboard"),
            None,
        )
        .await;
    assert_eq!(res.status(), 302);
    assert!(access_cookie(res.headers()).is_none());
    assert_eq!(location(&res), "/login?next=%2Fdashboard", "no error in the URL");
    let line = cookie_line(res.headers(), FLASH_COOKIE).unwrap();
    for flag in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/", "Max-Age=60"] {
        assert!(line.contains(flag), "{flag} missing in {line}");
    }

    // The form comes back with the message, the status of the refusal,
    // the username typed in again, focus on the message, and never the
    // password. The flash is cleared as it is shown.
    let res = app.follow(&res, None).await;
    assert_eq!(res.status(), 401);
    assert!(cookie_line(res.headers(), FLASH_COOKIE).unwrap().contains("Max-Age=0"));
    let html = res.text().await.unwrap();
    assert!(html.contains("Bad username or password"), "{html}");
    assert!(html.contains(r#"value="alice""#), "{html}");
    assert!(!html.contains("wrong password"), "{html}");
    assert!(html.contains(r#"id="form-error" role="alert" aria-live="assertive" tabindex="-1" autofocus"#), "{html}");

    // Shown once: the same page again is a fresh form.
    let res = app.page("/login?next=%2Fdashboard", None).await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(!html.contains("Bad username or password") && !html.contains(r#"value="alice""#), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_field_error_shows_beside_its_field_and_takes_the_focus() {
    let app = spawn_app().await;
    let form = [("username", "ab"), ("password", PASSWORD)];
    let res = app.form_post("/_fn/register", &form, &app.url("/register"), None).await;
    assert_eq!(location(&res), "/register");
    let res = app.follow(&res, None).await;
    assert_eq!(res.status(), 400);
    let html = res.text().await.unwrap();
    let input = html.split(r#"<input id="username""#).nth(1).unwrap().split('>').next().unwrap();
    for attr in
        [r#"aria-describedby="username-hint username-error""#, r#"aria-invalid="true""#, "autofocus", r#"value="ab""#]
    {
        assert!(input.contains(attr), "{attr} missing in {input}");
    }
    let error = html.split(r#"data-testid="username-error""#).nth(1).unwrap().split("</p>").next().unwrap();
    assert!(error.contains("at least 3"), "{error}");
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0, "nothing was stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_no_js_sign_in_comes_back_as_a_429_page() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    let mut last = None;
    for _ in 0..12 {
        let form = [("username", "alice"), ("password", "wrong password")];
        last = Some(app.form_post("/_fn/login", &form, &app.url("/login"), None).await);
    }
    let res = app.follow(&last.unwrap(), None).await;
    assert_eq!(res.status(), 429);
    let wait: i64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(wait > 0, "{wait}");
    let html = res.text().await.unwrap();
    assert!(html.contains("Too many attempts. Wait"), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_never_shows_an_error_from_its_url() {
    let app = spawn_app().await;
    // A phisher's link: our error type, their words.
    let forged = json!({ "Invalid": { "field": null, "message": "Account locked: call +1 555 0100" } });
    let err = URL_SAFE.encode(forged.to_string());
    let path = format!("/login?next=%2Fdashboard&__path=%2F_fn%2Flogin&__err={err}");
    let res = app.page(&path, None).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/login?next=%2Fdashboard");
    let res = app.page(&format!("/login?__err={err}"), None).await;
    assert_eq!(location(&res), "/login");
    // A forged flash cookie is just as dead when it is not ours to read.
    let res = app.page_with("/login", &[(FLASH_COOKIE, "garbage")]).await;
    assert_eq!(res.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_site_referer_never_becomes_a_redirect() {
    let app = spawn_app().await;
    for referer in ["https://evil.example/phish", "http://evil.example/", "//evil.example/x"] {
        let res = app
            .form_post(
                "/_fn/login",
                &[("username", "alice"), ("password", "wrong password"), ("next", "")],
                referer,
                None,
            )
            .await;
        assert_eq!(res.status(), 302);
        let loc = location(&res);
        assert!(loc.starts_with('/') && !loc.starts_with("//"), "{referer} -> {loc}");
        assert!(!loc.contains("evil"), "{referer} -> {loc}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hydrated_server_function_errors_carry_their_real_status() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    let res = app.fn_call("/_fn/login", &[("username", "alice"), ("password", "nope nope")], None).await;
    assert_eq!(res.status(), 401);
    assert_eq!(res.json::<Value>().await.unwrap(), json!("BadCredentials"));

    let res = app.fn_call("/_fn/register", &[("username", "x"), ("password", PASSWORD)], None).await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["Invalid"]["field"], "username");

    let res = app.fn_call("/_fn/register", &[("username", "alice"), ("password", PASSWORD)], None).await;
    assert_eq!(res.status(), 409);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_server_function_input_is_a_400_without_internal_text() {
    let app = spawn_app().await;
    let res = app.fn_call("/_fn/login", &[("nonsense", "1")], None).await;
    assert_eq!(res.status(), 400);
    let body = res.text().await.unwrap();
    assert!(body.contains("The form could not be read"), "{body}");
    assert!(!body.to_lowercase().contains("serde") && !body.contains("missing field"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hydrated_sign_in_sets_the_cookie_and_asks_the_client_to_navigate() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    let res =
        app.fn_call("/_fn/login", &[("username", "alice"), ("password", PASSWORD), ("next", "/dashboard")], None).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().contains_key("serverfnredirect"));
    assert_eq!(location(&res), "/dashboard");
    assert!(access_cookie(res.headers()).is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_kills_the_copied_cookie_on_the_server() {
    let app = spawn_app().await;
    let cookie = signed_in_cookie(&app).await;
    let res = app.form_post("/_fn/logout", &[], &app.url("/dashboard"), Some(&cookie)).await;
    assert_eq!(res.status(), 302);
    assert_eq!(location(&res), "/login");
    let line = set_cookie_line(res.headers()).unwrap();
    assert!(line.contains("Max-Age=0"), "{line}");
    assert_eq!(res.headers()["clear-site-data"], r#""cache", "storage""#);
    let html = app.follow(&res, None).await.text().await.unwrap();
    assert!(html.contains("You have been signed out."), "{html}");

    // Replaying the old cookie fails everywhere.
    let res = app.page("/dashboard", Some(&cookie)).await;
    assert_eq!(res.status(), 303);
    assert!(set_cookie_line(res.headers()).unwrap().contains("Max-Age=0"), "a dead cookie is cleared");
    let res = app
        .client
        .get(app.url("/api/protected"))
        .header("cookie", format!("{ACCESS_COOKIE}={cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let res = app.fn_call("/_fn/me", &[], Some(&cookie)).await;
    assert_eq!(res.json::<Value>().await.unwrap(), Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_access_cookie_redirects_to_login() {
    let app = spawn_app().await;
    let cookie = signed_in_cookie(&app).await;
    app.clock.advance(900 + app.state.tokens.leeway);
    let res = app.page("/dashboard", Some(&cookie)).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/login?next=%2Fdashboard");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_or_huge_cookie_redirects_to_login() {
    let app = spawn_app().await;
    let cookie = signed_in_cookie(&app).await;
    let tampered = format!("{}x", cookie);
    // Over the token bound, under the request-head bound (431 above it).
    let huge = "a".repeat(20 * 1024);
    for bad in [tampered.as_str(), huge.as_str(), "", "not-a-jwt"] {
        let res = app.page("/dashboard", Some(bad)).await;
        assert_eq!(res.status(), 303, "{}", &bad[..bad.len().min(16)]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registering_through_the_form_leads_to_sign_in() {
    let app = spawn_app().await;
    let res = app
        .form_post("/_fn/register", &[("username", "bob"), ("password", PASSWORD)], &app.url("/register"), None)
        .await;
    assert_eq!(res.status(), 302);
    assert_eq!(location(&res), "/login");
    let html = app.follow(&res, None).await.text().await.unwrap();
    assert!(html.contains("Your account is ready"), "{html}");
    assert_eq!(app.login("bob", PASSWORD).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_forms_have_labelled_fields_with_the_expected_names() {
    let app = spawn_app().await;
    for path in ["/login", "/register"] {
        let res = app.page(path, None).await;
        assert_eq!(res.status(), 200);
        let html = res.text().await.unwrap();
        for needle in
            [r#"<label for="username""#, r#"name="username""#, r#"<label for="password""#, r#"name="password""#]
        {
            assert!(html.contains(needle), "{path}: {needle}");
        }
        assert!(html.contains(r#"action="/_fn/"#), "{path}: the form posts to a server function");
    }
}

fn header<'a>(res: &'a reqwest::Response, name: &str) -> &'a str {
    res.headers().get(name).map_or("", |v| v.to_str().unwrap())
}

fn assert_base_headers(res: &reqwest::Response, what: &str) {
    assert_eq!(header(res, "x-content-type-options"), "nosniff", "{what}");
    assert_eq!(header(res, "x-frame-options"), "DENY", "{what}");
    assert_eq!(header(res, "referrer-policy"), "strict-origin-when-cross-origin", "{what}");
    assert!(header(res, "permissions-policy").contains("camera=()"), "{what}");
    assert!(!header(res, "x-request-id").is_empty(), "{what}");
    assert!(!res.headers().contains_key("server"), "{what}: no version banner");
    assert!(!res.headers().contains_key("strict-transport-security"), "{what}: plain HTTP gets no HSTS");
}

/// The nonce a page's CSP names, checked against the page's scripts.
async fn page_nonce(res: reqwest::Response, what: &str) -> String {
    assert_base_headers(&res, what);
    assert_eq!(header(&res, "cache-control"), "no-store", "{what}");
    let csp = header(&res, "content-security-policy").to_owned();
    for part in
        ["object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "form-action 'self'", "'wasm-unsafe-eval'"]
    {
        assert!(csp.contains(part), "{what}: {part} in {csp}");
    }
    assert!(!csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'"), "{what}: {csp}");
    let nonce = csp.split("'nonce-").nth(1).and_then(|r| r.split('\'').next()).expect("a nonce").to_owned();
    assert!(nonce.len() >= 22, "{what}: at least 128 bits");
    let html = res.text().await.unwrap();
    let scripts = html.matches("<script").count();
    assert!(scripts > 0, "{what}");
    assert_eq!(html.matches(&format!("nonce=\"{nonce}\"")).count(), scripts, "{what}: every inline script is allowed");
    nonce
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_response_carries_the_security_headers() {
    let app = spawn_app().await;
    let (root, _) = app.admin("root").await;
    let user = app.signed_in("alice").await;

    // Pages: public, not found, signed in, and refused for the wrong role.
    let mut nonces = Vec::new();
    for path in ["/", "/login", "/register", "/no-such-page"] {
        nonces.push(page_nonce(app.page(path, None).await, path).await);
    }
    for (path, token, status) in [("/dashboard", &user, 200), ("/sessions", &user, 200), ("/admin", &user, 403)] {
        let res = app.page(path, Some(token)).await;
        assert_eq!(res.status(), status, "{path}");
        nonces.push(page_nonce(res, path).await);
    }
    let mut unique = nonces.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), nonces.len(), "a fresh nonce for every response");

    // Everything else: JSON, server functions, redirects, files, refusals.
    let responses = [
        ("api", app.protected_with_bearer(&user).await),
        ("api error", app.protected_with_bearer("nonsense").await),
        ("admin api", app.call(reqwest::Method::GET, "/api/admin/users", &root, &serde_json::Value::Null).await),
        ("server function", app.fn_call("/_fn/me", &[], None).await),
        ("redirect", app.page("/dashboard", None).await),
        ("file", app.client.get(app.url("/favicon.svg")).send().await.unwrap()),
        ("method", app.client.request(reqwest::Method::TRACE, app.url("/")).send().await.unwrap()),
    ];
    for (what, res) in &responses {
        assert_base_headers(res, what);
        assert!(header(res, "content-security-policy").starts_with("default-src 'none'"), "{what}");
    }
    for (what, res) in &responses[..5] {
        assert_eq!(header(res, "cache-control"), "no-store", "{what}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_page_is_a_real_404() {
    let app = spawn_app().await;
    let res = app.page("/no-such-page", None).await;
    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("Page not found"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sessions_page_is_guarded_and_lists_this_device_first() {
    let app = spawn_app().await;
    let res = app.page("/sessions", None).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/login?next=%2Fsessions");

    let cookie = signed_in_cookie(&app).await;
    app.login("alice", PASSWORD).await;
    let res = app.page("/sessions", Some(&cookie)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let html = res.text().await.unwrap();
    assert_eq!(html.matches(r#"data-testid="session""#).count(), 2, "{html}");
    let this_device = html.find("This device").unwrap();
    let end_button = html.find(r#"data-testid="end-session""#).unwrap();
    assert!(this_device < end_button, "the current session comes first");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_page_and_file_loads_complete_each_with_its_own_policy() {
    let app = spawn_app().await;
    // Pages and the files they load, all at once, as browsers send them: a
    // file's answer must never take a page's headers (a page without its
    // own nonce in its policy cannot hydrate).
    let paths = ["/login", "/favicon.svg", "/", "/favicon.svg", "/no-such-page"];
    let loads: Vec<_> = (0..300).map(|i| app.page(paths[i % paths.len()], None)).collect();
    let mut pages = 0;
    for (i, res) in join_all(loads).await.into_iter().enumerate() {
        let (path, what) = (paths[i % paths.len()], format!("load {i}"));
        assert_eq!(res.status(), if path == "/no-such-page" { 404 } else { 200 }, "{what}: {path}");
        if path == "/favicon.svg" {
            assert_eq!(header(&res, "content-type"), "image/svg+xml", "{what}");
            assert!(header(&res, "content-security-policy").starts_with("default-src 'none'"), "{what}");
        } else {
            page_nonce(res, &what).await;
            pages += 1;
        }
    }
    assert_eq!(pages, 180);
}

/// The cause of the stalls that once kept this suite to one test at a
/// time: making a route list switches resource loading off process-wide
/// (see `gatehouse::app::route_list`), so a page rendering while any other
/// app in the process started never finished.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_keep_rendering_while_other_apps_start_in_the_same_process() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    /// Stops the other apps' starts however the loads end, even in a panic.
    struct Stop(Arc<AtomicBool>);
    impl Drop for Stop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    let app = spawn_app().await;
    let cookie = signed_in_cookie(&app).await;
    let stop = Stop(Arc::default());
    let (state, stopped) = (app.state.clone(), stop.0.clone());
    let starting = tokio::task::spawn_blocking(move || {
        let mut started = 0;
        while !stopped.load(Ordering::Relaxed) {
            drop(gatehouse::startup::router(state.clone()));
            started += 1;
            // Often enough to overlap the renders, not a core's worth.
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        started
    });
    for round in 0..20 {
        let loads: Vec<_> = (0..10).map(|_| app.page("/dashboard", Some(&cookie))).collect();
        for res in join_all(loads).await {
            assert_eq!(res.status(), 200, "round {round}");
            assert!(res.text().await.unwrap().contains("Signed in as"), "round {round}");
        }
    }
    drop(stop);
    assert!(starting.await.unwrap() > 0, "other apps started during the loads");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_path_is_the_404_page_for_reads_and_posts() {
    let app = spawn_app().await;
    for method in [reqwest::Method::GET, reqwest::Method::HEAD, reqwest::Method::POST] {
        let res = app.client.request(method.clone(), app.url("/no-such-page")).send().await.unwrap();
        assert_eq!(res.status(), 404, "{method}");
        let body = res.text().await.unwrap();
        assert!(method == reqwest::Method::HEAD || body.contains("Page not found"), "{method}");
    }
    // No way out of the site's files.
    for path in ["/../Cargo.toml", "/%2e%2e/Cargo.toml", "/pkg/../../Cargo.toml"] {
        let res = app.page(path, None).await;
        assert!(matches!(res.status().as_u16(), 400 | 404), "{path}: {}", res.status());
        assert!(!res.text().await.unwrap().contains("[package]"), "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_connect_and_made_up_methods_are_refused_everywhere() {
    let app = spawn_app().await;
    for (method, path) in [
        ("TRACE", "/"),
        ("TRACE", "/login"),
        ("PATCH", "/dashboard"),
        ("FOO", "/_fn/login"),
        ("TRACE", "/api/protected"),
    ] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let res = app.client.request(method.clone(), app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 405, "{method} {path}");
        assert_eq!(res.headers()["allow"], "GET, HEAD, POST, DELETE, OPTIONS");
        let body = res.text().await.unwrap();
        assert!(body.contains("Method not allowed") && !body.contains("TRACE"), "{method} {path}: nothing echoed");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_sessions_the_previous_sign_in_and_recent_events() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    let refused = app
        .form_post("/_fn/login", &[("username", "alice"), ("password", "a wrong guess")], &app.url("/login"), None)
        .await;
    assert_eq!(refused.status(), 302);
    assert_eq!(app.login("alice", PASSWORD).await.status(), 200);
    app.clock.advance(60);
    let cookie = access_cookie(app.form_login("alice", PASSWORD, "").await.headers()).unwrap();

    let res = app.page("/dashboard", Some(&cookie)).await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    let tile = |id: &str| {
        html.split(&format!(r#"data-testid="{id}""#)).nth(1).unwrap().split("</section>").next().unwrap().to_owned()
    };
    assert!(tile("tile-sessions").contains("2 active sessions"), "{html}");
    assert!(tile("tile-sessions").contains("1 other device is signed in."), "{html}");
    let previous = tile("tile-last-sign-in");
    let earlier = gatehouse::domain::format_utc(app.clock_now() - 60);
    assert!(previous.contains(&earlier), "the API sign-in a minute ago: {previous}");
    let events = tile("recent-events");
    // Newest first: each is found after the one before it.
    let mut rest = events.as_str();
    for word in ["Sign-in", "Sign-in", "Refused", "Account created"] {
        let at = rest.find(word).unwrap_or_else(|| panic!("{word} missing or out of order: {events}"));
        rest = &rest[at + word.len()..];
    }
    assert!(!events.contains("Token refresh"), "{events}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_previous_sign_in_is_found_behind_a_flood_of_refused_guesses() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    assert_eq!(app.login("alice", PASSWORD).await.status(), 200);
    // More refused guesses than the dashboard's first read looks at,
    // waiting out each lock, then this session's sign-in.
    for _ in 0..5 {
        app.clock.advance(3600);
        for _ in 0..5 {
            assert_eq!(app.login("alice", "a wrong guess").await.status(), 401);
        }
    }
    app.clock.advance(60);
    let cookie = access_cookie(app.form_login("alice", PASSWORD, "").await.headers()).unwrap();
    let html = app.page("/dashboard", Some(&cookie)).await.text().await.unwrap();
    let previous = html.split(r#"data-testid="tile-last-sign-in""#).nth(1).unwrap().split("</section>").next().unwrap();
    let earlier = gatehouse::domain::format_utc(app.clock_now() - 5 * 3600 - 60);
    assert!(previous.contains(&earlier), "the API sign-in before the flood: {previous}");
    let events = html.split(r#"data-testid="recent-events""#).nth(1).unwrap();
    assert_eq!(events.matches(r#"data-testid="event""#).count(), 6, "{events}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_fails_on_our_side_is_a_500_with_a_reference_and_no_internals() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    let cookie = access_cookie(app.form_login("alice", PASSWORD, "").await.headers()).unwrap();
    sqlx::query("DROP TABLE audit_events").execute(app.state.db.pool()).await.unwrap();

    let res = app.page("/dashboard", Some(&cookie)).await;
    assert_eq!(res.status(), 500);
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    let html = res.text().await.unwrap();
    assert!(html.contains("Something went wrong"), "{html}");
    assert!(html.contains(&format!(r#"<code data-testid="request-id">{id}</code>"#)), "{id}: {html}");
    for internal in ["audit_events", "no such table", "does not exist", "sqlx"] {
        assert!(!html.contains(internal), "{internal} leaked: {html}");
    }
    // The header still knows who is signed in, and the same through the
    // server function says the same reference.
    assert!(html.contains(r#"data-testid="header-user""#), "{html}");
    let res = app.fn_call("/_fn/overview", &[], Some(&cookie)).await;
    assert_eq!(res.status(), 500);
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(res.json::<Value>().await.unwrap(), json!({ "Internal": { "reference": id } }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_is_not_text_is_a_400_that_says_so_on_every_path() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    let raw = b"username=alice&password=\xff\xfe".to_vec();
    let functions = ["login", "register", "logout", "second-step", "passkey-sign-in"];
    let content_types = ["application/x-www-form-urlencoded", "text/plain", "application/json"];
    for (function, content_type) in functions.iter().flat_map(|f| content_types.map(|c| (f, c))) {
        let res = app
            .client
            .post(app.url(&format!("/_fn/{function}")))
            .header("accept", "application/json")
            .header("origin", &app.base)
            .header("content-type", content_type)
            .body(raw.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{function} {content_type}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["Invalid"]["message"], NOT_TEXT, "{function} {content_type}");
    }

    // Without JavaScript: back to the page, which shows the message.
    let res = app
        .client
        .post(app.url("/_fn/login"))
        .header("accept", "text/html,application/xhtml+xml")
        .header("origin", &app.base)
        .header("referer", app.url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(raw)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    assert!(location(&res).starts_with("/login"), "{}", location(&res));
    assert!(access_cookie(res.headers()).is_none());
    let page = app.follow(&res, None).await;
    assert_eq!(page.status(), 400, "the page carries the refusal's status");
    let html = page.text().await.unwrap();
    assert!(html.contains(NOT_TEXT), "{html}");
}
