//! The token lifecycle: refresh rotation, reuse detection, races, silent
//! refresh during page loads, and revocation that holds everywhere.

use serde_json::{Value, json};

use crate::helpers::*;

async fn pair_of(res: reqwest::Response) -> (String, String) {
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    (body["access_token"].as_str().unwrap().to_owned(), body["refresh_token"].as_str().unwrap().to_owned())
}

async fn assert_401(res: reqwest::Response, msg: &str) {
    assert_eq!(res.status(), 401);
    assert!(res.headers().contains_key("www-authenticate"));
    assert_eq!(res.json::<Value>().await.unwrap(), json!({ "msg": msg }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_rotates_both_tokens_and_the_new_ones_work() {
    let app = spawn_app().await;
    let (a1, r1) = app.signed_in_pair("alice").await;
    assert!(r1.starts_with("grt_"));
    app.clock.advance(60);
    let (a2, r2) = pair_of(app.refresh(&r1).await).await;
    assert_ne!(a1, a2);
    assert_ne!(r1, r2);
    assert_eq!(app.protected_with_bearer(&a2).await.status(), 200);
    assert_eq!(app.count("SELECT COUNT(*) FROM refresh_tokens").await, 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM refresh_tokens WHERE rotated_at IS NULL").await, 1);
    let (_, r3) = pair_of(app.refresh(&r2).await).await;
    assert_ne!(r3, r2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reused_refresh_token_ends_the_session_for_thief_and_owner_alike() {
    let app = spawn_app().await;
    let (a1, r1) = app.signed_in_pair("alice").await;
    let (a2, r2) = pair_of(app.refresh(&r1).await).await;
    app.clock.advance(app.state.refresh.reuse_grace + 1);
    // The thief replays the old token.
    assert_401(app.refresh(&r1).await, "Refresh token was already used; the session has been ended for safety").await;
    // The owner's newest tokens died with it.
    assert_401(app.refresh(&r2).await, "Session has ended; sign in again").await;
    assert_401(app.protected_with_bearer(&a2).await, "Token has been revoked").await;
    assert_401(app.protected_with_bearer(&a1).await, "Token has been revoked").await;
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions WHERE revoked_reason = 'refresh token reuse'").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_rotated_moments_ago_is_superseded_not_an_alarm() {
    let app = spawn_app().await;
    let (_, r1) = app.signed_in_pair("alice").await;
    let (_, r2) = pair_of(app.refresh(&r1).await).await;
    let res = app.refresh(&r1).await;
    assert_eq!(res.status(), 409);
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions WHERE revoked_at IS NOT NULL").await, 0);
    assert_eq!(app.refresh(&r2).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_parallel_refreshes_yield_exactly_one_new_pair() {
    let app = spawn_app().await;
    let (_, r1) = app.signed_in_pair("alice").await;
    let calls: Vec<_> = (0..20).map(|_| app.refresh(&r1)).collect();
    let results: Vec<u16> = join_all(calls).await.iter().map(|r| r.status().as_u16()).collect();
    let ok: Vec<_> = results.iter().filter(|s| **s == 200).collect();
    let superseded = results.iter().filter(|s| **s == 409).count();
    assert_eq!(ok.len(), 1, "{results:?}");
    assert_eq!(superseded, 19, "{results:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM refresh_tokens WHERE rotated_at IS NULL").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions WHERE revoked_at IS NULL").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_and_refresh_tokens_cannot_stand_in_for_each_other() {
    let app = spawn_app().await;
    let (access, refresh) = app.signed_in_pair("alice").await;
    assert_401(app.refresh(&access).await, "Refresh token is invalid").await;
    assert_401(app.protected_with_bearer(&refresh).await, "Token is malformed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_malformed_and_missing_refresh_tokens_are_401() {
    let app = spawn_app().await;
    for junk in ["grt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "nonsense", &"a".repeat(20_000)] {
        assert_401(app.refresh(junk).await, "Refresh token is invalid").await;
    }
    let res = app.client.post(app.url("/api/refresh")).send().await.unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_token_dies_after_its_idle_limit() {
    let app = spawn_app().await;
    let (_, r1) = app.signed_in_pair("alice").await;
    app.clock.advance(app.state.refresh.idle_ttl);
    assert_401(app.refresh(&r1).await, "Refresh token has expired; sign in again").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_session_still_ends_at_its_absolute_limit() {
    let app = spawn_app().await;
    let (_, mut r) = app.signed_in_pair("alice").await;
    let step = app.state.refresh.idle_ttl - 60;
    let mut elapsed = 0;
    while elapsed + step < app.state.refresh.absolute_ttl {
        app.clock.advance(step);
        elapsed += step;
        r = pair_of(app.refresh(&r).await).await.1;
    }
    app.clock.advance(app.state.refresh.absolute_ttl - elapsed);
    assert_401(app.refresh(&r).await, "Refresh token has expired; sign in again").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_racing_a_refresh_is_never_undone() {
    let app = spawn_app().await;
    let (a1, r1) = app.signed_in_pair("alice").await;
    let logout = app.client.post(app.url("/api/logout")).bearer_auth(&a1).send();
    let refresh = app.refresh(&r1);
    let (logout, refresh) = tokio::join!(logout, refresh);
    assert_eq!(logout.unwrap().status(), 204);
    // Whatever the refresh got, none of it works now.
    if refresh.status() == 200 {
        let (a2, r2) = pair_of(refresh).await;
        assert_eq!(app.protected_with_bearer(&a2).await.status(), 401);
        assert_eq!(app.refresh(&r2).await.status(), 401);
    }
    assert_eq!(app.protected_with_bearer(&a1).await.status(), 401);
    app.clock.advance(app.state.refresh.reuse_grace + 1);
    assert_eq!(app.refresh(&r1).await.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_account_can_neither_refresh_nor_use_its_access_token() {
    let app = spawn_app().await;
    let (a1, r1) = app.signed_in_pair("alice").await;
    sqlx::query("UPDATE users SET disabled_at = 1").execute(app.state.db.pool()).await.unwrap();
    assert_401(app.protected_with_bearer(&a1).await, "Account is not available").await;
    assert_401(app.refresh(&r1).await, "Account is not available").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_everywhere_ends_every_device() {
    let app = spawn_app().await;
    let (phone_access, phone_refresh) = app.signed_in_pair("alice").await;
    let (laptop_access, _) = app.login_pair("alice").await;
    let res = app.client.post(app.url("/api/logout/everywhere")).bearer_auth(&laptop_access).send().await.unwrap();
    assert_eq!(res.status(), 204);
    assert_401(app.protected_with_bearer(&phone_access).await, "Token has been revoked").await;
    assert_401(app.protected_with_bearer(&laptop_access).await, "Token has been revoked").await;
    assert_401(app.refresh(&phone_refresh).await, "Session has ended; sign in again").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_see_their_sessions_and_can_end_one() {
    let app = spawn_app().await;
    let (phone, _) = app.signed_in_pair("alice").await;
    let (laptop, _) = app.login_pair("alice").await;
    let (_, bob_refresh) = app.signed_in_pair("bob").await;
    let list = |token: String| {
        let app = &app;
        async move {
            let res = app.client.get(app.url("/api/sessions")).bearer_auth(token).send().await.unwrap();
            assert_eq!(res.status(), 200);
            res.json::<Value>().await.unwrap()["sessions"].as_array().unwrap().clone()
        }
    };
    let sessions = list(laptop.clone()).await;
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    let other = sessions.iter().find(|s| s["current"] == false).unwrap()["id"].as_str().unwrap().to_owned();

    // Bob cannot end Alice's session.
    let (bob_access, _) = pair_of(app.refresh(&bob_refresh).await).await;
    let res =
        app.client.delete(app.url(&format!("/api/sessions/{other}"))).bearer_auth(&bob_access).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let refused = res.json::<Value>().await.unwrap();
    assert_eq!(refused["msg"], "No live session of yours has that id: it has ended already.");
    assert_eq!(app.protected_with_bearer(&phone).await.status(), 200);

    let end = || app.client.delete(app.url(&format!("/api/sessions/{other}"))).bearer_auth(&laptop).send();
    assert_eq!(end().await.unwrap().status(), 204);
    assert_eq!(app.protected_with_bearer(&phone).await.status(), 401);
    assert_eq!(list(laptop.clone()).await.len(), 1);

    // Ending it again finds nothing to end, and says the same as for Bob.
    let again = end().await.unwrap();
    assert_eq!(again.status(), 404);
    assert_eq!(again.json::<Value>().await.unwrap(), refused);
    assert_eq!(list(laptop).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_access_cookie_is_renewed_silently_during_the_page_load() {
    let app = spawn_app().await;
    app.register("alice", "correct horse battery").await;
    let res = app.form_login("alice", "correct horse battery", "").await;
    let access = access_cookie(res.headers()).unwrap();
    let refresh = refresh_cookie(res.headers()).unwrap();
    app.clock.advance(app.state.tokens.access_ttl + app.state.tokens.leeway);

    // The browser dropped the expired access cookie; only refresh is left.
    let res = app.page_with("/dashboard", &[(REFRESH_COOKIE, &refresh)]).await;
    assert_eq!(res.status(), 200);
    let new_access = access_cookie(res.headers()).expect("a renewed access cookie");
    let new_refresh = refresh_cookie(res.headers()).expect("a renewed refresh cookie");
    assert_ne!(new_access, access);
    assert_ne!(new_refresh, refresh);
    assert!(res.text().await.unwrap().contains("Signed in as <strong>alice</strong>"));

    // A stale access cookie next to the refresh cookie works the same way.
    let res = app.page_with("/dashboard", &[(ACCESS_COOKIE, &access), (REFRESH_COOKIE, &new_refresh)]).await;
    assert_eq!(res.status(), 200);
    assert!(access_cookie(res.headers()).is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_load_with_a_reused_refresh_cookie_signs_out_and_clears_cookies() {
    let app = spawn_app().await;
    let (_, r1) = app.signed_in_pair("alice").await;
    pair_of(app.refresh(&r1).await).await;
    app.clock.advance(app.state.refresh.reuse_grace + 1);
    let res = app.page_with("/dashboard", &[(REFRESH_COOKIE, &r1)]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/login?next=%2Fdashboard");
    assert!(cookie_line(res.headers(), REFRESH_COOKIE).unwrap().contains("Max-Age=0"));
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions WHERE revoked_at IS NOT NULL").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_functions_renew_tokens_too() {
    let app = spawn_app().await;
    let (_, refresh) = app.signed_in_pair("alice").await;
    app.clock.advance(app.state.tokens.access_ttl + 60);
    let res = app
        .client
        .post(app.url("/_fn/me"))
        .header("accept", "application/json")
        .header("origin", &app.base)
        .header("cookie", format!("{REFRESH_COOKIE}={refresh}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(access_cookie(res.headers()).is_some());
    assert_eq!(res.json::<Value>().await.unwrap()["username"], "alice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_with_only_the_refresh_cookie_still_ends_the_session() {
    let app = spawn_app().await;
    let (_, refresh) = app.signed_in_pair("alice").await;
    app.clock.advance(app.state.tokens.access_ttl + 60);
    let res = app
        .client
        .post(app.url("/_fn/logout"))
        .header("accept", "text/html")
        .header("origin", &app.base)
        .header("referer", app.url("/dashboard"))
        .header("cookie", format!("{REFRESH_COOKIE}={refresh}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(app.refresh(&refresh).await.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_sessions_are_purged() {
    let app = spawn_app().await;
    app.signed_in_pair("alice").await;
    app.login_pair("alice").await;
    let now = app.clock_now();
    let p = app.state.refresh;
    assert_eq!(gatehouse::db::sessions::purge(&app.state.db, now - p.absolute_ttl, now - p.idle_ttl).await.unwrap(), 0);
    app.clock.advance(p.idle_ttl + 1);
    let now = app.clock_now();
    assert_eq!(gatehouse::db::sessions::purge(&app.state.db, now - p.absolute_ttl, now - p.idle_ttl).await.unwrap(), 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM refresh_tokens").await, 0, "their refresh tokens went with them");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_account_is_refused_on_its_next_request() {
    let app = spawn_app().await;
    let (access, refresh) = app.signed_in_pair("alice").await;
    sqlx::query("DELETE FROM users").execute(app.state.db.pool()).await.unwrap();
    assert_401(app.protected_with_bearer(&access).await, "Token has been revoked").await;
    assert_401(app.refresh(&refresh).await, "Refresh token is invalid").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ending_all_sessions_of_an_account_stops_every_device_but_no_one_else() {
    let app = spawn_app().await;
    let (phone, phone_refresh) = app.signed_in_pair("alice").await;
    let (laptop, _) = app.login_pair("alice").await;
    let (bob, _) = app.signed_in_pair("bob").await;
    let user_id: String = {
        use sqlx::Row;
        sqlx::query("SELECT id FROM users WHERE username = 'alice'")
            .fetch_one(app.state.db.pool())
            .await
            .unwrap()
            .get(0)
    };
    let client = gatehouse::auth::caller::Client::command_line();
    let actor = gatehouse::accounts::administer::Actor::CommandLine;
    let ended =
        gatehouse::accounts::administer::end_sessions(&app.state, actor, &user_id.into(), &client).await.unwrap();
    assert_eq!(ended, 2);
    assert_eq!(app.protected_with_bearer(&phone).await.status(), 401);
    assert_eq!(app.protected_with_bearer(&laptop).await.status(), 401);
    assert_eq!(app.refresh(&phone_refresh).await.status(), 401);
    assert_eq!(app.protected_with_bearer(&bob).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_functions_clear_cookies_that_no_longer_sign_anyone_in() {
    let app = spawn_app().await;
    let (access, refresh) = app.signed_in_pair("alice").await;
    app.client.post(app.url("/api/logout")).bearer_auth(&access).send().await.unwrap();
    let res = app
        .client
        .post(app.url("/_fn/me"))
        .header("accept", "application/json")
        .header("origin", &app.base)
        .header("cookie", format!("{ACCESS_COOKIE}={access}; {REFRESH_COOKIE}={refresh}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(cookie_line(res.headers(), ACCESS_COOKIE).unwrap().contains("Max-Age=0"));
    assert!(cookie_line(res.headers(), REFRESH_COOKIE).unwrap().contains("Max-Age=0"));
    assert_eq!(res.json::<Value>().await.unwrap(), Value::Null);
}
