//! Storage. One pool for SQLite (the embedded default) or PostgreSQL, the
//! migrations, and one file per aggregate holding all of its SQL. Queries
//! and migrations use only portable SQL and `$n` parameters, which both
//! engines understand; a migration that ever needs a dialect of its own
//! gets per-engine directories then.

pub mod audit;
pub mod factors;
pub mod keys;
pub mod passkeys;
pub mod resets;
pub mod sessions;
pub mod throttles;
pub mod users;

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};

use crate::error::AppError;

static MIGRATIONS: Migrator = sqlx::migrate!("./migrations");

/// Which engine a URL points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn of(url: &str) -> Option<Self> {
        if url.starts_with("sqlite:") {
            Some(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Self::Postgres)
        } else {
            None
        }
    }
}

/// The connection pools, cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    /// Kept for the session check every authenticated request makes, so a
    /// burst of writes (a storm of sign-ins) never queues a reader behind it.
    readers: AnyPool,
    engine: Engine,
}

/// Connections of the readers' pool, on top of the configured pool size.
pub const READER_CONNECTIONS: u32 = 4;

/// Each SQLite connection's own page cache, 256 KiB instead of SQLite's
/// 2 MiB. The operating system already caches the file once for every
/// connection; a page missing here is a copy from that cache, not a disk
/// read. At 2 MiB the pools' caches filled as the database grew, and the
/// server's memory rose 19% over a 50,000-request soak before it levelled
/// off; at 256 KiB it rose 5% and then stayed flat (`scripts/soak.sh`).
const SQLITE_CACHE: &str = "PRAGMA cache_size = -256";

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("unsupported database URL (use sqlite: or postgres://)")]
    UnsupportedUrl,
    #[error("could not connect to the database")]
    Connect(#[source] sqlx::Error),
    #[error("could not apply database migrations")]
    Migrate(#[source] sqlx::migrate::MigrateError),
}

impl Db {
    /// One round trip that touches nothing: is the database there?
    ///
    /// # Errors
    /// The failure that says it is not.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1").execute(self.pool()).await.map(|_| ())
    }

    /// Connects, tunes SQLite for concurrent readers, and applies pending
    /// migrations.
    ///
    /// # Errors
    /// [`ConnectError`] when the database is unreachable or a migration fails.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, ConnectError> {
        install_default_drivers();
        let engine = Engine::of(url).ok_or(ConnectError::UnsupportedUrl)?;
        // A request waits at most 3 s for a connection: then 503.
        let options = |size| {
            let options = AnyPoolOptions::new().max_connections(size).acquire_timeout(Duration::from_secs(3));
            if engine != Engine::Sqlite {
                return options;
            }
            options.after_connect(|conn, _| Box::pin(async move { conn.execute(SQLITE_CACHE).await.map(|_| ()) }))
        };
        let pool = options(max_connections).connect(url).await.map_err(ConnectError::Connect)?;
        if engine == Engine::Sqlite {
            // WAL lets readers proceed while a writer commits; the mode is
            // stored in the file, so once is enough.
            pool.execute("PRAGMA journal_mode = WAL").await.map_err(ConnectError::Connect)?;
        }
        MIGRATIONS.run(&pool).await.map_err(ConnectError::Migrate)?;
        let readers = options(READER_CONNECTIONS).connect(url).await.map_err(ConnectError::Connect)?;
        Ok(Self { pool, readers, engine })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// For the one read on every authenticated request; everything else
    /// uses [`Db::pool`].
    pub fn readers(&self) -> &AnyPool {
        &self.readers
    }

    /// Starts a transaction that sees and leaves a consistent picture even
    /// against concurrent ones: PostgreSQL runs it SERIALIZABLE (a clash
    /// fails one side with [`is_serialization_failure`]); SQLite has one
    /// writer at a time, which gives the same.
    ///
    /// # Errors
    /// Database failures.
    pub async fn begin_serializable(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        if self.engine == Engine::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE").execute(&mut *tx).await?;
        }
        Ok(tx)
    }
}

/// Whether `e` is PostgreSQL refusing a transaction that clashed with a
/// concurrent one (serialization failure or deadlock): safe to retry.
pub fn is_serialization_failure(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if matches!(d.code().as_deref(), Some("40001" | "40P01")))
}

/// A stored role name, or a decode error for one this code does not know.
pub(crate) fn decode_role(stored: &str) -> Result<crate::domain::Role, sqlx::Error> {
    crate::domain::Role::from_stored(stored)
        .ok_or_else(|| sqlx::Error::Decode(format!("unknown role '{stored}'").into()))
}

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern.
pub(crate) fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
/// A database failure at a boundary, logged where it happened: a database
/// that cannot be reached is [`AppError::Unavailable`] (503, and it
/// passes), anything else the generic [`AppError::Internal`].
impl From<sqlx::Error> for AppError {
    #[track_caller]
    fn from(e: sqlx::Error) -> Self {
        if is_unreachable(&e) {
            tracing::warn!(error = %crate::error::chain(&e), "the database cannot be reached");
            AppError::Unavailable
        } else if is_out_of_space(&e) {
            tracing::error!(error = %crate::error::chain(&e), "the database is out of space: free some to accept writes again");
            AppError::StorageFull
        } else {
            AppError::internal(&e)
        }
    }
}

/// Whether `e` is the database refusing a write for want of space:
/// SQLite's `SQLITE_FULL` (a full disk, or the file at `max_page_count`)
/// or PostgreSQL's `disk_full`. The refused write's transaction rolls back
/// whole, so nothing is half-applied.
pub fn is_out_of_space(e: &sqlx::Error) -> bool {
    const SQLITE_FULL: i64 = 13;
    let sqlx::Error::Database(d) = e else { return false };
    match d.code().as_deref() {
        Some("53100") => true,
        // SQLite reports its extended code; the primary one is the low byte.
        Some(code) => code.parse::<i64>().is_ok_and(|n| n & 0xff == SQLITE_FULL),
        None => false,
    }
}

/// Whether `e` says the database is not there (as opposed to refusing a
/// query).
pub fn is_unreachable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(d) => d.code().is_some_and(|code| is_going_away(&code)),
        _ => false,
    }
}

/// PostgreSQL's codes for a server that is stopping, restarting or
/// recovering, which it sends on the connection before it closes:
/// `admin_shutdown`, `crash_shutdown`, `cannot_connect_now`, and the
/// connection exceptions but `protocol_violation` (08P01), which is a
/// client's mistake.
fn is_going_away(code: &str) -> bool {
    matches!(code, "57P01" | "57P02" | "57P03" | "08000" | "08001" | "08003" | "08004" | "08006")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postgres_server_going_away_is_unreachable_and_a_refused_query_is_not() {
        for code in ["57P01", "57P02", "57P03", "08000", "08003", "08006"] {
            assert!(is_going_away(code), "{code}");
        }
        // A unique violation, a serialization failure, out of space, a
        // cancelled query, a protocol violation, and SQLite's extended
        // codes: the database is there and said no.
        for code in ["23505", "40001", "53100", "57014", "08P01", "2067", "13"] {
            assert!(!is_going_away(code), "{code}");
        }
        assert!(is_unreachable(&sqlx::Error::PoolTimedOut));
        assert!(!is_unreachable(&sqlx::Error::RowNotFound));
    }
}
