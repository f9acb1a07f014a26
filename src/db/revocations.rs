//! Revoked access tokens, keyed by `jti`, and the per-request check that
//! reads them together with the account.

use sqlx::Row;

use super::Db;
use super::users::decode_role;
use crate::auth::clock::UnixTime;
use crate::domain::Role;

/// What the guard needs to know about a token's subject right now.
#[derive(Debug)]
pub struct Principal {
    pub username: String,
    pub role: Role,
    pub disabled: bool,
    pub revoked: bool,
}

/// Loads the account `user_id` and whether `jti` was revoked, in one
/// round trip. `None` when the account no longer exists.
///
/// # Errors
/// Database failures.
#[tracing::instrument(skip(db))]
pub async fn principal(
    db: &Db,
    user_id: &str,
    jti: &str,
) -> Result<Option<Principal>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT u.username, u.role, u.disabled_at,
                (SELECT COUNT(*) FROM revoked_tokens r WHERE r.jti = $2) AS revoked
         FROM users u WHERE u.id = $1",
    )
    .bind(user_id)
    .bind(jti)
    .fetch_optional(db.pool())
    .await?;
    row.map(|r| {
        Ok(Principal {
            username: r.try_get("username")?,
            role: decode_role(&r.try_get::<String, _>("role")?)?,
            disabled: r.try_get::<Option<i64>, _>("disabled_at")?.is_some(),
            revoked: r.try_get::<i64, _>("revoked")? > 0,
        })
    })
    .transpose()
}

/// Revokes one access token until its expiry. Revoking twice is harmless.
///
/// # Errors
/// Database failures.
#[tracing::instrument(skip(db))]
pub async fn revoke(
    db: &Db,
    jti: &str,
    user_id: &str,
    expires_at: UnixTime,
    now: UnixTime,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO revoked_tokens (jti, user_id, expires_at, revoked_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (jti) DO NOTHING",
    )
    .bind(jti)
    .bind(user_id)
    .bind(expires_at)
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Deletes records of tokens that have expired anyway (`before` should
/// include the clock leeway). Returns how many went.
///
/// # Errors
/// Database failures.
pub async fn purge_expired(db: &Db, before: UnixTime) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM revoked_tokens WHERE expires_at < $1")
        .bind(before)
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected())
}
