//! Passkeys and WebAuthn ceremonies: the `passkeys` and
//! `webauthn_challenges` tables. A ceremony is taken by deleting it, and a
//! use is recorded only if its counter moved forward, so of concurrent
//! attempts with one challenge or one signature exactly one succeeds.

use sqlx::Row;

use super::Db;
use super::audit::{self, Event};
use crate::auth::clock::UnixTime;
use crate::domain::UserId;

/// A stored passkey.
#[derive(Clone)]
pub struct PasskeyRecord {
    /// The credential ID, base64url.
    pub id: String,
    pub user_id: UserId,
    pub name: String,
    /// The verifier's record, JSON.
    pub credential: String,
    pub counter: i64,
    pub created_at: UnixTime,
    pub last_used_at: Option<UnixTime>,
}

impl std::fmt::Debug for PasskeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasskeyRecord").field("id", &self.id).field("name", &self.name).finish_non_exhaustive()
    }
}

fn record(r: &sqlx::any::AnyRow) -> Result<PasskeyRecord, sqlx::Error> {
    Ok(PasskeyRecord {
        id: r.try_get("id")?,
        user_id: UserId::from(r.try_get::<String, _>("user_id")?),
        name: r.try_get("name")?,
        credential: r.try_get("credential")?,
        counter: r.try_get("counter")?,
        created_at: r.try_get("created_at")?,
        last_used_at: r.try_get("last_used_at")?,
    })
}

/// The passkeys of `user_id`, oldest first.
///
/// # Errors
/// Database failures.
#[tracing::instrument(skip(db))]
pub async fn of_user(db: &Db, user_id: &UserId) -> Result<Vec<PasskeyRecord>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, user_id, name, credential, counter, created_at, last_used_at FROM passkeys
         WHERE user_id = $1 ORDER BY created_at, id",
    )
    .bind(user_id.as_str())
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(record).collect()
}

/// The passkey with credential ID `id`, whoever's it is.
///
/// # Errors
/// Database failures.
#[tracing::instrument(skip(db))]
pub async fn find(db: &Db, id: &str) -> Result<Option<PasskeyRecord>, sqlx::Error> {
    sqlx::query("SELECT id, user_id, name, credential, counter, created_at, last_used_at FROM passkeys WHERE id = $1")
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .as_ref()
        .map(record)
        .transpose()
}

/// How many passkeys `user_id` has.
///
/// # Errors
/// Database failures.
pub async fn count(db: &Db, user_id: &UserId) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COUNT(*) AS n FROM passkeys WHERE user_id = $1")
        .bind(user_id.as_str())
        .fetch_one(db.pool())
        .await?
        .try_get("n")
}

/// Why a passkey was not stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotAdded {
    /// That credential is registered already (to anyone).
    Registered,
    /// The account has the most passkeys it may.
    Full,
}

/// Stores a new passkey, unless its account has `max` already, and
/// records `event`. The count is taken under the account's lock, so
/// concurrent additions never pass `max` between them.
///
/// # Errors
/// Database failures; nothing is left half-written.
#[tracing::instrument(skip_all)]
pub async fn insert(
    db: &Db,
    passkey: &PasskeyRecord,
    max: i64,
    event: &Event<'_>,
) -> Result<Result<(), NotAdded>, sqlx::Error> {
    let mut tx = db.pool().begin().await?;
    super::factors::lock_account(&mut tx, &passkey.user_id).await?;
    let held: i64 = sqlx::query("SELECT COUNT(*) AS n FROM passkeys WHERE user_id = $1")
        .bind(passkey.user_id.as_str())
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
    if held >= max {
        tx.rollback().await?;
        return Ok(Err(NotAdded::Full));
    }
    let inserted = sqlx::query(
        "INSERT INTO passkeys (id, user_id, name, credential, counter, created_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(&passkey.id)
    .bind(passkey.user_id.as_str())
    .bind(&passkey.name)
    .bind(&passkey.credential)
    .bind(passkey.counter)
    .bind(passkey.created_at)
    .execute(&mut *tx)
    .await?;
    let added = audit::commit_if(tx, inserted.rows_affected() == 1, event).await?;
    Ok(if added { Ok(()) } else { Err(NotAdded::Registered) })
}

/// Records a use of passkey `id` with the verifier's updated record.
/// Returns `false`, changing nothing, when the stored counter is no longer
/// `previous` (another use got there first) or the passkey is gone.
///
/// # Errors
/// Database failures.
#[tracing::instrument(skip(db, credential))]
pub async fn used(
    db: &Db,
    id: &str,
    previous: i64,
    counter: i64,
    credential: &str,
    now: UnixTime,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE passkeys SET counter = $1, credential = $2, last_used_at = $3 WHERE id = $4 AND counter = $5",
    )
    .bind(counter)
    .bind(credential)
    .bind(now)
    .bind(id)
    .bind(previous)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes passkey `id` of `user_id` and records `event`; with
/// `keep_one`, only if the account keeps another second factor (checked
/// under the account's lock, so two removals at once never take the last
/// two).
///
/// # Errors
/// Database failures; nothing is left half-written.
#[tracing::instrument(skip(db, event))]
pub async fn remove(
    db: &Db,
    user_id: &UserId,
    id: &str,
    keep_one: bool,
    event: &Event<'_>,
) -> Result<Removed, sqlx::Error> {
    let mut tx = db.pool().begin().await?;
    super::factors::lock_account(&mut tx, user_id).await?;
    if keep_one && super::factors::held(&mut tx, user_id).await? <= 1 {
        let mine = sqlx::query("SELECT 1 AS one FROM passkeys WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        tx.rollback().await?;
        return Ok(if mine.is_some() { Removed::Last } else { Removed::NotFound });
    }
    let removed = sqlx::query("DELETE FROM passkeys WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user_id.as_str())
        .execute(&mut *tx)
        .await?;
    let done = audit::commit_if(tx, removed.rows_affected() == 1, event).await?;
    Ok(if done { Removed::Done } else { Removed::NotFound })
}

/// How a removal of a second factor ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Removed {
    Done,
    /// There was no such factor.
    NotFound,
    /// It is the account's last second factor, which must stay.
    Last,
}

/// What a ceremony is for: a ceremony started for one purpose never
/// finishes another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Adding a passkey to an account.
    Register,
    /// Signing in with a passkey, account not yet known.
    SignIn,
    /// A signed-in person confirming who they are.
    Confirm,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::SignIn => "sign_in",
            Self::Confirm => "confirm",
        }
    }
}

/// The most ceremonies one account has under way for one purpose; a new
/// one ends the oldest.
pub const LIVE_PER_ACCOUNT: i64 = 5;

/// Stores a ceremony's state under the hash of its handle, and sweeps
/// ceremonies that have died. An account keeps at most
/// [`LIVE_PER_ACCOUNT`] per purpose; sign-ins, which no account owns yet,
/// at most `max_anonymous` between them. Returns `false`, storing nothing,
/// when that many sign-ins are under way.
///
/// # Errors
/// Database failures.
#[tracing::instrument(skip(db, hash, state))]
pub async fn start_ceremony(
    db: &Db,
    hash: &str,
    purpose: Purpose,
    user_id: Option<&UserId>,
    state: &str,
    (now, expires_at): (UnixTime, UnixTime),
    max_anonymous: i64,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.pool().begin().await?;
    sqlx::query("DELETE FROM webauthn_challenges WHERE expires_at <= $1").bind(now).execute(&mut *tx).await?;
    match user_id {
        Some(user_id) => {
            sqlx::query(
                "DELETE FROM webauthn_challenges WHERE user_id = $1 AND purpose = $2 AND hash NOT IN
                 (SELECT hash FROM webauthn_challenges WHERE user_id = $1 AND purpose = $2
                  ORDER BY expires_at DESC, hash LIMIT $3)",
            )
            .bind(user_id.as_str())
            .bind(purpose.as_str())
            .bind(LIVE_PER_ACCOUNT - 1)
            .execute(&mut *tx)
            .await?;
        }
        None => {
            let live: i64 = sqlx::query("SELECT COUNT(*) AS n FROM webauthn_challenges WHERE user_id IS NULL")
                .fetch_one(&mut *tx)
                .await?
                .try_get("n")?;
            if live >= max_anonymous {
                tx.commit().await?;
                return Ok(false);
            }
        }
    }
    sqlx::query(
        "INSERT INTO webauthn_challenges (hash, purpose, user_id, state, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(hash)
    .bind(purpose.as_str())
    .bind(user_id.map(UserId::as_str))
    .bind(state)
    .bind(expires_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Takes the live ceremony with handle hash `hash`, for `purpose` and
/// `user_id` (none for a sign-in): it is deleted, so it is never taken
/// twice. Returns its state.
///
/// # Errors
/// Database failures.
#[tracing::instrument(skip(db, hash))]
pub async fn take_ceremony(
    db: &Db,
    hash: &str,
    purpose: Purpose,
    user_id: Option<&UserId>,
    now: UnixTime,
) -> Result<Option<String>, sqlx::Error> {
    let row = sqlx::query(
        "DELETE FROM webauthn_challenges WHERE hash = $1 AND purpose = $2 AND expires_at > $3
         AND (user_id = $4 OR (user_id IS NULL AND $5 = 1)) RETURNING state",
    )
    .bind(hash)
    .bind(purpose.as_str())
    .bind(now)
    .bind(user_id.map_or("", UserId::as_str))
    .bind(i64::from(user_id.is_none()))
    .fetch_optional(db.pool())
    .await?;
    row.map(|r| r.try_get("state")).transpose()
}
