//! The database goes away and comes back: requests get a quick 503 with a
//! clear message (no hang, no 500), readiness says so, liveness does not
//! change, and the service recovers by itself. The lost-database test
//! covers PostgreSQL only (an embedded SQLite file cannot be cut away from
//! a running server): it is marked ignored, so the SQLite pass reports it
//! as ignored instead of passing it, and the PostgreSQL pass runs it with
//! `--include-ignored`. The database is reached through a relay the test
//! can cut.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::helpers::*;

/// A TCP relay to the PostgreSQL server that can be cut and restored.
struct Relay {
    addr: SocketAddr,
    open: Arc<Mutex<bool>>,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Relay {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let open = Arc::new(Mutex::new(true));
        let links = Arc::new(Mutex::new(Vec::new()));
        let (o, l) = (open.clone(), links.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else { return };
                if !*o.lock().unwrap() {
                    continue; // dropped: connection refused, as by a dead server
                }
                let upstream = upstream.clone();
                l.lock().unwrap().push(tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                }));
            }
        });
        Self { addr, open, links }
    }

    fn cut(&self) {
        *self.open.lock().unwrap() = false;
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        *self.open.lock().unwrap() = true;
    }
}

const UNREACHABLE: &str = "Gatehouse cannot reach its database right now. Please try again in a moment.";

static RELAY_TARGET: OnceLock<Mutex<Option<(String, SocketAddr)>>> = OnceLock::new();

/// The database URL with its server swapped for the relay's address.
fn through_relay(url: &str) -> String {
    let (upstream, relay) = RELAY_TARGET.get().unwrap().lock().unwrap().clone().unwrap();
    url.replacen(&upstream, &relay.to_string(), 1)
}

async fn status(app: &TestApp, path: &str) -> (u16, Value) {
    let res = app.client.get(app.url(path)).send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "PostgreSQL only: the PostgreSQL pass runs it"]
async fn a_lost_database_is_a_quick_503_and_the_service_recovers_by_itself() {
    assert_eq!(
        std::env::var("GATEHOUSE_TEST_DB").ok().as_deref(),
        Some("postgres"),
        "PostgreSQL only: run it in the PostgreSQL pass (GATEHOUSE_TEST_DB=postgres, see scripts/test.sh)"
    );
    let admin_url = std::env::var("GATEHOUSE_TEST_POSTGRES_URL").expect("the PostgreSQL pass sets it");
    let upstream = admin_url.split('@').nth(1).unwrap().split('/').next().unwrap().to_owned();
    let relay = Relay::start(upstream.clone()).await;
    *RELAY_TARGET.get_or_init(|| Mutex::new(None)).lock().unwrap() = Some((upstream, relay.addr));
    let app = spawn_app_with(Options { database_url: Some(through_relay), ..Default::default() }).await;
    let (token, refresh) = app.signed_in_pair("alice").await;
    assert_eq!(status(&app, "/health/ready").await, (200, json!({ "status": "ready" })));

    relay.cut();
    let started = Instant::now();
    let res = app.protected_with_bearer(&token).await;
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body, json!({ "msg": UNREACHABLE }));
    assert_eq!(app.login("alice", "correct horse battery").await.status(), 503);
    let res = app.refresh(&refresh).await;
    assert_eq!(res.status(), 503, "a refresh during the outage");
    assert_eq!(res.json::<Value>().await.unwrap(), json!({ "msg": UNREACHABLE }));
    // A signed-in person's pages say what is wrong, and nothing looks
    // like a sign-out: no redirect to /login, no "Sign in" in the header.
    for path in ["/dashboard", "/sessions", "/account", "/"] {
        let res = app.page(path, Some(&token)).await;
        assert_eq!(res.status(), 503, "{path}");
        assert!(set_cookie_line(res.headers()).is_none(), "{path} clears no cookie");
        let html = res.text().await.unwrap();
        assert!(html.contains(UNREACHABLE), "{path}: {html}");
        assert!(!html.contains(">Sign in<"), "{path} offers to sign in: {html}");
    }
    let res = app.fn_call("/_fn/me", &[], Some(&token)).await;
    assert_eq!(res.status(), 503, "a server function");
    assert_eq!(res.json::<Value>().await.unwrap(), json!("Unavailable"));
    // A client-side navigation, even to a page anyone may see, is told too.
    let res = app.fn_call("/_fn/page", &[("path", "/")], Some(&token)).await;
    let frame: Value = res.json().await.unwrap();
    assert_eq!((frame["viewer"].clone(), frame["refused"].clone()), (Value::Null, json!("Unavailable")), "{frame}");
    assert!(started.elapsed() < Duration::from_secs(10), "answered, not hung: {:?}", started.elapsed());
    let (code, ready) = status(&app, "/health/ready").await;
    assert_eq!((code, ready["status"].as_str()), (503, Some("unavailable")));
    assert_eq!(status(&app, "/health/live").await, (200, json!({ "status": "live" })));

    relay.restore();
    let deadline = Instant::now() + Duration::from_secs(10);
    while status(&app, "/health/ready").await.0 != 200 {
        assert!(Instant::now() < deadline, "did not recover");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(app.protected_with_bearer(&token).await.status(), 200, "the session survived the outage");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn liveness_and_readiness_answer_without_credentials() {
    let app = spawn_app().await;
    assert_eq!(status(&app, "/health/live").await, (200, json!({ "status": "live" })));
    assert_eq!(status(&app, "/health/ready").await, (200, json!({ "status": "ready" })));
    let res = app.client.get(app.url("/health/ready")).send().await.unwrap();
    assert_eq!(res.headers()["cache-control"], "no-store");
}
