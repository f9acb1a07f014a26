//! The `throttles` table: one [`Tally`] per throttled key, shared by every
//! instance. The arithmetic lives in `auth::throttle`; this file only
//! reads and writes, with a compare-and-set so that two instances counting
//! the same key at once never lose a hit.

use sqlx::Row;

use super::Db;
use crate::auth::clock::UnixTime;
use crate::auth::throttle::{Limit, Locked, Tally, WINDOW};

/// Attempts at a compare-and-set before giving up on a key this contended.
const MAX_TRIES: usize = 16;

/// The tally for `key` (zero when there is none).
///
/// # Errors
/// Database failures.
pub async fn tally(db: &Db, key: &str) -> Result<Option<Tally>, sqlx::Error> {
    let row = sqlx::query("SELECT hits, window_start, locked_until FROM throttles WHERE key = $1")
        .bind(key)
        .fetch_optional(db.pool())
        .await?;
    row.map(|r| {
        Ok(Tally {
            hits: u32::try_from(r.try_get::<i64, _>("hits")?).unwrap_or(u32::MAX),
            window_start: r.try_get("window_start")?,
            locked_until: r.try_get("locked_until")?,
        })
    })
    .transpose()
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
/// # Errors
/// Database failures.
pub async fn hit(db: &Db, key: &str, limit: &Limit, now: UnixTime) -> Result<Result<Tally, Locked>, sqlx::Error> {
    for _ in 0..MAX_TRIES {
        let before = tally(db, key).await?;
        if let Some(retry_after) = before.and_then(|t| t.locked(now)) {
            return Ok(Err(Locked { retry_after }));
        }
        let after = limit.hit(before.unwrap_or_default(), now);
        let written = match before {
            None => sqlx::query(
                "INSERT INTO throttles (key, hits, window_start, locked_until) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (key) DO NOTHING",
            )
            .bind(key)
            .bind(i64::from(after.hits))
            .bind(after.window_start)
            .bind(after.locked_until),
            Some(b) => sqlx::query(
                "UPDATE throttles SET hits = $2, window_start = $3, locked_until = $4
                 WHERE key = $1 AND hits = $5 AND window_start = $6 AND locked_until = $7",
            )
            .bind(key)
            .bind(i64::from(after.hits))
            .bind(after.window_start)
            .bind(after.locked_until)
            .bind(i64::from(b.hits))
            .bind(b.window_start)
            .bind(b.locked_until),
        }
        .execute(db.pool())
        .await?;
        if written.rows_affected() == 1 {
            return Ok(Ok(after));
        }
    }
    // Lost the race every time: so many hits at once are an attack.
    Ok(Err(Locked { retry_after: 1 }))
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
