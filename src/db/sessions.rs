//! The `sessions` and `refresh_tokens` tables, and the per-request check
//! that reads an access token's account and session together.

use sqlx::Row;

use super::audit::{self, Event};
use super::{Db, decode_role};
use crate::auth::caller::Standing;
use crate::auth::clock::UnixTime;
use crate::auth::refresh::Stored;
use crate::domain::{AuthMethod, SessionId, UserId};

/// A session about to be created.
#[derive(Debug)]
pub struct NewSession<'a> {
    pub id: &'a SessionId,
    pub user_id: &'a UserId,
    pub user_agent: &'a str,
    pub ip: &'a str,
    /// How the person signed in.
    pub methods: &'a [AuthMethod],
}

/// Creates a session with its first refresh token and records `event`
/// (the sign-in), atomically.
///
/// # Errors
/// Database failures; nothing is left half-written.
#[tracing::instrument(skip(db, refresh_hash, event))]
pub async fn create(
    db: &Db,
    s: &NewSession<'_>,
    refresh_hash: &str,
    event: &Event<'_>,
    now: UnixTime,
) -> Result<(), sqlx::Error> {
    let mut tx = db.pool().begin().await?;
    insert(&mut tx, s, refresh_hash, now).await?;
    audit::record(&mut *tx, event).await?;
    tx.commit().await
}

/// The work of [`create`] inside a caller's transaction (a second step
/// also spends its credential and its code in the same commit).
pub(super) async fn insert(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    s: &NewSession<'_>,
    refresh_hash: &str,
    now: UnixTime,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sessions (id, user_id, created_at, last_used_at, authenticated_at, user_agent, ip, amr)
         VALUES ($1, $2, $3, $3, $3, $4, $5, $6)",
    )
    .bind(s.id.as_str())
    .bind(s.user_id.as_str())
    .bind(now)
    .bind(s.user_agent)
    .bind(s.ip)
    .bind(AuthMethod::encode(s.methods))
    .execute(&mut **tx)
    .await?;
    sqlx::query("INSERT INTO refresh_tokens (hash, session_id, issued_at) VALUES ($1, $2, $3)")
        .bind(refresh_hash)
        .bind(s.id.as_str())
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A stored refresh token with its session.
#[derive(Debug)]
pub struct RefreshRecord {
    pub session_id: SessionId,
    pub user_id: UserId,
    pub stored: Stored,
}

/// Looks a refresh token up by its hash.
///
/// # Errors
/// Database failures; an unknown token is `Ok(None)`.
#[tracing::instrument(skip_all)]
pub async fn find_refresh(db: &Db, hash: &str) -> Result<Option<RefreshRecord>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT t.session_id, t.issued_at, t.rotated_at, s.user_id, s.created_at, s.revoked_at
         FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id
         WHERE t.hash = $1",
    )
    .bind(hash)
    .fetch_optional(db.pool())
    .await?;
    row.map(|r| {
        Ok(RefreshRecord {
            session_id: r.try_get::<String, _>("session_id")?.into(),
            user_id: r.try_get::<String, _>("user_id")?.into(),
            stored: Stored {
                issued_at: r.try_get("issued_at")?,
                rotated_at: r.try_get("rotated_at")?,
                session_created_at: r.try_get("created_at")?,
                session_revoked: r.try_get::<Option<i64>, _>("revoked_at")?.is_some(),
            },
        })
    })
    .transpose()
}

/// Replaces the current refresh token `old_hash` with `new_hash` and
/// records `event`, atomically. Exactly one of any number of concurrent
/// callers wins (`true`); the others change nothing (`false`).
///
/// # Errors
/// Database failures; nothing is left half-written.
#[tracing::instrument(skip(db, old_hash, new_hash, event))]
pub async fn rotate(
    db: &Db,
    session_id: &SessionId,
    old_hash: &str,
    new_hash: &str,
    event: &Event<'_>,
    now: UnixTime,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.pool().begin().await?;
    let claimed = sqlx::query(
        "UPDATE refresh_tokens SET rotated_at = $1 WHERE hash = $2 AND session_id = $3 AND rotated_at IS NULL",
    )
    .bind(now)
    .bind(old_hash)
    .bind(session_id.as_str())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if claimed != 1 {
        tx.rollback().await?;
        return Ok(false);
    }
    sqlx::query("INSERT INTO refresh_tokens (hash, session_id, issued_at) VALUES ($1, $2, $3)")
        .bind(new_hash)
        .bind(session_id.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE sessions SET last_used_at = $1 WHERE id = $2")
        .bind(now)
        .bind(session_id.as_str())
        .execute(&mut *tx)
        .await?;
    audit::record(&mut *tx, event).await?;
    tx.commit().await?;
    Ok(true)
}

/// Ends one session of `user_id` (a no-op when it already ended or is
/// someone else's) and, when it was live, records `event` in the same
/// commit. Returns whether it was live.
///
/// Ending a session matters more than its record: when the database has
/// no room for the event, the session is ended without it (and that is
/// logged), so a sign-out or a stolen token's end still holds.
///
/// # Errors
/// Database failures; nothing is left half-written.
#[tracing::instrument(skip(db, event))]
pub async fn revoke(
    db: &Db,
    user_id: &UserId,
    session_id: &SessionId,
    reason: &str,
    event: &Event<'_>,
    now: UnixTime,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.pool().begin().await?;
    let live = end_one(&mut *tx, user_id, session_id, reason, now).await?;
    match audit::commit_if(tx, live, event).await {
        Err(e) if super::is_out_of_space(&e) => {
            tracing::error!(
                kind = event.kind.as_str(),
                "no room to record the end of a session: ended without its event"
            );
            end_one(db.pool(), user_id, session_id, reason, now).await
        }
        done => done,
    }
}

async fn end_one<'c>(
    executor: impl sqlx::Executor<'c, Database = sqlx::Any>,
    user_id: &UserId,
    session_id: &SessionId,
    reason: &str,
    now: UnixTime,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE sessions SET revoked_at = $1, revoked_reason = $2
         WHERE id = $3 AND user_id = $4 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(reason)
    .bind(session_id.as_str())
    .bind(user_id.as_str())
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Ends every live session of `user_id` except `keep`. Returns how many.
///
/// # Errors
/// Database failures.
#[tracing::instrument(skip(db))]
pub async fn revoke_all(
    db: &Db,
    user_id: &UserId,
    keep: Option<&SessionId>,
    reason: &str,
    now: UnixTime,
) -> Result<u64, sqlx::Error> {
    end_sessions(db.pool(), user_id, keep, reason, now).await
}

/// The statement behind [`revoke_all`], on any executor, so a transaction
/// elsewhere (a password change) can end sessions as part of its own work.
pub(super) async fn end_sessions<'c>(
    executor: impl sqlx::Executor<'c, Database = sqlx::Any>,
    user_id: &UserId,
    keep: Option<&SessionId>,
    reason: &str,
    now: UnixTime,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE sessions SET revoked_at = $1, revoked_reason = $2
         WHERE user_id = $3 AND revoked_at IS NULL AND id <> $4",
    )
    .bind(now)
    .bind(reason)
    .bind(user_id.as_str())
    .bind(keep.map_or("", SessionId::as_str))
    .execute(executor)
    .await?;
    Ok(done.rows_affected())
}

/// Loads account `user_id` and its session `session_id` in one round trip.
/// `None` when either no longer exists.
///
/// # Errors
/// Database failures.
#[tracing::instrument(skip(db))]
pub async fn standing(db: &Db, user_id: &UserId, session_id: &SessionId) -> Result<Option<Standing>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT u.username, u.role, u.disabled_at, s.revoked_at, s.authenticated_at, s.amr
         FROM users u JOIN sessions s ON s.user_id = u.id
         WHERE u.id = $1 AND s.id = $2",
    )
    .bind(user_id.as_str())
    .bind(session_id.as_str())
    .fetch_optional(db.readers())
    .await?;
    row.map(|r| {
        Ok(Standing {
            username: r.try_get("username")?,
            role: decode_role(&r.try_get::<String, _>("role")?)?,
            disabled: r.try_get::<Option<i64>, _>("disabled_at")?.is_some(),
            session_revoked: r.try_get::<Option<i64>, _>("revoked_at")?.is_some(),
            authenticated_at: r.try_get("authenticated_at")?,
            methods: AuthMethod::decode(&r.try_get::<String, _>("amr")?),
        })
    })
    .transpose()
}

/// Marks live session `session_id` as just re-authenticated, signed in
/// by `methods` from now on. Returns whether it was live.
///
/// # Errors
/// Database failures.
#[tracing::instrument(skip(db))]
pub async fn reauthenticate(
    db: &Db,
    session_id: &SessionId,
    methods: &[AuthMethod],
    now: UnixTime,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE sessions SET authenticated_at = $1, amr = $2 WHERE id = $3 AND revoked_at IS NULL")
        .bind(now)
        .bind(AuthMethod::encode(methods))
        .bind(session_id.as_str())
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected() == 1)
}

/// A live session as its owner sees it.
#[derive(Clone, Debug)]
pub struct SessionRow {
    pub id: SessionId,
    pub created_at: UnixTime,
    pub last_used_at: UnixTime,
    pub user_agent: String,
    pub ip: String,
    pub methods: Vec<AuthMethod>,
}

/// The live sessions of `user_id` that are within both limits, newest
/// first.
///
/// # Errors
/// Database failures.
#[tracing::instrument(skip(db))]
pub async fn list_live(
    db: &Db,
    user_id: &UserId,
    created_after: UnixTime,
    used_after: UnixTime,
) -> Result<Vec<SessionRow>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, created_at, last_used_at, user_agent, ip, amr FROM sessions
         WHERE user_id = $1 AND revoked_at IS NULL AND created_at > $2 AND last_used_at > $3
         ORDER BY last_used_at DESC, created_at DESC",
    )
    .bind(user_id.as_str())
    .bind(created_after)
    .bind(used_after)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(SessionRow {
                id: r.try_get::<String, _>("id")?.into(),
                created_at: r.try_get("created_at")?,
                last_used_at: r.try_get("last_used_at")?,
                user_agent: r.try_get("user_agent")?,
                ip: r.try_get("ip")?,
                methods: AuthMethod::decode(&r.try_get::<String, _>("amr")?),
            })
        })
        .collect()
}

/// Deletes sessions past either limit (their refresh tokens go with them).
/// Returns how many.
///
/// # Errors
/// Database failures.
pub async fn purge(db: &Db, created_before: UnixTime, used_before: UnixTime) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM sessions WHERE created_at < $1 OR last_used_at < $2")
        .bind(created_before)
        .bind(used_before)
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected())
}
