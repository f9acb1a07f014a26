//! Two instances behind a load balancer, one database: whatever happens on
//! one is in force on the other at its very next request (the guard reads
//! the session and account on every request; there is no cache to
//! expire), and throttling, the audit log and keys are shared.

use gatehouse::auth::keys::KeyAlgorithm;
use reqwest::Method;
use serde_json::Value;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_made_on_one_instance_works_and_ends_on_the_other() {
    let a = spawn_app().await;
    let b = a.second_instance().await;
    let (access, refresh) = a.signed_in_pair("alice").await;
    assert_eq!(b.protected_with_bearer(&access).await.status(), 200, "signed in on A, used on B");

    // Refreshed on B, the old refresh token is dead on A.
    let res = b.refresh(&refresh).await;
    assert_eq!(res.status(), 200);
    let renewed: Value = res.json().await.unwrap();
    let new_access = renewed["access_token"].as_str().unwrap().to_owned();
    assert_eq!(a.protected_with_bearer(&new_access).await.status(), 200);

    // Signed out on A: B refuses at once.
    assert_eq!(a.call(Method::POST, "/api/logout", &new_access, &Value::Null).await.status(), 204);
    assert_eq!(b.protected_with_bearer(&new_access).await.status(), 401);
    assert_eq!(b.protected_with_bearer(&access).await.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reuse_detected_on_one_instance_ends_the_session_on_the_other() {
    let a = spawn_app().await;
    let b = a.second_instance().await;
    let (access, refresh) = a.signed_in_pair("alice").await;
    assert_eq!(a.refresh(&refresh).await.status(), 200);
    a.clock.advance(11);
    // The rotated token comes back to B: reuse, the whole session ends.
    assert_eq!(b.refresh(&refresh).await.status(), 401);
    assert_eq!(a.protected_with_bearer(&access).await.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disable_on_one_instance_applies_on_the_other_at_once() {
    let a = spawn_app().await;
    let b = a.second_instance().await;
    let (root, _) = a.admin("root").await;
    let bob = b.signed_in("bob").await;
    let id = a.user_id("bob").await;
    let res = a.call(Method::POST, &format!("/api/admin/users/{id}/disable"), &root, &Value::Null).await;
    assert_eq!(res.status(), 200);
    assert_eq!(b.protected_with_bearer(&bob).await.status(), 401);
    assert_eq!(b.login("bob", "correct horse battery").await.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guesses_spread_over_instances_are_counted_together_and_audited_once() {
    let a = spawn_app().await;
    let b = a.second_instance().await;
    assert_eq!(a.register("alice", "correct horse battery").await.status(), 201);
    for app in [&a, &b, &a, &b, &a] {
        assert_eq!(app.login("alice", "wrong password").await.status(), 401);
    }
    assert_eq!(b.login("alice", "correct horse battery").await.status(), 429);
    assert_eq!(a.login("alice", "correct horse battery").await.status(), 429);
    let (root, _) = b.admin("root").await;
    let res = a.call(Method::GET, "/api/admin/audit?kind=sign_in&outcome=failure", &root, &Value::Null).await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["total"], 5, "failures on both instances are in the one log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_on_one_instance_reaches_the_other_at_its_reload() {
    let a = spawn_app_with(Options { jwt_algorithm: KeyAlgorithm::EdDsa, ..Default::default() }).await;
    let b = a.second_instance().await;
    let now = a.clock_now();
    let rotated = a.state.keys.rotate(&a.state.db, KeyAlgorithm::EdDsa, now, now).await.unwrap();
    let token = a.signed_in("alice").await;
    assert_eq!(b.protected_with_bearer(&token).await.status(), 401, "B has not reloaded yet");
    b.state.keys.reload(&b.state.db).await.unwrap();
    assert_eq!(b.protected_with_bearer(&token).await.status(), 200);
    assert_eq!(b.state.keys.ring(now).active().kid(), rotated.kid);
}
