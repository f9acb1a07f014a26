//! Where guessing meets the throttle: each action a stranger could repeat
//! to guess a secret or to flood us asks here first. Counts live in the
//! database (`db::throttles`), so every instance sees the same locks; the
//! rules are `auth::throttle`.
//!
//! A lock is answered with [`AppError::TooManyAttempts`] before any
//! password is looked at, so a correct password during a lock does not
//! sign in, and an account name that does not exist is locked exactly like
//! one that does: the answer never tells the two apart.

use super::audit::{event, note};
use crate::auth::caller::Client;
use crate::auth::throttle::{Limit, Locked, Tally};
use crate::auth::turns::Held;
use crate::db::audit::Event;
use crate::db::throttles;
use crate::domain::{AuditKind, Username};
use crate::error::AppError;
use crate::state::AppState;

/// A password check in progress: counted against the account name up
/// front (so a burst of parallel guesses is counted one by one), and
/// against the address once it fails.
#[must_use = "report how the password check ended"]
pub struct PasswordAttempt {
    account: String,
    address: String,
    name: String,
    /// This instance's next attempt on the name waits for this one's end.
    _turn: Held,
}

/// Before checking a password for `username`: refuses while the address
/// or the account name is locked, and counts this attempt on the account.
///
/// # Errors
/// [`AppError::TooManyAttempts`], or [`AppError::Internal`].
pub async fn password(state: &AppState, client: &Client, username: &str) -> Result<PasswordAttempt, AppError> {
    guess(state, client, username, "account").await
}

/// Before checking a second factor's code for `username`: the same as
/// [`password`], on the account's own count of codes. A right password
/// for an account with a second factor leaves the password's count as it
/// is ([`PasswordAttempt::pending`]), and only a right code clears both:
/// typing the password again buys no more guesses at the code, and a
/// person back after a lock is not refused the code because the password
/// just counted.
///
/// # Errors
/// As [`password`].
pub async fn code(state: &AppState, client: &Client, username: &str) -> Result<PasswordAttempt, AppError> {
    guess(state, client, username, "code").await
}

async fn guess(state: &AppState, client: &Client, username: &str, what: &str) -> Result<PasswordAttempt, AppError> {
    let AddressAttempt { address } = unnamed(state, client).await?;
    let name: String = username.trim().chars().take(64).collect();
    let account = format!("{what}:{}", Username::fold(&name));
    let turn = state.turns.take(&account).await;
    let now = state.clock.now();
    let tally = throttles::hit(&state.db, &account, &state.throttle.account, now).await?;
    let tally = tally.map_err(refused)?;
    let attempt = PasswordAttempt { account, address, name, _turn: turn };
    if starts_lock(&state.throttle.account, tally, now) {
        audit_lock(state, client, "account", Some(&attempt.name), tally, now).await;
    }
    Ok(attempt)
}

impl PasswordAttempt {
    /// The password was right: the account's count starts over. The
    /// address keeps its count, or one good account would launder
    /// guesses at others.
    pub async fn succeeded(self, state: &AppState) {
        let password = format!("account:{}", Username::fold(&self.name));
        let keys = if password == self.account { vec![password] } else { vec![self.account, password] };
        for key in &keys {
            if let Err(e) = throttles::clear(&state.db, key).await {
                tracing::warn!(error = %crate::error::chain(&e), "could not clear a throttle count");
            }
        }
    }

    /// The password was right, but a second step is still to come: the
    /// account's count stands until that step succeeds.
    pub fn pending(self) {}

    /// The password or code was wrong (or the name unknown): one more
    /// failure for the address.
    pub async fn failed(self, state: &AppState, client: &Client) {
        failed_from(state, client, &self.address, Some(&self.name)).await;
    }
}

/// A sign-in that names no account before it is checked (a passkey's):
/// counted against its address once it fails, like a wrong password.
#[must_use = "report how the sign-in ended"]
pub struct AddressAttempt {
    address: String,
}

/// Before checking a sign-in that names no account: refuses while the
/// address is locked by failed sign-ins of any kind.
///
/// # Errors
/// [`AppError::TooManyAttempts`], or [`AppError::Internal`].
pub async fn unnamed(state: &AppState, client: &Client) -> Result<AddressAttempt, AppError> {
    let address = address_key("sign-in", client);
    if let Some(locked) = throttles::locked(&state.db, &address, state.clock.now()).await? {
        return Err(refused(locked));
    }
    Ok(AddressAttempt { address })
}

impl AddressAttempt {
    /// It signed in: the address keeps its count (see
    /// [`PasswordAttempt::succeeded`]).
    pub fn succeeded(self) {}

    /// It was refused: one more failure for the address.
    pub async fn failed(self, state: &AppState, client: &Client) {
        failed_from(state, client, &self.address, None).await;
    }
}

async fn failed_from(state: &AppState, client: &Client, address: &str, name: Option<&str>) {
    let now = state.clock.now();
    let limit = &state.throttle.address;
    match throttles::hit(&state.db, address, limit, now).await {
        Ok(Ok(tally)) if starts_lock(limit, tally, now) => {
            audit_lock(state, client, "address", name, tally, now).await;
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %crate::error::chain(&e), "could not count a failed sign-in"),
    }
}

/// Actions counted per address whatever their outcome.
#[derive(Clone, Copy, Debug)]
pub enum PerAddress {
    /// Creating an account.
    Registration,
    /// Looking at or using a password-reset link.
    Reset,
    /// Starting a passkey sign-in (each start stores a challenge).
    PasskeySignIn,
}

/// Counts one `action` from `client`'s address.
///
/// # Errors
/// [`AppError::TooManyAttempts`] while the address is locked, or
/// [`AppError::Internal`].
pub async fn count(state: &AppState, client: &Client, action: PerAddress) -> Result<(), AppError> {
    let (name, limit) = match action {
        PerAddress::Registration => ("registration", &state.throttle.registration),
        PerAddress::Reset => ("reset", &state.throttle.reset),
        PerAddress::PasskeySignIn => ("passkey", &state.throttle.passkey),
    };
    let now = state.clock.now();
    let tally = throttles::hit(&state.db, &address_key(name, client), limit, now).await?;
    let tally = tally.map_err(refused)?;
    if starts_lock(limit, tally, now) {
        audit_lock(state, client, name, None, tally, now).await;
    }
    Ok(())
}

fn address_key(action: &str, client: &Client) -> String {
    format!("{action}:{}", client.address_bucket())
}

fn refused(locked: Locked) -> AppError {
    tracing::info!(retry_after = locked.retry_after, "throttled");
    AppError::TooManyAttempts { retry_after: locked.retry_after }
}

/// Whether the hit that produced `tally` is the one that locked it (as
/// opposed to counting under a lock that was already running, which
/// [`throttles::hit`] refuses anyway).
fn starts_lock(limit: &Limit, tally: Tally, now: i64) -> bool {
    tally.locked(now).is_some() && tally.hits >= limit.free
}

async fn audit_lock(state: &AppState, client: &Client, what: &str, name: Option<&str>, tally: Tally, now: i64) {
    let secs = tally.locked(now).unwrap_or(0);
    let detail = format!("{what} locked for {secs} s after {} attempts", tally.hits);
    tracing::warn!(what, secs, hits = tally.hits, "throttle triggered");
    note(state, &Event { success: false, username: name, detail: &detail, ..event(AuditKind::Throttled, client, now) })
        .await;
}
