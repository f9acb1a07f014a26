//! Two-step sign-in with an authenticator app and recovery codes, attacked:
//! skipped, replayed, crossed between accounts, expired, reused, brute
//! forced, raced, and changed without a fresh sign-in.

use gatehouse::auth::totp::TotpSecret;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

const PASSWORD: &str = "correct horse battery";
const STEP_COOKIE: &str = "__Host-gatehouse-step";

/// An account with an authenticator app on: (access token, the app's
/// secret, the recovery codes). The clock then moves to the next step, so
/// the code used to confirm is not the current one.
async fn with_totp(app: &TestApp, username: &str) -> (String, TotpSecret, Vec<String>) {
    let access = app.signed_in(username).await;
    turn_on_totp(app, &access).await
}

/// Turns on an authenticator app from the session `access` holds.
async fn turn_on_totp(app: &TestApp, access: &str) -> (String, TotpSecret, Vec<String>) {
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
async fn password_step(app: &TestApp, username: &str) -> Value {
    let res = app.login(username, PASSWORD).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("set-cookie").is_none(), "no cookie before the second step");
    res.json().await.unwrap()
}

async fn second_step(app: &TestApp, mfa_token: &str, code: &str) -> reqwest::Response {
    app.post_json("/api/login/mfa", &json!({ "mfa_token": mfa_token, "code": code })).await
}

async fn msg(res: reqwest::Response) -> String {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_factors_needs_a_fresh_sign_in_and_a_code_gives_one() {
    let app = spawn_app().await;
    let (access, secret, _) = with_totp(&app, "alice").await;
    app.clock.advance(11 * 60);
    for (method, path) in
        [(Method::DELETE, "/api/mfa/totp"), (Method::POST, "/api/mfa/recovery-codes"), (Method::POST, "/api/mfa/totp")]
    {
        let res = app.call(method, path, &access, &Value::Null).await;
        assert_eq!(res.status(), 401, "{path}");
        assert!(res.headers()["www-authenticate"].to_str().unwrap().contains("insufficient_user_authentication"));
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM totp_factors WHERE confirmed_at IS NOT NULL").await, 1, "still on");

    let res = app.call(Method::POST, "/api/reauth", &access, &json!({ "code": "000000" })).await;
    assert_eq!(res.status(), 400);
    let res = app.call(Method::POST, "/api/reauth", &access, &json!({ "password": PASSWORD, "code": "1" })).await;
    assert_eq!(res.status(), 400, "one way at a time");
    let code = secret.code_at(app.clock_now());
    let res = app.call(Method::POST, "/api/reauth", &access, &json!({ "code": code })).await;
    assert_eq!(res.status(), 200);
    let fresh = res.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned();
    let res = app.call(Method::POST, "/api/reauth", &fresh, &json!({ "code": code })).await;
    assert_eq!(res.status(), 400, "the code was spent");

    assert_eq!(app.call(Method::DELETE, "/api/mfa/totp", &fresh, &Value::Null).await.status(), 204);
    assert_eq!(app.call(Method::DELETE, "/api/mfa/totp", &fresh, &Value::Null).await.status(), 409);
    assert_eq!(app.count("SELECT COUNT(*) FROM recovery_codes").await, 0);
    let res = app.login("alice", PASSWORD).await;
    assert!(res.json::<Value>().await.unwrap()["access_token"].is_string(), "the password alone signs in again");
    let kinds = app.count("SELECT COUNT(*) FROM audit_events WHERE kind IN ('factor_added', 'factor_removed')").await;
    assert_eq!(kinds, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_from_before_the_app_must_show_it_before_changing_it() {
    let app = spawn_app().await;
    // Signed in by password alone, then the app is turned on elsewhere.
    let old = app.signed_in("alice").await;
    let (other, _) = app.login_pair("alice").await;
    let (_, secret, _) = turn_on_totp(&app, &other).await;
    let codes_before = app.count_text("SELECT MIN(hash) FROM recovery_codes").await;

    // Its sign-in is recent, yet it may not make itself codes or drop the app...
    for (method, path) in [(Method::POST, "/api/mfa/recovery-codes"), (Method::DELETE, "/api/mfa/totp")] {
        let res = app.call(method, path, &old, &Value::Null).await;
        assert_eq!(res.status(), 401, "{path}");
        assert!(res.headers()["www-authenticate"].to_str().unwrap().contains("insufficient_user_authentication"));
    }
    // ...and the password no longer confirms who it is.
    let res = app.call(Method::POST, "/api/reauth", &old, &json!({ "password": PASSWORD })).await;
    assert_eq!(res.status(), 400);
    assert!(msg(res).await.contains("two-step sign-in"));
    assert_eq!(app.count_text("SELECT MIN(hash) FROM recovery_codes").await, codes_before, "the codes stand");
    assert_eq!(app.count("SELECT COUNT(*) FROM totp_factors WHERE confirmed_at IS NOT NULL").await, 1);

    // A code does, and then the session may.
    let code = secret.code_at(app.clock_now());
    let res = app.call(Method::POST, "/api/reauth", &old, &json!({ "code": code })).await;
    assert_eq!(res.status(), 200);
    let shown = res.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(app.call(Method::POST, "/api/mfa/recovery-codes", &shown, &Value::Null).await.status(), 200);
    assert_ne!(app.count_text("SELECT MIN(hash) FROM recovery_codes").await, codes_before, "a new set");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_app_is_not_a_factor_and_its_secret_is_sealed() {
    let app = spawn_app().await;
    let access = app.signed_in("alice").await;
    let res = app.call(Method::POST, "/api/mfa/totp", &access, &Value::Null).await;
    let secret = res.json::<Value>().await.unwrap()["secret"].as_str().unwrap().to_owned();
    let sealed = app.count_text("SELECT sealed_secret FROM totp_factors").await;
    assert!(!sealed.contains(&secret) && !sealed.to_uppercase().contains(&secret[..8]), "sealed at rest");
    let res = app.login("alice", PASSWORD).await;
    assert!(res.json::<Value>().await.unwrap()["access_token"].is_string(), "pending: the password still does");

    let res = app.call(Method::POST, "/api/mfa/totp/confirm", &access, &json!({ "code": "12345" })).await;
    assert_eq!(res.status(), 400);
    let res = app.call(Method::POST, "/api/mfa/totp/confirm", &access, &json!({ "code": 123456 })).await;
    assert_eq!(res.status(), 400, "a number is not a string");
    assert_eq!(app.count("SELECT COUNT(*) FROM totp_factors WHERE confirmed_at IS NULL").await, 1);
    let res = app.call(Method::POST, "/api/mfa/recovery-codes", &access, &Value::Null).await;
    assert_eq!(res.status(), 409, "no codes without an app that is on");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_form_sign_in_asks_for_the_code_with_and_without_javascript() {
    let app = spawn_app().await;
    let (_, secret, _) = with_totp(&app, "alice").await;

    // Without JavaScript: the password leads to the code page, with only
    // the pending sign-in's cookie.
    let res = app.form_login("alice", PASSWORD, "/sessions").await;
    assert_eq!(res.status(), 302);
    assert_eq!(location(&res), "/login/code?next=%2Fsessions");
    assert!(access_cookie(res.headers()).is_none() && refresh_cookie(res.headers()).is_none());
    let step = cookie_line(res.headers(), STEP_COOKIE).expect("the pending sign-in's cookie");
    for flag in ["HttpOnly", "Secure", "SameSite=Lax", "Max-Age=300"] {
        assert!(step.contains(flag), "{step}");
    }
    let token = step.split(';').next().unwrap().split_once('=').unwrap().1.to_owned();
    let page = app.page_with("/login/code?next=%2Fsessions", &[(STEP_COOKIE, &token)]).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Enter your code") && html.contains(r#"autocomplete="one-time-code""#));

    let code = secret.code_at(app.clock_now());
    let form = [("code", code.as_str()), ("next", "/sessions")];
    let res = app
        .plain_form("/_fn/second-step", &form)
        .header("origin", &app.base)
        .header("referer", app.url("/login/code?next=%2Fsessions"))
        .header("cookie", format!("{STEP_COOKIE}={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(location(&res), "/sessions");
    let access = access_cookie(res.headers()).expect("signed in");
    assert!(refresh_cookie(res.headers()).is_some());
    assert!(cookie_line(res.headers(), STEP_COOKIE).unwrap().contains("Max-Age=0"), "the step's cookie is cleared");
    assert_eq!(app.page("/sessions", Some(&access)).await.status(), 200);

    // Hydrated: the same, as a server-function call.
    let res = app.fn_call("/_fn/login", &[("username", "alice"), ("password", PASSWORD)], None).await;
    assert!(access_cookie(res.headers()).is_none());
    let step = cookie_line(res.headers(), STEP_COOKIE).unwrap();
    let token = step.split(';').next().unwrap().split_once('=').unwrap().1.to_owned();
    let wrong = app
        .client
        .post(app.url("/_fn/second-step"))
        .header("accept", "application/json")
        .header("origin", &app.base)
        .header("cookie", format!("{STEP_COOKIE}={token}"))
        .form(&[("code", "000000")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 400);
    app.clock.advance(30);
    let code = secret.code_at(app.clock_now());
    let res = app
        .client
        .post(app.url("/_fn/second-step"))
        .header("accept", "application/json")
        .header("origin", &app.base)
        .header("cookie", format!("{STEP_COOKIE}={token}"))
        .form(&[("code", code.as_str())])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success() || res.status().is_redirection(), "{}", res.status());
    assert!(access_cookie(res.headers()).is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_code_on_the_form_goes_back_to_the_password() {
    let app = spawn_app().await;
    let (_, secret, _) = with_totp(&app, "alice").await;
    let res = app.form_login("alice", PASSWORD, "/dashboard").await;
    let step = cookie_line(res.headers(), STEP_COOKIE).unwrap();
    let token = step.split(';').next().unwrap().split_once('=').unwrap().1.to_owned();
    app.clock.advance(301);
    let code = secret.code_at(app.clock_now());
    let res = app
        .plain_form("/_fn/second-step", &[("code", code.as_str()), ("next", "/dashboard")])
        .header("origin", &app.base)
        .header("referer", app.url("/login/code"))
        .header("cookie", format!("{STEP_COOKIE}={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    assert!(location(&res).starts_with("/login?next=%2Fdashboard"), "{}", location(&res));
    assert!(access_cookie(res.headers()).is_none());
    let page = app.follow(&res, None).await;
    assert!(page.text().await.unwrap().contains("took too long"));
}

fn requiring(rule: gatehouse::auth::policy::SecondFactorPolicy) -> Options {
    Options { require_mfa: rule, ..Options::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_policy_requires_a_factor_nothing_opens_until_one_is_set_up() {
    use gatehouse::auth::policy::SecondFactorPolicy;
    let app = spawn_app_with(requiring(SecondFactorPolicy::All)).await;
    let access = app.signed_in("alice").await;

    // The API: everything but setting one up (and signing out) is refused.
    let res = app.protected_with_bearer(&access).await;
    assert_eq!(res.status(), 403);
    assert!(msg(res).await.contains("two-step sign-in"));
    assert_eq!(app.call(Method::GET, "/api/sessions", &access, &Value::Null).await.status(), 403);
    let res = app
        .call(
            Method::POST,
            "/api/password",
            &access,
            &json!({ "current_password": PASSWORD, "new_password": "another long passphrase" }),
        )
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(app.call(Method::GET, "/api/mfa", &access, &Value::Null).await.status(), 200);

    // Pages: every one of the signed-in area leads to the setup page.
    for page in ["/dashboard", "/sessions", "/account"] {
        let res = app.page(page, Some(&access)).await;
        assert_eq!(res.status(), 303, "{page}");
        assert_eq!(location(&res), "/account/two-step", "{page}");
    }
    let res = app.page("/account/two-step", Some(&access)).await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("or add a passkey, to continue"));
    let res = app.fn_call("/_fn/overview", &[], Some(&access)).await;
    assert_eq!(res.status(), 403, "the page's data is refused too");

    // Setting one up opens everything, for this session at once.
    let res = app.call(Method::POST, "/api/mfa/totp", &access, &Value::Null).await;
    let secret = TotpSecret::from_base32(res.json::<Value>().await.unwrap()["secret"].as_str().unwrap()).unwrap();
    let res = app
        .call(Method::POST, "/api/mfa/totp/confirm", &access, &json!({ "code": secret.code_at(app.clock_now()) }))
        .await;
    let upgraded = res.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(app.protected_with_bearer(&upgraded).await.status(), 200);
    assert_eq!(app.page("/dashboard", Some(&upgraded)).await.status(), 200);

    // The last factor stays while the policy requires one.
    let res = app.call(Method::DELETE, "/api/mfa/totp", &upgraded, &Value::Null).await;
    assert_eq!(res.status(), 409);
    assert!(msg(res).await.contains("must keep two-step sign-in"));
    assert_eq!(app.count("SELECT COUNT(*) FROM totp_factors").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requiring_it_of_administrators_leaves_other_people_alone() {
    use gatehouse::auth::policy::SecondFactorPolicy;
    let app = spawn_app_with(requiring(SecondFactorPolicy::Admins)).await;
    let user = app.signed_in("bob").await;
    assert_eq!(app.protected_with_bearer(&user).await.status(), 200);
    let (admin, _) = app.admin("root").await;
    assert_eq!(app.protected_with_bearer(&admin).await.status(), 403);
    let res = app.call(Method::GET, "/api/admin/users", &admin, &Value::Null).await;
    assert_eq!(res.status(), 403);
    assert_eq!(app.call(Method::POST, "/api/logout", &admin, &Value::Null).await.status(), 204, "signing out works");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_resets_a_lost_factor_and_the_persons_sessions_end() {
    let app = spawn_app().await;
    let (alice, _, _) = with_totp(&app, "alice").await;
    let (root, root_id) = app.admin("root").await;
    let alice_id = app.user_id("alice").await;
    let res = app.call(Method::GET, "/api/admin/users?search=alice", &root, &Value::Null).await;
    assert_eq!(res.json::<Value>().await.unwrap()["items"][0]["factors"], json!(["totp"]));

    let path = format!("/api/admin/users/{alice_id}/factors");
    let res = app.call(Method::DELETE, &path, &alice, &Value::Null).await;
    assert_eq!(res.status(), 403, "not for a user");
    let res = app.call(Method::DELETE, &format!("/api/admin/users/{root_id}/factors"), &root, &Value::Null).await;
    assert_eq!(res.status(), 403, "not one's own");
    app.clock.advance(11 * 60);
    let res = app.call(Method::DELETE, &path, &root, &Value::Null).await;
    assert_eq!(res.status(), 401, "a recent sign-in is needed");
    let (root, _) = app.login_pair("root").await;
    let res = app.call(Method::DELETE, &path, &root, &Value::Null).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({ "changed": true }));

    assert_eq!(app.protected_with_bearer(&alice).await.status(), 401, "her sessions ended");
    assert_eq!(app.count("SELECT COUNT(*) FROM totp_factors").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM recovery_codes").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE kind = 'factors_reset'").await, 1);
    let res = app.login("alice", PASSWORD).await;
    assert!(res.json::<Value>().await.unwrap()["access_token"].is_string());
    let res = app.call(Method::DELETE, &path, &root, &Value::Null).await;
    assert_eq!(res.json::<Value>().await.unwrap(), json!({ "changed": false }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_resets_a_factor_too() {
    let app = spawn_app().await;
    if !app.settings.database_url.starts_with("sqlite:") {
        // The command line is run against the server's own SQLite file.
        return;
    }
    let (alice, _, _) = with_totp(&app, "alice").await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["user", "reset-two-step", "alice"])
        .env("GATEHOUSE_DATA_DIR", app.data_dir.path())
        .env_remove("GATEHOUSE_DATABASE_URL")
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("Two-step sign-in of 'alice' is reset"), "{said}");
    assert_eq!(app.protected_with_bearer(&alice).await.status(), 401);
    assert_eq!(app.count("SELECT COUNT(*) FROM totp_factors").await, 0);
}
