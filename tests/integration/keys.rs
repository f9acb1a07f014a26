//! Signing keys: published public keys, rotation without signing anyone
//! out, retirement after the grace period, keys sealed at rest, and the
//! command line that rotates them.

use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use gatehouse::auth::keys::{KeyAlgorithm, KeyRing};
use gatehouse::auth::token::{self, Grant};
use gatehouse::domain::Role;
use serde_json::{Value, json};

use crate::helpers::*;

async fn eddsa_app() -> TestApp {
    spawn_app_with(Options { jwt_algorithm: KeyAlgorithm::EdDsa, ..Default::default() }).await
}

async fn jwks(app: &TestApp) -> (reqwest::header::HeaderMap, Value) {
    let res = app.client.get(app.url("/.well-known/jwks.json")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let headers = res.headers().clone();
    (headers, res.json().await.unwrap())
}

fn kid_of(token: &str) -> String {
    let header: Value = serde_json::from_slice(&B64.decode(token.split('.').next().unwrap()).unwrap()).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

fn kids(set: &Value) -> Vec<String> {
    set["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_set_publishes_public_keys_only_and_may_be_cached() {
    let app = eddsa_app().await;
    let token = app.signed_in("alice").await;
    let (headers, set) = jwks(&app).await;
    assert_eq!(headers["cache-control"], "public, max-age=300");
    assert_eq!(headers["content-type"], "application/json");
    let keys = set["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let k = &keys[0];
    assert_eq!(
        (k["kty"].as_str(), k["crv"].as_str(), k["alg"].as_str(), k["use"].as_str()),
        (Some("OKP"), Some("Ed25519"), Some("EdDSA"), Some("sig"))
    );
    assert_eq!(k["kid"], kid_of(&token));
    let fields: Vec<&String> = k.as_object().unwrap().keys().collect();
    assert_eq!(fields, ["alg", "crv", "kid", "kty", "use", "x"], "no private part (d)");

    // Anyone holding the set verifies the token; nobody needs a secret.
    let key = jsonwebtoken::DecodingKey::from_jwk(&serde_json::from_value(k.clone()).unwrap()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.set_audience(&["gatehouse"]);
    validation.set_issuer(&["gatehouse"]);
    validation.validate_exp = false;
    let claims = jsonwebtoken::decode::<Value>(&token, &key, &validation).unwrap().claims;
    assert_eq!(claims["typ"], "access");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_symmetric_secret_is_never_published() {
    let app = spawn_app().await;
    let token = app.signed_in("alice").await;
    assert!(kid_of(&token).starts_with("hs-"));
    assert_eq!(jwks(&app).await.1, json!({ "keys": [] }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_is_published_first_then_signs_and_signs_no_one_out() {
    let app = eddsa_app().await;
    let (access, refresh) = app.signed_in_pair("alice").await;
    let old = kid_of(&access);
    let now = app.clock_now();
    let rotated = app.state.keys.rotate(&app.state.db, KeyAlgorithm::EdDsa, now + 600, now).await.unwrap();
    assert_ne!(rotated.kid, old);

    // Published at once, but not signing yet.
    assert_eq!(kids(&jwks(&app).await.1), [old.clone(), rotated.kid.clone()]);
    assert_eq!(kid_of(&app.login_pair("alice").await.0), old);

    // At its moment the new key signs; the old token still works.
    app.clock.advance(600);
    assert_eq!(kid_of(&app.login_pair("alice").await.0), rotated.kid);
    assert_eq!(app.protected_with_bearer(&access).await.status(), 200);

    // Long after, the session lives on: its refresh token is no JWT.
    app.clock.advance(3600);
    let res = app.refresh(&refresh).await;
    assert_eq!(res.status(), 200);
    let renewed: Value = res.json().await.unwrap();
    assert_eq!(kid_of(renewed["access_token"].as_str().unwrap()), rotated.kid);
    assert_eq!(kids(&jwks(&app).await.1), [rotated.kid], "the retired key is no longer published");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retired_key_verifies_nothing_after_its_grace_period() {
    let app = eddsa_app().await;
    let _ = app.signed_in("alice").await;
    let old_key = app.state.keys.schedule().keys()[0].key.clone();
    let user_id = app.user_id("alice").await;
    let session_id = app.count_text("SELECT id FROM sessions").await;
    let now = app.clock_now();
    app.state.keys.rotate(&app.state.db, KeyAlgorithm::EdDsa, now, now).await.unwrap();

    // A token from the old key that has not expired, presented at the end
    // of the grace period (access lifetime + leeway) and just after.
    let long_policy = gatehouse::auth::token::TokenPolicy { access_ttl: 86_400, ..app.state.tokens.clone() };
    let grant = Grant {
        user_id: &user_id,
        session_id: &session_id,
        role: Role::User,
        auth_time: now,
        methods: &[gatehouse::domain::AuthMethod::Password],
    };
    let forged_later =
        token::issue_access(&KeyRing::single(old_key), &long_policy, grant, "j".into(), now).unwrap().token;
    app.clock.advance(900 + 10 - 1);
    assert_eq!(app.protected_with_bearer(&forged_later).await.status(), 200, "within the grace period");
    app.clock.advance(1);
    let res = app.protected_with_bearer(&forged_later).await;
    assert_eq!(res.status(), 401, "after it");
    assert_eq!(res.json::<Value>().await.unwrap(), json!({ "msg": "Token is invalid" }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_hs256_token_made_with_the_public_key_is_refused() {
    let app = eddsa_app().await;
    let token = app.signed_in("alice").await;
    let (_, set) = jwks(&app).await;
    let public = B64.decode(set["keys"][0]["x"].as_str().unwrap()).unwrap();
    let claims: Value = serde_json::from_slice(&B64.decode(token.split('.').nth(1).unwrap()).unwrap()).unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some(kid_of(&token));
    let confused = jsonwebtoken::encode(&header, &claims, &jsonwebtoken::EncodingKey::from_secret(&public)).unwrap();
    let res = app.protected_with_bearer(&confused).await;
    assert_eq!(res.status(), 401);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({ "msg": "Token is invalid" }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_sealed_at_rest_and_open_only_with_their_master_key() {
    let app = eddsa_app().await;
    let stored = app.count_text("SELECT sealed_secret FROM signing_keys").await;
    let seed = app.state.keys.schedule().keys()[0].key.clone();
    assert!(!stored.is_empty());
    assert!(seed.public_jwk().is_some());
    // Another master key cannot open them: the server refuses to start
    // rather than sign with something else.
    let mut settings = app.settings.clone();
    let (_, other) = gatehouse::auth::sealed::MasterKey::generate().unwrap();
    settings.master_key = Some(other.into());
    let err = gatehouse::keystore::load(&settings, &app.state.db, app.clock_now()).await.err().unwrap();
    assert!(err.to_string().contains("does not open with this master key"), "{err}");
    if !app.settings.database_url.starts_with("postgres") {
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(app.data_dir.path().join("master.key")).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_rotates_and_every_instance_picks_it_up_on_reload() {
    let app = eddsa_app().await;
    let old = kid_of(&app.signed_in("alice").await);
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
            .args(args)
            .env("GATEHOUSE_DATA_DIR", app.data_dir.path())
            .env("GATEHOUSE_DATABASE_URL", &app.settings.database_url)
            .env("GATEHOUSE_JWT_ALGORITHM", "EdDSA")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        (out.status.success(), text, String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (ok, out, err) = run(&["keys", "rotate", "--in", "0"]);
    assert!(ok, "{err}");
    assert!(out.contains("New EdDSA key ed-") && out.contains("is published now"), "{out}");
    let new = out.split_whitespace().find(|w| w.starts_with("ed-")).unwrap().to_owned();
    let (ok, list, _) = run(&["keys", "list"]);
    assert!(ok);
    assert!(list.contains(&old) && list.contains(&new), "{list}");
    let (ok, _, err) = run(&["keys", "rotate", "--algorithm", "RS256"]);
    assert!(!ok);
    assert!(err.contains("'RS256' is not HS256 or EdDSA"), "{err}");

    // This instance learns of it at its next reload (every 30 s).
    assert_eq!(kids(&jwks(&app).await.1), std::slice::from_ref(&old));
    app.state.keys.reload(&app.state.db).await.unwrap();
    assert!(kids(&jwks(&app).await.1).contains(&new));
}
