//! The `throttles` table: one [`Tally`] per throttled key, shared by every
//! instance. The arithmetic lives in `auth::throttle`; this file only
//! reads and writes, holding the key's row while it counts, so that two
//! instances counting the same key at once never lose a hit.

use sqlx::Row;

use super::Db;
use crate::auth::clock::UnixTime;
use crate::auth::throttle::{Limit, Locked, Tally, WINDOW};

/// The tally for `key` (zero when there is none).
///
/// # Errors
/// Database failures.
pub async fn tally(db: &Db, key: &str) -> Result<Option<Tally>, sqlx::Error> {
    let row = sqlx::query(SELECT_TALLY).bind(key).fetch_optional(db.pool()).await?;
    row.as_ref().map(read_tally).transpose()
}

async fn tally_in(tx: &mut sqlx::Transaction<'static, sqlx::Any>, key: &str) -> Result<Option<Tally>, sqlx::Error> {
    let row = sqlx::query(SELECT_TALLY).bind(key).fetch_optional(&mut **tx).await?;
    row.as_ref().map(read_tally).transpose()
}

const SELECT_TALLY: &str = "SELECT hits, window_start, locked_until FROM throttles WHERE key = $1";

fn read_tally(r: &sqlx::any::AnyRow) -> Result<Tally, sqlx::Error> {
    Ok(Tally {
        hits: u32::try_from(r.try_get::<i64, _>("hits")?).unwrap_or(u32::MAX),
        window_start: r.try_get("window_start")?,
        locked_until: r.try_get("locked_until")?,
    })
}

/// Seconds until `key`'s lock ends, when one is running.
///
/// # Errors
/// Database failures.
pub async fn locked(db: &Db, key: &str, now: UnixTime) -> Result<Option<Locked>, sqlx::Error> {
    Ok(tally(db, key).await?.and_then(|t| t.locked(now)).map(|retry_after| Locked { retry_after }))
}

/// Counts one hit on `key` under `limit`, unless a lock is running: then
/// nothing is counted and the lock is the answer. On success, the new
/// tally (whose lock, if any, applies to the hits after this one).
///
/// The tally is read and written inside one transaction that first holds
/// the key's row (a write, so PostgreSQL locks the row and SQLite takes its
/// one writer's lock): hits on one key at once wait their turn, each is
/// counted, and none is refused for the contention alone.
///
/// # Errors
/// Database failures.
pub async fn hit(db: &Db, key: &str, limit: &Limit, now: UnixTime) -> Result<Result<Tally, Locked>, sqlx::Error> {
    let mut tx = db.pool().begin().await?;
    sqlx::query(
        "INSERT INTO throttles (key, hits, window_start, locked_until) VALUES ($1, 0, 0, 0)
         ON CONFLICT (key) DO NOTHING",
    )
    .bind(key)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE throttles SET hits = hits WHERE key = $1").bind(key).execute(&mut *tx).await?;
    let before = tally_in(&mut tx, key).await?.unwrap_or_default();
    if let Some(retry_after) = before.locked(now) {
        tx.rollback().await?;
        return Ok(Err(Locked { retry_after }));
    }
    let after = limit.hit(before, now);
    sqlx::query("UPDATE throttles SET hits = $2, window_start = $3, locked_until = $4 WHERE key = $1")
        .bind(key)
        .bind(i64::from(after.hits))
        .bind(after.window_start)
        .bind(after.locked_until)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Ok(after))
}

/// Forgets `key` (a successful sign-in clears its account's count).
///
/// # Errors
/// Database failures.
pub async fn clear(db: &Db, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM throttles WHERE key = $1").bind(key).execute(db.pool()).await?;
    Ok(())
}

/// Deletes tallies whose window and lock have both ended by `now`.
///
/// # Errors
/// Database failures.
pub async fn purge(db: &Db, now: UnixTime) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM throttles WHERE window_start <= $1 AND locked_until <= $2")
        .bind(now - WINDOW)
        .bind(now)
        .execute(db.pool())
        .await?
        .rows_affected())
}
