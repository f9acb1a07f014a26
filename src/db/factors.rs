//! Second factors: the `totp_factors`, `recovery_codes` and `second_steps`
//! tables. Every change that spends a code or a credential is one
//! conditional write, so of any number of concurrent attempts with the
//! same code exactly one succeeds.

use sqlx::Row;

use super::Db;
use super::audit::{self, Event};
pub use super::passkeys::Removed;
use super::sessions::{self, NewSession};
use crate::auth::clock::UnixTime;
use crate::domain::UserId;

/// A stored authenticator app.
#[derive(Clone)]
pub struct TotpRecord {
    /// Sealed under the master key, bound to the account.
    pub sealed_secret: String,
    pub created_at: UnixTime,
    /// `None` while the person has not yet typed a correct code.
    pub confirmed_at: Option<UnixTime>,
    /// The newest time step a code was accepted for.
    pub last_step: Option<i64>,
}

impl std::fmt::Debug for TotpRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpRecord").field("confirmed_at", &self.confirmed_at).finish_non_exhaustive()
    }
}

/// The authenticator app of `user_id`, pending or active.
///
/// # Errors
/// Database failures.
#[tracing::instrument(skip(db))]
pub async fn totp(db: &Db, user_id: &UserId) -> Result<Option<TotpRecord>, sqlx::Error> {
    let row =
        sqlx::query("SELECT sealed_secret, created_at, confirmed_at, last_step FROM totp_factors WHERE user_id = $1")
            .bind(user_id.as_str())
            .fetch_optional(db.pool())
            .await?;
    row.map(|r| {
        Ok(TotpRecord {
            sealed_secret: r.try_get("sealed_secret")?,
            created_at: r.try_get("created_at")?,
            confirmed_at: r.try_get("confirmed_at")?,
            last_step: r.try_get("last_step")?,
        })
    })
    .transpose()
}

/// Stores a pending authenticator app for `user_id`, replacing a pending
/// one. Returns `false`, and changes nothing, when an active one exists.
///
/// # Errors
/// Database failures.
#[tracing::instrument(skip(db, sealed_secret))]
pub async fn begin_totp(db: &Db, user_id: &UserId, sealed_secret: &str, now: UnixTime) -> Result<bool, sqlx::Error> {
    let mut tx = db.pool().begin().await?;
    sqlx::query("DELETE FROM totp_factors WHERE user_id = $1 AND confirmed_at IS NULL")
        .bind(user_id.as_str())
        .execute(&mut *tx)
        .await?;
    let inserted = sqlx::query(
        "INSERT INTO totp_factors (user_id, sealed_secret, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (user_id) DO NOTHING",
    )
    .bind(user_id.as_str())
    .bind(sealed_secret)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(inserted.rows_affected() == 1)
}

/// Activates the pending authenticator app of `user_id`, whose code for
/// `step` was just typed, with a first set of recovery codes (`hashes`),
/// and records `event`. Returns `false`, and changes nothing, when there is
/// no pending factor (it was activated or replaced meanwhile).
///
/// # Errors
/// Database failures; nothing is left half-written.
#[tracing::instrument(skip_all)]
pub async fn confirm_totp(
    db: &Db,
    user_id: &UserId,
    sealed_secret: &str,
    step: i64,
    hashes: &[String],
    event: &Event<'_>,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.pool().begin().await?;
    let done = sqlx::query(
        "UPDATE totp_factors SET confirmed_at = $1, last_step = $2 \
         WHERE user_id = $3 AND sealed_secret = $4 AND confirmed_at IS NULL",
    )
    .bind(event.at)
    .bind(step)
    .bind(user_id.as_str())
    .bind(sealed_secret)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        tx.rollback().await?;
        return Ok(false);
    }
    store_codes(&mut tx, user_id, hashes, event.at).await?;
    audit::record(&mut *tx, event).await?;
    tx.commit().await?;
    Ok(true)
}

/// Removes the authenticator app of `user_id` and its recovery codes, and
/// records `event`; with `keep_one`, only if the account keeps a passkey
/// (checked under the account's lock, like [`super::passkeys::remove`]).
///
/// # Errors
/// Database failures; nothing is left half-written.
#[tracing::instrument(skip_all)]
pub async fn remove_totp(db: &Db, user_id: &UserId, keep_one: bool, event: &Event<'_>) -> Result<Removed, sqlx::Error> {
    let mut tx = db.pool().begin().await?;
    lock_account(&mut tx, user_id).await?;
    let on = sqlx::query("SELECT 1 AS one FROM totp_factors WHERE user_id = $1 AND confirmed_at IS NOT NULL")
        .bind(user_id.as_str())
        .fetch_optional(&mut *tx)
        .await?
        .is_some();
    if on && keep_one && held(&mut tx, user_id).await? <= 1 {
        tx.rollback().await?;
        return Ok(Removed::Last);
    }
    let removed =
        sqlx::query("DELETE FROM totp_factors WHERE user_id = $1").bind(user_id.as_str()).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id.as_str()).execute(&mut *tx).await?;
    let done = audit::commit_if(tx, removed.rows_affected() == 1, event).await?;
    Ok(if done { Removed::Done } else { Removed::NotFound })
}

/// Takes the account's lock for the rest of `tx`: a write first, not a
/// read, so it holds the database (SQLite) or the account's row
/// (PostgreSQL) until the transaction ends, and checks made after it
/// cannot be overtaken by a concurrent change of the same account.
///
/// # Errors
/// Database failures.
pub(super) async fn lock_account(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    user_id: &UserId,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET disabled_at = disabled_at WHERE id = $1")
        .bind(user_id.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// How many second factors `user_id` has: each passkey, and the
/// authenticator app once it is on.
///
/// # Errors
/// Database failures.
pub(super) async fn held(tx: &mut sqlx::Transaction<'static, sqlx::Any>, user_id: &UserId) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "SELECT (SELECT COUNT(*) FROM passkeys WHERE user_id = $1)
              + (SELECT COUNT(*) FROM totp_factors WHERE user_id = $1 AND confirmed_at IS NOT NULL) AS n",
    )
    .bind(user_id.as_str())
    .fetch_one(&mut **tx)
    .await?
    .try_get("n")
}

/// Removes every second factor of `user_id` (an administrator's reset):
/// the app, pending or on, its recovery codes, its passkeys, pending
/// sign-ins and ceremonies; ends every session; records `event`. Returns
/// whether there was a factor.
///
/// # Errors
/// Database failures; nothing is left half-written.
#[tracing::instrument(skip_all)]
pub async fn reset(db: &Db, user_id: &UserId, event: &Event<'_>) -> Result<bool, sqlx::Error> {
    let mut tx = db.pool().begin().await?;
    let mut removed = 0;
    for factor in ["DELETE FROM totp_factors WHERE user_id = $1", "DELETE FROM passkeys WHERE user_id = $1"] {
        removed += sqlx::query(factor).bind(user_id.as_str()).execute(&mut *tx).await?.rows_affected();
    }
    if removed == 0 {
        tx.rollback().await?;
        return Ok(false);
    }
    for table in [
        "DELETE FROM recovery_codes WHERE user_id = $1",
        "DELETE FROM second_steps WHERE user_id = $1",
        "DELETE FROM webauthn_challenges WHERE user_id = $1",
    ] {
        sqlx::query(table).bind(user_id.as_str()).execute(&mut *tx).await?;
    }
    sessions::end_sessions(&mut *tx, user_id, None, "second factors reset", event.at).await?;
    audit::record(&mut *tx, event).await?;
    tx.commit().await?;
    Ok(true)
}

/// Replaces the recovery codes of `user_id` by `hashes` and records
/// `event`. Returns `false`, and changes nothing, when the account has no
/// active authenticator app.
///
/// # Errors
/// Database failures; nothing is left half-written.
#[tracing::instrument(skip_all)]
pub async fn replace_recovery_codes(
    db: &Db,
    user_id: &UserId,
    hashes: &[String],
    event: &Event<'_>,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.pool().begin().await?;
    // A write first, not a read: it takes the lock (SQLite) or the row
    // (PostgreSQL) before the codes change, so a concurrent removal of
    // the app waits for it or makes it find nothing.
    let active = sqlx::query(
        "UPDATE totp_factors SET confirmed_at = confirmed_at WHERE user_id = $1 AND confirmed_at IS NOT NULL",
    )
    .bind(user_id.as_str())
    .execute(&mut *tx)
    .await?;
    if active.rows_affected() == 0 {
        tx.rollback().await?;
        return Ok(false);
    }
    store_codes(&mut tx, user_id, hashes, event.at).await?;
    audit::record(&mut *tx, event).await?;
    tx.commit().await?;
    Ok(true)
}

async fn store_codes(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    user_id: &UserId,
    hashes: &[String],
    now: UnixTime,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id.as_str()).execute(&mut **tx).await?;
    for hash in hashes {
        sqlx::query("INSERT INTO recovery_codes (hash, user_id, created_at) VALUES ($1, $2, $3)")
            .bind(hash)
            .bind(user_id.as_str())
            .bind(now)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// How many unused recovery codes `user_id` has.
///
/// # Errors
/// Database failures.
#[tracing::instrument(skip(db))]
pub async fn recovery_codes_left(db: &Db, user_id: &UserId) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COUNT(*) AS n FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL")
        .bind(user_id.as_str())
        .fetch_one(db.pool())
        .await?
        .try_get("n")
}

/// A code that proves the second factor, about to be spent.
#[derive(Clone, Copy, Debug)]
pub enum Proof<'a> {
    /// The authenticator app's code for this time step.
    Totp { step: i64 },
    /// The hash of a recovery code.
    Recovery { hash: &'a str },
}

/// Spends `proof` for `user_id`: the step becomes the newest used, or the
/// recovery code is marked used. `false` when it was spent already (or,
/// for a recovery code, never was one of theirs).
async fn spend<'c>(
    executor: impl sqlx::Executor<'c, Database = sqlx::Any>,
    user_id: &UserId,
    proof: Proof<'_>,
    now: UnixTime,
) -> Result<bool, sqlx::Error> {
    let done = match proof {
        Proof::Totp { step } => {
            sqlx::query(
                "UPDATE totp_factors SET last_step = $1
                 WHERE user_id = $2 AND confirmed_at IS NOT NULL AND (last_step IS NULL OR last_step < $1)",
            )
            .bind(step)
            .bind(user_id.as_str())
            .execute(executor)
            .await?
        }
        Proof::Recovery { hash } => {
            sqlx::query("UPDATE recovery_codes SET used_at = $1 WHERE hash = $2 AND user_id = $3 AND used_at IS NULL")
                .bind(now)
                .bind(hash)
                .bind(user_id.as_str())
                .execute(executor)
                .await?
        }
    };
    Ok(done.rows_affected() == 1)
}

/// Spends `proof` outside a sign-in (confirming who one is for a
/// sensitive action). Returns whether it was still unspent.
///
/// # Errors
/// Database failures.
#[tracing::instrument(skip(db, proof))]
pub async fn spend_code(db: &Db, user_id: &UserId, proof: Proof<'_>, now: UnixTime) -> Result<bool, sqlx::Error> {
    spend(db.pool(), user_id, proof, now).await
}

/// Wrong codes that end a second step: the person types the password
/// again (which the account's throttle counts too).
pub const STEP_FAILURES: i64 = 3;

/// Stores the credential (`hash`) of a password sign-in that owes its
/// second step, and drops the expired ones of every account.
///
/// # Errors
/// Database failures.
#[tracing::instrument(skip(db, hash))]
pub async fn open_step(
    db: &Db,
    hash: &str,
    user_id: &UserId,
    now: UnixTime,
    expires_at: UnixTime,
) -> Result<(), sqlx::Error> {
    let mut tx = db.pool().begin().await?;
    sqlx::query("DELETE FROM second_steps WHERE expires_at <= $1").bind(now).execute(&mut *tx).await?;
    sqlx::query("INSERT INTO second_steps (hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(hash)
        .bind(user_id.as_str())
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// The account whose live second step `hash` carries.
///
/// # Errors
/// Database failures.
#[tracing::instrument(skip_all)]
pub async fn step_account(db: &Db, hash: &str, now: UnixTime) -> Result<Option<UserId>, sqlx::Error> {
    let row = sqlx::query("SELECT user_id FROM second_steps WHERE hash = $1 AND expires_at > $2")
        .bind(hash)
        .bind(now)
        .fetch_optional(db.pool())
        .await?;
    row.map(|r| r.try_get::<String, _>("user_id").map(UserId::from)).transpose()
}

/// One more wrong code for second step `hash`; after [`STEP_FAILURES`] it
/// is gone and the person starts again from the password. Returns whether
/// it is still open.
///
/// # Errors
/// Database failures.
#[tracing::instrument(skip_all)]
pub async fn step_failed(db: &Db, hash: &str) -> Result<bool, sqlx::Error> {
    let mut tx = db.pool().begin().await?;
    sqlx::query("UPDATE second_steps SET failures = failures + 1 WHERE hash = $1").bind(hash).execute(&mut *tx).await?;
    let ended = sqlx::query("DELETE FROM second_steps WHERE hash = $1 AND failures >= $2")
        .bind(hash)
        .bind(STEP_FAILURES)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(ended.rows_affected() == 0)
}

/// How finishing a second step went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finished {
    /// The session exists.
    SignedIn,
    /// The credential is unknown, expired, or was used a moment ago.
    StepGone,
    /// The code was spent meanwhile (a replay).
    CodeSpent,
}

/// Finishes second step `hash` of `session.user_id` with `proof`: spends
/// the credential and the code, creates the session with its refresh
/// token (`refresh_hash`) and records `event`, all in one commit. Of any
/// number of concurrent attempts at most one signs in.
///
/// # Errors
/// Database failures; nothing is left half-written.
#[tracing::instrument(skip_all)]
pub async fn finish_step(
    db: &Db,
    hash: &str,
    proof: Proof<'_>,
    session: &NewSession<'_>,
    refresh_hash: &str,
    event: &Event<'_>,
) -> Result<Finished, sqlx::Error> {
    let now = event.at;
    let mut tx = db.pool().begin().await?;
    let step = sqlx::query("DELETE FROM second_steps WHERE hash = $1 AND user_id = $2 AND expires_at > $3")
        .bind(hash)
        .bind(session.user_id.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
    if step.rows_affected() != 1 {
        tx.rollback().await?;
        return Ok(Finished::StepGone);
    }
    if !spend(&mut *tx, session.user_id, proof, now).await? {
        tx.rollback().await?;
        return Ok(Finished::CodeSpent);
    }
    sessions::insert(&mut tx, session, refresh_hash, now).await?;
    audit::record(&mut *tx, event).await?;
    tx.commit().await?;
    Ok(Finished::SignedIn)
}
