//! Reading [`Settings`] from `GATEHOUSE_*` variables. Every variable is
//! named once: the whole numbers in one table ([`NUMBERS`]), each other
//! setting in one call that reads, parses and names it in its error.

use std::collections::HashMap;
use std::ops::RangeInclusive;
use std::path::PathBuf;

use leptos::config::LeptosOptions;
use secrecy::SecretString;

use super::proxies::TrustedProxies;
use super::{ConfigError, LogFormat, Mode, Settings, Tls, origins, problem};
use crate::auth::keys::KeyAlgorithm;
use crate::auth::policy::SecondFactorPolicy;

/// What a whole-number variable counts, for its error message.
#[derive(Clone, Copy, Debug)]
enum Unit {
    Seconds,
    Days,
    Count,
}

/// A whole-number setting: its variable, its unit and bounds, and where
/// its value goes. Without the variable the field keeps its local default.
struct Number {
    name: &'static str,
    unit: Unit,
    range: RangeInclusive<i64>,
    set: fn(&mut Settings, i64),
}

const DAY: i64 = 86_400;

/// Every whole-number setting.
const NUMBERS: &[Number] = &[
    Number {
        name: "GATEHOUSE_DATABASE_POOL",
        unit: Unit::Count,
        range: 1..=1000,
        set: |s, n| s.database_pool = u32_of(n),
    },
    Number {
        name: "GATEHOUSE_ACCESS_TTL_SECS",
        unit: Unit::Seconds,
        range: 5..=DAY,
        set: |s, n| s.tokens.access_ttl = n,
    },
    Number {
        name: "GATEHOUSE_CLOCK_LEEWAY_SECS",
        unit: Unit::Seconds,
        range: 0..=300,
        set: |s, n| s.tokens.leeway = n,
    },
    Number {
        name: "GATEHOUSE_REFRESH_IDLE_SECS",
        unit: Unit::Seconds,
        range: 60..=90 * DAY,
        set: |s, n| s.refresh.idle_ttl = n,
    },
    Number {
        name: "GATEHOUSE_REFRESH_ABSOLUTE_SECS",
        unit: Unit::Seconds,
        range: 60..=365 * DAY,
        set: |s, n| s.refresh.absolute_ttl = n,
    },
    Number {
        name: "GATEHOUSE_ARGON2_MEMORY_KIB",
        unit: Unit::Count,
        range: 1024..=4_194_304,
        set: |s, n| s.hash_params.memory_kib = u32_of(n),
    },
    Number {
        name: "GATEHOUSE_ARGON2_ITERATIONS",
        unit: Unit::Count,
        range: 1..=64,
        set: |s, n| s.hash_params.iterations = u32_of(n),
    },
    Number {
        name: "GATEHOUSE_ARGON2_PARALLELISM",
        unit: Unit::Count,
        range: 1..=64,
        set: |s, n| s.hash_params.parallelism = u32_of(n),
    },
    Number {
        name: "GATEHOUSE_HASH_THREADS",
        unit: Unit::Count,
        range: 1..=256,
        set: |s, n| s.hash_concurrency = u32_of(n) as usize,
    },
    Number {
        name: "GATEHOUSE_REAUTH_WINDOW_SECS",
        unit: Unit::Seconds,
        range: 1..=DAY,
        set: |s, n| s.accounts.reauth_window = n,
    },
    Number {
        name: "GATEHOUSE_RESET_TTL_SECS",
        unit: Unit::Seconds,
        range: 60..=7 * DAY,
        set: |s, n| s.accounts.reset_ttl = n,
    },
    Number {
        name: "GATEHOUSE_AUDIT_RETENTION_DAYS",
        unit: Unit::Days,
        range: 1..=3650,
        set: |s, n| s.accounts.audit_retention = n * DAY,
    },
    Number {
        name: "GATEHOUSE_LOGIN_FREE_ATTEMPTS",
        unit: Unit::Count,
        range: 1..=100,
        set: |s, n| s.throttle.account.free = u32_of(n),
    },
    Number {
        name: "GATEHOUSE_LOGIN_MAX_LOCK_SECS",
        unit: Unit::Seconds,
        range: 1..=DAY,
        set: |s, n| s.throttle.account.max_lock = n,
    },
    Number {
        name: "GATEHOUSE_LOGIN_FAILURES_PER_ADDRESS",
        unit: Unit::Count,
        range: 1..=100_000,
        set: |s, n| s.throttle.address.free = u32_of(n),
    },
    Number {
        name: "GATEHOUSE_REGISTRATIONS_PER_ADDRESS",
        unit: Unit::Count,
        range: 1..=100_000,
        set: |s, n| s.throttle.registration.free = u32_of(n),
    },
    Number {
        name: "GATEHOUSE_RESET_ATTEMPTS_PER_ADDRESS",
        unit: Unit::Count,
        range: 1..=100_000,
        set: |s, n| s.throttle.reset.free = u32_of(n),
    },
    Number {
        name: "GATEHOUSE_PASSKEY_SIGN_INS_PER_ADDRESS",
        unit: Unit::Count,
        range: 1..=100_000,
        set: |s, n| s.throttle.passkey.free = u32_of(n),
    },
];

/// A value the table's bounds already keep within `u32`.
fn u32_of(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The variables, trimmed; an empty one counts as unset.
struct Vars(HashMap<String, String>);

impl Vars {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    /// `name` read by `parse`; a value it refuses is "not `expected`".
    fn parsed<T>(
        &self,
        name: &'static str,
        expected: &str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<Option<T>, ConfigError> {
        let Some(value) = self.get(name) else { return Ok(None) };
        parse(value).map(Some).ok_or_else(|| problem(name, format!("'{value}' is not {expected}")))
    }

    fn number(&self, n: &Number) -> Result<Option<i64>, ConfigError> {
        let Some(value) = self.get(n.name) else { return Ok(None) };
        let words = match n.unit {
            Unit::Seconds => "a whole number of seconds",
            Unit::Days => "a whole number of days",
            Unit::Count => "a whole number",
        };
        let parsed: i64 = value.parse().map_err(|_| problem(n.name, format!("'{value}' is not {words}")))?;
        if !n.range.contains(&parsed) {
            return Err(problem(n.name, format!("{parsed} is outside {}..={}", n.range.start(), n.range.end())));
        }
        Ok(Some(parsed))
    }
}

impl Settings {
    /// Builds settings from `vars` on top of [`Settings::local`].
    ///
    /// # Errors
    /// [`ConfigError`] naming the first variable that cannot be used.
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
        site: LeptosOptions,
    ) -> Result<Self, ConfigError> {
        let vars = Vars(vars.into_iter().collect());
        let mut s = Self::local(PathBuf::from(vars.get("GATEHOUSE_DATA_DIR").unwrap_or("data")), site);

        let mode = |v: &str| match v {
            "local" => Some(Mode::Local),
            "production" => Some(Mode::Production),
            _ => None,
        };
        s.mode = vars.parsed("GATEHOUSE_ENV", "'local' or 'production'", mode)?.unwrap_or(Mode::Local);
        if let Some(addr) = vars.parsed("GATEHOUSE_ADDR", "host:port, e.g. 127.0.0.1:3000", |v| v.parse().ok())? {
            s.listen_addr = addr;
        }
        let expected = "scheme://host[:port], e.g. https://auth.example.com";
        s.public_origin = vars.parsed("GATEHOUSE_PUBLIC_ORIGIN", expected, origins::parse_origin)?;
        if let Some(url) = database_url(&vars)? {
            s.database_url = url;
        }
        s.jwt_secret = vars.get("GATEHOUSE_JWT_SECRET").map(|v| SecretString::from(v.to_owned()));
        s.master_key = vars.get("GATEHOUSE_MASTER_KEY").map(|v| SecretString::from(v.to_owned()));
        if let Some(alg) = vars.parsed("GATEHOUSE_JWT_ALGORITHM", "HS256 or EdDSA", KeyAlgorithm::parse)? {
            s.jwt_algorithm = alg;
        }
        let who = "'none', 'admins' or 'all'";
        if let Some(rule) = vars.parsed("GATEHOUSE_REQUIRE_MFA", who, SecondFactorPolicy::parse)? {
            s.accounts.second_factor = rule;
        }
        if let Some(iss) = vars.get("GATEHOUSE_JWT_ISSUER") {
            s.tokens.issuer = iss.to_owned();
        }
        if let Some(aud) = vars.get("GATEHOUSE_JWT_AUDIENCE") {
            s.tokens.audience = aud.to_owned();
        }
        for number in NUMBERS {
            if let Some(n) = vars.number(number)? {
                (number.set)(&mut s, n);
            }
        }
        let account = &mut s.throttle.account;
        account.first_lock = account.first_lock.min(account.max_lock);
        // Per client address: how many before a lock; the window's cap
        // grows with it.
        for (limit, window) in [
            (&mut s.throttle.address, 10),
            (&mut s.throttle.registration, 3),
            (&mut s.throttle.reset, 5),
            (&mut s.throttle.passkey, 5),
        ] {
            limit.per_window = limit.per_window.max(limit.free * window);
        }
        if let Some(list) = vars.get("GATEHOUSE_TRUSTED_PROXIES") {
            s.trusted_proxies = TrustedProxies::parse(list).map_err(|bad| {
                problem(
                    "GATEHOUSE_TRUSTED_PROXIES",
                    format!("'{bad}' is not an IP address or CIDR range, e.g. 10.0.0.0/8"),
                )
            })?;
        }
        s.tls = tls(&vars, s.mode)?;
        let expected = "host:port, e.g. 0.0.0.0:80";
        s.http_redirect_addr = vars.parsed("GATEHOUSE_HTTP_REDIRECT_ADDR", expected, |v| v.parse().ok())?;
        if s.http_redirect_addr.is_some() && s.tls == Tls::Off {
            return Err(problem("GATEHOUSE_HTTP_REDIRECT_ADDR", "only makes sense when this server speaks TLS"));
        }
        if s.refresh.idle_ttl > s.refresh.absolute_ttl {
            return Err(problem("GATEHOUSE_REFRESH_IDLE_SECS", "must not exceed GATEHOUSE_REFRESH_ABSOLUTE_SECS"));
        }
        let format = |v: &str| match v {
            "pretty" => Some(LogFormat::Pretty),
            "json" => Some(LogFormat::Json),
            _ => None,
        };
        s.log_format = vars.parsed("GATEHOUSE_LOG_FORMAT", "'pretty' or 'json'", format)?.unwrap_or(LogFormat::Pretty);
        if let Some(filter) = vars.get("GATEHOUSE_LOG") {
            s.log_filter = filter.to_owned();
        }
        production_needs(&s)?;
        Ok(s)
    }
}

/// `GATEHOUSE_DATABASE_URL`, or the conventional `DATABASE_URL`.
fn database_url(vars: &Vars) -> Result<Option<String>, ConfigError> {
    let Some(url) = vars.get("GATEHOUSE_DATABASE_URL").or_else(|| vars.get("DATABASE_URL")) else {
        return Ok(None);
    };
    if !(url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(problem("GATEHOUSE_DATABASE_URL", "must start with sqlite:, postgres:// or postgresql://"));
    }
    Ok(Some(url.to_owned()))
}

/// TLS from files, self-signed (local only), or off.
fn tls(vars: &Vars, mode: Mode) -> Result<Tls, ConfigError> {
    const CERT: &str = "GATEHOUSE_TLS_CERT";
    const KEY: &str = "GATEHOUSE_TLS_KEY";
    const SELF_SIGNED: &str = "GATEHOUSE_TLS_SELF_SIGNED";
    let self_signed = match vars.get(SELF_SIGNED) {
        None | Some("0" | "false") => false,
        Some("1" | "true") => true,
        Some(other) => return Err(problem(SELF_SIGNED, format!("'{other}' is not 1 or 0"))),
    };
    match (vars.get(CERT), vars.get(KEY), self_signed) {
        (None, None, false) => Ok(Tls::Off),
        (Some(cert), Some(key), false) => Ok(Tls::Files { cert: cert.into(), key: key.into() }),
        (None, None, true) if mode == Mode::Local => Ok(Tls::SelfSigned),
        (None, None, true) => Err(problem(
            SELF_SIGNED,
            "is for trying TLS locally; production needs GATEHOUSE_TLS_CERT and GATEHOUSE_TLS_KEY",
        )),
        (_, _, true) => Err(problem(SELF_SIGNED, "cannot be combined with GATEHOUSE_TLS_CERT and GATEHOUSE_TLS_KEY")),
        (Some(_), None, false) => Err(problem(CERT, "needs GATEHOUSE_TLS_KEY as well")),
        (None, Some(_), false) => Err(problem(KEY, "needs GATEHOUSE_TLS_CERT as well")),
    }
}

/// What production refuses to start without.
fn production_needs(s: &Settings) -> Result<(), ConfigError> {
    if s.mode != Mode::Production {
        return Ok(());
    }
    if s.public_origin.is_none() {
        return Err(problem(
            "GATEHOUSE_PUBLIC_ORIGIN",
            "is required in production: the https:// origin people use, so cross-site requests can be refused",
        ));
    }
    if s.jwt_secret.is_none() && s.master_key.is_none() {
        return Err(problem(
            "GATEHOUSE_MASTER_KEY",
            "is required in production (or a fixed GATEHOUSE_JWT_SECRET): at least 32 random bytes, base64-encoded \
             (openssl rand -base64 32)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_number_is_named_once_and_its_bounds_fit_its_field() {
        let mut names: Vec<_> = NUMBERS.iter().map(|n| n.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), NUMBERS.len());
        for n in NUMBERS {
            assert!(n.name.starts_with("GATEHOUSE_"), "{}", n.name);
            assert!(*n.range.end() <= i64::from(u32::MAX) && *n.range.start() >= 0, "{}", n.name);
        }
    }
}
