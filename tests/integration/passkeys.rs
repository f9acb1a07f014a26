//! Passkeys, attacked: answers replayed, late, for another origin or
//! another ceremony, with a counter that went backwards, for another
//! account; and changed without a fresh sign-in.

use reqwest::Method;
use serde_json::{Value, json};

use crate::authenticator::SoftPasskey;
use crate::helpers::*;

/// The origin the local relying party names: `localhost`, never an IP.
pub(crate) fn origin(app: &TestApp) -> String {
    app.base.replace("127.0.0.1", "localhost")
}

pub(crate) async fn body(res: reqwest::Response) -> Value {
    res.json().await.unwrap()
}

pub(crate) async fn msg(res: reqwest::Response) -> String {
    body(res).await["msg"].as_str().unwrap_or_default().to_owned()
}

/// Adds `passkey` to the account `access` belongs to; returns the new
/// access token.
pub(crate) async fn add(app: &TestApp, access: &str, passkey: &mut SoftPasskey, name: &str) -> String {
    let res = app.call(Method::POST, "/api/passkeys/options", access, &Value::Null).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let started = body(res).await;
    let selection = &started["options"]["publicKey"]["authenticatorSelection"];
    assert_eq!(selection["residentKey"], "required", "discoverable, for sign-in without a username");
    assert_eq!(selection["userVerification"], "required");
    let credential = passkey.create(&started["options"]);
    let res = app
        .call(
            Method::POST,
            "/api/passkeys",
            access,
            &json!({ "ceremony": started["ceremony"], "name": name, "credential": credential }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let added = body(res).await;
    assert_eq!(added["passkey"]["name"], name);
    added["access_token"].as_str().unwrap().to_owned()
}

/// `username`, signed in, with a new passkey named `name`: the access
/// token that has shown it, and the passkey.
pub(crate) async fn signed_in_with_passkey(app: &TestApp, username: &str, name: &str) -> (String, SoftPasskey) {
    let access = app.signed_in(username).await;
    let mut passkey = SoftPasskey::new(&origin(app));
    let shown = add(app, &access, &mut passkey, name).await;
    (shown, passkey)
}

/// Starts a passkey sign-in: (ceremony, options).
pub(crate) async fn sign_in_options(app: &TestApp) -> (String, Value) {
    let res = app.post_json("/api/login/passkey/options", &Value::Null).await;
    assert_eq!(res.status(), 200);
    let started = body(res).await;
    (started["ceremony"].as_str().unwrap().to_owned(), started["options"].clone())
}

pub(crate) async fn finish_sign_in(app: &TestApp, ceremony: &str, credential: &Value) -> reqwest::Response {
    app.post_json("/api/login/passkey", &json!({ "ceremony": ceremony, "credential": credential })).await
}

pub(crate) async fn refusals(app: &TestApp, like: &'static str) -> i64 {
    use sqlx::Row;
    sqlx::query("SELECT COUNT(*) FROM audit_events WHERE kind = 'sign_in' AND outcome = 'failure' AND detail LIKE $1")
        .bind(like)
        .fetch_one(app.state.db.pool())
        .await
        .unwrap()
        .get::<i64, _>(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passkey_alone_signs_in_with_a_session_like_a_passwords() {
    let app =
        spawn_app_with(Options { require_mfa: gatehouse::auth::policy::SecondFactorPolicy::All, ..Options::default() })
            .await;
    let access = app.signed_in("alice").await;
    assert_eq!(app.protected_with_bearer(&access).await.status(), 403, "the policy asks for a second factor");
    let mut passkey = SoftPasskey::new(&origin(&app));
    let shown = add(&app, &access, &mut passkey, "Laptop").await;
    assert_eq!(app.protected_with_bearer(&shown).await.status(), 200, "adding one showed a second factor");

    let res = app.call(Method::GET, "/api/passkeys", &shown, &Value::Null).await;
    let list = body(res).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], passkey.id());
    assert!(list[0]["last_used_at"].is_null());

    let sessions_before = app.count("SELECT COUNT(*) FROM sessions").await;
    let (ceremony, options) = sign_in_options(&app).await;
    assert_eq!(options["publicKey"]["userVerification"], "required");
    assert_eq!(options["publicKey"]["rpId"], "localhost");
    let res = finish_sign_in(&app, &ceremony, &passkey.get(&options)).await;
    assert_eq!(res.status(), 200);
    let tokens = body(res).await;
    let fresh = tokens["access_token"].as_str().unwrap();
    assert!(tokens["refresh_token"].as_str().unwrap().starts_with("grt_"));
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, sessions_before + 1);
    assert_eq!(app.protected_with_bearer(fresh).await.status(), 200, "two factors: the policy is met");
    let res = app.call(Method::GET, "/api/sessions", fresh, &Value::Null).await;
    let sessions = body(res).await;
    let mine = sessions["sessions"].as_array().unwrap().iter().find(|s| s["current"] == true).unwrap().clone();
    assert_eq!(mine["methods"], json!(["hwk"]), "a device-bound passkey is a hardware key (RFC 8176)");
    let res = app.refresh(tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(res.status(), 200, "and it refreshes like any session");
    assert_eq!(app.count("SELECT COUNT(*) FROM passkeys WHERE last_used_at IS NOT NULL AND counter = 1").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE kind = 'factor_added'").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM webauthn_challenges").await, 0, "each ceremony was taken");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_challenge_is_answered_once_within_five_minutes_from_our_origin_for_its_own_ceremony() {
    let app = spawn_app().await;
    let access = app.signed_in("alice").await;
    let mut passkey = SoftPasskey::new(&origin(&app));
    add(&app, &access, &mut passkey, "Laptop").await;

    // Replayed: the same answer twice.
    let (ceremony, options) = sign_in_options(&app).await;
    let answer = passkey.get(&options);
    assert_eq!(finish_sign_in(&app, &ceremony, &answer).await.status(), 200);
    let res = finish_sign_in(&app, &ceremony, &answer).await;
    assert_eq!(res.status(), 401);
    assert!(msg(res).await.contains("already used"));
    // The same answer under a new ceremony: its challenge is not that one's.
    let (other, _) = sign_in_options(&app).await;
    assert_eq!(finish_sign_in(&app, &other, &answer).await.status(), 401);

    // Late.
    let (ceremony, options) = sign_in_options(&app).await;
    app.clock.advance(5 * 60 + 1);
    assert_eq!(finish_sign_in(&app, &ceremony, &passkey.get(&options)).await.status(), 401);

    // From a page of another origin.
    let (ceremony, options) = sign_in_options(&app).await;
    let failed = refusals(&app, "passkey: answer failed verification").await;
    let mut phished = passkey;
    phished.origin = "http://localhost.evil.example".into();
    let res = finish_sign_in(&app, &ceremony, &phished.get(&options)).await;
    assert_eq!(res.status(), 401);
    assert_eq!(refusals(&app, "passkey: answer failed verification").await, failed + 1, "and audited");

    // A registration's ceremony does not finish a sign-in, nor the reverse.
    let res = app.call(Method::POST, "/api/passkeys/options", &access, &Value::Null).await;
    let registration = body(res).await;
    let handle = registration["ceremony"].as_str().unwrap();
    let res = finish_sign_in(&app, handle, &phished.answer(&options)).await;
    assert_eq!(res.status(), 401);
    let (ceremony, options) = sign_in_options(&app).await;
    let mut second = SoftPasskey::new(&origin(&app));
    let res = app
        .call(
            Method::POST,
            "/api/passkeys",
            &access,
            &json!({ "ceremony": ceremony, "name": "Phone", "credential": second.create(&options) }),
        )
        .await;
    assert_eq!(res.status(), 401);
    assert_eq!(app.count("SELECT COUNT(*) FROM passkeys").await, 1);

    // Malformed answers are refused with a message, not a failure.
    for bad in [json!({ "ceremony": "gwa_x", "credential": "x" }), json!({ "credential": {} }), json!([1])] {
        let res = app.post_json("/api/login/passkey", &bad).await;
        assert_eq!(res.status(), 400, "{bad}");
        assert!(!msg(res).await.is_empty());
    }
    let res = finish_sign_in(&app, "gwa_not-a-ceremony", &json!({ "id": "x" })).await;
    assert_eq!(res.status(), 400, "a credential of the wrong shape");
    let (ceremony, _) = sign_in_options(&app).await;
    let res = finish_sign_in(&app, &ceremony, &json!({ "id": "x", "rawId": "!!", "type": "public-key" })).await;
    assert_eq!(res.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_counter_that_goes_backwards_is_refused_and_audited() {
    let app = spawn_app().await;
    let (_, mut passkey) = signed_in_with_passkey(&app, "alice", "Key").await;
    for _ in 0..3 {
        let (ceremony, options) = sign_in_options(&app).await;
        assert_eq!(finish_sign_in(&app, &ceremony, &passkey.get(&options)).await.status(), 200);
    }
    // A copy of the key, made when its counter stood at 1.
    passkey.counter = 1;
    let (ceremony, options) = sign_in_options(&app).await;
    let sessions = app.count("SELECT COUNT(*) FROM sessions").await;
    let res = finish_sign_in(&app, &ceremony, &passkey.get(&options)).await;
    assert_eq!(res.status(), 401);
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, sessions, "no session");
    assert_eq!(refusals(&app, "%counter went backwards%").await, 1);
    assert_eq!(app.count("SELECT counter FROM passkeys").await, 3, "the stored counter stands");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passkey_presented_for_another_account_or_unknown_is_refused() {
    let app = spawn_app().await;
    let alice = app.signed_in("alice").await;
    app.signed_in("bob").await;
    let mut passkey = SoftPasskey::new(&origin(&app));
    add(&app, &alice, &mut passkey, "Laptop").await;

    // Alice's credential, claiming to be Bob's.
    let bob_id = app.user_id("bob").await;
    let mut forged = passkey;
    forged.user_handle = uuid_bytes(&bob_id);
    let (ceremony, options) = sign_in_options(&app).await;
    let res = finish_sign_in(&app, &ceremony, &forged.get(&options)).await;
    assert_eq!(res.status(), 401);
    assert_eq!(refusals(&app, "passkey: presented for another account").await, 1);

    // A credential never registered here.
    let mut stranger = SoftPasskey::new(&origin(&app));
    stranger.user_handle = uuid_bytes(&bob_id);
    let (ceremony, options) = sign_in_options(&app).await;
    let res = finish_sign_in(&app, &ceremony, &stranger.get(&options)).await;
    assert_eq!(res.status(), 401);
    assert!(msg(res).await.contains("not registered here"));
    assert_eq!(refusals(&app, "passkey: not registered").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_passkeys_needs_a_fresh_sign_in_and_a_passkey_gives_one() {
    let app = spawn_app().await;
    let (shown, mut passkey) = signed_in_with_passkey(&app, "alice", "Laptop").await;
    app.clock.advance(11 * 60);
    let id = passkey.id();
    let delete = format!("/api/passkeys/{id}");
    for (method, path) in [(Method::POST, "/api/passkeys/options"), (Method::DELETE, delete.as_str())] {
        let res = app.call(method, path, &shown, &Value::Null).await;
        assert_eq!(res.status(), 401, "{path}");
        assert!(res.headers()["www-authenticate"].to_str().unwrap().contains("insufficient_user_authentication"));
    }
    // Without an authenticator app the password is a whole sign-in, so it confirms too
    // (a person who lost the device with the passkey can still remove it).
    let res = app.call(Method::POST, "/api/reauth", &shown, &json!({ "password": "correct horse battery" })).await;
    assert_eq!(res.status(), 200);
    let shown = body(res).await["access_token"].as_str().unwrap().to_owned();
    app.clock.advance(11 * 60);

    let res = app.call(Method::POST, "/api/reauth/passkey/options", &shown, &Value::Null).await;
    assert_eq!(res.status(), 200);
    let started = body(res).await;
    let allowed = &started["options"]["publicKey"]["allowCredentials"];
    assert_eq!(allowed[0]["id"], id, "only this account's passkeys are asked for");
    let answer = json!({ "ceremony": started["ceremony"], "credential": passkey.get(&started["options"]) });
    let res = app.call(Method::POST, "/api/reauth/passkey", &shown, &answer).await;
    assert_eq!(res.status(), 200);
    let fresh = body(res).await["access_token"].as_str().unwrap().to_owned();
    let res = app.call(Method::POST, "/api/reauth/passkey", &fresh, &answer).await;
    assert_eq!(res.status(), 401, "the ceremony was taken");

    let res = app.call(Method::DELETE, "/api/passkeys/not-mine", &fresh, &Value::Null).await;
    assert_eq!(res.status(), 404);
    assert_eq!(app.call(Method::DELETE, &delete, &fresh, &Value::Null).await.status(), 204);
    assert_eq!(app.count("SELECT COUNT(*) FROM passkeys").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE kind = 'factor_removed'").await, 1);
    let (ceremony, options) = sign_in_options(&app).await;
    assert_eq!(finish_sign_in(&app, &ceremony, &passkey.get(&options)).await.status(), 401, "removed: refused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_synced_passkey_is_a_software_key_and_the_last_factor_stays_when_required() {
    let app =
        spawn_app_with(Options { require_mfa: gatehouse::auth::policy::SecondFactorPolicy::All, ..Options::default() })
            .await;
    let access = app.signed_in("alice").await;
    let mut passkey = SoftPasskey::new(&origin(&app));
    passkey.synced = true;
    let shown = add(&app, &access, &mut passkey, "Phone").await;
    let (ceremony, options) = sign_in_options(&app).await;
    let res = finish_sign_in(&app, &ceremony, &passkey.get(&options)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(app.count("SELECT counter FROM passkeys").await, 0, "synced passkeys keep no counter");
    let fresh = body(res).await["access_token"].as_str().unwrap().to_owned();
    let res = app.call(Method::GET, "/api/sessions", &fresh, &Value::Null).await;
    let sessions = body(res).await;
    let mine = sessions["sessions"].as_array().unwrap().iter().find(|s| s["current"] == true).unwrap().clone();
    assert_eq!(mine["methods"], json!(["swk"]));
    // A second use with the counter at zero still works: only the challenge guards replay.
    let (ceremony, options) = sign_in_options(&app).await;
    assert_eq!(finish_sign_in(&app, &ceremony, &passkey.get(&options)).await.status(), 200);

    let res = app.call(Method::DELETE, &format!("/api/passkeys/{}", passkey.id()), &shown, &Value::Null).await;
    assert_eq!(res.status(), 409, "the policy requires a second factor");
    assert_eq!(app.count("SELECT COUNT(*) FROM passkeys").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrators_reset_removes_passkeys_too() {
    let app = spawn_app().await;
    let access = app.signed_in("alice").await;
    let mut passkey = SoftPasskey::new(&origin(&app));
    add(&app, &access, &mut passkey, "Laptop").await;
    let (admin, _) = app.admin("root").await;
    let alice = app.user_id("alice").await;
    let res = app.call(Method::DELETE, &format!("/api/admin/users/{alice}/factors"), &admin, &Value::Null).await;
    assert_eq!(res.status(), 200);
    assert_eq!(app.count("SELECT COUNT(*) FROM passkeys").await, 0);
    assert_eq!(app.protected_with_bearer(&access).await.status(), 401, "her sessions ended");
    let (ceremony, options) = sign_in_options(&app).await;
    assert_eq!(finish_sign_in(&app, &ceremony, &passkey.get(&options)).await.status(), 401);
}

pub(crate) fn uuid_bytes(id: &str) -> Vec<u8> {
    let hex: String = id.chars().filter(|c| *c != '-').collect();
    (0..16).map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_the_policy_a_stolen_password_cannot_enrol_its_own_factor_beside_a_passkey() {
    let app =
        spawn_app_with(Options { require_mfa: gatehouse::auth::policy::SecondFactorPolicy::All, ..Options::default() })
            .await;
    let (_, mut passkey) = signed_in_with_passkey(&app, "alice", "Laptop").await;

    // The password signs in, owing the factor the policy asks for...
    let (stolen, _) = app.login_pair("alice").await;
    assert_eq!(app.protected_with_bearer(&stolen).await.status(), 403);
    // ...and may not meet it by adding one of its own.
    for (method, path) in [(Method::POST, "/api/passkeys/options"), (Method::POST, "/api/mfa/totp")] {
        let res = app.call(method, path, &stolen, &Value::Null).await;
        assert_eq!(res.status(), 401, "{path}");
        assert!(res.headers()["www-authenticate"].to_str().unwrap().contains("insufficient_user_authentication"));
    }
    let delete = format!("/api/passkeys/{}", passkey.id());
    assert_eq!(app.call(Method::DELETE, &delete, &stolen, &Value::Null).await.status(), 401);
    assert_eq!(app.count("SELECT COUNT(*) FROM passkeys").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM totp_factors").await, 0);

    // The owner confirms with the passkey, and may.
    let res = app.call(Method::POST, "/api/reauth/passkey/options", &stolen, &Value::Null).await;
    let started = body(res).await;
    let answer = json!({ "ceremony": started["ceremony"], "credential": passkey.get(&started["options"]) });
    let res = app.call(Method::POST, "/api/reauth/passkey", &stolen, &answer).await;
    assert_eq!(res.status(), 200);
    let shown = body(res).await["access_token"].as_str().unwrap().to_owned();
    assert_eq!(app.protected_with_bearer(&shown).await.status(), 200);
    assert_eq!(app.call(Method::POST, "/api/passkeys/options", &shown, &Value::Null).await.status(), 200);
}
