//! What only SQLite can show: its database file running out of room. The
//! limit is SQLite's own `max_page_count`, which fails a write that needs
//! one more page with `SQLITE_FULL`, as a full disk does, with no file
//! system to mount. The PostgreSQL pass skips this module (scripts/test.sh).

use serde_json::{Value, json};

use crate::helpers::{Options, TestApp, spawn_app_with};

const OUT_OF_SPACE: &str = "Gatehouse cannot save anything right now: its database is out of space. Nothing was changed; please try again later.";

/// Caps the database file at its current size plus `extra` pages (or
/// lifts the cap) on every connection of the pool: the setting belongs to
/// a connection, so all of them are held at once while it is set.
async fn limit_pages(app: &TestApp, extra: Option<i64>) {
    use sqlx::Row;
    let pool = app.state.db.pool();
    let mut held = Vec::new();
    for _ in 0..app.settings.database_pool {
        held.push(pool.acquire().await.unwrap());
    }
    for conn in &mut held {
        let pages: i64 = sqlx::query("PRAGMA page_count").fetch_one(&mut **conn).await.unwrap().get(0);
        let cap = extra.map_or(i64::from(u32::MAX), |extra| pages + extra);
        // An integer of ours: nothing to inject.
        let pragma = sqlx::AssertSqlSafe(format!("PRAGMA max_page_count = {cap}"));
        sqlx::query(pragma).execute(&mut **conn).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_database_refuses_writes_with_a_503_half_applies_nothing_and_recovers_when_space_comes_back() {
    assert_ne!(
        std::env::var("GATEHOUSE_TEST_DB").ok().as_deref(),
        Some("postgres"),
        "SQLite only: the PostgreSQL pass skips this module"
    );
    // Registrations are how the database fills up here, so one address
    // may make as many as it takes.
    let unthrottled = |s: &mut gatehouse::config::Settings| {
        s.throttle.registration.free = 100_000;
        s.throttle.registration.per_window = 100_000;
    };
    let app = spawn_app_with(Options { configure: unthrottled, ..Default::default() }).await;
    let (access, refresh) = app.signed_in_pair("alice").await;
    let (other_access, _) = app.login_pair("alice").await;

    // Registrations until one meets the cap, as they would a full disk.
    limit_pages(&app, Some(4)).await;
    let mut registered = Vec::new();
    let refused = loop {
        let name = format!("user{}", registered.len());
        let res = app.register(&name, "correct horse battery").await;
        match res.status().as_u16() {
            201 => registered.push(name),
            503 => break (name, res),
            other => panic!("{name}: {other} {}", res.text().await.unwrap()),
        }
        assert!(registered.len() < 2_000, "four pages never filled up");
    };
    let (name, res) = refused;
    assert!(!registered.is_empty(), "the cap left room for some");
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert_eq!(res.json::<Value>().await.unwrap(), json!({ "msg": OUT_OF_SPACE }));

    // The refused registration left nothing behind; the database is whole;
    // reading still works for a signed-in person.
    let users = app.count("SELECT COUNT(*) FROM users").await;
    assert_eq!(users, 1 + registered.len() as i64);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE kind = 'register'").await,
        users,
        "each with its event"
    );
    assert_eq!(app.count_text("PRAGMA integrity_check").await, "ok");
    assert_eq!(app.protected_with_bearer(&access).await.status(), 200);
    // Signing out still ends the session, with no room for its record.
    let res = app.client.post(app.url("/api/logout")).bearer_auth(&other_access).send().await.unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(app.protected_with_bearer(&other_access).await.status(), 401);

    // Space comes back: the same registration goes through, everyone
    // registered before can sign in, and the old session still refreshes.
    limit_pages(&app, None).await;
    assert_eq!(app.register(&name, "correct horse battery").await.status(), 201);
    for name in registered.iter().step_by(registered.len().div_ceil(5)) {
        assert_eq!(app.login(name, "correct horse battery").await.status(), 200, "{name}");
    }
    assert_eq!(app.refresh(&refresh).await.status(), 200);
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, users + 1);
}

/// Every connection, of both pools, keeps a small page cache of its own:
/// the operating system caches the file for all of them, and SQLite's 2 MiB
/// default per connection made the server's memory climb as the database
/// grew (see `benches/soak.rs`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_connection_keeps_a_small_page_cache() {
    use sqlx::Row;
    let app = crate::helpers::spawn_app().await;
    let db = &app.state.db;
    let sizes = [(db.pool(), app.settings.database_pool), (db.readers(), gatehouse::db::READER_CONNECTIONS)];
    for (pool, size) in sizes {
        let mut held = Vec::new();
        for _ in 0..size {
            held.push(pool.acquire().await.unwrap());
        }
        for conn in &mut held {
            let kib: i64 = sqlx::query("PRAGMA cache_size").fetch_one(&mut **conn).await.unwrap().get(0);
            assert_eq!(kib, -256, "a negative size is in KiB");
        }
    }
}
