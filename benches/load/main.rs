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

mod ceiling;
mod figures;
mod server;
mod table;
mod wrk;

use gatehouse::config::Settings;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::ceiling::Ceiling;
use crate::figures::{bundle_sizes, single_hash_time};
use crate::server::{Launch, measure_startup, prepare};
use crate::table::{Goal, Table, count, mib, ms};
use crate::wrk::{LUA, Wrk};

pub(crate) const PASSWORD: &str = "correct horse battery staple";
/// Concurrent sign-ins in the storm, one account each.
pub(crate) const STORM: usize = 256;
/// Connections for the throughput figures.
pub(crate) const BUSY: usize = 32;
/// Connections for the latency figures: a page in steady use, not flooded.
pub(crate) const STEADY: usize = 4;

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

pub(crate) fn fail(message: &str) -> ! {
    eprintln!("bench: {message}");
    std::process::exit(1)
}
