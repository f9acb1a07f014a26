//! The `audit_events` table: an append-only record of what happened.

use sqlx::Row;

use super::Db;
use crate::auth::clock::UnixTime;
use crate::domain::{AuditEntry, AuditKind, Paged, UserId};

/// An event about to be recorded. Nothing secret goes in here: no
/// password, token or cookie, only who, what, from where and the outcome.
#[derive(Clone, Debug)]
pub struct Event<'a> {
    pub kind: AuditKind,
    pub success: bool,
    /// Who acted (`None`: someone not signed in, or the command line).
    pub actor_id: Option<&'a str>,
    /// Whose account it concerns, when known.
    pub subject_id: Option<&'a str>,
    /// The name given, for events where there may be no account (a failed
    /// sign-in).
    pub username: Option<&'a str>,
    pub ip: &'a str,
    pub user_agent: &'a str,
    pub detail: &'a str,
    pub at: UnixTime,
}

/// Ends a transaction that may have changed nothing: with `event`
/// recorded and committed when it `changed` something, rolled back
/// otherwise. Returns `changed`.
///
/// # Errors
/// Database failures; nothing is left half-written.
pub async fn commit_if(
    mut tx: sqlx::Transaction<'static, sqlx::Any>,
    changed: bool,
    event: &Event<'_>,
) -> Result<bool, sqlx::Error> {
    if !changed {
        tx.rollback().await?;
        return Ok(false);
    }
    record(&mut *tx, event).await?;
    tx.commit().await?;
    Ok(true)
}

/// Appends `event`, on any executor, so a transaction that changes an
/// account records why in the same commit.
///
/// # Errors
/// Database failures.
pub async fn record<'c>(
    executor: impl sqlx::Executor<'c, Database = sqlx::Any>,
    event: &Event<'_>,
) -> Result<(), sqlx::Error> {
    // Long inputs are cut; these are for reading, not for evidence of size.
    let cut = |s: &str, n: usize| s.chars().take(n).collect::<String>();
    sqlx::query(
        "INSERT INTO audit_events (id, at, kind, outcome, actor_id, subject_id, username, ip, user_agent, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(event.at)
    .bind(event.kind.as_str())
    .bind(if event.success { "success" } else { "failure" })
    .bind(event.actor_id)
    .bind(event.subject_id)
    .bind(event.username.map(|u| cut(u, 64)))
    .bind(cut(event.ip, 64))
    .bind(cut(event.user_agent, 256))
    .bind(cut(event.detail, 256))
    .execute(executor)
    .await?;
    Ok(())
}

/// Which events to list.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub kind: Option<AuditKind>,
    /// Events whose actor or subject has this username key, or that name
    /// it as the attempted username.
    pub user_key: Option<String>,
    pub success: Option<bool>,
}

/// The columns [`entry`] reads, for a `SELECT` over `named!()`.
macro_rules! entry_columns {
    () => {
        "SELECT e.id, e.at, e.kind, e.outcome, e.ip, e.user_agent, e.detail,
                a.username AS actor, COALESCE(s.username, e.username) AS subject"
    };
}

/// The events (`e`) with their actor (`a`) and subject (`s`), when known.
macro_rules! named {
    () => {
        " FROM audit_events e
          LEFT JOIN users a ON a.id = e.actor_id
          LEFT JOIN users s ON s.id = e.subject_id"
    };
}

/// One page of events matching `filter`, newest first.
///
/// # Errors
/// Database failures.
#[tracing::instrument(skip(db))]
pub async fn list(db: &Db, filter: &Filter, page: u32) -> Result<Paged<AuditEntry>, sqlx::Error> {
    // One filter for both statements; an empty parameter means "any".
    macro_rules! matching {
        () => {
            concat!(
                named!(),
                " WHERE ($1 = '' OR e.kind = $1)
                    AND ($2 = '' OR a.username_key = $2 OR s.username_key = $2 OR LOWER(e.username) = $2)
                    AND ($3 = '' OR e.outcome = $3)"
            )
        };
    }
    let kind = filter.kind.map_or("", AuditKind::as_str);
    let user = filter.user_key.as_deref().unwrap_or("");
    let outcome = outcome(filter.success);
    let per_page = Paged::<AuditEntry>::PER_PAGE;
    let (limit, offset) = Paged::<AuditEntry>::window(page);
    let total: i64 = sqlx::query(concat!("SELECT COUNT(*) AS n", matching!()))
        .bind(kind)
        .bind(user)
        .bind(outcome)
        .fetch_one(db.pool())
        .await?
        .try_get("n")?;
    let rows = sqlx::query(concat!(entry_columns!(), matching!(), " ORDER BY e.at DESC, e.id DESC LIMIT $4 OFFSET $5"))
        .bind(kind)
        .bind(user)
        .bind(outcome)
        .bind(limit)
        .bind(offset)
        .fetch_all(db.pool())
        .await?;
    let items = rows.iter().map(entry).collect::<Result<_, sqlx::Error>>()?;
    Ok(Paged { items, page, per_page, total })
}

/// The newest events about the account `user_id` (as subject or actor),
/// newest first: of `kind`, or of every kind but token refreshes (routine,
/// every few minutes, and not news to anyone); with `success`, only those
/// that succeeded (or failed).
///
/// # Errors
/// Database failures.
pub async fn concerning(
    db: &Db,
    user_id: &UserId,
    kind: Option<AuditKind>,
    success: Option<bool>,
    limit: u32,
) -> Result<Vec<AuditEntry>, sqlx::Error> {
    let rows = sqlx::query(concat!(
        entry_columns!(),
        named!(),
        " WHERE (e.subject_id = $1 OR e.actor_id = $1)
            AND (e.kind = $2 OR ($2 = '' AND e.kind <> 'refresh'))
            AND ($3 = '' OR e.outcome = $3)
          ORDER BY e.at DESC, e.id DESC LIMIT $4"
    ))
    .bind(user_id.as_str())
    .bind(kind.map_or("", AuditKind::as_str))
    .bind(outcome(success))
    .bind(i64::from(limit))
    .fetch_all(db.readers())
    .await?;
    rows.iter().map(entry).collect()
}

/// The stored outcome to match: any (`""`), success or failure.
fn outcome(success: Option<bool>) -> &'static str {
    success.map_or("", |ok| if ok { "success" } else { "failure" })
}

fn entry(r: &sqlx::any::AnyRow) -> Result<AuditEntry, sqlx::Error> {
    let kind: String = r.try_get("kind")?;
    Ok(AuditEntry {
        id: r.try_get("id")?,
        at: r.try_get("at")?,
        kind: AuditKind::from_stored(&kind)
            .ok_or_else(|| sqlx::Error::Decode(format!("unknown audit kind '{kind}'").into()))?,
        success: r.try_get::<String, _>("outcome")? == "success",
        actor: r.try_get("actor")?,
        subject: r.try_get("subject")?,
        ip: r.try_get("ip")?,
        user_agent: r.try_get("user_agent")?,
        detail: r.try_get("detail")?,
    })
}

/// Deletes events older than `before`. Returns how many.
///
/// # Errors
/// Database failures.
pub async fn purge(db: &Db, before: UnixTime) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM audit_events WHERE at < $1").bind(before).execute(db.pool()).await?.rows_affected())
}
