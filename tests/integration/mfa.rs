//! Two-step sign-in with an authenticator app and recovery codes over the
//! JSON API, attacked: skipped, replayed, crossed between accounts,
//! expired, reused, brute forced and raced. Changing factors and the
//! policy are in `mfa_setup`, the sign-in form in `mfa_form`.

use gatehouse::auth::totp::TotpSecret;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

pub(crate) const PASSWORD: &str = "correct horse battery";
pub(crate) const STEP_COOKIE: &str = "__Host-gatehouse-step";

/// An account with an authenticator app on: (access token, the app's
/// secret, the recovery codes). The clock then moves to the next step, so
/// the code used to confirm is not the current one.
pub(crate) async fn with_totp(app: &TestApp, username: &str) -> (String, TotpSecret, Vec<String>) {
    let access = app.signed_in(username).await;
    turn_on_totp(app, &access).await
}

/// Turns on an authenticator app from the session `access` holds.
pub(crate) async fn turn_on_totp(app: &TestApp, access: &str) -> (String, TotpSecret, Vec<String>) {
    let res = app.call(Method::POST, "/api/mfa/totp", access, &Value::Null).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    let secret = TotpSecret::from_base32(body["secret"].as_str().unwrap()).unwrap();
    let uri = body["otpauth_uri"].as_str().unwrap();
    assert!(
        uri.starts_with("otpauth://totp/Gatehouse:") && uri.contains(&format!("secret={}", secret.base32())),
        "{uri}"
    );
    let code = secret.code_at(app.clock_now());
    let res = app.call(Method::POST, "/api/mfa/totp/confirm", access, &json!({ "code": code })).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let codes: Vec<String> =
        body["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    assert_eq!(codes.len(), 10);
    app.clock.advance(30);
    (body["access_token"].as_str().unwrap().to_owned(), secret, codes)
}

/// Signs in with the password; returns the answer's body.
pub(crate) async fn password_step(app: &TestApp, username: &str) -> Value {
    let res = app.login(username, PASSWORD).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("set-cookie").is_none(), "no cookie before the second step");
    res.json().await.unwrap()
}

pub(crate) async fn second_step(app: &TestApp, mfa_token: &str, code: &str) -> reqwest::Response {
    app.post_json("/api/login/mfa", &json!({ "mfa_token": mfa_token, "code": code })).await
}

pub(crate) async fn msg(res: reqwest::Response) -> String {
    res.json::<Value>().await.unwrap()["msg"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_alone_no_longer_signs_in_and_the_code_finishes_it() {
    let app = spawn_app().await;
    let (_, secret, _) = with_totp(&app, "alice").await;
    let sessions_before = app.count("SELECT COUNT(*) FROM sessions").await;

    let body = password_step(&app, "alice").await;
    assert_eq!(body["mfa_required"], true);
    assert_eq!(body["methods"], json!(["totp", "recovery_code"]));
    assert!(body.get("access_token").is_none() && body.get("refresh_token").is_none(), "{body}");
    let mfa_token = body["mfa_token"].as_str().unwrap();
    assert!(mfa_token.starts_with("gmf_"));
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, sessions_before, "no session yet");

    // The pending credential is no key to anything.
    assert_eq!(app.protected_with_bearer(mfa_token).await.status(), 401);
    assert_eq!(app.refresh(mfa_token).await.status(), 401);
    let res = app.page_with("/dashboard", &[(STEP_COOKIE, mfa_token)]).await;
    assert_eq!(res.status(), 303);
    assert!(location(&res).starts_with("/login?next="), "{}", location(&res));
    let res = app
        .client
        .post(app.url("/_fn/overview"))
        .header("cookie", format!("{STEP_COOKIE}={mfa_token}"))
        .header("origin", &app.base)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    let res = second_step(&app, mfa_token, "000000").await;
    assert_eq!(res.status(), 400);
    assert!(msg(res).await.contains("not correct"));

    let res = second_step(&app, mfa_token, &secret.code_at(app.clock_now())).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let tokens: Value = res.json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(app.protected_with_bearer(access).await.status(), 200);
    assert_eq!(app.count_text("SELECT amr FROM sessions ORDER BY created_at DESC, id LIMIT 1").await, "pwd otp");
    let res = app.call(Method::GET, "/api/sessions", access, &Value::Null).await;
    let listed: Value = res.json().await.unwrap();
    assert!(listed["sessions"].as_array().unwrap().iter().any(|s| s["methods"] == json!(["pwd", "otp"])), "{listed}");

    // Single use: the credential is gone once it signed in.
    app.clock.advance(30);
    let res = second_step(&app, mfa_token, &secret.code_at(app.clock_now())).await;
    assert_eq!(res.status(), 401);
    assert_eq!(app.count("SELECT COUNT(*) FROM second_steps").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_works_once_and_only_for_its_own_account() {
    let app = spawn_app().await;
    let (_, alice, _) = with_totp(&app, "alice").await;
    let (_, bob, _) = with_totp(&app, "bob").await;
    let code = alice.code_at(app.clock_now());

    let first = password_step(&app, "alice").await;
    assert_eq!(second_step(&app, first["mfa_token"].as_str().unwrap(), &code).await.status(), 200);

    let again = password_step(&app, "alice").await;
    let res = second_step(&app, again["mfa_token"].as_str().unwrap(), &code).await;
    assert_eq!(res.status(), 400, "a replay within the code's window");
    assert!(msg(res).await.contains("already used"));

    let bobs = password_step(&app, "bob").await;
    let res = second_step(&app, bobs["mfa_token"].as_str().unwrap(), &alice.code_at(app.clock_now() + 30)).await;
    assert_eq!(res.status(), 400, "alice's code is no good for bob");
    let res = second_step(&app, bobs["mfa_token"].as_str().unwrap(), &bob.code_at(app.clock_now())).await;
    assert_eq!(res.status(), 200);

    // The next step's code works for alice (one step of skew allowed).
    let res = second_step(&app, again["mfa_token"].as_str().unwrap(), &alice.code_at(app.clock_now() + 30)).await;
    assert_eq!(res.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pending_sign_in_expires_after_five_minutes() {
    let app = spawn_app().await;
    let (_, secret, _) = with_totp(&app, "alice").await;
    let body = password_step(&app, "alice").await;
    assert_eq!(body["expires_in"], 300);
    app.clock.advance(301);
    let res = second_step(&app, body["mfa_token"].as_str().unwrap(), &secret.code_at(app.clock_now())).await;
    assert_eq!(res.status(), 401);
    assert!(msg(res).await.contains("Sign in again"));
    let res = second_step(&app, "gmf_not-a-token", &secret.code_at(app.clock_now())).await;
    assert_eq!(res.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_codes_locks_like_guessing_passwords_and_a_right_password_buys_no_more_guesses() {
    let app = spawn_app().await;
    let (_, secret, _) = with_totp(&app, "alice").await;
    // Far from the current step: never right by chance.
    let wrong = secret.code_at(app.clock_now() + 3600);
    let mut guesses = 0;
    let mut locked = false;
    'sign_ins: for _ in 0..5 {
        let res = app.login("alice", PASSWORD).await;
        if res.status() == 429 {
            locked = true;
            break;
        }
        let body: Value = res.json().await.unwrap();
        for _ in 0..2 {
            match second_step(&app, body["mfa_token"].as_str().unwrap(), &wrong).await.status().as_u16() {
                400 => guesses += 1,
                429 => {
                    locked = true;
                    break 'sign_ins;
                }
                other => panic!("{other}"),
            }
        }
    }
    assert!(locked, "the account locks");
    assert!(guesses <= 5, "signing in again with the password bought more guesses: {guesses}");
    let body = password_step(&app, "alice").await;
    let res = second_step(&app, body["mfa_token"].as_str().unwrap(), &secret.code_at(app.clock_now())).await;
    assert_eq!(res.status(), 429, "a right code during the lock does not sign in");
    assert!(res.headers().contains_key("retry-after"));
    let refused =
        app.count("SELECT COUNT(*) FROM audit_events WHERE kind = 'second_step' AND outcome = 'failure'").await;
    assert_eq!(refused, guesses);
    assert!(app.count("SELECT COUNT(*) FROM audit_events WHERE kind = 'throttled'").await >= 1);

    // Once the lock is over, the person gets in.
    app.clock.advance(16 * 60);
    let body = password_step(&app, "alice").await;
    let res = second_step(&app, body["mfa_token"].as_str().unwrap(), &secret.code_at(app.clock_now())).await;
    assert_eq!(res.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_wrong_codes_end_the_pending_sign_in() {
    let app = spawn_app().await;
    let (_, secret, _) = with_totp(&app, "alice").await;
    let body = password_step(&app, "alice").await;
    let token = body["mfa_token"].as_str().unwrap();
    // Far from the current step: never right by chance.
    let wrong = secret.code_at(app.clock_now() + 3600);
    assert_eq!(second_step(&app, token, &wrong).await.status(), 400);
    assert_eq!(second_step(&app, token, &wrong).await.status(), 400);
    let res = second_step(&app, token, &wrong).await;
    assert_eq!(res.status(), 401);
    assert!(msg(res).await.contains("Too many wrong codes"));
    assert_eq!(app.count("SELECT COUNT(*) FROM second_steps").await, 0, "the pending sign-in is gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovery_codes_work_once_each_and_a_new_set_kills_the_old() {
    let app = spawn_app().await;
    let (access, _, codes) = with_totp(&app, "alice").await;
    // Typed by a person: upper case, no dashes.
    let typed = codes[0].replace('-', "").to_uppercase();
    let body = password_step(&app, "alice").await;
    assert_eq!(second_step(&app, body["mfa_token"].as_str().unwrap(), &typed).await.status(), 200);

    let body = password_step(&app, "alice").await;
    let token = body["mfa_token"].as_str().unwrap();
    let res = second_step(&app, token, &codes[0]).await;
    assert_eq!(res.status(), 400);
    assert!(msg(res).await.contains("already used"));
    let res = app.call(Method::GET, "/api/mfa", &access, &Value::Null).await;
    assert_eq!(res.json::<Value>().await.unwrap(), json!({ "totp": "on", "recovery_codes_left": 9 }));

    let res = app.call(Method::POST, "/api/mfa/recovery-codes", &access, &Value::Null).await;
    assert_eq!(res.status(), 200);
    let renewed: Value = res.json().await.unwrap();
    assert_eq!(renewed["recovery_codes"].as_array().unwrap().len(), 10);
    assert_eq!(second_step(&app, token, &codes[1]).await.status(), 400, "the old set died");
    let new = renewed["recovery_codes"][0].as_str().unwrap();
    assert_eq!(second_step(&app, token, new).await.status(), 200);
    assert_eq!(app.count("SELECT COUNT(*) FROM recovery_codes WHERE used_at IS NULL").await, 9);
    let stored = app.count_text("SELECT hash FROM recovery_codes LIMIT 1").await;
    assert!(!renewed["recovery_codes"].as_array().unwrap().iter().any(|c| c.as_str() == Some(stored.as_str())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_second_steps_with_one_code_sign_in_once() {
    let app = spawn_app().await;
    let (_, secret, _) = with_totp(&app, "alice").await;
    let body = password_step(&app, "alice").await;
    let token = body["mfa_token"].as_str().unwrap().to_owned();
    let code = secret.code_at(app.clock_now());
    let sessions_before = app.count("SELECT COUNT(*) FROM sessions").await;
    let tries = (0..10).map(|_| second_step(&app, &token, &code)).collect();
    let statuses: Vec<u16> = join_all(tries).await.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    // The others: spent, gone, or counted as guesses beyond the limit.
    assert!(statuses.iter().all(|s| [200, 400, 401, 429].contains(s)), "{statuses:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, sessions_before + 1);
}
