//! What does "revocation at once" cost per request? Prints the time of the
//! pure token check (the baseline: what a stateless verifier pays) and of
//! the full guard (the same check plus one query of account and session),
//! measured in the same run on SQLite, and on PostgreSQL when
//! `GATEHOUSE_BENCH_POSTGRES_URL` names a database.
//!
//! Run: `cargo bench --features ssr --bench guard`

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{Extensions, HeaderMap, HeaderValue, header};
use gatehouse::accounts;
use gatehouse::auth::caller::Client;
use gatehouse::auth::clock::SystemClock;
use gatehouse::auth::password::HashParams;
use gatehouse::auth::token::{self, TokenType};
use gatehouse::config::Settings;
use gatehouse::domain::Role;
use gatehouse::startup::Application;
use gatehouse::web::guard::{self, Refresh};
use leptos::config::LeptosOptions;

const ROUNDS: u32 = 20_000;

fn per_op(total: Duration, n: u32) -> f64 {
    total.as_secs_f64() * 1e6 / f64::from(n)
}

async fn run(engine: &str, database_url: Option<String>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let site = LeptosOptions::builder().output_name("gatehouse").build();
    let mut settings = Settings::local(dir.path().to_owned(), site);
    settings.listen_addr = "127.0.0.1:0".parse().expect("address");
    settings.hash_params = HashParams { memory_kib: 1024, iterations: 1, parallelism: 1 };
    if let Some(url) = database_url {
        settings.database_url = url;
    }
    let app = Application::build(settings, Arc::new(SystemClock)).await.expect("app builds");
    let state = app.state().clone();
    let name = format!("bench{}", std::process::id());
    accounts::register(&state, &name, "correct horse battery", Role::User, &Client::default()).await.expect("register");
    let accounts::SignIn::Session(signed_in) =
        accounts::sign_in(&state, &name, "correct horse battery", &Client::default()).await.expect("sign in")
    else {
        panic!("a new account has no second factor");
    };
    let token = signed_in.access.token;
    let none = Extensions::new();
    let mut headers = HeaderMap::new();
    headers.insert(header::AUTHORIZATION, HeaderValue::from_str(&format!("Bearer {token}")).expect("header"));

    // Warm up both paths.
    for _ in 0..500 {
        guard::check(&state, &headers, &none, Refresh::Never).await.caller.expect("valid");
    }
    let start = Instant::now();
    for _ in 0..ROUNDS {
        let now = state.clock.now();
        black_box(
            token::verify(&state.keys.ring(now), &state.tokens, black_box(&token), TokenType::Access, now)
                .expect("valid"),
        );
    }
    let verify = per_op(start.elapsed(), ROUNDS);
    let start = Instant::now();
    for _ in 0..ROUNDS {
        black_box(guard::check(&state, black_box(&headers), &none, Refresh::Never).await.caller.expect("valid"));
    }
    let guarded = per_op(start.elapsed(), ROUNDS);
    println!(
        "| {engine:<10} | {verify:>12.1} | {guarded:>15.1} | {:>13.1} | {:>6.1}x |",
        guarded - verify,
        guarded / verify
    );
}

#[tokio::main]
async fn main() {
    println!("guard cost per request, {ROUNDS} sequential requests, microseconds");
    println!("| database   | token only µs | token + query µs | revocation µs | ratio  |");
    println!("|------------|---------------|------------------|---------------|--------|");
    run("SQLite", None).await;
    if let Ok(url) = std::env::var("GATEHOUSE_BENCH_POSTGRES_URL") {
        run("PostgreSQL", Some(url)).await;
    }
}
