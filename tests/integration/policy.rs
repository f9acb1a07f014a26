//! The password policy and username normalisation at the HTTP edge, and
//! hashes upgraded to the configured Argon2 parameters.

use serde_json::Value;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn common_passwords_and_passwords_built_on_the_name_are_refused_with_a_reason() {
    let app = spawn_app().await;
    for (password, msg) in [
        (
            "password1",
            "This password is one of the most common ones, which attackers try first. Choose something less predictable.",
        ),
        (
            "Iloveyou1",
            "This password is one of the most common ones, which attackers try first. Choose something less predictable.",
        ),
        ("carol-2026!", "Your password must not contain your username."),
    ] {
        let res = app.register("carol", password).await;
        assert_eq!(res.status(), 400, "{password}");
        assert_eq!(res.json::<Value>().await.unwrap()["msg"], msg);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_and_width_variants_of_a_name_are_one_account() {
    let app = spawn_app().await;
    assert_eq!(app.register("Alice", "correct horse battery").await.status(), 201);
    for twin in ["alice", "ALICE", "ａｌｉｃｅ", " Alice "] {
        let res = app.register(twin, "correct horse battery").await;
        assert_eq!(res.status(), 409, "{twin}");
        assert_eq!(res.json::<Value>().await.unwrap()["msg"], "That username is taken. Choose another one.");
    }
    assert_eq!(app.login("ａｌｉｃｅ", "correct horse battery").await.status(), 200, "sign-in normalises too");
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hash_made_with_other_parameters_is_upgraded_at_the_next_sign_in() {
    use gatehouse::auth::password::{self, HashParams};
    let app = spawn_app().await;
    app.register("alice", "correct horse battery").await;
    let weaker = HashParams { memory_kib: 512, iterations: 1, parallelism: 1 };
    let pw = gatehouse::domain::Password::parse_attempt("correct horse battery").unwrap();
    let old = password::hash(&pw, weaker, &mut password::Workspace::default()).unwrap();
    sqlx::query("UPDATE users SET password_hash = $1").bind(&old).execute(app.state.db.pool()).await.unwrap();

    assert_eq!(app.login("alice", "wrong password").await.status(), 401);
    let stored = || async {
        use sqlx::Row;
        sqlx::query("SELECT password_hash FROM users").fetch_one(app.state.db.pool()).await.unwrap().get::<String, _>(0)
    };
    assert_eq!(stored().await, old, "a failed sign-in upgrades nothing");
    assert_eq!(app.login("alice", "correct horse battery").await.status(), 200);
    let upgraded = stored().await;
    assert!(upgraded.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{upgraded}");
    assert_eq!(app.login("alice", "correct horse battery").await.status(), 200, "and it still verifies");
}
