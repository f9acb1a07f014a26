//! The release server as a child process: started on a free port, its memory read, stopped.

use serde::Deserialize;
use serde_json::json;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::{PASSWORD, STORM, fail};

/// How to start the release server: its site, and where its data goes.
pub(crate) struct Launch {
    pub(crate) site: PathBuf,
    pub(crate) scratch: PathBuf,
}

pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) base: String,
    pub(crate) log: PathBuf,
}

pub(crate) struct Memory {
    pub(crate) current_kib: u64,
    pub(crate) peak_kib: u64,
}

impl Launch {
    /// Starts the server on a free port with data in `scratch/name`, and
    /// returns once it answers `GET /login` with 200.
    pub(crate) fn start(&self, name: &str) -> Server {
        self.start_timed(name).0
    }

    pub(crate) fn start_timed(&self, name: &str) -> (Server, Duration) {
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
    pub(crate) fn memory(&self) -> Memory {
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

pub(crate) fn free_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address")
}

/// The status of a plain `GET path`, or `None` when nothing answers yet.
pub(crate) fn status_of(addr: SocketAddr, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(100)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").ok()?;
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).ok()?;
    line.split_whitespace().nth(1)?.parse().ok()
}

pub(crate) struct Startup {
    pub(crate) fresh: Duration,
    pub(crate) restart: Duration,
}

pub(crate) fn measure_startup(launch: &Launch) -> Startup {
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

pub(crate) fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Registers the page reader and the storm's accounts (eight at a time),
/// and returns the reader's access token.
pub(crate) async fn prepare(base: &str) -> String {
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

pub(crate) async fn register(client: reqwest::Client, base: String, name: String) {
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
