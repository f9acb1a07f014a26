//! Settings, read once at start from `GATEHOUSE_*` environment variables
//! (`env`). Tests build [`Settings`] in code instead of touching the
//! process environment.

mod env;
pub mod origins;
pub mod proxies;

use std::net::SocketAddr;
use std::path::PathBuf;

use leptos::config::LeptosOptions;
use secrecy::SecretString;

use crate::auth::keys::KeyAlgorithm;
use crate::auth::password::HashParams;
use crate::auth::policy::AccountPolicy;
use crate::auth::refresh::RefreshPolicy;
use crate::auth::throttle::ThrottlePolicy;
use crate::auth::token::TokenPolicy;
use crate::config::proxies::TrustedProxies;

/// Local mode generates what is missing; production refuses to start
/// without a strong configured secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Local,
    Production,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Whether and how the server speaks TLS itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tls {
    /// Plain HTTP: locally, or behind a TLS-terminating proxy.
    Off,
    /// PEM certificate chain and private key files.
    Files { cert: PathBuf, key: PathBuf },
    /// A certificate for the loopback names, made once into `data_dir`
    /// (local mode only: browsers warn about it, as they should).
    SelfSigned,
}

/// Everything the server needs to start.
#[derive(Clone, Debug)]
pub struct Settings {
    pub mode: Mode,
    pub listen_addr: SocketAddr,
    /// The origin browsers see (`https://auth.example.com`); state changes
    /// from any other are refused. Locally: the loopback names at the port.
    pub public_origin: Option<String>,
    /// Holds the SQLite file and, in local mode, the generated key.
    pub data_dir: PathBuf,
    pub database_url: String,
    /// Connections per instance. PostgreSQL: instances × this must stay
    /// under the server's `max_connections`.
    pub database_pool: u32,
    /// A fixed HS256 secret (base64). When set, it is the only key, and
    /// the stored, rotatable keys are not used.
    pub jwt_secret: Option<SecretString>,
    /// Seals the stored signing keys; generated into `data_dir` when absent
    /// locally.
    pub master_key: Option<SecretString>,
    /// The algorithm of keys made here (the first one, and rotations that
    /// name none).
    pub jwt_algorithm: KeyAlgorithm,
    pub tokens: TokenPolicy,
    pub refresh: RefreshPolicy,
    /// Argon2id costs for new hashes; older hashes are upgraded at sign-in.
    pub hash_params: HashParams,
    pub accounts: AccountPolicy,
    pub throttle: ThrottlePolicy,
    /// Proxies whose `X-Forwarded-For`/`-Proto` are believed (none by default).
    pub trusted_proxies: TrustedProxies,
    pub tls: Tls,
    /// With TLS on: a plain-HTTP listener here that redirects to HTTPS.
    pub http_redirect_addr: Option<SocketAddr>,
    /// Threads that hash passwords, so at most this many hashes run at
    /// once (defaults to the core count).
    pub hash_concurrency: usize,
    pub log_format: LogFormat,
    pub log_filter: String,
    pub site: LeptosOptions,
}

/// A setting that could not be used; the text says which and why.
#[derive(Debug, thiserror::Error)]
#[error("{name}: {problem}")]
pub struct ConfigError {
    name: &'static str,
    problem: String,
}

fn problem(name: &'static str, problem: impl ToString) -> ConfigError {
    ConfigError { name, problem: problem.to_string() }
}

const DEFAULT_ACCESS_TTL: i64 = 15 * 60;
const DEFAULT_LEEWAY: i64 = 10;

impl Settings {
    /// Local defaults under `data_dir`: embedded SQLite, generated key,
    /// 15-minute access tokens, OWASP Argon2id.
    pub fn local(data_dir: PathBuf, site: LeptosOptions) -> Self {
        Self {
            mode: Mode::Local,
            listen_addr: site.site_addr,
            public_origin: None,
            database_url: sqlite_url(&data_dir),
            database_pool: 10,
            data_dir,
            jwt_secret: None,
            master_key: None,
            jwt_algorithm: KeyAlgorithm::Hs256,
            tokens: TokenPolicy {
                issuer: "gatehouse".into(),
                audience: "gatehouse".into(),
                access_ttl: DEFAULT_ACCESS_TTL,
                leeway: DEFAULT_LEEWAY,
            },
            refresh: RefreshPolicy::default(),
            hash_params: HashParams::OWASP,
            accounts: AccountPolicy::default(),
            throttle: ThrottlePolicy::default(),
            trusted_proxies: TrustedProxies::default(),
            tls: Tls::Off,
            http_redirect_addr: None,
            hash_concurrency: std::thread::available_parallelism().map_or(2, usize::from),
            log_format: LogFormat::Pretty,
            log_filter: "info".into(),
            site,
        }
    }

    /// Reads the process environment.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first variable that cannot be used.
    pub fn from_env() -> Result<Self, ConfigError> {
        let site = leptos::config::get_configuration(None).map_err(|e| problem("LEPTOS_*", e))?.leptos_options;
        Self::from_vars(std::env::vars(), site)
    }
}

/// The SQLite URL for a file in `data_dir`, created on first use.
pub fn sqlite_url(data_dir: &std::path::Path) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join("gatehouse.db").display())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn site() -> LeptosOptions {
        LeptosOptions::builder().output_name("gatehouse").build()
    }

    #[test]
    fn defaults_are_local_sqlite_and_short_tokens() {
        let s = Settings::from_vars(vars(&[]), site()).unwrap();
        assert_eq!(s.mode, Mode::Local);
        assert!(s.database_url.starts_with("sqlite://data/gatehouse.db"));
        assert_eq!(s.tokens.access_ttl, 900);
        assert!(s.jwt_secret.is_none());
    }

    #[test]
    fn production_without_a_secret_refuses_to_start() {
        let env = [("GATEHOUSE_ENV", "production"), ("GATEHOUSE_PUBLIC_ORIGIN", "https://auth.example.com")];
        let err = Settings::from_vars(vars(&env), site()).unwrap_err();
        assert!(err.to_string().starts_with("GATEHOUSE_MASTER_KEY"), "{err}");
        let with_master =
            [&env[..], &[("GATEHOUSE_MASTER_KEY", "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=")]].concat();
        assert!(Settings::from_vars(vars(&with_master), site()).is_ok());
    }

    #[test]
    fn production_without_a_public_origin_refuses_to_start() {
        let err = Settings::from_vars(vars(&[("GATEHOUSE_ENV", "production")]), site()).unwrap_err();
        assert!(err.to_string().starts_with("GATEHOUSE_PUBLIC_ORIGIN"), "{err}");
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (k, v) in [
            ("GATEHOUSE_ENV", "prod"),
            ("GATEHOUSE_ADDR", "nowhere"),
            ("GATEHOUSE_ACCESS_TTL_SECS", "forever"),
            ("GATEHOUSE_ACCESS_TTL_SECS", "0"),
            ("GATEHOUSE_DATABASE_URL", "mysql://x"),
            ("GATEHOUSE_PUBLIC_ORIGIN", "auth.example.com/login"),
            ("GATEHOUSE_ARGON2_MEMORY_KIB", "8"),
            ("GATEHOUSE_ARGON2_ITERATIONS", "two"),
            ("GATEHOUSE_REAUTH_WINDOW_SECS", "0"),
            ("GATEHOUSE_RESET_TTL_SECS", "-5"),
            ("GATEHOUSE_AUDIT_RETENTION_DAYS", "0"),
            ("GATEHOUSE_JWT_ALGORITHM", "RS256"),
            ("GATEHOUSE_DATABASE_POOL", "0"),
            ("GATEHOUSE_LOGIN_FREE_ATTEMPTS", "0"),
            ("GATEHOUSE_LOGIN_MAX_LOCK_SECS", "soon"),
            ("GATEHOUSE_REGISTRATIONS_PER_ADDRESS", "0"),
            ("GATEHOUSE_LOGIN_FAILURES_PER_ADDRESS", "many"),
            ("GATEHOUSE_RESET_ATTEMPTS_PER_ADDRESS", "-1"),
            ("GATEHOUSE_TRUSTED_PROXIES", "10.0.0.0/8, proxy.local"),
            ("GATEHOUSE_TLS_CERT", "cert.pem"),
            ("GATEHOUSE_TLS_KEY", "key.pem"),
            ("GATEHOUSE_TLS_SELF_SIGNED", "yes"),
            ("GATEHOUSE_HTTP_REDIRECT_ADDR", "0.0.0.0:80"),
        ] {
            let err = Settings::from_vars(vars(&[(k, v)]), site()).unwrap_err();
            assert!(err.to_string().starts_with(k), "{k}={v}: {err}");
        }
    }

    #[test]
    fn hashing_costs_and_account_limits_are_configurable() {
        let env = [
            ("GATEHOUSE_ARGON2_MEMORY_KIB", "65536"),
            ("GATEHOUSE_ARGON2_ITERATIONS", "3"),
            ("GATEHOUSE_ARGON2_PARALLELISM", "2"),
            ("GATEHOUSE_REAUTH_WINDOW_SECS", "300"),
            ("GATEHOUSE_RESET_TTL_SECS", "900"),
            ("GATEHOUSE_AUDIT_RETENTION_DAYS", "30"),
            ("GATEHOUSE_REQUIRE_MFA", "admins"),
        ];
        let s = Settings::from_vars(vars(&env), site()).unwrap();
        assert_eq!(s.hash_params, HashParams { memory_kib: 65_536, iterations: 3, parallelism: 2 });
        let second_factor = crate::auth::policy::SecondFactorPolicy::Admins;
        assert_eq!(
            s.accounts,
            AccountPolicy { reauth_window: 300, reset_ttl: 900, audit_retention: 30 * 86_400, second_factor }
        );
        let bad = Settings::from_vars(vars(&[("GATEHOUSE_REQUIRE_MFA", "yes")]), site()).unwrap_err();
        assert!(bad.to_string().contains("GATEHOUSE_REQUIRE_MFA"), "{bad}");
        let d = Settings::from_vars(vars(&[]), site()).unwrap();
        assert_eq!((d.hash_params, d.accounts), (HashParams::OWASP, AccountPolicy::default()));
    }

    #[test]
    fn tls_proxies_and_throttling_are_configurable() {
        let env = [
            ("GATEHOUSE_TLS_CERT", "/etc/gatehouse/cert.pem"),
            ("GATEHOUSE_TLS_KEY", "/etc/gatehouse/key.pem"),
            ("GATEHOUSE_HTTP_REDIRECT_ADDR", "0.0.0.0:8080"),
            ("GATEHOUSE_TRUSTED_PROXIES", "10.0.0.0/8"),
            ("GATEHOUSE_LOGIN_FREE_ATTEMPTS", "3"),
            ("GATEHOUSE_LOGIN_MAX_LOCK_SECS", "20"),
            ("GATEHOUSE_REGISTRATIONS_PER_ADDRESS", "50"),
            ("GATEHOUSE_LOGIN_FAILURES_PER_ADDRESS", "100"),
            ("GATEHOUSE_RESET_ATTEMPTS_PER_ADDRESS", "40"),
        ];
        let s = Settings::from_vars(vars(&env), site()).unwrap();
        assert_eq!(s.tls, Tls::Files { cert: "/etc/gatehouse/cert.pem".into(), key: "/etc/gatehouse/key.pem".into() });
        assert_eq!(s.http_redirect_addr, Some("0.0.0.0:8080".parse().unwrap()));
        assert!(!s.trusted_proxies.is_empty());
        assert_eq!((s.throttle.registration.free, s.throttle.registration.per_window), (50, 150));
        assert_eq!((s.throttle.address.free, s.throttle.address.per_window), (100, 1000));
        assert_eq!((s.throttle.reset.free, s.throttle.reset.per_window), (40, 200));
        assert_eq!((s.throttle.account.free, s.throttle.account.max_lock, s.throttle.account.first_lock), (3, 20, 20));
        let local = Settings::from_vars(vars(&[("GATEHOUSE_TLS_SELF_SIGNED", "1")]), site()).unwrap();
        assert_eq!(local.tls, Tls::SelfSigned);
        let prod = [
            ("GATEHOUSE_ENV", "production"),
            ("GATEHOUSE_PUBLIC_ORIGIN", "https://auth.example.com"),
            ("GATEHOUSE_JWT_SECRET", "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI="),
            ("GATEHOUSE_TLS_SELF_SIGNED", "1"),
        ];
        let err = Settings::from_vars(vars(&prod), site()).unwrap_err();
        assert!(err.to_string().starts_with("GATEHOUSE_TLS_SELF_SIGNED"), "{err}");
    }

    #[test]
    fn database_url_alias_is_honoured() {
        let s = Settings::from_vars(vars(&[("DATABASE_URL", "postgres://u@localhost/db")]), site()).unwrap();
        assert_eq!(s.database_url, "postgres://u@localhost/db");
    }
}
