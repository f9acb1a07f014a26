//! The `password_resets` table: single-use links, stored as hashes.

use sqlx::Row;

use super::audit::{self, Event};
use super::{Db, users};
use crate::auth::clock::UnixTime;
use crate::domain::UserId;

/// Stores a new link for `user_id` and deletes the unused older ones, so
/// only the newest link works.
///
/// # Errors
/// Database failures; nothing is left half-written.
#[tracing::instrument(skip(db, hash, event))]
pub async fn issue(
    db: &Db,
    user_id: &UserId,
    hash: &str,
    issued_by: Option<&str>,
    expires_at: UnixTime,
    event: &Event<'_>,
) -> Result<(), sqlx::Error> {
    let mut tx = db.pool().begin().await?;
    sqlx::query("DELETE FROM password_resets WHERE user_id = $1 AND used_at IS NULL")
        .bind(user_id.as_str())
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO password_resets (hash, user_id, issued_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(hash)
    .bind(user_id.as_str())
    .bind(issued_by)
    .bind(event.at)
    .bind(expires_at)
    .execute(&mut *tx)
    .await?;
    audit::record(&mut *tx, event).await?;
    tx.commit().await
}

/// What a presented link is worth right now.
#[derive(Debug, PartialEq, Eq)]
pub enum Status {
    /// Usable, for this account.
    Live {
        user_id: UserId,
        username: String,
    },
    Used,
    Expired,
    /// Never issued, or replaced by a newer link.
    Unknown,
}

/// Looks a link up by its hash.
///
/// # Errors
/// Database failures.
#[tracing::instrument(skip_all)]
pub async fn status(db: &Db, hash: &str, now: UnixTime) -> Result<Status, sqlx::Error> {
    let row = sqlx::query(
        "SELECT r.user_id, r.expires_at, r.used_at, u.username
         FROM password_resets r JOIN users u ON u.id = r.user_id WHERE r.hash = $1",
    )
    .bind(hash)
    .fetch_optional(db.pool())
    .await?;
    let Some(r) = row else { return Ok(Status::Unknown) };
    Ok(if r.try_get::<Option<i64>, _>("used_at")?.is_some() {
        Status::Used
    } else if r.try_get::<i64, _>("expires_at")? <= now {
        Status::Expired
    } else {
        Status::Live { user_id: r.try_get::<String, _>("user_id")?.into(), username: r.try_get("username")? }
    })
}

/// Uses the link `hash` to set `password_hash`: marks it used, stores the
/// password, ends every session of the account and records `event`, all
/// in one commit. Of any number of concurrent uses exactly one succeeds.
/// `event`'s subject is filled in with the link's account. Returns that
/// account's id, or `None` when the link is not live.
///
/// # Errors
/// Database failures; nothing is left half-written.
#[tracing::instrument(skip_all)]
pub async fn consume(
    db: &Db,
    hash: &str,
    password_hash: &str,
    event: &Event<'_>,
) -> Result<Option<UserId>, sqlx::Error> {
    let mut tx = db.pool().begin().await?;
    let at = event.at;
    let claimed = sqlx::query(
        "UPDATE password_resets SET used_at = $1
         WHERE hash = $2 AND used_at IS NULL AND expires_at > $1
         RETURNING user_id",
    )
    .bind(at)
    .bind(hash)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = claimed else {
        tx.rollback().await?;
        return Ok(None);
    };
    let user_id = UserId::from(row.try_get::<String, _>("user_id")?);
    let event = Event { subject_id: Some(user_id.as_str()), ..event.clone() };
    users::store_password(&mut tx, &user_id, password_hash, None, &event).await?;
    tx.commit().await?;
    Ok(Some(user_id))
}
