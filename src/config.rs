//! Settings, read once at start from `GATEHOUSE_*` environment variables.
//! Tests build [`Settings`] in code instead of touching the process
//! environment.

use std::collections::HashMap;
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
use crate::proxy::TrustedProxies;

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

    /// Builds settings from `vars` on top of [`Settings::local`].
    ///
    /// # Errors
    /// [`ConfigError`] naming the first variable that cannot be used.
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
        site: LeptosOptions,
    ) -> Result<Self, ConfigError> {
        let vars: HashMap<String, String> = vars.into_iter().collect();
        let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());

        let data_dir = PathBuf::from(get("GATEHOUSE_DATA_DIR").unwrap_or("data"));
        let mut s = Self::local(data_dir, site);

        s.mode = match get("GATEHOUSE_ENV") {
            None | Some("local") => Mode::Local,
            Some("production") => Mode::Production,
            Some(other) => {
                return Err(problem("GATEHOUSE_ENV", format!("'{other}' is not 'local' or 'production'")));
            }
        };
        if let Some(addr) = get("GATEHOUSE_ADDR") {
            s.listen_addr = addr
                .parse()
                .map_err(|_| problem("GATEHOUSE_ADDR", format!("'{addr}' is not host:port, e.g. 127.0.0.1:3000")))?;
        }
        if let Some(origin) = get("GATEHOUSE_PUBLIC_ORIGIN") {
            s.public_origin = Some(crate::auth::origin::parse_origin(origin).ok_or_else(|| {
                problem(
                    "GATEHOUSE_PUBLIC_ORIGIN",
                    format!("'{origin}' is not scheme://host[:port], e.g. https://auth.example.com"),
                )
            })?);
        }
        if let Some(url) = get("GATEHOUSE_DATABASE_URL").or_else(|| get("DATABASE_URL")) {
            if !(url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err(problem("GATEHOUSE_DATABASE_URL", "must start with sqlite:, postgres:// or postgresql://"));
            }
            s.database_url = url.to_owned();
        }
        s.database_pool = count(get("GATEHOUSE_DATABASE_POOL"), "GATEHOUSE_DATABASE_POOL", s.database_pool, 1..=1000)?;
        s.jwt_secret = get("GATEHOUSE_JWT_SECRET").map(|v| SecretString::from(v.to_owned()));
        s.master_key = get("GATEHOUSE_MASTER_KEY").map(|v| SecretString::from(v.to_owned()));
        if let Some(alg) = get("GATEHOUSE_JWT_ALGORITHM") {
            s.jwt_algorithm = KeyAlgorithm::parse(alg)
                .ok_or_else(|| problem("GATEHOUSE_JWT_ALGORITHM", format!("'{alg}' is not HS256 or EdDSA")))?;
        }
        if let Some(iss) = get("GATEHOUSE_JWT_ISSUER") {
            s.tokens.issuer = iss.to_owned();
        }
        if let Some(aud) = get("GATEHOUSE_JWT_AUDIENCE") {
            s.tokens.audience = aud.to_owned();
        }
        s.tokens.access_ttl =
            seconds(get("GATEHOUSE_ACCESS_TTL_SECS"), "GATEHOUSE_ACCESS_TTL_SECS", DEFAULT_ACCESS_TTL, 5..=86_400)?;
        s.tokens.leeway =
            seconds(get("GATEHOUSE_CLOCK_LEEWAY_SECS"), "GATEHOUSE_CLOCK_LEEWAY_SECS", DEFAULT_LEEWAY, 0..=300)?;
        let d = RefreshPolicy::default();
        s.refresh.idle_ttl =
            seconds(get("GATEHOUSE_REFRESH_IDLE_SECS"), "GATEHOUSE_REFRESH_IDLE_SECS", d.idle_ttl, 60..=90 * 86_400)?;
        s.refresh.absolute_ttl = seconds(
            get("GATEHOUSE_REFRESH_ABSOLUTE_SECS"),
            "GATEHOUSE_REFRESH_ABSOLUTE_SECS",
            d.absolute_ttl,
            60..=365 * 86_400,
        )?;
        let h = HashParams::OWASP;
        s.hash_params = HashParams {
            memory_kib: count(
                get("GATEHOUSE_ARGON2_MEMORY_KIB"),
                "GATEHOUSE_ARGON2_MEMORY_KIB",
                h.memory_kib,
                1024..=4_194_304,
            )?,
            iterations: count(get("GATEHOUSE_ARGON2_ITERATIONS"), "GATEHOUSE_ARGON2_ITERATIONS", h.iterations, 1..=64)?,
            parallelism: count(
                get("GATEHOUSE_ARGON2_PARALLELISM"),
                "GATEHOUSE_ARGON2_PARALLELISM",
                h.parallelism,
                1..=64,
            )?,
        };
        let threads = u32::try_from(s.hash_concurrency).unwrap_or(2);
        s.hash_concurrency = count(get("GATEHOUSE_HASH_THREADS"), "GATEHOUSE_HASH_THREADS", threads, 1..=256)? as usize;
        let a = AccountPolicy::default();
        s.accounts.reauth_window =
            seconds(get("GATEHOUSE_REAUTH_WINDOW_SECS"), "GATEHOUSE_REAUTH_WINDOW_SECS", a.reauth_window, 1..=86_400)?;
        s.accounts.reset_ttl =
            seconds(get("GATEHOUSE_RESET_TTL_SECS"), "GATEHOUSE_RESET_TTL_SECS", a.reset_ttl, 60..=7 * 86_400)?;
        s.accounts.audit_retention = 86_400
            * i64::from(count(
                get("GATEHOUSE_AUDIT_RETENTION_DAYS"),
                "GATEHOUSE_AUDIT_RETENTION_DAYS",
                u32::try_from(a.audit_retention / 86_400).unwrap_or(90),
                1..=3650,
            )?);
        let t = ThrottlePolicy::default().account;
        s.throttle.account.free =
            count(get("GATEHOUSE_LOGIN_FREE_ATTEMPTS"), "GATEHOUSE_LOGIN_FREE_ATTEMPTS", t.free, 1..=100)?;
        s.throttle.account.max_lock =
            seconds(get("GATEHOUSE_LOGIN_MAX_LOCK_SECS"), "GATEHOUSE_LOGIN_MAX_LOCK_SECS", t.max_lock, 1..=86_400)?;
        s.throttle.account.first_lock = s.throttle.account.first_lock.min(s.throttle.account.max_lock);
        // Per client address: how many before a lock; the window's cap
        // grows with it.
        for (name, limit, window) in [
            ("GATEHOUSE_LOGIN_FAILURES_PER_ADDRESS", &mut s.throttle.address, 10),
            ("GATEHOUSE_REGISTRATIONS_PER_ADDRESS", &mut s.throttle.registration, 3),
            ("GATEHOUSE_RESET_ATTEMPTS_PER_ADDRESS", &mut s.throttle.reset, 5),
        ] {
            limit.free = count(get(name), name, limit.free, 1..=100_000)?;
            limit.per_window = limit.per_window.max(limit.free * window);
        }
        if let Some(list) = get("GATEHOUSE_TRUSTED_PROXIES") {
            s.trusted_proxies = TrustedProxies::parse(list).map_err(|bad| {
                problem(
                    "GATEHOUSE_TRUSTED_PROXIES",
                    format!("'{bad}' is not an IP address or CIDR range, e.g. 10.0.0.0/8"),
                )
            })?;
        }
        s.tls = match (get("GATEHOUSE_TLS_CERT"), get("GATEHOUSE_TLS_KEY"), get("GATEHOUSE_TLS_SELF_SIGNED")) {
            (None, None, None | Some("0" | "false")) => Tls::Off,
            (Some(cert), Some(key), None | Some("0" | "false")) => Tls::Files { cert: cert.into(), key: key.into() },
            (None, None, Some("1" | "true")) if s.mode == Mode::Local => Tls::SelfSigned,
            (None, None, Some("1" | "true")) => {
                return Err(problem(
                    "GATEHOUSE_TLS_SELF_SIGNED",
                    "is for trying TLS locally; production needs GATEHOUSE_TLS_CERT and GATEHOUSE_TLS_KEY",
                ));
            }
            (None, None, Some(other)) => {
                return Err(problem("GATEHOUSE_TLS_SELF_SIGNED", format!("'{other}' is not 1 or 0")));
            }
            (_, _, Some(_)) => {
                return Err(problem(
                    "GATEHOUSE_TLS_SELF_SIGNED",
                    "cannot be combined with GATEHOUSE_TLS_CERT and GATEHOUSE_TLS_KEY",
                ));
            }
            (Some(_), None, _) => return Err(problem("GATEHOUSE_TLS_CERT", "needs GATEHOUSE_TLS_KEY as well")),
            (None, Some(_), _) => return Err(problem("GATEHOUSE_TLS_KEY", "needs GATEHOUSE_TLS_CERT as well")),
        };
        if let Some(addr) = get("GATEHOUSE_HTTP_REDIRECT_ADDR") {
            if s.tls == Tls::Off {
                return Err(problem("GATEHOUSE_HTTP_REDIRECT_ADDR", "only makes sense when this server speaks TLS"));
            }
            s.http_redirect_addr = Some(addr.parse().map_err(|_| {
                problem("GATEHOUSE_HTTP_REDIRECT_ADDR", format!("'{addr}' is not host:port, e.g. 0.0.0.0:80"))
            })?);
        }
        if s.refresh.idle_ttl > s.refresh.absolute_ttl {
            return Err(problem("GATEHOUSE_REFRESH_IDLE_SECS", "must not exceed GATEHOUSE_REFRESH_ABSOLUTE_SECS"));
        }
        s.log_format = match get("GATEHOUSE_LOG_FORMAT") {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(problem("GATEHOUSE_LOG_FORMAT", format!("'{other}' is not 'pretty' or 'json'")));
            }
        };
        if let Some(filter) = get("GATEHOUSE_LOG") {
            s.log_filter = filter.to_owned();
        }
        if s.mode == Mode::Production && s.public_origin.is_none() {
            return Err(problem(
                "GATEHOUSE_PUBLIC_ORIGIN",
                "is required in production: the https:// origin people use, so cross-site requests can be refused",
            ));
        }
        if s.mode == Mode::Production && s.jwt_secret.is_none() && s.master_key.is_none() {
            return Err(problem(
                "GATEHOUSE_MASTER_KEY",
                "is required in production (or a fixed GATEHOUSE_JWT_SECRET): at least 32 random bytes, base64-encoded \
                 (openssl rand -base64 32)",
            ));
        }
        Ok(s)
    }
}

/// The SQLite URL for a file in `data_dir`, created on first use.
pub fn sqlite_url(data_dir: &std::path::Path) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join("gatehouse.db").display())
}

fn seconds(
    value: Option<&str>,
    name: &'static str,
    default: i64,
    range: std::ops::RangeInclusive<i64>,
) -> Result<i64, ConfigError> {
    let Some(v) = value else { return Ok(default) };
    let n: i64 = v.parse().map_err(|_| problem(name, format!("'{v}' is not a whole number of seconds")))?;
    if !range.contains(&n) {
        return Err(problem(name, format!("{n} is outside {}..={}", range.start(), range.end())));
    }
    Ok(n)
}

fn count(
    value: Option<&str>,
    name: &'static str,
    default: u32,
    range: std::ops::RangeInclusive<u32>,
) -> Result<u32, ConfigError> {
    let Some(v) = value else { return Ok(default) };
    let n: u32 = v.parse().map_err(|_| problem(name, format!("'{v}' is not a whole number")))?;
    if !range.contains(&n) {
        return Err(problem(name, format!("{n} is outside {}..={}", range.start(), range.end())));
    }
    Ok(n)
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
        ];
        let s = Settings::from_vars(vars(&env), site()).unwrap();
        assert_eq!(s.hash_params, HashParams { memory_kib: 65_536, iterations: 3, parallelism: 2 });
        assert_eq!(s.accounts, AccountPolicy { reauth_window: 300, reset_ttl: 900, audit_retention: 30 * 86_400 });
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
