//! HTTPS served by Gatehouse itself, the redirect from plain HTTP, HSTS
//! only where a browser would believe it, and limits on request heads.

use std::os::unix::fs::PermissionsExt;

use gatehouse::config::Tls;
use gatehouse::config::proxies::TrustedProxies;

use crate::helpers::*;

async fn https_app() -> TestApp {
    spawn_app_with(Options { tls: Tls::SelfSigned, http_redirect: true, ..Default::default() }).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_served_over_https_with_hsts() {
    let app = https_app().await;
    assert!(app.base.starts_with("https://"));
    let res = app.page("/login", None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["strict-transport-security"], "max-age=63072000; includeSubDomains");
    let res = app.register("alice", "correct horse battery").await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["strict-transport-security"], "max-age=63072000; includeSubDomains");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_signs_in_from_the_https_origin() {
    let app = https_app().await;
    assert_eq!(app.register("alice", "correct horse battery").await.status(), 201);
    // form_login sends Origin: the https:// base, which is now ours.
    let res = app.form_login("alice", "correct horse battery", "/dashboard").await;
    assert_eq!((res.status().as_u16(), location(&res).as_str()), (302, "/dashboard"));
    assert!(access_cookie(res.headers()).is_some());
    // The http:// origin at the same port is another origin.
    let res = app
        .client
        .post(app.url("/_fn/login"))
        .header("origin", app.base.replace("https://", "http://"))
        .form(&[("username", "alice"), ("password", "correct horse battery")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_is_redirected_to_https_with_its_path() {
    let app = https_app().await;
    let port = app.base.rsplit(':').next().unwrap().to_owned();
    let http = format!("http://{}", app.redirect_addr.expect("a redirect listener"));
    for (path, expected) in [
        ("/dashboard?tab=1", format!("https://localhost:{port}/dashboard?tab=1")),
        ("/", format!("https://localhost:{port}/")),
    ] {
        let res = app.client.get(format!("{http}{path}")).header("host", "evil.example").send().await.unwrap();
        assert_eq!(res.status(), 308, "{path}");
        assert_eq!(location(&res), expected, "the Host header is not trusted");
        assert!(!res.headers().contains_key("strict-transport-security"), "never over plain HTTP");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_self_signed_pair_is_made_once_with_a_private_key() {
    let app = https_app().await;
    let key = app.data_dir.path().join("tls-self-signed-key.pem");
    let mode = std::fs::metadata(&key).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let cert = std::fs::read(app.data_dir.path().join("tls-self-signed.pem")).unwrap();
    assert!(cert.starts_with(b"-----BEGIN CERTIFICATE-----"));
    // A second start in the same directory reuses it.
    gatehouse::web::tls::config(&Tls::SelfSigned, app.data_dir.path()).await.unwrap();
    assert_eq!(std::fs::read(app.data_dir.path().join("tls-self-signed.pem")).unwrap(), cert);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_certificate_stops_the_start_and_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let tls = Tls::Files { cert: dir.path().join("nope.pem"), key: dir.path().join("nope-key.pem") };
    let err = gatehouse::web::tls::config(&tls, dir.path()).await.expect_err("refused");
    assert!(err.to_string().contains("nope.pem"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hsts_behind_a_proxy_only_when_a_trusted_proxy_says_https() {
    let trusted = spawn_app_with(Options {
        trusted_proxies: TrustedProxies::parse("127.0.0.1/32").unwrap(),
        ..Default::default()
    })
    .await;
    let untrusted = spawn_app().await;
    for (app, hsts) in [(&trusted, true), (&untrusted, false)] {
        let res = app.client.get(app.url("/login")).header("x-forwarded-proto", "https").send().await.unwrap();
        assert_eq!(res.headers().contains_key("strict-transport-security"), hsts);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_or_too_many_headers_are_refused_with_431() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/login")).header("cookie", "x".repeat(40 * 1024)).send().await.unwrap();
    assert_eq!(res.status(), 431);
    let mut req = app.client.get(app.url("/login"));
    for i in 0..80 {
        req = req.header(format!("x-filler-{i}"), "1");
    }
    assert_eq!(req.send().await.unwrap().status(), 431);
    // Ordinary requests are untouched, and the server is still up.
    let res = app.client.get(app.url("/login")).header("cookie", "x".repeat(8 * 1024)).send().await.unwrap();
    assert_eq!(res.status(), 200);
}
