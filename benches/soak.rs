//! The soak: 50,000 mixed requests over 64 connections against the release
//! server (sign-in, refresh, pages, the API, sign-out, registration and
//! administrator reads), with the server's resident memory read as it goes.
//! Prints the figures and fails on any 5xx, any registration answered 201
//! that is not stored, or memory that grew more than 10% between the
//! first and the last 10,000 requests.
//!
//! Run: `bash scripts/soak.sh`. Settings: `SOAK_REQUESTS` (50000),
//! `SOAK_CONNECTIONS` (64), and any `GATEHOUSE_*` variable, which the
//! server inherits (the Argon2 costs stay the production defaults).

use std::io::Write as _;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::Client;
use serde_json::{Value, json};
use tokio::sync::Mutex;

const PASSWORD: &str = "correct horse battery staple";
/// Memory is compared over windows of this many requests.
const WINDOW: usize = 10_000;

fn fail(why: &str) -> ! {
    eprintln!("soak: {why}");
    std::process::exit(1)
}

/// The resident memory of `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// What the storm saw, shared by the connections.
#[derive(Default)]
struct Tally {
    sent: AtomicUsize,
    by_class: [AtomicUsize; 6],
    registered: Mutex<Vec<String>>,
    /// Resident memory sampled after each 1,000 requests: (requests, KiB).
    rss: Mutex<Vec<(usize, u64)>>,
    latency_us_total: AtomicU64,
}

struct Person {
    name: String,
    access: String,
    refresh: String,
}

async fn sign_in(client: &Client, base: &str, name: &str) -> Result<(String, String), u16> {
    let res = client
        .post(format!("{base}/api/login"))
        .json(&json!({ "username": name, "password": PASSWORD }))
        .send()
        .await
        .map_err(|_| 0u16)?;
    if !res.status().is_success() {
        return Err(res.status().as_u16());
    }
    let body: Value = res.json().await.map_err(|_| 0u16)?;
    Ok((
        body["access_token"].as_str().unwrap_or("").to_owned(),
        body["refresh_token"].as_str().unwrap_or("").to_owned(),
    ))
}

/// One connection's loop: a person's day, over and over.
async fn connection(
    base: String,
    pid: u32,
    total: usize,
    mut me: Person,
    admin: String,
    tally: Arc<Tally>,
) -> Result<(), String> {
    let client = Client::builder().timeout(Duration::from_secs(30)).build().map_err(|e| e.to_string())?;
    let url = |path: &str| format!("{base}{path}");
    let mut step = 0usize;
    loop {
        let n = tally.sent.fetch_add(1, Ordering::Relaxed);
        if n >= total {
            return Ok(());
        }
        let started = Instant::now();
        let status = match step % 16 {
            0 => {
                // Sign in again, then end the old session.
                let old = std::mem::take(&mut me.access);
                match sign_in(&client, &base, &me.name).await {
                    Ok((access, refresh)) => {
                        (me.access, me.refresh) = (access, refresh);
                        let res = client.post(url("/api/logout")).bearer_auth(&old).send().await;
                        res.map_or(0, |r| r.status().as_u16())
                    }
                    Err(status) => {
                        me.access = old;
                        status
                    }
                }
            }
            1 | 9 => {
                let res = client.post(url("/api/refresh")).bearer_auth(&me.refresh).send().await;
                match res {
                    Ok(r) if r.status().is_success() => {
                        let body: Value = r.json().await.unwrap_or(Value::Null);
                        me.access = body["access_token"].as_str().unwrap_or("").to_owned();
                        me.refresh = body["refresh_token"].as_str().unwrap_or("").to_owned();
                        200
                    }
                    Ok(r) => r.status().as_u16(),
                    Err(_) => 0,
                }
            }
            2 | 5 | 10 | 13 => status(client.get(url("/api/protected")).bearer_auth(&me.access)).await,
            3 | 11 => status(cookie(client.get(url("/dashboard")), &me.access)).await,
            4 | 12 => status(cookie(client.get(url("/sessions")), &me.access)).await,
            6 | 14 => status(client.get(url("/login"))).await,
            7 => {
                let name = format!("soak{n}");
                let res = client
                    .post(url("/api/register"))
                    .json(&json!({ "username": name, "password": PASSWORD }))
                    .send()
                    .await;
                let code = res.map_or(0, |r| r.status().as_u16());
                if code == 201 {
                    tally.registered.lock().await.push(name);
                }
                code
            }
            8 => status(client.get(url("/api/admin/users?page=1")).bearer_auth(&admin)).await,
            _ => status(client.get(url("/api/admin/audit?page=1")).bearer_auth(&admin)).await,
        };
        step += 1;
        tally.latency_us_total.fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
        tally.by_class[usize::from(status / 100).min(5)].fetch_add(1, Ordering::Relaxed);
        if status == 0 {
            return Err(format!("request {n} got no answer"));
        }
        if (n + 1).is_multiple_of(1_000) {
            tally.rss.lock().await.push((n + 1, rss_kib(pid)));
        }
    }
}

async fn status(request: reqwest::RequestBuilder) -> u16 {
    request.send().await.map_or(0, |r| r.status().as_u16())
}

fn cookie(request: reqwest::RequestBuilder, access: &str) -> reqwest::RequestBuilder {
    request.header("accept", "text/html").header("cookie", format!("__Host-gatehouse-access={access}"))
}

fn main() {
    let env_usize = |k: &str, d: usize| std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d);
    let total = env_usize("SOAK_REQUESTS", 50_000);
    let connections = env_usize("SOAK_CONNECTIONS", 64);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let work = tempfile::tempdir().unwrap_or_else(|e| fail(&format!("no temporary directory: {e}")));
    let data = work.path().join("data");
    let binary = env!("CARGO_BIN_EXE_gatehouse");

    // The administrator, made by the command line before the server starts.
    let mut cli = Command::new(binary)
        .args(["user", "create", "root", "--admin"])
        .env("GATEHOUSE_DATA_DIR", &data)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| fail(&format!("cannot run the command line: {e}")));
    let _ = writeln!(cli.stdin.take().expect("stdin"), "{PASSWORD}");
    if !cli.wait().is_ok_and(|s| s.success()) {
        fail("the command line could not create the administrator");
    }

    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port());
    let addr = format!("127.0.0.1:{}", port.unwrap_or_else(|e| fail(&format!("no free port: {e}"))));
    let mut server: Child = Command::new(binary)
        .env("GATEHOUSE_DATA_DIR", &data)
        .env("GATEHOUSE_ADDR", &addr)
        .env("LEPTOS_SITE_ADDR", &addr)
        .env("LEPTOS_SITE_ROOT", concat!(env!("CARGO_MANIFEST_DIR"), "/public"))
        .env("LEPTOS_ENV", "PROD")
        .env("GATEHOUSE_LOG", "warn")
        .env("GATEHOUSE_REGISTRATIONS_PER_ADDRESS", "100000")
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| fail(&format!("cannot start the server: {e}")));
    let pid = server.id();
    let base = format!("http://{addr}");

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    let outcome = runtime.block_on(async {
        let client = Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        while !client.get(format!("{base}/health/ready")).send().await.is_ok_and(|r| r.status().is_success()) {
            if Instant::now() > deadline {
                return Err("the server did not become ready".to_owned());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let admin = sign_in(&client, &base, "root").await.map_err(|s| format!("the administrator: {s}"))?.0;
        let mut people = Vec::new();
        for i in 0..connections {
            let name = format!("person{i}");
            let res =
                client.post(format!("{base}/api/register")).json(&json!({ "username": name, "password": PASSWORD }));
            let code = res.send().await.map_or(0, |r| r.status().as_u16());
            if code != 201 {
                return Err(format!("registering {name}: {code}"));
            }
            let (access, refresh) = sign_in(&client, &base, &name).await.map_err(|s| format!("{name}: {s}"))?;
            people.push(Person { name, access, refresh });
        }

        let tally = Arc::new(Tally::default());
        let before = rss_kib(pid);
        let started = Instant::now();
        let mut running = tokio::task::JoinSet::new();
        for me in people {
            running.spawn(connection(base.clone(), pid, total, me, admin.clone(), tally.clone()));
        }
        while let Some(done) = running.join_next().await {
            done.map_err(|e| e.to_string())??;
        }
        let elapsed = started.elapsed();

        // Every registration answered 201 is stored, and can sign in.
        let registered = tally.registered.lock().await.clone();
        let users: Value = client
            .get(format!("{base}/api/admin/users?page=1"))
            .bearer_auth(&admin)
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        let stored = users["total"].as_u64().unwrap_or(0) as usize;
        let expected = 1 + connections + registered.len();
        for name in registered.iter().step_by(registered.len().div_ceil(20).max(1)) {
            sign_in(&client, &base, name).await.map_err(|s| format!("{name} registered but cannot sign in: {s}"))?;
        }
        Ok((tally, before, elapsed, stored, expected, registered.len()))
    });
    let _ = server.kill();
    let _ = server.wait();
    let (tally, before, elapsed, stored, expected, registered) = outcome.unwrap_or_else(|e| fail(&e));

    let class = |c: usize| tally.by_class[c].load(Ordering::Relaxed);
    let done: usize = (1..6).map(class).sum();
    let rss = tally.rss.blocking_lock().clone();
    let window = |from: usize, to: usize| {
        let v: Vec<u64> = rss.iter().filter(|(n, _)| *n > from && *n <= to).map(|(_, k)| *k).collect();
        v.iter().sum::<u64>() as f64 / v.len().max(1) as f64
    };
    let first = window(0, WINDOW);
    let last = window(total.saturating_sub(WINDOW), total);
    let growth = last / first.max(1.0) - 1.0;
    let mean_ms = tally.latency_us_total.load(Ordering::Relaxed) as f64 / done.max(1) as f64 / 1000.0;

    println!("| soak ({total} requests, {connections} connections) | figure |");
    println!("| --- | --- |");
    println!(
        "| duration | {:.1} s ({:.0} req/s, mean {mean_ms:.1} ms) |",
        elapsed.as_secs_f64(),
        done as f64 / elapsed.as_secs_f64()
    );
    println!("| answers 2xx / 3xx / 4xx / 5xx | {} / {} / {} / {} |", class(2), class(3), class(4), class(5));
    println!("| registrations answered 201 / accounts stored | {registered} / {} of {expected} expected |", stored);
    println!(
        "| resident memory: before, first {WINDOW}, last {WINDOW} | {} / {:.0} / {:.0} KiB ({:+.1}%) |",
        before,
        first,
        last,
        growth * 100.0
    );

    let curve: Vec<String> = rss
        .iter()
        .filter(|(n, _)| n % 5_000 == 0)
        .map(|(n, k)| format!("{}k: {:.1}", n / 1000, *k as f64 / 1024.0))
        .collect();
    println!("| resident memory every 5,000 requests (MiB) | {} |", curve.join(", "));

    let mut failed = Vec::new();
    if class(5) > 0 {
        failed.push(format!("{} answers were 5xx", class(5)));
    }
    if stored != expected {
        failed.push(format!("{expected} accounts expected, {stored} stored"));
    }
    if growth > 0.10 {
        failed.push(format!("memory grew {:.1}% from the first to the last {WINDOW} requests", growth * 100.0));
    }
    if failed.is_empty() {
        println!("soak: passed");
    } else {
        fail(&failed.join("; "));
    }
}
