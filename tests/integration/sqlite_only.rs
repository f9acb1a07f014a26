//! What only SQLite can show: its database file running out of room, two
//! ways. A real full disk: the release server on a small tmpfs it mounts
//! in a namespace of its own. And SQLite's own `max_page_count`, which
//! fails a write that needs one more page with the same `SQLITE_FULL`, for
//! the finer checks on an app inside the test. The PostgreSQL pass skips
//! this module (scripts/test.sh).

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

/// A real full disk: the release server's data directory is an 8 MiB
/// tmpfs, mounted in a mount namespace of the server's own (`unshare`; as
/// a user who is not root, in a user namespace too), with 3.5 MiB of
/// ballast in it. Registrations fill it until one is refused; deleting the
/// ballast is the space coming back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_writes_with_a_503_corrupts_nothing_and_recovers_when_space_comes_back() {
    use std::process::Command;
    let outside = tempfile::tempdir().unwrap();
    let data = outside.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let mut wrap = Command::new("unshare");
    wrap.arg("--mount");
    if !crate::helpers::running_as_root() {
        wrap.arg("--map-root-user");
    }
    if let Err(why) = can_mount(&wrap) {
        // CI runs it wherever it runs; elsewhere, say plainly it did not.
        assert!(std::env::var_os("CI").is_none(), "the full-disk test must run in CI: {why}");
        println!("full disk: NOT RUN on this machine: {why}");
        return;
    }
    let script = r#"mount -t tmpfs -o size=8m tmpfs "$1" && head -c 3670016 /dev/zero > "$1/ballast" && exec "$2""#;
    wrap.args(["sh", "-c", script, "sh"]).arg(&data).arg(env!("CARGO_BIN_EXE_gatehouse"));
    let url = gatehouse::config::sqlite_url(&data);
    let server = crate::crash::Server::start_as(wrap, &data, &url).await;
    // The server's own view of its data directory: the tmpfs.
    let inside = std::path::PathBuf::from(format!("/proc/{}/root", server.pid())).join(data.strip_prefix("/").unwrap());
    assert!(
        inside.join("ballast").exists(),
        "the data directory is not the server's tmpfs: mounting needs root or user namespaces \
         (unshare --mount --map-root-user)"
    );
    let client = reqwest::Client::new();
    let base = server.base.clone();
    let register = |name: String| {
        let (client, base) = (client.clone(), base.clone());
        async move {
            let body = json!({ "username": name, "password": "correct horse battery" });
            client.post(format!("{base}/api/register")).json(&body).send().await.unwrap()
        }
    };
    let sign_in = |name: String| {
        let (client, base) = (client.clone(), base.clone());
        async move {
            let body = json!({ "username": name, "password": "correct horse battery" });
            client.post(format!("{base}/api/login")).json(&body).send().await.unwrap()
        }
    };
    assert_eq!(register("alice".into()).await.status(), 201);
    let res = sign_in("alice".into()).await;
    let access = res.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned();

    let mut registered = vec!["alice".to_owned()];
    let (refused, res) = loop {
        let name = format!("person-{:0>24}", registered.len());
        let res = register(name.clone()).await;
        match res.status().as_u16() {
            201 => registered.push(name),
            503 => break (name, res),
            other => panic!("{name}: {other} {}", res.text().await.unwrap()),
        }
        assert!(registered.len() < 50_000, "the disk never filled up");
    };
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert_eq!(res.json::<Value>().await.unwrap(), json!({ "msg": OUT_OF_SPACE }));

    // Reading goes on; the file is whole; the refused registration left
    // nothing and every answered one is there with its event.
    let me = client.get(format!("{base}/api/protected")).bearer_auth(&access).send().await.unwrap();
    assert_eq!(me.status(), 200, "a signed-in person can still read");
    // A copy of the file and its log, taken while no request runs: SQLite
    // follows `/proc/<pid>/root` to this namespace's own directory, so
    // it cannot open the file where it is.
    let copy = tempfile::tempdir().unwrap();
    for file in ["gatehouse.db", "gatehouse.db-wal"] {
        std::fs::copy(inside.join(file), copy.path().join(file)).unwrap();
    }
    sqlx::any::install_default_drivers();
    let db = sqlx::AnyPool::connect(&gatehouse::config::sqlite_url(copy.path())).await.unwrap();
    assert_eq!(scalar(&db, "PRAGMA integrity_check").await, "ok");
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM users").await, registered.len().to_string());
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM audit_events WHERE kind = 'register'").await,
        registered.len().to_string(),
        "each with its event"
    );
    let found = sqlx::query("SELECT COUNT(*) FROM users WHERE username = $1").bind(&refused);
    assert_eq!(sqlx::Row::get::<i64, _>(&found.fetch_one(&db).await.unwrap(), 0), 0, "the refused one left nothing");
    db.close().await;

    // Space comes back: the same registration now succeeds, and accounts
    // from before the disk filled sign in (which writes a session).
    std::fs::remove_file(inside.join("ballast")).unwrap();
    assert_eq!(register(refused.clone()).await.status(), 201, "after space came back");
    let step = registered.len().div_ceil(20).max(1);
    for name in registered.iter().step_by(step).chain(registered.last()).chain([&refused]) {
        assert_eq!(sign_in(name.clone()).await.status(), 200, "{name} signs in after the disk was full");
    }
    println!("full disk: {} registrations kept, the next refused with a 503, then accepted", registered.len());
}

/// The one value `sql` selects, as text.
async fn scalar(db: &sqlx::AnyPool, sql: &'static str) -> String {
    use sqlx::Row;
    let row = sqlx::query(sql).fetch_one(db).await.unwrap();
    row.try_get::<i64, _>(0).map(|n| n.to_string()).or_else(|_| row.try_get::<String, _>(0)).unwrap()
}

/// Whether `unshare` (as `wrap` calls it) may mount a tmpfs here: it
/// needs root, or user namespaces that may mount (Docker's default
/// seccomp profile and Ubuntu's AppArmor from 23.10 refuse them).
fn can_mount(wrap: &std::process::Command) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut probe = std::process::Command::new(wrap.get_program());
    probe.args(wrap.get_args()).args(["sh", "-c", r#"mount -t tmpfs -o size=64k tmpfs "$1""#, "sh"]).arg(dir.path());
    match probe.output() {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(format!("unshare cannot mount a tmpfs: {}", String::from_utf8_lossy(&out.stderr).trim())),
        Err(e) => Err(format!("unshare cannot run: {e}")),
    }
}
