//! Crash safety: the release server killed with SIGKILL in the middle of a
//! storm of registrations, sign-ins, refreshes, sign-outs and password
//! changes, then started again on the same database. Every request that
//! was answered 2xx is found whole; every one that was refused left
//! nothing; every one the crash cut off is whole or absent, never half.
//! Runs on SQLite and, in the PostgreSQL pass, on PostgreSQL.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine as _;
use gatehouse::auth::opaque::{Opaque, Refresh};
use gatehouse::db::Db;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use sqlx::Row as _;

use crate::helpers::postgres_database;

/// People working at once, each with an account of their own.
const WORKERS: usize = 24;

/// Requests answered before the crash.
const STORM_BEFORE_CRASH: usize = 1_500;

/// The release server on a data directory and database of the test's.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    async fn start(data_dir: &std::path::Path, database_url: &str) -> Self {
        // The client speaks TLS with the same cryptography as the server.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let addr = format!("127.0.0.1:{port}");
        let child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
            .env_clear()
            .envs([
                ("GATEHOUSE_DATA_DIR", data_dir.to_str().unwrap()),
                ("GATEHOUSE_DATABASE_URL", database_url),
                ("GATEHOUSE_ADDR", addr.as_str()),
                ("LEPTOS_SITE_ADDR", addr.as_str()),
                ("LEPTOS_SITE_ROOT", "public"),
                ("GATEHOUSE_LOG", "error"),
                // Thousands of sign-ins from one address in seconds.
                ("GATEHOUSE_ARGON2_MEMORY_KIB", "1024"),
                ("GATEHOUSE_ARGON2_ITERATIONS", "1"),
                ("GATEHOUSE_REGISTRATIONS_PER_ADDRESS", "100000"),
                ("GATEHOUSE_LOGIN_FAILURES_PER_ADDRESS", "100000"),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the release server starts");
        let server = Self { child, base: format!("http://{addr}") };
        let client = Client::new();
        for _ in 0..300 {
            if let Ok(res) = client.get(format!("{}/health/ready", server.base)).send().await
                && res.status() == StatusCode::OK
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not become ready within 15 s");
    }

    /// SIGKILL: no shutdown, no flush, nothing in flight finishes.
    fn crash(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What became of one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// A 2xx answer.
    Done,
    /// Any other answer.
    Refused(u16),
    /// No answer: the crash cut it off.
    Lost,
}

/// One request of the storm and what it was answered.
#[derive(Debug)]
enum Op {
    Register { name: String, outcome: Outcome },
    SignIn { session: Option<String>, refresh: Option<String>, outcome: Outcome },
    SignOut { session: String, outcome: Outcome },
    Refresh { old: String, new: Option<String>, outcome: Outcome },
    ChangePassword { name: String, old: String, new: String, outcome: Outcome },
}

impl Op {
    fn outcome(&self) -> Outcome {
        match self {
            Self::Register { outcome, .. }
            | Self::SignIn { outcome, .. }
            | Self::SignOut { outcome, .. }
            | Self::Refresh { outcome, .. }
            | Self::ChangePassword { outcome, .. } => *outcome,
        }
    }
}

/// Sends `request`; an answer whose body the crash cut off is no answer.
async fn send(request: reqwest::RequestBuilder, answered: &AtomicUsize) -> (Outcome, Value) {
    let (outcome, body) = match request.send().await {
        Ok(res) if res.status() == StatusCode::NO_CONTENT => (Outcome::Done, Value::Null),
        Ok(res) if res.status().is_success() => match res.json().await {
            Ok(body) => (Outcome::Done, body),
            Err(_) => (Outcome::Lost, Value::Null),
        },
        Ok(res) => (Outcome::Refused(res.status().as_u16()), Value::Null),
        Err(_) => (Outcome::Lost, Value::Null),
    };
    if outcome == Outcome::Done {
        answered.fetch_add(1, Ordering::Relaxed);
    }
    (outcome, body)
}

fn session_of(access: &str) -> String {
    let payload = access.split('.').nth(1).unwrap();
    let claims: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["sid"].as_str().unwrap().to_owned()
}

fn hash(refresh: &str) -> String {
    Opaque::<Refresh>::parse(refresh).expect("a refresh token of ours").hash()
}

/// One person's requests, one after another, until one is cut off.
async fn work(
    base: String,
    worker: usize,
    answered: Arc<AtomicUsize>,
    mut password: String,
    mut refresh: String,
    mut access: String,
) -> Vec<Op> {
    let client = Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let url = |path: &str| format!("{base}{path}");
    let me = format!("worker{worker}");
    let mut ops = Vec::new();
    for round in 0.. {
        let op = match round % 5 {
            0 => {
                let (outcome, body) = send(client.post(url("/api/refresh")).bearer_auth(&refresh), &answered).await;
                let new = body["refresh_token"].as_str().map(str::to_owned);
                let old = refresh.clone();
                if let (Some(r), Some(a)) = (&new, body["access_token"].as_str()) {
                    (refresh, access) = (r.clone(), a.to_owned());
                }
                Op::Refresh { old, new, outcome }
            }
            1 => {
                let name = format!("w{worker}n{round}");
                let body = json!({ "username": name, "password": "correct horse battery" });
                let (outcome, _) = send(client.post(url("/api/register")).json(&body), &answered).await;
                Op::Register { name, outcome }
            }
            2 => {
                let body = json!({ "username": me, "password": password });
                let (outcome, body) = send(client.post(url("/api/login")).json(&body), &answered).await;
                let session = body["access_token"].as_str().map(session_of);
                let refresh = body["refresh_token"].as_str().map(str::to_owned);
                let op = Op::SignIn { session: session.clone(), refresh, outcome };
                // The new session is ended at once: a sign-out follows.
                if let (Some(session), Some(other)) = (session, body["access_token"].as_str()) {
                    ops.push(op);
                    let (outcome, _) = send(client.post(url("/api/logout")).bearer_auth(other), &answered).await;
                    Op::SignOut { session, outcome }
                } else {
                    op
                }
            }
            3 => {
                let (outcome, _) = send(client.get(url("/api/protected")).bearer_auth(&access), &answered).await;
                if outcome == Outcome::Lost {
                    break;
                }
                continue;
            }
            _ => {
                let new = format!("battery staple {worker} {round}");
                let body = json!({ "current_password": password, "new_password": new });
                let (outcome, _) =
                    send(client.post(url("/api/password")).bearer_auth(&access).json(&body), &answered).await;
                let old = password.clone();
                if outcome == Outcome::Done {
                    password.clone_from(&new);
                }
                Op::ChangePassword { name: me.clone(), old, new, outcome }
            }
        };
        let lost = op.outcome() == Outcome::Lost;
        ops.push(op);
        if lost {
            break;
        }
    }
    ops
}

/// The `COUNT(*)` that `sql` selects with `binds` for `$1`, `$2`, ...
async fn count(db: &Db, sql: &'static str, binds: &[&str]) -> i64 {
    let query = binds.iter().fold(sqlx::query(sql), |q, b| q.bind(*b));
    query.fetch_one(db.pool()).await.unwrap().get::<i64, _>(0)
}

async fn signs_in(client: &Client, base: &str, name: &str, password: &str) -> bool {
    let body = json!({ "username": name, "password": password });
    let res = client.post(format!("{base}/api/login")).json(&body).send().await.unwrap();
    match res.status().as_u16() {
        200 => true,
        401 => false,
        other => panic!("signing in as {name} after the restart: {other} {}", res.text().await.unwrap()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_storm_keeps_every_answered_change_and_half_applies_none() {
    let data_dir = tempfile::tempdir().unwrap();
    let database_url = postgres_database().await.unwrap_or_else(|| gatehouse::config::sqlite_url(data_dir.path()));
    let mut server = Server::start(data_dir.path(), &database_url).await;
    let client = Client::new();

    // Each worker's account and session, made before the storm.
    let answered_so_far = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for worker in 0..WORKERS {
        let name = format!("worker{worker}");
        let body = json!({ "username": name, "password": "correct horse battery" });
        let res = client.post(format!("{}/api/register", server.base)).json(&body).send().await.unwrap();
        assert_eq!(res.status(), 201);
        let res = client.post(format!("{}/api/login", server.base)).json(&body).send().await.unwrap();
        let tokens: Value = res.json().await.unwrap();
        let (access, refresh) = (tokens["access_token"].as_str().unwrap(), tokens["refresh_token"].as_str().unwrap());
        workers.push(tokio::spawn(work(
            server.base.clone(),
            worker,
            answered_so_far.clone(),
            "correct horse battery".into(),
            refresh.to_owned(),
            access.to_owned(),
        )));
    }

    // The storm runs until it has made its mark, however fast the
    // machine; then the process dies, mid-request.
    for _ in 0..600 {
        if answered_so_far.load(Ordering::Relaxed) >= STORM_BEFORE_CRASH {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.crash();
    let mut ops = Vec::new();
    for w in workers {
        ops.push(w.await.unwrap());
    }
    let server = Server::start(data_dir.path(), &database_url).await;
    let db = Db::connect(&database_url, 2).await.unwrap();

    // Nothing stored is half of a change.
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM users", &[]).await,
        count(&db, "SELECT COUNT(*) FROM audit_events WHERE kind = 'register' AND outcome = 'success'", &[]).await,
        "every account has its registration event and every event its account"
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM sessions", &[]).await,
        count(&db, "SELECT COUNT(*) FROM audit_events WHERE kind = 'sign_in' AND outcome = 'success'", &[]).await,
        "every session has its sign-in event and every sign-in its session"
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM refresh_tokens WHERE rotated_at IS NOT NULL", &[]).await,
        count(&db, "SELECT COUNT(*) FROM audit_events WHERE kind = 'refresh'", &[]).await,
        "every rotation has its refresh event and every event its rotation"
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM sessions WHERE revoked_reason = 'signed out'", &[]).await,
        count(&db, "SELECT COUNT(*) FROM audit_events WHERE kind = 'sign_out'", &[]).await,
        "every sign-out has its event and every event its ended session"
    );
    let orphan_sessions = "SELECT COUNT(*) FROM sessions s
         WHERE NOT EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.session_id = s.id)";
    assert_eq!(count(&db, orphan_sessions, &[]).await, 0, "a session without its refresh token");
    let dead_ends = "SELECT COUNT(*) FROM refresh_tokens t WHERE t.rotated_at IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM refresh_tokens n
                         WHERE n.session_id = t.session_id AND n.hash <> t.hash AND n.issued_at >= t.rotated_at)";
    assert_eq!(count(&db, dead_ends, &[]).await, 0, "a refresh token rotated without a successor");
    let forks = "SELECT COUNT(*) FROM (SELECT session_id FROM refresh_tokens WHERE rotated_at IS NULL
         GROUP BY session_id HAVING COUNT(*) > 1) AS f";
    assert_eq!(count(&db, forks, &[]).await, 0, "a session with two live refresh tokens");

    let (mut answered, mut lost, mut lost_applied, mut unknowable) = (0, 0, 0, 0);
    for op in ops.iter().flatten() {
        let outcome = op.outcome();
        match outcome {
            Outcome::Done => answered += 1,
            Outcome::Lost => lost += 1,
            Outcome::Refused(status) => panic!("{op:?} was refused with {status} before the crash"),
        }
        let applied = match op {
            Op::Register { name, .. } => {
                let found = count(&db, "SELECT COUNT(*) FROM users WHERE username = $1", &[name]).await;
                if found == 1 {
                    assert!(signs_in(&client, &server.base, name, "correct horse battery").await, "{name}");
                }
                found == 1
            }
            Op::SignIn { session, refresh, .. } => match (session, refresh) {
                (Some(session), Some(refresh)) => {
                    let sql = "SELECT COUNT(*) FROM refresh_tokens WHERE session_id = $1 AND hash = $2";
                    let stored = count(&db, sql, &[session, &hash(refresh)]).await;
                    stored == 1
                }
                // A cut-off sign-in leaves no trace anyone can check but
                // the counts above.
                _ => {
                    assert_eq!(outcome, Outcome::Lost, "an answered sign-in without its tokens");
                    unknowable += 1;
                    continue;
                }
            },
            Op::SignOut { session, .. } => sqlx::query("SELECT revoked_at FROM sessions WHERE id = $1")
                .bind(session)
                .fetch_one(db.pool())
                .await
                .unwrap()
                .get::<Option<i64>, _>(0)
                .is_some(),
            Op::Refresh { old, new, .. } => {
                let rotated = sqlx::query("SELECT rotated_at FROM refresh_tokens WHERE hash = $1")
                    .bind(hash(old))
                    .fetch_one(db.pool())
                    .await
                    .unwrap()
                    .get::<Option<i64>, _>(0)
                    .is_some();
                if let Some(new) = new {
                    let kept = count(&db, "SELECT COUNT(*) FROM refresh_tokens WHERE hash = $1", &[&hash(new)]).await;
                    assert_eq!(kept, 1, "an answered refresh's new token is stored");
                }
                rotated
            }
            // Each change was made with the password before it, so an
            // answered one is proved by the next; the last is checked
            // below by signing in.
            Op::ChangePassword { .. } if outcome == Outcome::Done => true,
            Op::ChangePassword { name, old, new, .. } => {
                let (old_works, new_works) = (
                    signs_in(&client, &server.base, name, old).await,
                    signs_in(&client, &server.base, name, new).await,
                );
                assert!(old_works != new_works, "{name}: the old password works: {old_works}, the new: {new_works}");
                new_works
            }
        };
        match outcome {
            Outcome::Done => assert!(applied, "{op:?} was answered but is not stored"),
            Outcome::Lost => lost_applied += usize::from(applied),
            Outcome::Refused(_) => unreachable!(),
        }
    }
    // Where the crash cut off something else, the last answered change
    // is the password. Each change applied has its event.
    for worker_ops in &ops {
        let changes: Vec<_> = worker_ops.iter().filter(|op| matches!(op, Op::ChangePassword { .. })).collect();
        let Some(Op::ChangePassword { name, old, new, outcome }) = changes.last() else { continue };
        let applied = if *outcome == Outcome::Done {
            assert!(signs_in(&client, &server.base, name, new).await, "{name}'s last password");
            changes.len()
        } else {
            changes.len() - usize::from(signs_in(&client, &server.base, name, old).await)
        };
        let changes_recorded = "SELECT COUNT(*) FROM audit_events a JOIN users u ON u.id = a.subject_id
             WHERE u.username = $1 AND a.kind = 'password_change' AND a.outcome = 'success'";
        let events = count(&db, changes_recorded, &[name]).await;
        assert_eq!(events, applied as i64, "{name}: {applied} changes stored, {events} recorded");
    }
    assert!(answered > 500, "the storm made only {answered} changes before the crash");
    assert!(lost > 0, "the crash cut nothing off: it came after the storm");
    println!(
        "crash: {answered} answered changes all kept; {lost} cut off by the crash: {lost_applied} kept whole, {} absent, \
         {unknowable} sign-ins whose session nobody can name (whole by the counts)",
        lost - lost_applied - unknowable
    );
}
