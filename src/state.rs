//! The one shared state: built once in `startup`, passed explicitly to
//! handlers and (as Leptos context) to server functions.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::auth::clock::Clock;
use crate::auth::hasher::Hasher;
use crate::auth::policy::AccountPolicy;
use crate::auth::refresh::RefreshPolicy;
use crate::auth::throttle::ThrottlePolicy;
use crate::auth::token::TokenPolicy;
use crate::auth::turns::Turns;
use crate::config::proxies::TrustedProxies;
use crate::db::Db;
use crate::keystore::Keys;

/// Cheap to clone (one reference count): the router clones its layers'
/// state for every request.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What every request may need, built once at start-up.
pub struct Shared {
    pub db: Db,
    pub keys: Arc<Keys>,
    pub tokens: TokenPolicy,
    pub refresh: RefreshPolicy,
    pub accounts: AccountPolicy,
    /// Origins whose browsers may change state with cookies.
    pub origins: Vec<String>,
    pub throttle: ThrottlePolicy,
    /// Proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed.
    pub proxies: TrustedProxies,
    /// This server terminates TLS itself.
    pub tls: bool,
    pub hasher: Hasher,
    /// Password attempts on one account name, one at a time here.
    pub turns: Arc<Turns>,
    /// The passkeys' relying party; `None` when the public origin names no
    /// domain (passkeys are then off, and say so).
    pub passkeys: Option<Arc<webauthn_rs::Webauthn>>,
    pub clock: Arc<dyn Clock>,
    pub leptos: LeptosOptions,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}
