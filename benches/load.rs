//! The load benchmark: the release server under `wrk`, beside a bare axum
//! handler measured in the same run, and a table of what it found.
//!
//! - `GET /api/protected` (Bearer) and the protected SSR page `/dashboard`
//!   (cookie): requests/s and p50/p99, against the ceiling: a bare axum
//!   handler that verifies an HS256 token and nothing else;
//! - the page's p99 while 256 connections sign in without pause
//!   (argon2id at the configured parameters), against its idle p99;
//! - sign-ins per second against the theoretical maximum, cores divided by
//!   the time of one password check;
//! - the server's peak resident memory; start-up to the first 200 on
//!   SQLite; the browser bundle's gzip size.
//!
//! Run: `bash scripts/bench.sh` (builds the release site first). Settings:
//! `BENCH_SECS` (seconds per measurement, default 8) and any `GATEHOUSE_*`
//! variable, which the server inherits.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use gatehouse::auth::password::{self, HashParams};
use gatehouse::config::Settings;
use gatehouse::domain::Password;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::json;

const PASSWORD: &str = "correct horse battery staple";
/// Concurrent sign-ins in the storm, one account each.
const STORM: usize = 256;
/// Connections for the throughput figures.
const BUSY: usize = 32;
/// Connections for the latency figures: a page in steady use, not flooded.
const STEADY: usize = 4;

fn main() {
    let secs: u64 = std::env::var("BENCH_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(8);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let site = root.join("target/site");
    if !site.join("pkg/gatehouse.wasm").exists() {
        fail("no release site in target/site: run `scripts/site.sh release` first (scripts/bench.sh does)");
    }
    if Command::new("wrk").arg("--version").output().is_err() {
        fail("wrk is not installed (scripts/bench.sh installs it)");
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let work = tempfile::tempdir().unwrap_or_else(|e| fail(&format!("no temporary directory: {e}")));
    let script = work.path().join("report.lua");
    std::fs::write(&script, LUA).unwrap_or_else(|e| fail(&format!("cannot write the wrk script: {e}")));
    let launch = Launch { site, scratch: work.path().to_owned() };

    eprintln!("start-up: 5 fresh databases, 5 restarts");
    let startup = measure_startup(&launch);

    eprintln!("a single password check at the configured parameters");
    let params =
        Settings::from_vars(std::env::vars(), leptos::config::LeptosOptions::builder().output_name("x").build())
            .unwrap_or_else(|e| fail(&e.to_string()))
            .hash_params;
    let one_hash = single_hash_time(params);

    let server = launch.start("load");
    let idle_rss = server.memory().current_kib;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let access = runtime.block_on(prepare(&server.base));

    let ceiling = Ceiling::serve();
    let bearer = format!("Authorization: Bearer {access}");
    let cookie = format!("Cookie: __Host-gatehouse-access={access}");
    let wrk = Wrk { script: script.clone(), secs };

    eprintln!("throughput: bare handler, API, page ({BUSY} connections, {secs} s each)");
    let bare = wrk.run(&format!("{}/protected", ceiling.base), &[&ceiling.bearer], BUSY, None);
    let api = wrk.run(&format!("{}/api/protected", server.base), &[&bearer], BUSY, None);
    let page = wrk.run(&format!("{}/dashboard", server.base), &[&cookie], BUSY, None);

    eprintln!("latency: the page idle, then during a storm of {STORM} sign-ins");
    let page_idle = wrk.run(&format!("{}/dashboard", server.base), &[&cookie], STEADY, None);
    let storm = wrk.spawn(&format!("{}/api/login", server.base), &[], STORM, Some(STORM), secs + 2);
    std::thread::sleep(Duration::from_secs(1));
    let page_storm = wrk.run(&format!("{}/dashboard", server.base), &[&cookie], STEADY, None);
    let storm = storm.finish();
    let memory = server.memory();

    let sizes = bundle_sizes(&launch.site);
    let theoretical = cores as f64 / one_hash.as_secs_f64();
    let signed_in = storm.ok() as f64 / storm.secs;

    let mut t = Table::default();
    for (what, load, share) in
        [("GET /api/protected (Bearer)", &api, 0.75), ("GET /dashboard (cookie, SSR)", &page, 0.40)]
    {
        t.row(
            &format!("{what}, req/s"),
            &count(load.rps()),
            &format!("{} bare axum + HS256", count(bare.rps())),
            Some((load.rps() / bare.rps(), Goal::AtLeast(share))),
        );
        t.row("  p50 / p99", &load.latency(), &bare.latency(), None);
    }
    t.row(
        &format!("/dashboard p99 during {STORM} concurrent sign-ins"),
        &ms(page_storm.p99),
        &format!("{} idle ({STEADY} connections)", ms(page_idle.p99)),
        Some((page_storm.p99.as_secs_f64() / page_idle.p99.as_secs_f64(), Goal::AtMost(2.0))),
    );
    t.row(
        &format!("sign-ins/s, argon2id m={} KiB t={} p={}", params.memory_kib, params.iterations, params.parallelism),
        &format!("{signed_in:.1}"),
        &format!("{theoretical:.1} theoretical ({cores} cores / {})", ms(one_hash)),
        Some((signed_in / theoretical, Goal::Report)),
    );
    t.row(&format!("  storm answers: {} signed in, {} refused (busy)", storm.ok(), storm.non_2xx), "", "", None);
    t.row(
        "peak RSS (storm included)",
        &mib(memory.peak_kib),
        &format!("{} idle after start", mib(idle_rss)),
        Some((memory.peak_kib as f64 / 1024.0, Goal::Below(200.0, "MiB"))),
    );
    t.row(
        "start-up to first 200, new SQLite database",
        &ms(startup.fresh),
        "median of 5",
        Some((startup.fresh.as_secs_f64() * 1000.0, Goal::Below(300.0, "ms"))),
    );
    t.row(
        "start-up to first 200, existing database",
        &ms(startup.restart),
        "median of 5",
        Some((startup.restart.as_secs_f64() * 1000.0, Goal::Below(300.0, "ms"))),
    );
    t.row("browser bundle, gzip: wasm + JS (+ CSS)", &sizes.summary(), &sizes.raw(), None);

    for (name, r) in
        [("bare", &bare), ("api", &api), ("page", &page), ("idle", &page_idle), ("storm page", &page_storm)]
    {
        if r.non_2xx > 0 || r.socket_errors > 0 {
            eprintln!("warning: {name}: {} non-2xx answers, {} socket errors", r.non_2xx, r.socket_errors);
        }
    }
    println!(
        "\nGatehouse load benchmark: {cores} cores, wrk (1 thread) on the same machine, {secs} s per figure, SQLite\n"
    );
    t.print();
}

fn fail(message: &str) -> ! {
    eprintln!("bench: {message}");
    std::process::exit(1)
}

// ---------------------------------------------------------------- the server

/// How to start the release server: its site, and where its data goes.
struct Launch {
    site: PathBuf,
    scratch: PathBuf,
}

struct Server {
    child: Child,
    base: String,
    log: PathBuf,
}

struct Memory {
    current_kib: u64,
    peak_kib: u64,
}

impl Launch {
    /// Starts the server on a free port with data in `scratch/name`, and
    /// returns once it answers `GET /login` with 200.
    fn start(&self, name: &str) -> Server {
        self.start_timed(name).0
    }

    fn start_timed(&self, name: &str) -> (Server, Duration) {
        let addr = free_port();
        let data = self.scratch.join(name);
        let log = self.scratch.join(format!("{name}.log"));
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap_or_else(|e| fail(&format!("cannot open {}: {e}", log.display())));
        let err = out.try_clone().expect("a second handle to the log");
        let started = Instant::now();
        let child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
            .env("GATEHOUSE_ADDR", addr.to_string())
            .env("GATEHOUSE_DATA_DIR", &data)
            .env("GATEHOUSE_LOG_FORMAT", "json")
            .env("GATEHOUSE_REGISTRATIONS_PER_ADDRESS", "100000")
            .env("LEPTOS_SITE_ROOT", &self.site)
            .env("LEPTOS_SITE_ADDR", addr.to_string())
            .env("LEPTOS_OUTPUT_NAME", "gatehouse")
            .env("LEPTOS_ENV", "PROD")
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| fail(&format!("cannot start the server: {e}")));
        let mut server = Server { child, base: format!("http://{addr}"), log };
        loop {
            if status_of(addr, "/login") == Some(200) {
                return (server, started.elapsed());
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                fail(&format!("the server exited ({status}); see {}", server.log.display()));
            }
            if started.elapsed() > Duration::from_secs(30) {
                fail(&format!("the server did not answer within 30 s; see {}", server.log.display()));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

impl Server {
    /// Resident memory now and at its peak (Linux: `/proc/PID/status`).
    fn memory(&self) -> Memory {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or(0)
        };
        Memory { current_kib: field("VmRSS:"), peak_kib: field("VmHWM:") }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address")
}

/// The status of a plain `GET path`, or `None` when nothing answers yet.
fn status_of(addr: SocketAddr, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(100)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").ok()?;
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).ok()?;
    line.split_whitespace().nth(1)?.parse().ok()
}

struct Startup {
    fresh: Duration,
    restart: Duration,
}

fn measure_startup(launch: &Launch) -> Startup {
    let mut fresh = Vec::new();
    let mut restart = Vec::new();
    for i in 0..5 {
        let name = format!("startup-{i}");
        let (server, took) = launch.start_timed(&name);
        fresh.push(took);
        drop(server);
        let (server, took) = launch.start_timed(&name);
        restart.push(took);
        drop(server);
    }
    Startup { fresh: median(fresh), restart: median(restart) }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Registers the page reader and the storm's accounts (eight at a time),
/// and returns the reader's access token.
async fn prepare(base: &str) -> String {
    let client = reqwest::Client::new();
    eprintln!("registering {} accounts", STORM + 1);
    register(client.clone(), base.to_owned(), "reader".to_owned()).await;
    let mut running = tokio::task::JoinSet::new();
    for i in 0..STORM {
        running.spawn(register(client.clone(), base.to_owned(), format!("storm{i}")));
        if running.len() >= 8 {
            running.join_next().await;
        }
    }
    running.join_all().await;

    #[derive(Deserialize)]
    struct Pair {
        access_token: String,
    }
    let pair: Pair = client
        .post(format!("{base}/api/login"))
        .json(&json!({ "username": "reader", "password": PASSWORD }))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .unwrap_or_else(|e| fail(&format!("signing in: {e}")))
        .json()
        .await
        .unwrap_or_else(|e| fail(&format!("reading the sign-in answer: {e}")));
    pair.access_token
}

async fn register(client: reqwest::Client, base: String, name: String) {
    let answer = client
        .post(format!("{base}/api/register"))
        .json(&json!({ "username": name, "password": PASSWORD }))
        .send()
        .await;
    match answer {
        Ok(r) if r.status().is_success() => {}
        Ok(r) => fail(&format!("registering {name}: {} {}", r.status(), r.text().await.unwrap_or_default())),
        Err(e) => fail(&format!("registering {name}: {e}")),
    }
}

// --------------------------------------------------------------- the ceiling

/// A bare axum handler that verifies an HS256 token and answers JSON: what
/// any JWT-protected endpoint must at least do, with nothing of ours.
struct Ceiling {
    base: String,
    bearer: String,
}

#[derive(Serialize, Deserialize)]
struct BareClaims {
    sub: String,
    iss: String,
    aud: String,
    iat: i64,
    exp: i64,
    jti: String,
}

struct BareKeys {
    decoding: DecodingKey,
    validation: Validation,
}

impl Ceiling {
    fn serve() -> Self {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).expect("random bytes");
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("time").as_secs();
        let now = i64::try_from(now).expect("a sane clock");
        let claims = BareClaims {
            sub: "0196a4e0-8b5e-7c31-9a3c-5f2d9e1b7a40".to_owned(),
            iss: "gatehouse".to_owned(),
            aud: "gatehouse".to_owned(),
            iat: now,
            exp: now + 900,
            jti: "0196a4e0-8b5e-7c31-9a3c-5f2d9e1b7a41".to_owned(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(&secret))
            .expect("a token");
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&["gatehouse"]);
        validation.set_audience(&["gatehouse"]);
        let keys = Arc::new(BareKeys { decoding: DecodingKey::from_secret(&secret), validation });

        let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
        listener.set_nonblocking(true).expect("non-blocking");
        let base = format!("http://{}", listener.local_addr().expect("its address"));
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
            rt.block_on(async move {
                let app = axum::Router::new().route("/protected", axum::routing::get(bare_protected)).with_state(keys);
                let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
                axum::serve(listener, app).await.expect("the ceiling serves");
            });
        });
        Self { base, bearer: format!("Authorization: Bearer {token}") }
    }
}

async fn bare_protected(
    State(keys): State<Arc<BareKeys>>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, StatusCode> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(StatusCode::UNAUTHORIZED)?;
    let claims = jsonwebtoken::decode::<BareClaims>(token, &keys.decoding, &keys.validation)
        .map_err(|_| StatusCode::UNAUTHORIZED)?
        .claims;
    Ok(Json(json!({ "logged_in_as": claims.sub })))
}

// ------------------------------------------------------------------- the load

/// Prints one machine-readable line when wrk is done; with `STORM_USERS`
/// set, each request signs in as the next of that many accounts.
const LUA: &str = r#"
local users = tonumber(os.getenv("STORM_USERS") or "0")
local password = os.getenv("STORM_PASSWORD") or ""
local n = 0
request = function()
  if users > 0 then
    n = n + 1
    local body = string.format('{"username":"storm%d","password":"%s"}', n % users, password)
    return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
  end
  return wrk.request()
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
"#;

struct Wrk {
    script: PathBuf,
    secs: u64,
}

struct Load {
    requests: u64,
    secs: f64,
    p50: Duration,
    p99: Duration,
    non_2xx: u64,
    socket_errors: u64,
}

struct Running(Child);

impl Wrk {
    fn run(&self, url: &str, headers: &[&str], connections: usize, storm_users: Option<usize>) -> Load {
        // A one-second warm-up, then the measurement.
        self.spawn(url, headers, connections, storm_users, 1).finish();
        self.spawn(url, headers, connections, storm_users, self.secs).finish()
    }

    fn spawn(&self, url: &str, headers: &[&str], connections: usize, storm_users: Option<usize>, secs: u64) -> Running {
        let mut cmd = Command::new("wrk");
        cmd.args(["-t1", &format!("-c{connections}"), &format!("-d{secs}s"), "--timeout", "30s", "-s"])
            .arg(&self.script)
            .env("STORM_USERS", storm_users.unwrap_or(0).to_string())
            .env("STORM_PASSWORD", PASSWORD)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for h in headers {
            cmd.args(["-H", h]);
        }
        cmd.arg(url);
        Running(cmd.spawn().unwrap_or_else(|e| fail(&format!("cannot run wrk: {e}"))))
    }
}

impl Running {
    fn finish(mut self) -> Load {
        let mut out = String::new();
        if let Some(mut stdout) = self.0.stdout.take() {
            let _ = stdout.read_to_string(&mut out);
        }
        let _ = self.0.wait();
        let line =
            out.lines().find_map(|l| l.strip_prefix("RESULT ")).unwrap_or_else(|| fail(&format!("wrk said: {out}")));
        let f: Vec<u64> = line.split_whitespace().filter_map(|n| n.parse().ok()).collect();
        if f.len() != 6 {
            fail(&format!("cannot read wrk's result: {line}"));
        }
        Load {
            requests: f[0],
            secs: f[1] as f64 / 1e6,
            p50: Duration::from_micros(f[2]),
            p99: Duration::from_micros(f[3]),
            non_2xx: f[4],
            socket_errors: f[5],
        }
    }
}

impl Load {
    fn rps(&self) -> f64 {
        self.ok() as f64 / self.secs
    }

    fn ok(&self) -> u64 {
        self.requests.saturating_sub(self.non_2xx)
    }

    fn latency(&self) -> String {
        format!("{} / {}", ms(self.p50), ms(self.p99))
    }
}

// ----------------------------------------------------------- other figures

fn single_hash_time(params: HashParams) -> Duration {
    let password = Password::parse_attempt(PASSWORD).expect("a valid password");
    // As on a hashing thread: one work area, reused.
    let mut workspace = password::Workspace::default();
    let stored = password::hash(&password, params, &mut workspace).unwrap_or_else(|e| fail(&format!("hashing: {e}")));
    let times = (0..9)
        .map(|_| {
            let start = Instant::now();
            let ok = password::verify(&password, &stored, &mut workspace)
                .unwrap_or_else(|e| fail(&format!("verifying: {e}")));
            assert!(ok, "the password verifies");
            start.elapsed()
        })
        .collect();
    median(times)
}

struct Sizes {
    wasm: (u64, u64),
    js: (u64, u64),
    css: (u64, u64),
}

fn bundle_sizes(site: &Path) -> Sizes {
    let size = |name: &str| {
        let path = site.join("pkg").join(name);
        let raw = std::fs::metadata(&path).map_or(0, |m| m.len());
        let gz = Command::new("gzip").args(["-9", "-c"]).arg(&path).output().map_or(0, |o| o.stdout.len() as u64);
        (raw, gz)
    };
    Sizes { wasm: size("gatehouse.wasm"), js: size("gatehouse.js"), css: size("gatehouse.css") }
}

impl Sizes {
    fn summary(&self) -> String {
        format!("{} (+ {})", kib(self.wasm.1 + self.js.1), kib(self.css.1))
    }

    fn raw(&self) -> String {
        format!("wasm {} + JS {} gzip; {} + {} raw", kib(self.wasm.1), kib(self.js.1), kib(self.wasm.0), kib(self.js.0))
    }
}

// ------------------------------------------------------------------ the table

enum Goal {
    AtLeast(f64),
    AtMost(f64),
    /// A limit and its unit.
    Below(f64, &'static str),
    Report,
}

#[derive(Default)]
struct Table {
    rows: Vec<[String; 5]>,
}

impl Table {
    fn row(&mut self, what: &str, ours: &str, baseline: &str, judged: Option<(f64, Goal)>) {
        let (figure, target, verdict) = match judged {
            None => (String::new(), String::new(), String::new()),
            Some((r, Goal::AtLeast(t))) => (percent(r), format!(">= {}", percent(t)), met(r >= t)),
            Some((r, Goal::AtMost(t))) => (format!("{r:.2}x"), format!("<= {t}x"), met(r <= t)),
            Some((v, Goal::Below(t, unit))) => (String::new(), format!("< {t} {unit}"), met(v < t)),
            Some((r, Goal::Report)) => (percent(r), String::new(), String::new()),
        };
        let target = if verdict.is_empty() { target } else { format!("{target} {verdict}") };
        self.rows.push([what.to_owned(), ours.to_owned(), baseline.to_owned(), figure, target]);
    }

    fn print(&self) {
        let head = ["measure", "Gatehouse", "baseline (same run)", "ratio", "target"];
        let mut width = head.map(str::len);
        for r in &self.rows {
            for (w, c) in width.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |cells: [&str; 5]| {
            let padded: Vec<String> =
                cells.iter().zip(width).map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count()))).collect();
            println!("| {} |", padded.join(" | "));
        };
        line(head);
        println!("|{}|", width.map(|w| "-".repeat(w + 2)).join("|"));
        for r in &self.rows {
            line([&r[0], &r[1], &r[2], &r[3], &r[4]]);
        }
    }
}

fn met(yes: bool) -> String {
    if yes { "met".to_owned() } else { "MISSED".to_owned() }
}

fn percent(r: f64) -> String {
    format!("{:.0}%", r * 100.0)
}

fn count(rps: f64) -> String {
    format!("{rps:.0}")
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn kib(bytes: u64) -> String {
    format!("{:.0} KiB", bytes as f64 / 1024.0)
}
