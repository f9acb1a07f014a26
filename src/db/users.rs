//! The `users` table.

use std::fmt;

use sqlx::Row;
use sqlx::any::AnyRow;

use super::Db;
use crate::auth::clock::UnixTime;
use crate::domain::{Role, Username};

/// A stored account, including its password hash (never serialised, never
/// printed).
pub struct UserRecord {
    pub id: String,
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

/// Inserts a new account with role `user`.
///
/// # Errors
/// [`CreateError::Taken`] when the case-folded name exists.
#[tracing::instrument(skip(db, password_hash))]
pub async fn create(
    db: &Db,
    id: &str,
    username: &Username,
    password_hash: &str,
    now: UnixTime,
) -> Result<(), CreateError> {
    let result = sqlx::query(
        "INSERT INTO users (id, username, username_key, password_hash, role, created_at)
         VALUES ($1, $2, $3, $4, 'user', $5)",
    )
    .bind(id)
    .bind(username.as_str())
    .bind(username.key())
    .bind(password_hash)
    .bind(now)
    .execute(db.pool())
    .await;
    match result {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(CreateError::Taken),
        Err(e) => Err(CreateError::Db(e)),
    }
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
pub async fn find_by_id(db: &Db, id: &str) -> Result<Option<UserRecord>, sqlx::Error> {
    sqlx::query("SELECT id, username, role, password_hash, disabled_at FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .as_ref()
        .map(record)
        .transpose()
}

fn record(r: &AnyRow) -> Result<UserRecord, sqlx::Error> {
    Ok(UserRecord {
        id: r.try_get("id")?,
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
#[tracing::instrument(skip(db, password_hash))]
pub async fn set_password(
    db: &Db,
    user_id: &str,
    password_hash: &str,
    keep_session: &str,
    now: UnixTime,
) -> Result<u64, sqlx::Error> {
    let mut tx = db.pool().begin().await?;
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(password_hash)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    let ended = super::sessions::end_sessions(&mut *tx, user_id, Some(keep_session), "password changed", now).await?;
    tx.commit().await?;
    Ok(ended)
}

pub(super) fn decode_role(stored: &str) -> Result<Role, sqlx::Error> {
    Role::from_stored(stored).ok_or_else(|| sqlx::Error::Decode(format!("unknown role '{stored}'").into()))
}
