//! The `users` table.

use std::fmt;

use sqlx::Row;
use sqlx::any::AnyRow;

use super::audit::{self, Event};
use super::{Db, decode_role, like_escape};
use crate::domain::{AuditKind, Paged, Role, SessionId, UserId, UserSummary, Username};

/// A stored account, including its password hash (never serialised, never
/// printed).
pub struct UserRecord {
    pub id: UserId,
    pub username: String,
    pub role: Role,
    pub password_hash: String,
    pub disabled: bool,
}

impl fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("role", &self.role)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

/// Why an account could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("the username is taken")]
    Taken,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// An account about to be created.
#[derive(Clone, Copy)]
pub struct NewUser<'a> {
    pub id: &'a UserId,
    pub username: &'a Username,
    pub password_hash: &'a str,
    pub role: Role,
}

/// Inserts a new account and records `event`, in one transaction.
///
/// # Errors
/// [`CreateError::Taken`] when the normalised name exists.
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn create(db: &Db, user: NewUser<'_>, event: &Event<'_>) -> Result<(), CreateError> {
    let mut tx = db.pool().begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO users (id, username, username_key, password_hash, role, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(user.id.as_str())
    .bind(user.username.as_str())
    .bind(user.username.key())
    .bind(user.password_hash)
    .bind(user.role.as_str())
    .bind(event.at)
    .execute(&mut *tx)
    .await;
    match inserted {
        Ok(_) => {}
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => return Err(CreateError::Taken),
        Err(e) => return Err(CreateError::Db(e)),
    }
    audit::record(&mut *tx, event).await?;
    tx.commit().await?;
    Ok(())
}

/// Finds an account by its case-folded name.
///
/// # Errors
/// Database failures only; an unknown name is `Ok(None)`.
#[tracing::instrument(skip(db))]
pub async fn find_by_username(db: &Db, username: &Username) -> Result<Option<UserRecord>, sqlx::Error> {
    sqlx::query("SELECT id, username, role, password_hash, disabled_at FROM users WHERE username_key = $1")
        .bind(username.key())
        .fetch_optional(db.pool())
        .await?
        .as_ref()
        .map(record)
        .transpose()
}

/// Finds an account by id.
///
/// # Errors
/// Database failures only; an unknown id is `Ok(None)`.
#[tracing::instrument(skip(db))]
pub async fn find_by_id(db: &Db, id: &UserId) -> Result<Option<UserRecord>, sqlx::Error> {
    sqlx::query("SELECT id, username, role, password_hash, disabled_at FROM users WHERE id = $1")
        .bind(id.as_str())
        .fetch_optional(db.pool())
        .await?
        .as_ref()
        .map(record)
        .transpose()
}

fn record(r: &AnyRow) -> Result<UserRecord, sqlx::Error> {
    Ok(UserRecord {
        id: r.try_get::<String, _>("id")?.into(),
        username: r.try_get("username")?,
        role: decode_role(&r.try_get::<String, _>("role")?)?,
        password_hash: r.try_get("password_hash")?,
        disabled: r.try_get::<Option<i64>, _>("disabled_at")?.is_some(),
    })
}

/// Stores a new password hash and ends every other session of the
/// account, in one transaction: no window in which the new password is
/// set but a session that knew only the old one lives on. Returns how many
/// sessions ended.
///
/// # Errors
/// Database failures; nothing is left half-written.
#[tracing::instrument(skip(db, password_hash, event))]
pub async fn set_password(
    db: &Db,
    user_id: &UserId,
    password_hash: &str,
    keep_session: Option<&SessionId>,
    event: &Event<'_>,
) -> Result<u64, sqlx::Error> {
    let mut tx = db.pool().begin().await?;
    let ended = store_password(&mut tx, user_id, password_hash, keep_session, event).await?;
    tx.commit().await?;
    Ok(ended)
}

/// The work of [`set_password`] inside a caller's transaction (a reset
/// link also marks itself used in the same commit).
pub(super) async fn store_password(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    user_id: &UserId,
    password_hash: &str,
    keep_session: Option<&SessionId>,
    event: &Event<'_>,
) -> Result<u64, sqlx::Error> {
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(password_hash)
        .bind(user_id.as_str())
        .execute(&mut **tx)
        .await?;
    let reason = if event.kind == AuditKind::ResetUsed { "password reset" } else { "password changed" };
    let ended = super::sessions::end_sessions(&mut **tx, user_id, keep_session, reason, event.at).await?;
    audit::record(&mut **tx, event).await?;
    Ok(ended)
}

/// Replaces a hash made with older Argon2 parameters by one made with the
/// current ones, unless the password changed meanwhile. Returns whether it
/// did.
///
/// # Errors
/// Database failures.
#[tracing::instrument(skip_all, fields(user_id))]
pub async fn upgrade_hash(db: &Db, user_id: &UserId, old_hash: &str, new_hash: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3")
        .bind(new_hash)
        .bind(user_id.as_str())
        .bind(old_hash)
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected() == 1)
}

/// One page of accounts whose name contains `search` (case-insensitively,
/// after normalisation), in name order.
///
/// # Errors
/// Database failures.
#[tracing::instrument(skip(db))]
pub async fn list(db: &Db, search: Option<&str>, page: u32) -> Result<Paged<UserSummary>, sqlx::Error> {
    let pattern = format!("%{}%", like_escape(&search.map(Username::fold).unwrap_or_default()));
    let per_page = Paged::<UserSummary>::PER_PAGE;
    let (limit, offset) = Paged::<UserSummary>::window(page);
    let total: i64 = sqlx::query("SELECT COUNT(*) AS n FROM users WHERE username_key LIKE $1 ESCAPE '\\'")
        .bind(&pattern)
        .fetch_one(db.pool())
        .await?
        .try_get("n")?;
    let rows = sqlx::query(
        "SELECT u.id, u.username, u.role, u.disabled_at, u.created_at,
                (SELECT COUNT(*) FROM sessions s WHERE s.user_id = u.id AND s.revoked_at IS NULL) AS open_sessions,
                (SELECT COUNT(*) FROM totp_factors t WHERE t.user_id = u.id AND t.confirmed_at IS NOT NULL) AS totp
         FROM users u
         WHERE u.username_key LIKE $1 ESCAPE '\\'
         ORDER BY u.username_key
         LIMIT $2 OFFSET $3",
    )
    .bind(&pattern)
    .bind(limit)
    .bind(offset)
    .fetch_all(db.pool())
    .await?;
    let items = rows
        .iter()
        .map(|r| {
            Ok(UserSummary {
                id: r.try_get::<String, _>("id")?.into(),
                username: r.try_get("username")?,
                role: decode_role(&r.try_get::<String, _>("role")?)?,
                disabled: r.try_get::<Option<i64>, _>("disabled_at")?.is_some(),
                created_at: r.try_get("created_at")?,
                open_sessions: r.try_get("open_sessions")?,
                factors: if r.try_get::<i64, _>("totp")? > 0 { vec!["totp".to_owned()] } else { Vec::new() },
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    Ok(Paged { items, page, per_page, total })
}

/// What an administrative change to an account came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Change {
    Done,
    /// The account was already in that state.
    Unchanged,
    NotFound,
    /// It would leave no enabled administrator; nothing was changed.
    LastAdmin,
}

/// Sets `user_id`'s role.
///
/// # Errors
/// Database failures, including a serialization failure when another
/// change raced this one (see [`super::is_serialization_failure`]).
#[tracing::instrument(skip(db, event))]
pub async fn set_role(db: &Db, user_id: &UserId, role: Role, event: &Event<'_>) -> Result<Change, sqlx::Error> {
    let statement = sqlx::query("UPDATE users SET role = $1 WHERE id = $2 AND role <> $1")
        .bind(role.as_str())
        .bind(user_id.as_str());
    administer(db, user_id, statement, None, event).await
}

/// Disables (ending every session in the same commit) or enables
/// `user_id`.
///
/// # Errors
/// As [`set_role`].
#[tracing::instrument(skip(db, event))]
pub async fn set_disabled(db: &Db, user_id: &UserId, disabled: bool, event: &Event<'_>) -> Result<Change, sqlx::Error> {
    let statement = if disabled {
        sqlx::query("UPDATE users SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL")
            .bind(event.at)
            .bind(user_id.as_str())
    } else {
        sqlx::query("UPDATE users SET disabled_at = NULL WHERE id = $1 AND disabled_at IS NOT NULL")
            .bind(user_id.as_str())
    };
    administer(db, user_id, statement, disabled.then_some("account disabled"), event).await
}

/// Runs one administrative UPDATE of `user_id` in a serializable
/// transaction that refuses to leave the deployment without an enabled
/// administrator, optionally ends the account's sessions, and records
/// `event`.
async fn administer(
    db: &Db,
    user_id: &UserId,
    statement: sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments>,
    end_sessions_reason: Option<&str>,
    event: &Event<'_>,
) -> Result<Change, sqlx::Error> {
    let mut tx = db.begin_serializable().await?;
    if statement.execute(&mut *tx).await?.rows_affected() == 0 {
        let exists = sqlx::query("SELECT 1 AS one FROM users WHERE id = $1")
            .bind(user_id.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        tx.rollback().await?;
        return Ok(if exists.is_some() { Change::Unchanged } else { Change::NotFound });
    }
    let admins: i64 = sqlx::query("SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND disabled_at IS NULL")
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
    if admins == 0 {
        tx.rollback().await?;
        return Ok(Change::LastAdmin);
    }
    if let Some(reason) = end_sessions_reason {
        super::sessions::end_sessions(&mut *tx, user_id, None, reason, event.at).await?;
    }
    audit::record(&mut *tx, event).await?;
    tx.commit().await?;
    Ok(Change::Done)
}
