//! Guessing: failed sign-ins are limited per account name and per address,
//! with doubling locks answered by 429 and `Retry-After`, the same answer
//! for names that exist and names that do not, shared through the database.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

const PASSWORD: &str = "correct horse battery";

/// Status, `Retry-After` and message of a response.
async fn answer(res: reqwest::Response) -> (u16, Option<String>, String) {
    let status = res.status().as_u16();
    let retry = res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    let body: Value = res.json().await.unwrap();
    (status, retry, body["msg"].as_str().unwrap_or_default().to_owned())
}

fn locked(secs: i64, words: &str) -> (u16, Option<String>, String) {
    (429, Some(secs.to_string()), format!("Too many attempts. Wait {words} and try again."))
}

fn bad() -> (u16, Option<String>, String) {
    (401, None, "Bad username or password".to_owned())
}

async fn login_from(app: &TestApp, username: &str, password: &str, forwarded_for: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/login"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({ "username": username, "password": password }))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_failures_lock_the_account_and_the_right_password_then_fails_too() {
    let app = spawn_app().await;
    assert_eq!(app.register("alice", PASSWORD).await.status(), 201);
    for _ in 0..5 {
        assert_eq!(answer(app.login("alice", "wrong password").await).await, bad());
    }
    let res = app.login("alice", PASSWORD).await;
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert_eq!(answer(res).await, locked(30, "30 seconds"));
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 0, "no session was created during the lock");

    app.clock.advance(29);
    assert_eq!(answer(app.login("alice", PASSWORD).await).await, locked(1, "1 second"));
    app.clock.advance(1);
    assert_eq!(app.login("alice", PASSWORD).await.status(), 200, "the lock has ended");

    // A success starts the account's count over.
    for _ in 0..4 {
        assert_eq!(answer(app.login("alice", "wrong password").await).await, bad());
    }
    assert_eq!(app.login("alice", PASSWORD).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_further_failure_doubles_the_lock_up_to_fifteen_minutes() {
    let app = spawn_app().await;
    assert_eq!(app.register("alice", PASSWORD).await.status(), 201);
    for _ in 0..5 {
        app.login("alice", "wrong password").await;
    }
    let mut waits = Vec::new();
    for wait in [30, 60, 120, 240, 480, 900, 900] {
        app.clock.advance(wait);
        assert_eq!(answer(app.login("alice", "wrong password").await).await, bad());
        waits.push(answer(app.login("alice", PASSWORD).await).await.1.unwrap());
    }
    assert_eq!(waits, ["60", "120", "240", "480", "900", "900", "900"]);
    assert_eq!(answer(app.login("alice", PASSWORD).await).await.2, "Too many attempts. Wait 15 minutes and try again.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_names_are_locked_exactly_like_real_ones() {
    let app = spawn_app().await;
    assert_eq!(app.register("alice", PASSWORD).await.status(), 201);
    let mut real = Vec::new();
    let mut unknown = Vec::new();
    for _ in 0..7 {
        real.push(answer(app.login("alice", "wrong password").await).await);
        unknown.push(answer(app.login("nobody", "wrong password").await).await);
    }
    assert_eq!(real, unknown);
    assert_eq!(real[5], locked(30, "30 seconds"));
    // Disabled accounts are no different.
    let (root, _) = app.admin("root").await;
    let bob = app.user_id("alice").await;
    let res = app.call(Method::POST, &format!("/api/admin/users/{bob}/disable"), &root, &Value::Null).await;
    assert_eq!(res.status(), 200);
    app.clock.advance(30);
    assert_eq!(answer(app.login("alice", PASSWORD).await).await, bad());
    assert_eq!(answer(app.login("alice", PASSWORD).await).await, locked(60, "1 minute"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_name_is_compared_as_stored_so_case_and_width_do_not_escape_the_lock() {
    let app = spawn_app().await;
    assert_eq!(app.register("alice", PASSWORD).await.status(), 201);
    for name in ["alice", "ALICE", "Alice", "ａｌｉｃｅ", " alice "] {
        app.login(name, "wrong password").await;
    }
    assert_eq!(answer(app.login("alice", PASSWORD).await).await, locked(30, "30 seconds"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_guesses_are_counted_one_by_one() {
    let app = spawn_app().await;
    assert_eq!(app.register("alice", PASSWORD).await.status(), 201);
    let guesses = (0..20).map(|_| app.login("alice", "wrong password")).collect();
    let statuses: Vec<u16> = join_all(guesses).await.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 5, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 15, "{statuses:?}");
    assert_eq!(app.login("alice", PASSWORD).await.status(), 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_right_sign_ins_at_once_all_get_in() {
    let app = spawn_app().await;
    assert_eq!(app.register("alice", PASSWORD).await.status(), 201);
    // Tabs, apps and a retrying client: each attempt is counted as it
    // starts, and contention on the count is no reason to refuse one.
    let sign_ins = (0..50).map(|_| app.login("alice", PASSWORD)).collect();
    let statuses: Vec<u16> = join_all(sign_ins).await.iter().map(|r| r.status().as_u16()).collect();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hits_on_one_key_at_once_are_all_counted_and_none_refused() {
    use gatehouse::auth::throttle::Limit;
    use gatehouse::db::throttles;
    let app = spawn_app().await;
    let limit = Limit { free: 1000, first_lock: 30, max_lock: 900, per_window: 1000 };
    let (db, now) = (&app.state.db, app.clock_now());
    let hits = (0..64).map(|_| throttles::hit(db, "sign-in:203.0.113.7", &limit, now)).collect();
    let answers = join_all(hits).await;
    let refused = answers.iter().filter(|a| !matches!(a, Ok(Ok(_)))).count();
    assert_eq!(refused, 0, "contention alone refused {refused} of 64");
    assert_eq!(app.count("SELECT hits FROM throttles WHERE key = 'sign-in:203.0.113.7'").await, 64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_x_forwarded_for_does_not_escape_the_address_limit() {
    let app = spawn_app().await;
    assert_eq!(app.register("alice", PASSWORD).await.status(), 201);
    // Twenty failures spread over twenty names: no account lock, but the
    // address (the real peer: no proxy is trusted) has had its fill.
    for i in 0..20 {
        let res = login_from(&app, &format!("user{i}"), "wrong password", &format!("198.51.100.{i}")).await;
        assert_eq!(answer(res).await, bad());
    }
    let res = login_from(&app, "alice", PASSWORD, "203.0.113.77").await;
    assert_eq!(answer(res).await, locked(30, "30 seconds"));
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 0);
    let audit: Vec<String> = sqlx_strings(&app, "SELECT ip FROM audit_events WHERE kind = 'sign_in'").await;
    assert!(audit.iter().all(|ip| ip == "127.0.0.1"), "the forged header was not believed: {audit:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_each_forwarded_client_is_counted_apart() {
    let options = Options {
        trusted_proxies: gatehouse::config::proxies::TrustedProxies::parse("127.0.0.1").unwrap(),
        ..Default::default()
    };
    let app = spawn_app_with(options).await;
    assert_eq!(app.register("alice", PASSWORD).await.status(), 201);
    for i in 0..20 {
        login_from(&app, &format!("user{i}"), "wrong password", "forged, 198.51.100.1").await;
    }
    assert_eq!(answer(login_from(&app, "alice", PASSWORD, "198.51.100.1").await).await, locked(30, "30 seconds"));
    assert_eq!(login_from(&app, "alice", PASSWORD, "198.51.100.2").await.status(), 200, "another client is not locked");
    let ips = sqlx_strings(&app, "SELECT DISTINCT ip FROM audit_events WHERE kind = 'sign_in' ORDER BY ip").await;
    assert_eq!(ips, ["198.51.100.1", "198.51.100.2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locks_are_audited_and_visible_to_admins() {
    let app = spawn_app().await;
    let (root, _) = app.admin("root").await;
    for _ in 0..5 {
        app.login("mallory-target", "wrong password").await;
    }
    let res = app.call(Method::GET, "/api/admin/audit?kind=throttled", &root, &Value::Null).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let events = body["items"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{body}");
    assert_eq!(events[0]["subject"], "mallory-target");
    assert_eq!(events[0]["success"], false);
    assert_eq!(events[0]["ip"], "127.0.0.1");
    assert!(events[0]["detail"].as_str().unwrap().starts_with("account locked for 30 s"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sign_in_form_is_throttled_with_the_same_answer() {
    let app = spawn_app().await;
    assert_eq!(app.register("alice", PASSWORD).await.status(), 201);
    for _ in 0..5 {
        let res = app.fn_call("/_fn/login", &[("username", "alice"), ("password", "nope nope nope")], None).await;
        assert_eq!(res.status(), 401);
    }
    let res = app.fn_call("/_fn/login", &[("username", "alice"), ("password", PASSWORD)], None).await;
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["retry-after"], "30");
    assert!(access_cookie(res.headers()).is_none());
    // The page shows the error's text, worked out from the wait.
    assert_eq!(res.json::<Value>().await.unwrap(), json!({ "TooManyAttempts": { "retry_after": 30 } }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirming_a_password_shares_the_account_lock() {
    let app = spawn_app().await;
    let token = app.signed_in("alice").await;
    for _ in 0..5 {
        let res = app.call(Method::POST, "/api/reauth", &token, &json!({ "password": "wrong password" })).await;
        assert_eq!(res.status(), 400);
    }
    let res = app.call(Method::POST, "/api/reauth", &token, &json!({ "password": PASSWORD })).await;
    assert_eq!(answer(res).await, locked(30, "30 seconds"));
    assert_eq!(answer(app.login("alice", PASSWORD).await).await, locked(30, "30 seconds"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_change_shares_the_account_lock_so_a_stolen_session_cannot_guess() {
    let app = spawn_app().await;
    let token = app.signed_in("alice").await;
    let change = async |current: &str| {
        let body = json!({ "current_password": current, "new_password": "a brand new passphrase" });
        app.call(Method::POST, "/api/password", &token, &body).await
    };
    for _ in 0..5 {
        let res = change("wrong password").await;
        assert_eq!(res.status(), 400);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["msg"], "Your current password is not correct.");
    }
    assert_eq!(answer(change(PASSWORD).await).await, locked(30, "30 seconds"));
    assert_eq!(answer(app.login("alice", PASSWORD).await).await, locked(30, "30 seconds"));
    let refused =
        app.count("SELECT COUNT(*) FROM audit_events WHERE kind = 'password_change' AND outcome = 'failure'").await;
    assert_eq!(refused, 5, "each wrong current password is audited");

    app.clock.advance(30);
    assert_eq!(change(PASSWORD).await.status(), 204, "the right password works once the lock ends");
    assert_eq!(app.login("alice", "a brand new passphrase").await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrations_from_one_address_are_limited() {
    let app = spawn_app().await;
    for i in 0..10 {
        assert_eq!(app.register(&format!("user{i}"), PASSWORD).await.status(), 201);
    }
    assert_eq!(answer(app.register("user10", PASSWORD).await).await, locked(60, "1 minute"));
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 10, "nothing was stored");
    app.clock.advance(60);
    assert_eq!(app.register("user10", PASSWORD).await.status(), 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_reset_links_is_limited() {
    let app = spawn_app().await;
    let body = |i: usize| json!({ "token": format!("grs_{i:043}"), "new_password": "another fine password" });
    for i in 0..10 {
        assert_eq!(app.post_json("/api/password/reset", &body(i)).await.status(), 400);
    }
    assert_eq!(answer(app.post_json("/api/password/reset", &body(10)).await).await, locked(30, "30 seconds"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ended_counts_are_purged() {
    let app = spawn_app().await;
    app.login("nobody", "wrong password").await;
    assert_eq!(app.count("SELECT COUNT(*) FROM throttles").await, 2, "the name and the address");
    let now = app.clock_now();
    assert_eq!(gatehouse::db::throttles::purge(&app.state.db, now + 3599).await.unwrap(), 0);
    assert_eq!(gatehouse::db::throttles::purge(&app.state.db, now + 3600).await.unwrap(), 2);
}

async fn sqlx_strings(app: &TestApp, sql: &'static str) -> Vec<String> {
    use sqlx::Row;
    sqlx::query(sql).fetch_all(app.state.db.pool()).await.unwrap().iter().map(|r| r.get::<String, _>(0)).collect()
}
