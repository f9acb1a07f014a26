//! The microservices story end to end: Gatehouse signs people in, another
//! service (`gatehouse::web::downstream`, what `examples/orders_service.rs`
//! runs) authorises their requests from the published keys alone.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use gatehouse::auth::keys::KeyAlgorithm;
use gatehouse::web::downstream::{Expect, KeySource, Verifier, router};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

/// The key set over HTTP, counting fetches.
struct PublishedKeys {
    client: reqwest::Client,
    url: String,
    fetches: Arc<AtomicUsize>,
}

impl KeySource for PublishedKeys {
    async fn fetch(&self) -> Result<Value, String> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        let res = self.client.get(&self.url).send().await.map_err(|e| e.to_string())?;
        res.json().await.map_err(|e| e.to_string())
    }
}

struct Service {
    base: String,
    fetches: Arc<AtomicUsize>,
}

/// The orders service, trusting `app`, expecting `audience`.
async fn orders_service(app: &TestApp, audience: &str) -> Service {
    let fetches = Arc::new(AtomicUsize::new(0));
    let keys =
        PublishedKeys { client: app.client.clone(), url: app.url("/.well-known/jwks.json"), fetches: fetches.clone() };
    let expect = Expect { issuer: "gatehouse".into(), audience: audience.into(), leeway: 10 };
    let verifier = Arc::new(Verifier::new(keys, expect, app.clock.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router(verifier)).await });
    Service { base, fetches }
}

async fn eddsa_app() -> TestApp {
    spawn_app_with(Options { jwt_algorithm: KeyAlgorithm::EdDsa, ..Default::default() }).await
}

async fn get(app: &TestApp, svc: &Service, path: &str, token: &str) -> (u16, Value) {
    let res = app.client.get(format!("{}{path}", svc.base)).bearer_auth(token).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

fn refused(msg: &str) -> (u16, Value) {
    (401, json!({ "msg": msg }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gatehouse_token_is_accepted_and_the_role_decides_the_rest() {
    let app = eddsa_app().await;
    let svc = orders_service(&app, "gatehouse").await;
    let alice = app.signed_in("alice").await;
    let alice_id = app.user_id("alice").await;
    assert_eq!(get(&app, &svc, "/orders", &alice).await, (200, json!({ "orders": [], "for": alice_id })));
    assert_eq!(get(&app, &svc, "/reports", &alice).await, (403, json!({ "msg": "Reports are for administrators" })));
    let (root, root_id) = app.admin("root").await;
    assert_eq!(get(&app, &svc, "/reports", &root).await, (200, json!({ "reports": [], "for": root_id })));
    assert_eq!(svc.fetches.load(Ordering::SeqCst), 1, "the key set was fetched once and cached");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tokens_get_a_401_that_says_why() {
    let app = eddsa_app().await;
    let svc = orders_service(&app, "gatehouse").await;
    let token = app.signed_in("alice").await;

    let res = app.client.get(format!("{}/orders", svc.base)).send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers()["www-authenticate"], r#"Bearer realm="orders""#);

    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut claims: Value = serde_json::from_slice(&B64.decode(&parts[1]).unwrap()).unwrap();
    claims["role"] = json!("admin");
    parts[1] = B64.encode(claims.to_string());
    let tampered = parts.join(".");
    assert_eq!(get(&app, &svc, "/reports", &tampered).await, refused("Token signature is invalid"));

    let mut header: Value = serde_json::from_slice(&B64.decode(token.split('.').next().unwrap()).unwrap()).unwrap();
    header["jku"] = json!("https://evil.example/keys.json");
    let fetching = format!("{}.{}", B64.encode(header.to_string()), token.split_once('.').unwrap().1);
    assert_eq!(get(&app, &svc, "/orders", &fetching).await, refused("Token header is refused"));
    assert_eq!(get(&app, &svc, "/orders", "not.a.jwt").await, refused("Token is malformed"));

    // A token from an HS256 Gatehouse cannot be checked without its secret.
    let hs = spawn_app().await;
    let hs_token = hs.signed_in("bob").await;
    assert_eq!(get(&app, &svc, "/orders", &hs_token).await, refused("Token is not signed with a published key"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_for_another_audience_is_refused() {
    let app = eddsa_app().await;
    let billing = orders_service(&app, "billing").await;
    let token = app.signed_in("alice").await;
    assert_eq!(get(&app, &billing, "/orders", &token).await, refused("Token is meant for another audience"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stateless_service_honours_a_sign_out_only_when_the_token_expires() {
    let app = eddsa_app().await;
    let svc = orders_service(&app, "gatehouse").await;
    let token = app.signed_in("alice").await;
    let res = app.call(Method::POST, "/api/logout", &token, &Value::Null).await;
    assert_eq!(res.status(), 204);
    assert_eq!(app.protected_with_bearer(&token).await.status(), 401, "Gatehouse knows at once");
    assert_eq!(get(&app, &svc, "/orders", &token).await.0, 200, "the service has no way to know");
    app.clock.advance(900 + 10);
    assert_eq!(get(&app, &svc, "/orders", &token).await, refused("Token has expired"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_key_is_fetched_once_and_made_up_kids_cannot_force_fetches() {
    let app = eddsa_app().await;
    let svc = orders_service(&app, "gatehouse").await;
    let old = app.signed_in("alice").await;
    assert_eq!(get(&app, &svc, "/orders", &old).await.0, 200);
    let now = app.clock_now();
    app.state.keys.rotate(&app.state.db, KeyAlgorithm::EdDsa, now + 600, now).await.unwrap();
    app.clock.advance(600);
    let new = app.login_pair("alice").await.0;
    assert_eq!(get(&app, &svc, "/orders", &new).await.0, 200, "an unknown kid makes one fetch");
    assert_eq!(get(&app, &svc, "/orders", &old).await.0, 200, "the old key still verifies in its grace");
    assert_eq!(svc.fetches.load(Ordering::SeqCst), 2);

    // Tokens naming keys that do not exist: one fetch at most per 30 s.
    let (_, body) = new.split_once('.').unwrap();
    let made_up = |i: usize| {
        let header = B64.encode(json!({ "alg": "EdDSA", "typ": "JWT", "kid": format!("ed-made-up-{i}") }).to_string());
        format!("{header}.{body}")
    };
    for i in 0..10 {
        assert_eq!(get(&app, &svc, "/orders", &made_up(i)).await, refused("Token is not signed with a published key"));
    }
    assert_eq!(svc.fetches.load(Ordering::SeqCst), 2, "the last fetch was under 30 s ago");
    app.clock.advance(30);
    for i in 10..20 {
        assert_eq!(get(&app, &svc, "/orders", &made_up(i)).await.0, 401);
    }
    assert_eq!(svc.fetches.load(Ordering::SeqCst), 3);
}
