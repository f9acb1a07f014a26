//! Roles and the admin area: enforced on the server for pages, server
//! functions and the API; changes apply at once; the last administrator
//! stays; sensitive actions need a recent sign-in.

use gatehouse::domain::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

async fn msg(res: reqwest::Response) -> (u16, String) {
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap();
    (status, body["msg"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_cannot_reach_the_admin_area_by_page_server_function_or_api() {
    let app = spawn_app().await;
    app.admin("root").await;
    let (bob, _) = app.signed_in_pair("bob").await;
    let root_id = app.user_id("root").await;

    let (status, text) = msg(app.call(Method::GET, "/api/admin/users", &bob, &Value::Null).await).await;
    assert_eq!((status, text.as_str()), (403, "You do not have permission to do that."));
    let path = format!("/api/admin/users/{root_id}/disable");
    assert_eq!(app.call(Method::POST, &path, &bob, &Value::Null).await.status(), 403);
    assert_eq!(app.call(Method::GET, "/api/admin/audit", &bob, &Value::Null).await.status(), 403);

    let cookie = access_cookie(app.form_login("bob", "correct horse battery", "").await.headers()).unwrap();
    for page in ["/admin", "/admin/audit", "/admin/no-such-page"] {
        let res = app.page(page, Some(&cookie)).await;
        assert_eq!(res.status(), 403, "{page}");
        let html = res.text().await.unwrap();
        assert!(html.contains("You do not have access to this page"), "{page}");
        assert!(!html.contains("user-table") && !html.contains(&root_id), "{page}: no account data in a refused page");
    }
    let res = app.fn_call("/_fn/admin/users", &[], Some(&cookie)).await;
    assert_eq!(res.status(), 403);
    let res = app
        .fn_call(
            "/_fn/admin/account",
            &[("user_id", &root_id), ("username", "root"), ("action", "disable")],
            Some(&cookie),
        )
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE disabled_at IS NOT NULL").await, 0, "nothing changed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_change_applies_at_once_to_tokens_already_issued() {
    let app = spawn_app().await;
    let (root, _) = app.admin("root").await;
    let (bob, _) = app.signed_in_pair("bob").await;
    let bob_id = app.user_id("bob").await;
    let role = format!("/api/admin/users/{bob_id}/role");

    assert_eq!(app.call(Method::GET, "/api/admin/users", &bob, &Value::Null).await.status(), 403);
    let res = app.call(Method::POST, &role, &root, &json!({ "role": "admin" })).await;
    assert_eq!(res.json::<Value>().await.unwrap(), json!({ "changed": true }));
    assert_eq!(app.call(Method::GET, "/api/admin/users", &bob, &Value::Null).await.status(), 200, "same token");
    app.call(Method::POST, &role, &root, &json!({ "role": "user" })).await;
    assert_eq!(app.call(Method::GET, "/api/admin/users", &bob, &Value::Null).await.status(), 403);

    let res = app.call(Method::POST, &role, &root, &json!({ "role": "owner" })).await;
    assert_eq!(msg(res).await, (400, "role must be 'user' or 'admin'".into()));
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE kind = 'role_change'").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabling_signs_a_user_out_everywhere_and_sign_in_answers_as_for_a_wrong_password() {
    let app = spawn_app().await;
    let (root, _) = app.admin("root").await;
    let (bob, bob_refresh) = app.signed_in_pair("bob").await;
    let bob_id = app.user_id("bob").await;

    let res = app.call(Method::POST, &format!("/api/admin/users/{bob_id}/disable"), &root, &Value::Null).await;
    assert_eq!(res.json::<Value>().await.unwrap(), json!({ "changed": true }));
    assert_eq!(app.protected_with_bearer(&bob).await.status(), 401);
    assert_eq!(app.refresh(&bob_refresh).await.status(), 401);
    let disabled = msg(app.login("bob", "correct horse battery").await).await;
    let wrong = msg(app.login("bob", "not the password").await).await;
    let unknown = msg(app.login("nobody", "not the password").await).await;
    assert_eq!(disabled, (401, "Bad username or password".into()));
    assert_eq!(disabled, wrong);
    assert_eq!(disabled, unknown);
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions WHERE revoked_at IS NULL AND user_id <> (SELECT id FROM users WHERE username = 'root')").await, 0);

    app.call(Method::POST, &format!("/api/admin/users/{bob_id}/enable"), &root, &Value::Null).await;
    assert_eq!(app.login("bob", "correct horse battery").await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_admin_stays_and_no_admin_can_lock_themselves_out() {
    let app = spawn_app().await;
    let (root, root_id) = app.admin("root").await;
    let own = |what: &str| format!("/api/admin/users/{root_id}/{what}");

    let (status, text) = msg(app.call(Method::POST, &own("role"), &root, &json!({ "role": "user" })).await).await;
    assert_eq!(status, 403);
    assert!(text.starts_with("You cannot change the role of your own account"), "{text}");
    assert_eq!(app.call(Method::POST, &own("disable"), &root, &Value::Null).await.status(), 403);

    // The command line has no "self", so the database check is what stops it.
    let cli = gatehouse::auth::caller::Client::command_line();
    let actor = gatehouse::accounts::administer::Actor::CommandLine;
    let err = gatehouse::accounts::administer::set_role(
        &app.state,
        actor,
        &root_id.as_str().into(),
        gatehouse::domain::Role::User,
        &cli,
    )
    .await;
    assert_eq!(err.unwrap_err().status(), 409);
    let err =
        gatehouse::accounts::administer::set_disabled(&app.state, actor, &root_id.as_str().into(), true, &cli).await;
    assert_eq!(err.unwrap_err().status(), 409);
    assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL").await, 1);

    // With a second administrator, either may be demoted by the other.
    let (_, second_id) = app.admin("second").await;
    let res =
        app.call(Method::POST, &format!("/api/admin/users/{second_id}/role"), &root, &json!({ "role": "user" })).await;
    assert_eq!(res.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_actions_need_a_recent_sign_in_and_a_refresh_does_not_count() {
    let app = spawn_app().await;
    let (root, _) = app.admin("root").await;
    let (_, root_refresh) = app.login_pair("root").await;
    app.register("bob", "correct horse battery").await;
    let disable = format!("/api/admin/users/{}/disable", app.user_id("bob").await);

    app.clock.advance(601);
    let res = app.call(Method::POST, &disable, &root, &Value::Null).await;
    assert_eq!(res.status(), 401);
    let challenge = res.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(challenge.contains(r#"error="insufficient_user_authentication""#), "{challenge}");
    assert_eq!(msg(res).await.1, "For your security, confirm your password to continue.");
    assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE disabled_at IS NOT NULL").await, 0);

    // A refreshed token is no fresher.
    let renewed: Value = app.refresh(&root_refresh).await.json().await.unwrap();
    let renewed = renewed["access_token"].as_str().unwrap();
    assert_eq!(app.call(Method::POST, &disable, renewed, &Value::Null).await.status(), 401);

    let res = app.call(Method::POST, "/api/reauth", &root, &json!({ "password": "wrong one" })).await;
    assert_eq!(msg(res).await, (400, "That password is not correct.".into()));
    let res = app.call(Method::POST, "/api/reauth", &root, &json!({ "password": "correct horse battery" })).await;
    assert_eq!(res.status(), 200);
    let fresh: Value = res.json().await.unwrap();
    let fresh = fresh["access_token"].as_str().unwrap();
    assert_eq!(app.call(Method::POST, &disable, fresh, &Value::Null).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_sign_in_is_sent_to_confirm_the_password_and_back() {
    let app = spawn_app().await;
    app.admin("root").await;
    let cookie = access_cookie(app.form_login("root", "correct horse battery", "").await.headers()).unwrap();
    assert_eq!(app.page("/admin", Some(&cookie)).await.status(), 200);
    app.clock.advance(601);
    let res = app.page("/admin?search=bo", Some(&cookie)).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/reauth?next=%2Fadmin%3Fsearch%3Dbo");
    assert_eq!(app.page("/dashboard", Some(&cookie)).await.status(), 200, "ordinary pages do not ask");

    let form = [("password", "correct horse battery"), ("next", "/admin?search=bo")];
    let res = app.form_post("/_fn/reauth", &form, &app.url("/reauth"), Some(&cookie)).await;
    assert_eq!(res.status(), 302);
    assert_eq!(location(&res), "/admin?search=bo");
    let fresh = access_cookie(res.headers()).unwrap();
    assert_eq!(app.page("/admin?search=bo", Some(&fresh)).await.status(), 200);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE kind = 'reauthenticate'").await, 1);
}

/// What a client-side navigation fetches meets the page's rule as a page
/// load does: the page frame says why the page may not be shown, and the
/// server functions feeding it refuse their data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_side_navigation_meets_the_same_rule_as_a_page_load() {
    let app = spawn_app().await;
    app.admin("root").await;
    let root = access_cookie(app.form_login("root", "correct horse battery", "").await.headers()).unwrap();
    app.register("bob", "correct horse battery").await;
    let bob = access_cookie(app.form_login("bob", "correct horse battery", "").await.headers()).unwrap();
    let frame = |path: &'static str, cookie: Option<&str>| {
        let cookie = cookie.map(str::to_owned);
        let app = &app;
        async move {
            let res = app.fn_call("/_fn/page", &[("path", path)], cookie.as_deref()).await;
            assert_eq!(res.status(), 200, "{path}");
            let frame: Value = res.json().await.unwrap();
            frame["refused"].clone()
        }
    };

    assert_eq!(frame("/admin", Some(&root)).await, Value::Null, "a fresh administrator passes");
    assert_eq!(frame("/login", None).await, Value::Null, "anyone may see the sign-in page");
    assert!(frame("/dashboard", None).await["Unauthorized"].is_string(), "nobody signed in: sign in first");
    assert_eq!(
        frame("/admin/audit", Some(&bob)).await,
        json!({ "Forbidden": "You do not have permission to do that." })
    );

    app.clock.advance(601);
    assert_eq!(frame("/admin/audit", Some(&root)).await, json!("ReauthRequired"), "too old a sign-in");
    assert_eq!(frame("/account", Some(&bob)).await, json!("ReauthRequired"));
    assert_eq!(frame("/dashboard", Some(&bob)).await, Value::Null, "ordinary pages do not ask");
    for path in ["/_fn/admin/users", "/_fn/admin/audit"] {
        let res = app.fn_call(path, &[], Some(&root)).await;
        assert_eq!(res.status(), 401, "{path}");
        assert_eq!(res.json::<Value>().await.unwrap(), json!("ReauthRequired"), "{path}");
    }
    let res = app.fn_call("/_fn/admin/users", &[], Some(&bob)).await;
    assert_eq!(res.status(), 403, "another role is refused before any freshness question");
    // The JSON API keeps its own rule for reading lists: an administrator, any age of sign-in.
    let (token, _) = app.login_pair("root").await;
    app.clock.advance(601);
    assert_eq!(app.call(Method::GET, "/api/admin/users", &token, &Value::Null).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_can_be_searched_and_paged() {
    let app = spawn_app().await;
    let (root, _) = app.admin("root").await;
    // Made as the command line makes them: registering over HTTP is
    // limited per address.
    let names = (0..24).map(|i| format!("member{i:02}")).chain(["x_y".into(), "xzy".into()]);
    let cli = gatehouse::auth::caller::Client::command_line();
    for name in names {
        gatehouse::accounts::register(&app.state, &name, "correct horse battery", Role::User, &cli).await.unwrap();
    }
    let list = |q: &'static str| {
        let root = root.clone();
        let app = &app;
        async move {
            app.call(Method::GET, &format!("/api/admin/users{q}"), &root, &Value::Null)
                .await
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let first = list("").await;
    assert_eq!((first["total"].as_i64(), first["items"].as_array().unwrap().len()), (Some(27), 20));
    let second = list("?page=2").await;
    assert_eq!(second["items"].as_array().unwrap().len(), 7);
    let found = list("?search=MEMBER1").await;
    assert_eq!(found["total"], 10);
    // '_' is a literal here, not a LIKE wildcard.
    let found = list("?search=x_").await;
    assert_eq!(found["items"][0]["username"], "x_y");
    assert_eq!(found["total"], 1);
    let res = app.call(Method::GET, "/api/admin/users?page=two", &root, &Value::Null).await;
    assert_eq!(res.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_records_who_did_what_from_where_and_filters() {
    let app = spawn_app().await;
    let (root, _) = app.admin("root").await;
    app.register("bob", "correct horse battery").await;
    app.client
        .post(app.url("/api/login"))
        .header("user-agent", "curl/8.0")
        .json(&json!({ "username": "Bob", "password": "guess guess" }))
        .send()
        .await
        .unwrap();
    let res =
        app.call(Method::GET, "/api/admin/audit?kind=sign_in&outcome=failure&user=bob", &root, &Value::Null).await;
    let page: Value = res.json().await.unwrap();
    assert_eq!(page["total"], 1, "{page}");
    let event = &page["items"][0];
    assert_eq!(event["kind"], "sign_in");
    assert_eq!(event["success"], false);
    assert_eq!(event["subject"], "bob");
    assert_eq!(event["ip"], "127.0.0.1");
    assert_eq!(event["user_agent"], "curl/8.0");
    assert_eq!(event["detail"], "wrong password");

    let all: Value = app.call(Method::GET, "/api/admin/audit", &root, &Value::Null).await.json().await.unwrap();
    let kinds: Vec<&str> = all["items"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["sign_in", "register", "sign_in", "register"], "newest first");
    let res = app.call(Method::GET, "/api/admin/audit?kind=nonsense", &root, &Value::Null).await;
    assert_eq!(msg(res).await, (400, "Unknown event kind: leave 'kind' out, or send one this document lists.".into()));

    let html = app
        .page(
            "/admin/audit?user=bob",
            Some(&access_cookie(app.form_login("root", "correct horse battery", "").await.headers()).unwrap()),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("wrong password") && html.contains("curl"), "the page shows the event");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_buttons_work_without_javascript_and_never_put_a_reset_link_in_a_url() {
    let app = spawn_app().await;
    app.admin("root").await;
    let (bob, _) = app.signed_in_pair("bob").await;
    let bob_id = app.user_id("bob").await;
    let cookie = access_cookie(app.form_login("root", "correct horse battery", "").await.headers()).unwrap();
    let list = app.url("/admin?search=bo");

    let form = [("user_id", bob_id.as_str()), ("username", "bob"), ("action", "disable"), ("back", "/admin?search=bo")];
    let res = app.form_post("/_fn/admin/account", &form, &list, Some(&cookie)).await;
    assert_eq!(res.status(), 302);
    assert_eq!(location(&res), "/admin?search=bo");
    assert_eq!(app.protected_with_bearer(&bob).await.status(), 401);
    let html = app.follow(&res, Some(&cookie)).await.text().await.unwrap();
    assert!(html.contains("bob is disabled and signed out everywhere."));

    let form = [
        ("user_id", bob_id.as_str()),
        ("username", "bob"),
        ("action", "reset-link"),
        ("back", "https://evil.example/"),
    ];
    let res = app.form_post("/_fn/admin/account", &form, &list, Some(&cookie)).await;
    assert_eq!(res.status(), 302);
    let to = location(&res);
    assert_eq!(to, "/dashboard", "never off the site");
    let html = app.follow(&res, Some(&cookie)).await.text().await.unwrap();
    assert!(html.contains("can only be shown with JavaScript on") && !html.contains("grs_"), "{html}");
    assert_eq!(app.count("SELECT COUNT(*) FROM password_resets").await, 1);

    let form = [("user_id", bob_id.as_str()), ("username", "bob"), ("action", "explode")];
    let res = app.fn_call("/_fn/admin/account", &form, Some(&cookie)).await;
    assert_eq!(res.status(), 400);
}
