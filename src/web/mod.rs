//! Everything that speaks HTTP, around the pure core: the guard, cookies,
//! the layers every request passes through, the boundary around server
//! functions, the answers the server gives by itself, who the caller is
//! (with the trusted proxies of `config`), health checks, TLS, and
//! the extractor another service uses to trust Gatehouse tokens. The pages are `app`, the JSON API
//! `api`; both reach people and sessions through `accounts` and the guard.

pub mod boundary;
pub mod caller;
pub mod cookies;
pub mod downstream;
pub mod guard;
pub mod health;
pub mod middleware;
pub mod origin;
pub mod respond;
pub mod tls;

/// The URL prefix of every server function; the JSON API lives under
/// `/api`, so the two never collide.
pub const SERVER_FN_PREFIX: &str = "/_fn";
