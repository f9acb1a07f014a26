//! Second factors: an authenticator app (TOTP) and its recovery codes.
//! Turning the app on, a new set of codes, turning it off; and checking a
//! code typed after the password or to confirm who one is.
//!
//! The app's secret is sealed under the master key, bound to the
//! account, and leaves the server only while the factor is pending (to be
//! scanned). Every change needs a recent sign-in, and once the app is on,
//! a session that has shown it.

use super::audit::event;
use super::issue;
use crate::auth::caller::{Client, CurrentUser, SessionOwner};
use crate::auth::clock::UnixTime;
use crate::auth::recovery::RecoveryCode;
use crate::auth::token::Issued;
use crate::auth::totp::{self, CodeCheck, TotpSecret};
use crate::db::audit::Event;
use crate::db::factors::{self, Proof, Removed};
use crate::db::passkeys;
use crate::db::sessions;
use crate::domain::{AuditKind, AuthMethod, Rule, UserId};
use crate::error::AppError;
use crate::keystore::SecretError;
use crate::state::AppState;

/// The name authenticator apps show beside the account.
pub const ISSUER: &str = "Gatehouse";

/// What a pending authenticator app needs to be added to an app.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSetup {
    /// Base32, to type in by hand.
    pub secret: String,
    /// What the QR code holds.
    pub otpauth_uri: String,
}

impl std::fmt::Debug for TotpSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSetup(..)")
    }
}

/// Where an account's authenticator app stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TotpStatus {
    Off,
    /// Added, waiting for its first correct code.
    Pending(TotpSetup),
    On {
        since: UnixTime,
        recovery_codes_left: i64,
    },
}

/// Where `user`'s authenticator app stands.
///
/// # Errors
/// [`AppError::Unavailable`] or [`AppError::Internal`].
pub async fn totp_status(state: &AppState, user: &CurrentUser) -> Result<TotpStatus, AppError> {
    let Some(record) = factors::totp(&state.db, &user.id).await? else { return Ok(TotpStatus::Off) };
    Ok(match record.confirmed_at {
        Some(since) => {
            TotpStatus::On { since, recovery_codes_left: factors::recovery_codes_left(&state.db, &user.id).await? }
        }
        None => TotpStatus::Pending(setup(&open(state, &user.id, &record.sealed_secret)?, &user.username)),
    })
}

/// Adds a pending authenticator app to `user`'s account (replacing a
/// pending one): it counts only once [`confirm_totp`] sees a code from it.
///
/// # Errors
/// [`AppError::ReauthRequired`], [`AppError::Conflict`] when one is on
/// already, [`AppError::Unavailable`] without a master key.
pub async fn begin_totp(state: &AppState, user: &CurrentUser) -> Result<TotpSetup, AppError> {
    let now = state.clock.now();
    user.may(Rule::SETUP, now, &state.accounts)?;
    may_change_factors(state, user).await?;
    let secret = TotpSecret::generate().map_err(|e| AppError::internal(&e))?;
    let sealed = state.keys.seal(secret.as_bytes(), &context(&user.id)).map_err(secret_error)?;
    if !factors::begin_totp(&state.db, &user.id, &sealed, now).await? {
        return Err(AppError::Conflict(
            "An authenticator app is already on for this account. Turn it off first to add another.".into(),
        ));
    }
    tracing::info!(user_id = %user.id, "authenticator app pending");
    Ok(setup(&secret, &user.username))
}

/// Turns the pending authenticator app on with its first `code`, and
/// makes the first set of recovery codes (shown once: only their hashes
/// are kept). This session has now shown a second factor: the new access
/// token says so.
///
/// # Errors
/// [`AppError::Invalid`] for a wrong code, [`AppError::Conflict`] when
/// none is pending, [`AppError::ReauthRequired`].
pub async fn confirm_totp(
    state: &AppState,
    user: &CurrentUser,
    code: &str,
    client: &Client,
) -> Result<(Vec<RecoveryCode>, Issued), AppError> {
    let now = state.clock.now();
    user.may(Rule::SETUP, now, &state.accounts)?;
    let pending = factors::totp(&state.db, &user.id).await?.filter(|r| r.confirmed_at.is_none());
    let Some(pending) = pending else {
        return Err(AppError::Conflict("There is no authenticator app waiting to be confirmed. Start again.".into()));
    };
    let secret = open(state, &user.id, &pending.sealed_secret)?;
    let step = match totp::check(&secret, code, now, None) {
        CodeCheck::Accepted { step } => step,
        CodeCheck::Malformed => return Err(AppError::invalid("code", MALFORMED_TOTP)),
        CodeCheck::Wrong | CodeCheck::Replayed => {
            return Err(AppError::invalid(
                "code",
                "That code is not correct. Check the app shows Gatehouse and that this device's clock is right.",
            ));
        }
    };
    let codes = RecoveryCode::generate_set().map_err(|e| AppError::internal(&e))?;
    let hashes: Vec<String> = codes.iter().map(RecoveryCode::hash).collect();
    let mine = Some(user.id.as_str());
    let event = Event {
        actor_id: mine,
        subject_id: mine,
        detail: "authenticator app",
        ..event(AuditKind::FactorAdded, client, now)
    };
    if !factors::confirm_totp(&state.db, &user.id, &pending.sealed_secret, step, &hashes, &event).await? {
        return Err(AppError::Conflict("That authenticator app was changed meanwhile. Start again.".into()));
    }
    tracing::info!(user_id = %user.id, "authenticator app on");
    let access = proved_second_factor(state, user, now, false).await?;
    Ok((codes, access))
}

/// Turns `user`'s authenticator app off, with its recovery codes (or
/// drops a pending one).
///
/// # Errors
/// [`AppError::ReauthRequired`], [`AppError::Conflict`] when it is off or
/// the policy requires the account to keep it.
pub async fn disable_totp(state: &AppState, user: &CurrentUser, client: &Client) -> Result<(), AppError> {
    let now = state.clock.now();
    user.may(Rule::SETUP, now, &state.accounts)?;
    may_change_factors(state, user).await?;
    let mine = Some(user.id.as_str());
    let event = Event {
        actor_id: mine,
        subject_id: mine,
        detail: "authenticator app and recovery codes",
        ..event(AuditKind::FactorRemoved, client, now)
    };
    let keep_one = state.accounts.second_factor.requires(user.role);
    match factors::remove_totp(&state.db, &user.id, keep_one, &event).await? {
        Removed::Done => {}
        Removed::NotFound => return Err(AppError::Conflict("No authenticator app is on for this account.".into())),
        Removed::Last => {
            return Err(AppError::Conflict(
                "Your account must keep two-step sign-in: this server requires it. To move it to a new phone, \
                 add a passkey first, or ask an administrator to reset it."
                    .into(),
            ));
        }
    }
    tracing::info!(user_id = %user.id, "authenticator app off");
    Ok(())
}

/// Replaces `user`'s recovery codes by a new set; the old ones stop
/// working at once.
///
/// # Errors
/// [`AppError::ReauthRequired`], [`AppError::Conflict`] without an
/// authenticator app.
pub async fn renew_recovery_codes(
    state: &AppState,
    user: &CurrentUser,
    client: &Client,
) -> Result<Vec<RecoveryCode>, AppError> {
    let now = state.clock.now();
    user.may(Rule::SETUP, now, &state.accounts)?;
    if !has_second_factor(state, &user.id).await? {
        return Err(no_app_for_codes());
    }
    may_change_factors(state, user).await?;
    let codes = RecoveryCode::generate_set().map_err(|e| AppError::internal(&e))?;
    let hashes: Vec<String> = codes.iter().map(RecoveryCode::hash).collect();
    let mine = Some(user.id.as_str());
    let event = Event { actor_id: mine, subject_id: mine, ..event(AuditKind::RecoveryCodesRenewed, client, now) };
    if !factors::replace_recovery_codes(&state.db, &user.id, &hashes, &event).await? {
        return Err(no_app_for_codes());
    }
    Ok(codes)
}

fn no_app_for_codes() -> AppError {
    AppError::Conflict("Recovery codes come with an authenticator app; turn one on first.".into())
}

/// Once two-step sign-in is on (an authenticator app), factors are
/// changed only by a session that has shown a second factor: a session
/// signed in by password before the app was added (or stolen then) must
/// confirm with a code or a passkey first, or it could make itself codes.
/// A password re-authentication does not count (see
/// [`super::sign_in::reauthenticate`]). Without the app a password is a
/// whole sign-in, so it may manage passkeys (a lost one among them) —
/// unless the policy requires a second factor of this person: then a
/// password session of an account that has a passkey must show it, or a
/// stolen password could enrol its own factor and meet the policy.
///
/// # Errors
/// [`AppError::ReauthRequired`].
pub(super) async fn may_change_factors(state: &AppState, user: &CurrentUser) -> Result<(), AppError> {
    if user.methods.iter().any(|m| m.is_second_factor()) {
        return Ok(());
    }
    let guarded = has_second_factor(state, &user.id).await?
        || (state.accounts.second_factor.requires(user.role) && passkeys::count(&state.db, &user.id).await? > 0);
    if guarded { Err(AppError::ReauthRequired) } else { Ok(()) }
}

/// What the person is asked for when a code has the wrong shape.
pub const MALFORMED_TOTP: &str = "Type the 6-digit code your authenticator app shows.";
/// The same, where a recovery code would do as well.
pub const MALFORMED_CODE: &str =
    "Type the 6-digit code your authenticator app shows, or one of your recovery codes (like abcd-efgh-ijkl-mnop).";

/// A code as typed, recognised by its shape.
pub(super) enum Typed {
    Totp(String),
    Recovery(RecoveryCode),
}

impl Typed {
    /// # Errors
    /// [`AppError::Invalid`] naming `code` when it has neither shape.
    pub(super) fn recognise(code: &str) -> Result<Self, AppError> {
        let digits = code.chars().filter(|c| !c.is_whitespace()).count();
        if digits == totp::DIGITS as usize && code.chars().all(|c| c.is_ascii_digit() || c.is_whitespace()) {
            return Ok(Self::Totp(code.to_owned()));
        }
        RecoveryCode::parse(code).map(Self::Recovery).ok_or_else(|| AppError::invalid("code", MALFORMED_CODE))
    }

    /// How the audit log names it.
    pub(super) fn name(&self) -> &'static str {
        match self {
            Self::Totp(_) => "authenticator app",
            Self::Recovery(_) => "recovery code",
        }
    }
}

/// A code that checked out, ready to be spent.
pub(super) enum Proven {
    Totp { step: i64 },
    Recovery { hash: String },
}

impl Proven {
    pub(super) fn proof(&self) -> Proof<'_> {
        match self {
            Self::Totp { step } => Proof::Totp { step: *step },
            Self::Recovery { hash } => Proof::Recovery { hash },
        }
    }

    /// Why spending it failed: someone spent it a moment ago.
    pub(super) fn spent(&self) -> &'static str {
        match self {
            Self::Totp { .. } => REPLAYED,
            Self::Recovery { .. } => UNKNOWN_RECOVERY,
        }
    }
}

const REPLAYED: &str = "That code was already used. Wait for the next one your app shows.";
const WRONG_TOTP: &str = "That code is not correct. Check that your device's clock is right.";
const UNKNOWN_RECOVERY: &str = "That recovery code is not one of yours, or it was already used.";

/// Checks `typed` against `user_id`'s authenticator app at `now`. A
/// recovery code is only known good once spent (it is stored hashed).
///
/// # Errors
/// `Ok(Err(reason))` for a refused code; `Err` for a failure.
pub(super) async fn check_code(
    state: &AppState,
    user_id: &UserId,
    typed: &Typed,
    now: UnixTime,
) -> Result<Result<Proven, &'static str>, AppError> {
    let code = match typed {
        Typed::Recovery(code) => return Ok(Ok(Proven::Recovery { hash: code.hash() })),
        Typed::Totp(code) => code,
    };
    let Some(record) = factors::totp(&state.db, user_id).await?.filter(|r| r.confirmed_at.is_some()) else {
        return Ok(Err(WRONG_TOTP));
    };
    let secret = open(state, user_id, &record.sealed_secret)?;
    Ok(match totp::check(&secret, code, now, record.last_step) {
        CodeCheck::Accepted { step } => Ok(Proven::Totp { step }),
        CodeCheck::Replayed => Err(REPLAYED),
        CodeCheck::Wrong | CodeCheck::Malformed => Err(WRONG_TOTP),
    })
}

/// Whether `user_id` has a second factor that a password sign-in must be
/// followed by.
///
/// # Errors
/// Database failures.
pub(super) async fn has_second_factor(state: &AppState, user_id: &UserId) -> Result<bool, AppError> {
    Ok(factors::totp(&state.db, user_id).await?.is_some_and(|r| r.confirmed_at.is_some()))
}

/// `user`'s session has just seen a second factor (and, when `confirmed`,
/// counts as freshly signed in): it is stored with the one-time code among
/// its methods, and a new access token says so.
pub(super) async fn proved_second_factor(
    state: &AppState,
    user: &CurrentUser,
    now: UnixTime,
    confirmed: bool,
) -> Result<Issued, AppError> {
    proved(state, user, AuthMethod::OneTimeCode, now, confirmed).await
}

/// `user`'s session has just shown `method` (and, when `confirmed`, counts
/// as freshly signed in): it is stored among the session's methods, and a
/// new access token says so.
pub(super) async fn proved(
    state: &AppState,
    user: &CurrentUser,
    method: AuthMethod,
    now: UnixTime,
    confirmed: bool,
) -> Result<Issued, AppError> {
    let mut methods = user.methods.clone();
    if !methods.contains(&method) {
        methods.push(method);
    }
    let authenticated_at = if confirmed { now } else { user.authenticated_at };
    if !sessions::reauthenticate(&state.db, &user.session_id, &methods, authenticated_at).await? {
        return Err(AppError::Unauthorized("Session has ended; sign in again".into()));
    }
    issue(state, &SessionOwner { authenticated_at, methods, ..user.owner() })
}

fn setup(secret: &TotpSecret, username: &str) -> TotpSetup {
    TotpSetup { secret: secret.base32(), otpauth_uri: secret.otpauth_uri(ISSUER, username) }
}

/// What a sealed TOTP secret is bound to: its account.
fn context(user_id: &UserId) -> String {
    format!("gatehouse totp {user_id}")
}

fn open(state: &AppState, user_id: &UserId, sealed: &str) -> Result<TotpSecret, AppError> {
    let bytes = state.keys.open(sealed, &context(user_id)).map_err(secret_error)?;
    TotpSecret::from_bytes(&bytes).ok_or_else(|| {
        tracing::error!(user_id = %user_id, "a stored authenticator secret has the wrong length");
        AppError::unexpected()
    })
}

fn secret_error(e: SecretError) -> AppError {
    match e {
        SecretError::NoMasterKey => AppError::Conflict(
            "Second factors are not available on this server: its operator has not set GATEHOUSE_MASTER_KEY.".into(),
        ),
        other => {
            tracing::error!(error = %crate::error::chain(&other), "could not seal or open a second factor's secret");
            AppError::unexpected()
        }
    }
}
