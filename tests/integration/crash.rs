//! Crash safety, under a storm of registrations, sign-ins, refreshes,
//! sign-outs and password changes against the release server:
//!
//! - the server killed with SIGKILL, then started again on the same
//!   database (SQLite and, in the PostgreSQL pass, PostgreSQL);
//! - the PostgreSQL server killed and started again while Gatehouse keeps
//!   serving (the PostgreSQL pass only: it runs a PostgreSQL server of its
//!   own, so the other tests' server stays up).
//!
//! Every request answered 2xx is found whole; every one the fault cut off,
//! or answered 503 because the database went away mid-change, is whole or
//! absent, never half. The database's outage is a quick 503 with a clear
//! message, and the service recovers by itself.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use gatehouse::auth::opaque::{Opaque, Refresh};
use gatehouse::db::Db;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use sqlx::Row as _;

use crate::helpers::postgres_database;

/// People working at once, each with an account of their own.
const WORKERS: usize = 24;

/// Requests answered before the fault.
const STORM_BEFORE_FAULT: usize = 1_500;

/// What the database answers while it is away.
const UNREACHABLE: &str = "Gatehouse cannot reach its database right now. Please try again in a moment.";

/// The release server on a data directory and database of the test's.
pub struct Server {
    child: Child,
    pub base: String,
}

impl Server {
    pub async fn start(data_dir: &std::path::Path, database_url: &str) -> Self {
        Self::start_as(Command::new(env!("CARGO_BIN_EXE_gatehouse")), data_dir, database_url).await
    }

    /// Starts `command`, which runs the release server (itself, or a
    /// wrapper that ends by running it), with the test's settings.
    pub async fn start_as(mut command: Command, data_dir: &std::path::Path, database_url: &str) -> Self {
        // The client speaks TLS with the same cryptography as the server.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let addr = format!("127.0.0.1:{port}");
        let child = command
            .env_clear()
            // Where a wrapper finds its programs.
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
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
        let mut server = Self { child, base: format!("http://{addr}") };
        let client = Client::new();
        for _ in 0..300 {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("the server exited before it was ready: {status}");
            }
            if let Ok(res) = client.get(format!("{}/health/ready", server.base)).send().await
                && res.status() == StatusCode::OK
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not become ready within 15 s");
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
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
    /// No answer: the fault cut it off.
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
/// A 503 must say why in words a person can act on.
async fn send(request: reqwest::RequestBuilder, answered: &AtomicUsize) -> (Outcome, Value) {
    let (outcome, body) = match request.send().await {
        Ok(res) if res.status() == StatusCode::NO_CONTENT => (Outcome::Done, Value::Null),
        Ok(res) if res.status().is_success() => match res.json().await {
            Ok(body) => (Outcome::Done, body),
            Err(_) => (Outcome::Lost, Value::Null),
        },
        Ok(res) if res.status() == StatusCode::SERVICE_UNAVAILABLE => {
            let body = res.json::<Value>().await.unwrap_or_default();
            assert_eq!(body, json!({ "msg": UNREACHABLE }), "a 503's message");
            (Outcome::Refused(503), Value::Null)
        }
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

/// One person's requests, one after another, until `stop` or a change
/// without a 2xx answer: after one, what the person's password and
/// tokens are is no longer known, only that the change is whole or absent.
async fn work(
    base: String,
    worker: usize,
    answered: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    mut password: String,
    mut refresh: String,
    mut access: String,
) -> Vec<Op> {
    let client = Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let url = |path: &str| format!("{base}{path}");
    let me = format!("worker{worker}");
    let mut ops = Vec::new();
    for round in 0.. {
        if stop.load(Ordering::Relaxed) {
            break;
        }
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
                // A read changes nothing: only a lost server ends the run.
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
        let unknown = op.outcome() != Outcome::Done;
        ops.push(op);
        if unknown {
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

/// What the storm is made to survive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    /// The Gatehouse server killed with SIGKILL, then started again.
    ServerKilled,
    /// The PostgreSQL server killed and started again under a live
    /// Gatehouse: a change in flight may be answered 503 and still be
    /// committed (its answer lost with the connection), so a 503 is,
    /// like no answer, whole or absent.
    DatabaseRestarted,
}

/// The workers of a storm, each with an account and a session of its own.
struct Storm {
    workers: Vec<tokio::task::JoinHandle<Vec<Op>>>,
    answered: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Storm {
    async fn start(client: &Client, base: &str) -> Self {
        let (answered, stop) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicBool::new(false)));
        let mut workers = Vec::new();
        for worker in 0..WORKERS {
            let name = format!("worker{worker}");
            let body = json!({ "username": name, "password": "correct horse battery" });
            let res = client.post(format!("{base}/api/register")).json(&body).send().await.unwrap();
            assert_eq!(res.status(), 201);
            let res = client.post(format!("{base}/api/login")).json(&body).send().await.unwrap();
            let tokens: Value = res.json().await.unwrap();
            let (access, refresh) =
                (tokens["access_token"].as_str().unwrap(), tokens["refresh_token"].as_str().unwrap());
            workers.push(tokio::spawn(work(
                base.to_owned(),
                worker,
                answered.clone(),
                stop.clone(),
                "correct horse battery".into(),
                refresh.to_owned(),
                access.to_owned(),
            )));
        }
        Self { workers, answered, stop }
    }

    /// Waits until `n` more requests are answered 2xx, however fast the
    /// machine; false if every worker stopped first, or after 30 s.
    async fn until_answered(&self, n: usize) -> bool {
        let target = self.answered.load(Ordering::Relaxed) + n;
        for _ in 0..600 {
            if self.answered.load(Ordering::Relaxed) >= target {
                return true;
            }
            if self.workers.iter().all(|w| w.is_finished()) {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    /// Stops the workers still running; what each did.
    async fn finish(self) -> Vec<Vec<Op>> {
        self.stop.store(true, Ordering::Relaxed);
        let mut ops = Vec::new();
        for w in self.workers {
            ops.push(w.await.unwrap());
        }
        ops
    }
}

/// What the checks found.
struct Findings {
    answered: usize,
    lost: usize,
    unavailable: usize,
    cut_off_applied: usize,
    unknowable: usize,
}

/// Checks what `ops` left in the database behind `base`: nothing half of
/// a change, every answered change whole.
async fn verify(db: &Db, client: &Client, base: &str, ops: &[Vec<Op>], fault: Fault) -> Findings {
    // Nothing stored is half of a change.
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM users", &[]).await,
        count(db, "SELECT COUNT(*) FROM audit_events WHERE kind = 'register' AND outcome = 'success'", &[]).await,
        "every account has its registration event and every event its account"
    );
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM sessions", &[]).await,
        count(db, "SELECT COUNT(*) FROM audit_events WHERE kind = 'sign_in' AND outcome = 'success'", &[]).await,
        "every session has its sign-in event and every sign-in its session"
    );
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM refresh_tokens WHERE rotated_at IS NOT NULL", &[]).await,
        count(db, "SELECT COUNT(*) FROM audit_events WHERE kind = 'refresh'", &[]).await,
        "every rotation has its refresh event and every event its rotation"
    );
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM sessions WHERE revoked_reason = 'signed out'", &[]).await,
        count(db, "SELECT COUNT(*) FROM audit_events WHERE kind = 'sign_out'", &[]).await,
        "every sign-out has its event and every event its ended session"
    );
    let orphan_sessions = "SELECT COUNT(*) FROM sessions s
         WHERE NOT EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.session_id = s.id)";
    assert_eq!(count(db, orphan_sessions, &[]).await, 0, "a session without its refresh token");
    let dead_ends = "SELECT COUNT(*) FROM refresh_tokens t WHERE t.rotated_at IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM refresh_tokens n
                         WHERE n.session_id = t.session_id AND n.hash <> t.hash AND n.issued_at >= t.rotated_at)";
    assert_eq!(count(db, dead_ends, &[]).await, 0, "a refresh token rotated without a successor");
    let forks = "SELECT COUNT(*) FROM (SELECT session_id FROM refresh_tokens WHERE rotated_at IS NULL
         GROUP BY session_id HAVING COUNT(*) > 1) AS f";
    assert_eq!(count(db, forks, &[]).await, 0, "a session with two live refresh tokens");

    let (mut answered, mut lost, mut unavailable, mut cut_off_applied, mut unknowable) = (0, 0, 0, 0, 0);
    for op in ops.iter().flatten() {
        let outcome = op.outcome();
        match outcome {
            Outcome::Done => answered += 1,
            Outcome::Lost => lost += 1,
            Outcome::Refused(503) if fault == Fault::DatabaseRestarted => unavailable += 1,
            Outcome::Refused(status) => panic!("{op:?} was refused with {status}"),
        }
        let applied = match op {
            Op::Register { name, .. } => {
                let found = count(db, "SELECT COUNT(*) FROM users WHERE username = $1", &[name]).await;
                if found == 1 {
                    assert!(signs_in(client, base, name, "correct horse battery").await, "{name}");
                }
                found == 1
            }
            Op::SignIn { session, refresh, .. } => match (session, refresh) {
                (Some(session), Some(refresh)) => {
                    let sql = "SELECT COUNT(*) FROM refresh_tokens WHERE session_id = $1 AND hash = $2";
                    let stored = count(db, sql, &[session, &hash(refresh)]).await;
                    stored == 1
                }
                // A cut-off sign-in leaves no trace anyone can check but
                // the counts above.
                _ => {
                    assert_ne!(outcome, Outcome::Done, "an answered sign-in without its tokens");
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
                    let kept = count(db, "SELECT COUNT(*) FROM refresh_tokens WHERE hash = $1", &[&hash(new)]).await;
                    assert_eq!(kept, 1, "an answered refresh's new token is stored");
                }
                rotated
            }
            // Each change was made with the password before it, so an
            // answered one is proved by the next; the last is checked
            // below by signing in.
            Op::ChangePassword { .. } if outcome == Outcome::Done => true,
            Op::ChangePassword { name, old, new, .. } => {
                let (old_works, new_works) =
                    (signs_in(client, base, name, old).await, signs_in(client, base, name, new).await);
                assert!(old_works != new_works, "{name}: the old password works: {old_works}, the new: {new_works}");
                new_works
            }
        };
        match outcome {
            Outcome::Done => assert!(applied, "{op:?} was answered but is not stored"),
            Outcome::Lost | Outcome::Refused(_) => cut_off_applied += usize::from(applied),
        }
    }
    // Where the fault cut off something else, the last answered change
    // is the password. Each change applied has its event.
    for worker_ops in ops {
        let changes: Vec<_> = worker_ops.iter().filter(|op| matches!(op, Op::ChangePassword { .. })).collect();
        let Some(Op::ChangePassword { name, old, new, outcome }) = changes.last() else { continue };
        let applied = if *outcome == Outcome::Done {
            assert!(signs_in(client, base, name, new).await, "{name}'s last password");
            changes.len()
        } else {
            changes.len() - usize::from(signs_in(client, base, name, old).await)
        };
        let changes_recorded = "SELECT COUNT(*) FROM audit_events a JOIN users u ON u.id = a.subject_id
             WHERE u.username = $1 AND a.kind = 'password_change' AND a.outcome = 'success'";
        let events = count(db, changes_recorded, &[name]).await;
        assert_eq!(events, applied as i64, "{name}: {applied} changes stored, {events} recorded");
    }
    Findings { answered, lost, unavailable, cut_off_applied, unknowable }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_storm_keeps_every_answered_change_and_half_applies_none() {
    let data_dir = tempfile::tempdir().unwrap();
    let database_url = postgres_database().await.unwrap_or_else(|| gatehouse::config::sqlite_url(data_dir.path()));
    let mut server = Server::start(data_dir.path(), &database_url).await;
    let client = Client::new();

    let storm = Storm::start(&client, &server.base).await;
    assert!(storm.until_answered(STORM_BEFORE_FAULT).await, "the storm stalled before the crash");
    // The process dies mid-request; each worker ends at its lost request.
    server.crash();
    let ops = storm.finish().await;
    let server = Server::start(data_dir.path(), &database_url).await;
    let db = Db::connect(&database_url, 2).await.unwrap();

    let found = verify(&db, &client, &server.base, &ops, Fault::ServerKilled).await;
    assert!(found.answered > 500, "the storm made only {} changes before the crash", found.answered);
    assert!(found.lost > 0, "the crash cut nothing off: it came after the storm");
    println!(
        "crash: {} answered changes all kept; {} cut off by the crash: {} kept whole, {} absent, \
         {} sign-ins whose session nobody can name (whole by the counts)",
        found.answered,
        found.lost,
        found.cut_off_applied,
        found.lost - found.cut_off_applied - found.unknowable,
        found.unknowable
    );
}

/// A PostgreSQL server of the test's own, which it may kill and start
/// again without touching the one the other tests share.
struct OwnPostgres {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    /// PostgreSQL refuses to run as root: as root it runs as `postgres`.
    as_postgres: bool,
}

impl OwnPostgres {
    fn start() -> Self {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL's server programs (scripts/setup.sh installs them)")
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|bin| bin.join("pg_ctl").exists())
            .max_by_key(|bin| bin.parent().and_then(|v| v.file_name()?.to_str()?.parse::<u32>().ok()))
            .expect("a PostgreSQL version under /usr/lib/postgresql");
        let as_postgres = crate::helpers::running_as_root();
        let dir = tempfile::tempdir().unwrap();
        if as_postgres {
            assert!(Command::new("chown").arg("postgres").arg(dir.path()).status().unwrap().success());
        }
        // Only a Unix socket: no TCP port to lose to another test while
        // the server is down. The number just names the socket.
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let pg = Self { bin, dir, port, as_postgres };
        let data = pg.data();
        pg.run("initdb", &["-D", &data, "-A", "trust", "-U", "postgres", "--no-sync"]);
        pg.start_again();
        pg
    }

    fn data(&self) -> String {
        self.dir.path().join("data").to_str().unwrap().to_owned()
    }

    /// One of PostgreSQL's programs, run as the user it must run as.
    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        }
    }

    fn run(&self, program: &str, args: &[&str]) {
        let out = self.command(program).args(args).stdout(Stdio::null()).output().unwrap();
        assert!(out.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Starts the server and waits until it accepts connections. `fsync`
    /// is off: the fault is the server's processes dying, not the power,
    /// so what PostgreSQL wrote is still in the operating system's hands.
    fn start_again(&self) {
        let (data, dir) = (self.data(), self.dir.path().to_str().unwrap().to_owned());
        let log = self.dir.path().join("server.log");
        let options = format!("-p {} -k {dir} -c listen_addresses= -c fsync=off", self.port);
        self.run("pg_ctl", &["-D", &data, "-l", log.to_str().unwrap(), "-w", "-o", &options, "start"]);
    }

    /// Kills every PostgreSQL process at once (`immediate`: no
    /// checkpoint, no goodbye to clients); the next start recovers from
    /// the write-ahead log, as after a crash.
    fn kill(&self) {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "immediate", "stop"]);
    }

    fn url(&self) -> String {
        format!("postgres://postgres@localhost/postgres?host={}&port={}", self.dir.path().display(), self.port)
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = self.command("pg_ctl").args(["-D", &self.data(), "-m", "immediate", "stop"]).output();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "PostgreSQL only: the PostgreSQL pass runs it"]
async fn postgres_restarted_mid_storm_gives_quick_503s_then_recovers_with_nothing_lost() {
    let postgres = OwnPostgres::start();
    let data_dir = tempfile::tempdir().unwrap();
    let server = Server::start(data_dir.path(), &postgres.url()).await;
    // A hang is a failure, not a wait.
    let client = Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let ready = |client: Client, base: String| async move {
        client.get(format!("{base}/health/ready")).send().await.is_ok_and(|r| r.status() == StatusCode::OK)
    };

    let storm = Storm::start(&client, &server.base).await;
    assert!(storm.until_answered(STORM_BEFORE_FAULT).await, "the storm stalled before the restart");
    postgres.kill();
    let killed = Instant::now();
    // Down for longer than a request waits for a connection (3 s), so the
    // storm goes on and is told so; then it is back.
    tokio::time::sleep(Duration::from_millis(3_500)).await;
    assert!(!ready(client.clone(), server.base.clone()).await, "ready with no database");
    postgres.start_again();
    let back = Instant::now();
    while !ready(client.clone(), server.base.clone()).await {
        assert!(back.elapsed() < Duration::from_secs(10), "Gatehouse did not recover within 10 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let recovered = back.elapsed();
    // Workers that met no change in flight go on after the recovery (a
    // worker whose change was answered 503 has stopped; the registrations
    // below show recovery whatever the count).
    storm.until_answered(200).await;
    let ops = storm.finish().await;

    // After the outage, fresh changes are all answered and kept.
    let mut after = Vec::new();
    let answered = AtomicUsize::new(0);
    for i in 0..WORKERS {
        let name = format!("after{i}");
        let body = json!({ "username": name, "password": "correct horse battery" });
        let (outcome, _) = send(client.post(format!("{}/api/register", server.base)).json(&body), &answered).await;
        assert_eq!(outcome, Outcome::Done, "registering {name} after the restart");
        after.push(Op::Register { name, outcome });
    }
    let mut ops = ops;
    ops.push(after);

    let db = Db::connect(&postgres.url(), 2).await.unwrap();
    let found = verify(&db, &client, &server.base, &ops, Fault::DatabaseRestarted).await;
    assert_eq!(found.lost, 0, "every request was answered, none hung or was dropped");
    assert!(found.unavailable > 0, "no change was refused: the outage was not felt");
    assert!(found.answered > 500, "the storm made only {} changes", found.answered);
    println!(
        "database restart: {} answered changes all kept; {} answered 503 (\"{UNREACHABLE}\"): {} kept whole, \
         {} absent; ready again {} ms after PostgreSQL was (down for {} ms)",
        found.answered,
        found.unavailable,
        found.cut_off_applied,
        found.unavailable - found.cut_off_applied - found.unknowable,
        recovered.as_millis(),
        (back - killed).as_millis()
    );
}
