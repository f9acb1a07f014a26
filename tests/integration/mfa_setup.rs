//! Turning two-step sign-in on and off, renewing recovery codes, the
//! policy that requires a factor, and administrators' resets: none of it
//! without a fresh sign-in that has shown the factor.

use gatehouse::auth::totp::TotpSecret;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::mfa::*;

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
