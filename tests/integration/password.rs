//! Changing a password: the current one is required, every other session
//! ends, this one stays, and a refused change leaves everything as it was.

use serde_json::{Value, json};

use crate::helpers::*;

const OLD: &str = "correct horse battery";
const NEW: &str = "a brand new passphrase";

async fn change(app: &TestApp, access: &str, current: &str, new: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/password"))
        .bearer_auth(access)
        .json(&json!({ "current_password": current, "new_password": new }))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_the_password_ends_every_other_session_and_keeps_this_one() {
    let app = spawn_app().await;
    let (phone, phone_refresh) = app.signed_in_pair("alice").await;
    let (laptop, laptop_refresh) = app.login_pair("alice").await;

    assert_eq!(change(&app, &laptop, OLD, NEW).await.status(), 204);

    assert_eq!(app.protected_with_bearer(&laptop).await.status(), 200, "this session stays");
    assert_eq!(app.refresh(&laptop_refresh).await.status(), 200);
    assert_eq!(app.protected_with_bearer(&phone).await.status(), 401, "the other session ended");
    assert_eq!(app.refresh(&phone_refresh).await.status(), 401);
    assert_eq!(app.login("alice", OLD).await.status(), 401);
    assert_eq!(app.login("alice", NEW).await.status(), 200);
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions WHERE revoked_reason = 'password changed'").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_change_changes_nothing() {
    let app = spawn_app().await;
    let (phone, _) = app.signed_in_pair("alice").await;
    let (laptop, _) = app.login_pair("alice").await;
    let cases = [
        ("wrong current", NEW, "Your current password is not correct."),
        (OLD, "short", "Passwords are at least 8 characters long."),
        (OLD, OLD, "Choose a password different from your current one."),
        ("", NEW, "Enter a password."),
    ];
    for (current, new, msg) in cases {
        let res = change(&app, &laptop, current, new).await;
        assert_eq!(res.status(), 400, "{msg}");
        assert_eq!(res.json::<Value>().await.unwrap(), json!({ "msg": msg }));
    }
    assert_eq!(app.protected_with_bearer(&phone).await.status(), 200, "no session ended");
    assert_eq!(app.login("alice", OLD).await.status(), 200, "the password is unchanged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_change_needs_a_signed_in_caller() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(app.url("/api/password"))
        .json(&json!({ "current_password": OLD, "new_password": NEW }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let res = app.page("/account", None).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/login?next=%2Faccount");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_account_form_works_without_javascript() {
    let app = spawn_app().await;
    app.register("alice", OLD).await;
    let cookie = access_cookie(app.form_login("alice", OLD, "").await.headers()).unwrap();
    let (other, _) = app.login_pair("alice").await;
    let res = app
        .form_post(
            "/_fn/change-password",
            &[("current_password", OLD), ("new_password", NEW), ("confirm_password", NEW)],
            &app.url("/account"),
            Some(&cookie),
        )
        .await;
    assert_eq!(res.status(), 302);
    assert_eq!(location(&res), "/account");
    let html = app.follow(&res, Some(&cookie)).await.text().await.unwrap();
    assert!(html.contains("Your password was changed."), "{html}");
    assert_eq!(app.protected_with_bearer(&other).await.status(), 401);
}
