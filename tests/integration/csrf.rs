//! Cross-site requests: a foreign page can make a victim's browser post
//! forms, but it cannot make it lie about where the form came from.

use serde_json::{Value, json};

use crate::helpers::*;

const PASSWORD: &str = "correct horse battery";

/// A server-function form post with exactly the given extra headers.
async fn raw_post(app: &TestApp, path: &str, headers: &[(&str, String)], form: &[(&str, &str)]) -> reqwest::Response {
    let mut req = app.plain_form(path, form);
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    req.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_posted_from_another_site_is_refused_and_signs_no_one_in() {
    let app = spawn_app().await;
    app.register("mallory", PASSWORD).await;
    let form = [("username", "mallory"), ("password", PASSWORD), ("next", "")];
    let port = app.base.rsplit(':').next().unwrap().to_owned();
    let attempts: Vec<Vec<(&str, String)>> = vec![
        vec![("origin", "https://evil.example".into())],
        vec![("origin", format!("{}.evil.example", app.base))],
        vec![("origin", "null".into())],
        vec![("origin", "null".into()), ("sec-fetch-site", "cross-site".into())],
        vec![("origin", "null".into()), ("sec-fetch-site", "same-site".into())],
        vec![("origin", "null".into()), ("referer", app.url("/login"))],
        vec![("origin", format!("https://127.0.0.1:{port}"))],
        vec![("origin", format!("http://127.0.0.1:{}", port.parse::<u16>().unwrap().wrapping_add(1)))],
        vec![("referer", "https://evil.example/login".into())],
        vec![],
        vec![("origin", app.base.clone()), ("sec-fetch-site", "cross-site".into())],
    ];
    for headers in attempts {
        let res = raw_post(&app, "/_fn/login", &headers, &form).await;
        assert_eq!(res.status(), 403, "{headers:?}");
        assert!(access_cookie(res.headers()).is_none(), "{headers:?}");
        assert!(res.text().await.unwrap().contains("came from another site"));
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 0, "no session was started");

    // The same form from our own pages works, by Origin or by Referer,
    // and from a page that hides its address (the browser still says the
    // post is same-origin).
    let ok = raw_post(&app, "/_fn/login", &[("origin", app.base.clone())], &form).await;
    assert_eq!(ok.status(), 302);
    let ok = raw_post(&app, "/_fn/login", &[("referer", app.url("/login"))], &form).await;
    assert_eq!(ok.status(), 302);
    let hidden = [("origin", "null".to_owned()), ("sec-fetch-site", "same-origin".to_owned())];
    let ok = raw_post(&app, "/_fn/login", &hidden, &form).await;
    assert_eq!(ok.status(), 302);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_site_logout_leaves_the_session_alive() {
    let app = spawn_app().await;
    let (access, refresh) = app.signed_in_pair("alice").await;
    let cookie = format!("{ACCESS_COOKIE}={access}; {REFRESH_COOKIE}={refresh}");
    let res =
        raw_post(&app, "/_fn/logout", &[("origin", "https://evil.example".into()), ("cookie", cookie)], &[]).await;
    assert_eq!(res.status(), 403);
    assert!(access_cookie(res.headers()).is_none());
    assert_eq!(app.protected_with_bearer(&access).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_site_registration_is_refused_and_stores_nothing() {
    let app = spawn_app().await;
    let res = raw_post(
        &app,
        "/_fn/register",
        &[("origin", "https://evil.example".into())],
        &[("username", "bob"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(res.status(), 403);
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookie_authenticated_api_changes_need_our_origin_but_bearer_calls_do_not() {
    let app = spawn_app().await;
    let (access, _) = app.signed_in_pair("alice").await;
    let by_cookie = |origin: &'static str| {
        app.client
            .post(app.url("/api/logout"))
            .header("cookie", format!("{ACCESS_COOKIE}={access}"))
            .header("origin", origin)
            .send()
    };
    let res = by_cookie("https://evil.example").await.unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({ "msg": "This request came from another site and was refused (its Origin is not this site)." })
    );
    assert_eq!(app.protected_with_bearer(&access).await.status(), 200, "still signed in");

    // Reading with the cookie is not a state change.
    let res =
        app.client.get(app.url("/api/protected")).header("cookie", format!("{ACCESS_COOKIE}={access}")).send().await;
    assert_eq!(res.unwrap().status(), 200);

    // A Bearer call from anywhere: the foreign page could not have the token.
    let res = app
        .client
        .post(app.url("/api/logout"))
        .bearer_auth(&access)
        .header("origin", "https://evil.example")
        .send()
        .await;
    assert_eq!(res.unwrap().status(), 204);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_public_origin_is_the_only_one_accepted() {
    let app =
        spawn_app_with(Options { public_origin: Some("https://auth.example.com".into()), ..Options::default() }).await;
    app.register("alice", PASSWORD).await;
    let form = [("username", "alice"), ("password", PASSWORD), ("next", "")];
    let res = raw_post(&app, "/_fn/login", &[("origin", app.base.clone())], &form).await;
    assert_eq!(res.status(), 403, "the loopback origin is no longer ours");
    let res = raw_post(&app, "/_fn/login", &[("origin", "https://auth.example.com".into())], &form).await;
    assert_eq!(res.status(), 302);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_proxy_a_plain_form_post_returns_to_the_page_it_came_from() {
    // The proxy forwards to an internal address (the Host the app sees);
    // the browser's Referer names the public origin. The way back is ours.
    let app =
        spawn_app_with(Options { public_origin: Some("https://auth.example.com".into()), ..Options::default() }).await;
    app.register("alice", PASSWORD).await;
    let form = [("username", "alice"), ("password", "not the password"), ("next", "/sessions")];
    let public = "https://auth.example.com";
    let headers = [("origin", public.to_owned()), ("referer", format!("{public}/login?next=%2Fsessions"))];
    let res = raw_post(&app, "/_fn/login", &headers, &form).await;
    assert_eq!(res.status(), 302);
    let back = location(&res);
    assert!(back.starts_with("/login?next=%2Fsessions"), "{back}");
    // A Referer at another origin still goes nowhere but home.
    let headers = [("origin", public.to_owned()), ("referer", "https://auth.example.com.evil.example/x".to_owned())];
    assert_eq!(location(&raw_post(&app, "/_fn/login", &headers, &form).await), "/");
}
