//! Password-reset links: issued by an administrator, single use, short
//! lived, replaced by newer ones, bound to their purpose.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

/// Issues a link for `username` as administrator `root`; returns its token.
async fn issue(app: &TestApp, root: &str, username: &str) -> String {
    let path = format!("/api/admin/users/{}/reset-link", app.user_id(username).await);
    let res = app.call(Method::POST, &path, root, &Value::Null).await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["expires_at"], START + 1800);
    let url = body["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/reset?token=grs_", app.base)), "{url}");
    url.split_once("token=").unwrap().1.to_owned()
}

async fn reset(app: &TestApp, token: &str, new: &str) -> (u16, Value) {
    let res = app.post_json("/api/password/reset", &json!({ "token": token, "new_password": new })).await;
    let status = res.status().as_u16();
    (status, if status == 204 { Value::Null } else { res.json().await.unwrap() })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_link_sets_a_new_password_once_and_ends_every_session() {
    let app = spawn_app().await;
    let (root, _) = app.admin("root").await;
    let (bob, bob_refresh) = app.signed_in_pair("bob").await;
    let token = issue(&app, &root, "bob").await;
    assert_eq!(app.count("SELECT COUNT(*) FROM password_resets WHERE hash LIKE 'grs_%'").await, 0, "stored hashed");

    let html = app.page(&format!("/reset?token={token}"), None).await.text().await.unwrap();
    assert!(html.contains(r#"data-testid="reset-username">bob<"#), "the page names the account");

    assert_eq!(reset(&app, &token, "password").await.0, 400, "the policy applies");
    assert_eq!(app.protected_with_bearer(&bob).await.status(), 200, "a refused reset changes nothing");
    assert_eq!(reset(&app, &token, "a fresh new passphrase").await.0, 204);
    assert_eq!(app.protected_with_bearer(&bob).await.status(), 401);
    assert_eq!(app.refresh(&bob_refresh).await.status(), 401);
    assert_eq!(app.login("bob", "correct horse battery").await.status(), 401);
    assert_eq!(app.login("bob", "a fresh new passphrase").await.status(), 200);

    let (status, body) = reset(&app, &token, "yet another passphrase").await;
    assert_eq!(status, 400);
    assert_eq!(body["msg"], "This reset link has already been used. Ask an administrator for a new one.");
    assert_eq!(app.login("bob", "a fresh new passphrase").await.status(), 200, "unchanged by the second use");
    let html = app.page(&format!("/reset?token={token}"), None).await.text().await.unwrap();
    assert!(html.contains("already been used"));
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE kind IN ('reset_issued', 'reset_used')").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_link_expires_and_a_newer_one_replaces_it() {
    let app = spawn_app().await;
    let (root, _) = app.admin("root").await;
    app.register("bob", "correct horse battery").await;
    let old = issue(&app, &root, "bob").await;
    let new = issue(&app, &root, "bob").await;
    let (status, body) = reset(&app, &old, "a fresh new passphrase").await;
    assert_eq!(status, 400);
    assert!(body["msg"].as_str().unwrap().starts_with("This reset link is not valid."), "{body}");

    app.clock.advance(1800);
    let (status, body) = reset(&app, &new, "a fresh new passphrase").await;
    assert_eq!(status, 400);
    assert_eq!(body["msg"], "This reset link has expired. Ask an administrator for a new one.");
    assert_eq!(app.login("bob", "correct horse battery").await.status(), 200, "the password is unchanged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_malformed_or_misused_secrets_get_a_clear_answer_and_act_as_nothing_else() {
    let app = spawn_app().await;
    let (root, _) = app.admin("root").await;
    let (_, refresh) = app.signed_in_pair("bob").await;
    let token = issue(&app, &root, "bob").await;

    let forged = format!("grs_{}", "A".repeat(43));
    for bad in [forged.as_str(), "", "grs_short", refresh.as_str(), &"x".repeat(5000)] {
        let res = app.page(&format!("/reset?token={bad}"), None).await;
        assert_eq!(res.status(), 200);
        let html = res.text().await.unwrap();
        assert!(html.contains("This reset link is not valid."), "{}", &bad[..bad.len().min(10)]);
        let (status, body) = reset(&app, bad, "a fresh new passphrase").await;
        assert_eq!(status, 400);
        assert!(body["msg"].as_str().unwrap().starts_with("This reset link is not valid."));
    }
    // A reset secret is no access token and no refresh token.
    assert_eq!(app.protected_with_bearer(&token).await.status(), 401);
    assert_eq!(app.refresh(&token).await.status(), 401);
    // Ten tries from one address: the next waits out a short lock.
    let (status, body) = reset(&app, &token, "a fresh new passphrase").await;
    assert_eq!((status, body["msg"].as_str().unwrap()), (429, "Too many attempts. Wait 30 seconds and try again."));
    app.clock.advance(30);
    // And it still works for its own purpose afterwards.
    assert_eq!(reset(&app, &token, "a fresh new passphrase").await.0, 204);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reset_form_works_without_javascript_and_checks_the_confirmation() {
    let app = spawn_app().await;
    let (root, _) = app.admin("root").await;
    app.register("bob", "correct horse battery").await;
    let token = issue(&app, &root, "bob").await;
    // The reset page hides its address (it holds the secret), so its form
    // posts carry no Referer to go back to: the server names the page.
    let form =
        [("token", token.as_str()), ("new_password", "a fresh new passphrase"), ("confirm_password", "a fresh new")];
    let res = app.form_post_from_hidden_page("/_fn/reset-password", &form).await;
    assert_eq!(res.status(), 302);
    assert_eq!(location(&res), format!("/reset?token={token}"), "back to the form, no error in the URL");
    let res = app.follow(&res, None).await;
    assert_eq!(res.status(), 400);
    let html = res.text().await.unwrap();
    let error = html.split(r#"data-testid="confirm_password-error""#).nth(1).unwrap().split("</p>").next().unwrap();
    assert!(error.contains("do not match"), "{error}");
    assert!(!html.contains("a fresh new"), "no typed password is sent back: {html}");
    assert_eq!(app.login("bob", "correct horse battery").await.status(), 200, "the password did not change");

    let form = [
        ("token", token.as_str()),
        ("new_password", "a fresh new passphrase"),
        ("confirm_password", "a fresh new passphrase"),
    ];
    let res = app.form_post_from_hidden_page("/_fn/reset-password", &form).await;
    assert_eq!(res.status(), 302);
    assert_eq!(location(&res), "/login");
    let html = app.follow(&res, None).await.text().await.unwrap();
    assert!(html.contains("Your new password is set"), "{html}");
    assert_eq!(app.login("bob", "a fresh new passphrase").await.status(), 200);

    // A used link refused without JavaScript comes back to its page,
    // which explains the link is spent.
    let res = app.form_post_from_hidden_page("/_fn/reset-password", &form).await;
    assert_eq!(location(&res), format!("/reset?token={token}"));
    let html = app.follow(&res, None).await.text().await.unwrap();
    assert!(html.contains("already been used"), "{html}");
}
