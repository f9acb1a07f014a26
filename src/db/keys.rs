//! The `signing_keys` table. Secrets arrive and leave sealed; opening
//! them is the keystore's business.

use sqlx::Row;

use super::Db;
use crate::auth::clock::UnixTime;

/// A stored key, secret still sealed.
#[derive(Clone, Debug)]
pub struct StoredKey {
    pub seq: i64,
    pub kid: String,
    pub algorithm: String,
    pub sealed_secret: String,
    pub created_at: UnixTime,
    pub signs_from: UnixTime,
}

/// Every stored key.
///
/// # Errors
/// Database failures.
pub async fn list(db: &Db) -> Result<Vec<StoredKey>, sqlx::Error> {
    let rows =
        sqlx::query("SELECT seq, kid, algorithm, sealed_secret, created_at, signs_from FROM signing_keys ORDER BY seq")
            .fetch_all(db.pool())
            .await?;
    rows.iter()
        .map(|r| {
            Ok(StoredKey {
                seq: r.try_get("seq")?,
                kid: r.try_get("kid")?,
                algorithm: r.try_get("algorithm")?,
                sealed_secret: r.try_get("sealed_secret")?,
                created_at: r.try_get("created_at")?,
                signs_from: r.try_get("signs_from")?,
            })
        })
        .collect()
}

/// Adds `key` at its `seq`; `false` when another process took that `seq`
/// first (the caller reads again and decides).
///
/// # Errors
/// Database failures.
pub async fn insert(db: &Db, key: &StoredKey) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO signing_keys (seq, kid, algorithm, sealed_secret, created_at, signs_from)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(key.seq)
    .bind(&key.kid)
    .bind(&key.algorithm)
    .bind(&key.sealed_secret)
    .bind(key.created_at)
    .bind(key.signs_from)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}
