//! Passkeys: adding one to an account, listing and removing them, and the
//! ceremonies' storage. Signing in and confirming who one is with one are
//! in `passkey_use`.
//!
//! Each ceremony has two halves. The first stores the verifier's state
//! (its challenge) under the hash of a short-lived, single-use handle and
//! answers the options for the browser; the second takes that state back
//! by deleting it, so a challenge is answered at most once, within
//! [`CEREMONY_TTL`], on any instance. A passkey counts as two factors: it
//! is something the person has, unlocked by a PIN or a biometric (user
//! verification is required throughout).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use webauthn_rs::Webauthn;
use webauthn_rs::prelude::{
    CreationChallengeResponse, Passkey, PasskeyRegistration, RegisterPublicKeyCredential, Uuid, WebauthnError,
};
use webauthn_rs_proto::ResidentKeyRequirement;

use super::audit::event;
use super::second_factor::{may_change_factors, proved};
use crate::auth::caller::{Client, CurrentUser};
use crate::auth::opaque::CeremonyHandle;
use crate::auth::token::Issued;
use crate::db::audit::Event;
use crate::db::passkeys::{self, NotAdded, PasskeyRecord, Purpose, Removed};
use crate::domain::{AuditKind, AuthMethod, Rule, UserId};
use crate::error::AppError;
use crate::state::AppState;

/// Seconds a ceremony may take, from options to answer.
pub const CEREMONY_TTL: i64 = 5 * 60;
/// The most passkeys one account keeps.
pub const MAX_PASSKEYS: i64 = 20;
/// The longest name a passkey is given, in characters.
pub const MAX_NAME: usize = 64;
/// The most passkey sign-ins under way at once, from everyone: each holds
/// a stored challenge for [`CEREMONY_TTL`], so the table stays bounded
/// whatever strangers do (one address is held far lower by its throttle).
pub const MAX_LIVE_SIGN_INS: i64 = 10_000;

/// The first half of a ceremony: what the browser is asked, and the
/// handle that brings its answer back to the stored challenge.
#[derive(Debug)]
pub struct Ceremony<T> {
    pub handle: CeremonyHandle,
    pub options: T,
}

/// A passkey as its owner sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasskeySummary {
    /// The credential ID, base64url: what removing it names.
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

pub(super) const BACKWARDS: &str = "passkey: signature counter went backwards (a copied key?)";
pub(super) const GONE: &str = "This passkey request took too long or was already used. Try again.";
pub(super) const NOT_VERIFIED: &str = "The passkey's answer could not be verified. Try again, or use another way in.";
pub(super) const UNKNOWN: &str =
    "This passkey is not registered here. Sign in another way, then add it on your account page.";
const NOT_DISCOVERABLE: &str = "This passkey cannot say whose it is, so it could not sign you in without a username. \
     Choose a passkey kept on this device, your phone or a password manager.";

/// The passkeys of `user`.
///
/// # Errors
/// Database failures.
pub async fn list_passkeys(state: &AppState, user: &CurrentUser) -> Result<Vec<PasskeySummary>, AppError> {
    Ok(passkeys::of_user(&state.db, &user.id)
        .await?
        .into_iter()
        .map(|p| PasskeySummary { id: p.id, name: p.name, created_at: p.created_at, last_used_at: p.last_used_at })
        .collect())
}

/// Whether passkeys work on this server.
pub fn passkeys_on(state: &AppState) -> bool {
    state.passkeys.is_some()
}

/// Starts adding a passkey to `user`'s account (a recent sign-in, and, if
/// the account has a second factor, a session that has shown one).
///
/// # Errors
/// [`AppError::ReauthRequired`]; [`AppError::Conflict`] when passkeys are
/// off or the account has [`MAX_PASSKEYS`].
pub async fn begin_adding(
    state: &AppState,
    user: &CurrentUser,
) -> Result<Ceremony<CreationChallengeResponse>, AppError> {
    let now = state.clock.now();
    user.may(Rule::SETUP, now, &state.accounts)?;
    may_change_factors(state, user).await?;
    let rp = relying_party(state)?;
    let existing = passkeys::of_user(&state.db, &user.id).await?;
    if existing.len() >= MAX_PASSKEYS as usize {
        return Err(full());
    }
    let exclude = existing.iter().filter_map(|p| URL_SAFE_NO_PAD.decode(&p.id).ok()).collect();
    let (mut options, registration) = rp
        .start_passkey_registration(
            user_handle(&user.id)?,
            user.username.as_str(),
            user.username.as_str(),
            Some(exclude),
        )
        .map_err(|e| verifier_failed(&e))?;
    // Discoverable: the passkey itself says whose it is, so signing in
    // needs no username (and autofill can offer it).
    if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
        selection.resident_key = Some(ResidentKeyRequirement::Required);
        selection.require_resident_key = true;
    }
    let handle = start(state, Purpose::Register, Some(&user.id), &registration).await?;
    Ok(Ceremony { handle, options })
}

/// Finishes adding a passkey named `name` with the browser's `answer` to
/// the ceremony `handle`: the passkey added, and a new access token that
/// says the session has now shown one.
///
/// # Errors
/// [`AppError::Invalid`] for a name or an answer that is refused (among
/// them a credential the browser says is not discoverable),
/// [`AppError::Conflict`] for a passkey registered already or an account
/// that has [`MAX_PASSKEYS`].
pub async fn finish_adding(
    state: &AppState,
    user: &CurrentUser,
    handle: &str,
    name: &str,
    answer: &RegisterPublicKeyCredential,
    client: &Client,
) -> Result<(PasskeySummary, Issued), AppError> {
    let now = state.clock.now();
    user.may(Rule::SETUP, now, &state.accounts)?;
    let name = passkey_name(name)?;
    let rp = relying_party(state)?;
    let registration: PasskeyRegistration = take(state, handle, Purpose::Register, Some(&user.id)).await?;
    // Residency was required, but only the browser reports whether it was
    // granted (unsigned): a credential it says is not discoverable would
    // be added yet never sign in from the button or autofill.
    if answer.extensions.cred_props.as_ref().and_then(|p| p.rk) == Some(false) {
        tracing::info!(user_id = %user.id, "passkey refused: not discoverable");
        return Err(AppError::invalid("passkey", NOT_DISCOVERABLE));
    }
    let passkey = rp.finish_passkey_registration(answer, &registration).map_err(|e| refused_answer("register", &e))?;
    let record = PasskeyRecord {
        id: URL_SAFE_NO_PAD.encode(passkey.cred_id()),
        user_id: user.id.clone(),
        name: name.clone(),
        credential: serde_json::to_string(&passkey).map_err(|e| AppError::internal(&e))?,
        counter: stored_counter(&passkey),
        created_at: now,
        last_used_at: None,
    };
    let mine = Some(user.id.as_str());
    let detail = format!("passkey \"{name}\"");
    let added =
        Event { actor_id: mine, subject_id: mine, detail: &detail, ..event(AuditKind::FactorAdded, client, now) };
    match passkeys::insert(&state.db, &record, MAX_PASSKEYS, &added).await? {
        Ok(()) => {}
        Err(NotAdded::Registered) => return Err(AppError::Conflict("This passkey is registered already.".into())),
        Err(NotAdded::Full) => return Err(full()),
    }
    tracing::info!(user_id = %user.id, "passkey added");
    let access = proved(state, user, method_of(&passkey), now, false).await?;
    let summary = PasskeySummary { id: record.id, name, created_at: now, last_used_at: None };
    Ok((summary, access))
}

fn full() -> AppError {
    AppError::Conflict(format!(
        "This account has {MAX_PASSKEYS} passkeys, the most it may have. Remove one to add another."
    ))
}

/// Removes `user`'s passkey `id` (a recent sign-in; the last second factor
/// stays while the policy requires one).
///
/// # Errors
/// [`AppError::ReauthRequired`], [`AppError::NotFound`],
/// [`AppError::Conflict`] for the last factor the policy requires.
pub async fn remove_passkey(state: &AppState, user: &CurrentUser, id: &str, client: &Client) -> Result<(), AppError> {
    let now = state.clock.now();
    user.may(Rule::SETUP, now, &state.accounts)?;
    may_change_factors(state, user).await?;
    let not_found = || AppError::NotFound("No such passkey on this account.".into());
    let mine = passkeys::of_user(&state.db, &user.id).await?;
    let passkey = mine.iter().find(|p| p.id == id).ok_or_else(not_found)?;
    let me = Some(user.id.as_str());
    let detail = format!("passkey \"{}\"", passkey.name);
    let removed =
        Event { actor_id: me, subject_id: me, detail: &detail, ..event(AuditKind::FactorRemoved, client, now) };
    let keep_one = state.accounts.second_factor.requires(user.role);
    match passkeys::remove(&state.db, &user.id, id, keep_one, &removed).await? {
        Removed::Done => {}
        Removed::NotFound => return Err(not_found()),
        Removed::Last => {
            return Err(AppError::Conflict(
                "This is your last second factor, and this server requires one: add another passkey or an \
                 authenticator app first."
                    .into(),
            ));
        }
    }
    tracing::info!(user_id = %user.id, "passkey removed");
    Ok(())
}

/// Stores a ceremony's `state` under a new handle.
pub(super) async fn start(
    state: &AppState,
    purpose: Purpose,
    user_id: Option<&UserId>,
    ceremony: &impl serde::Serialize,
) -> Result<CeremonyHandle, AppError> {
    let handle = CeremonyHandle::generate().map_err(|e| AppError::internal(&e))?;
    let stored = serde_json::to_string(ceremony).map_err(|e| AppError::internal(&e))?;
    let now = state.clock.now();
    let lasts = (now, now + CEREMONY_TTL);
    if !passkeys::start_ceremony(&state.db, &handle.hash(), purpose, user_id, &stored, lasts, MAX_LIVE_SIGN_INS).await?
    {
        tracing::warn!(cap = MAX_LIVE_SIGN_INS, "passkey sign-ins refused: as many are under way as may be");
        return Err(AppError::Busy);
    }
    Ok(handle)
}

/// Takes the ceremony `handle` names back, once.
pub(super) async fn take<T: serde::de::DeserializeOwned>(
    state: &AppState,
    handle: &str,
    purpose: Purpose,
    user_id: Option<&UserId>,
) -> Result<T, AppError> {
    let gone = || AppError::Unauthorized(GONE.into());
    let handle = CeremonyHandle::parse(handle.trim()).ok_or_else(gone)?;
    let now = state.clock.now();
    let stored = passkeys::take_ceremony(&state.db, &handle.hash(), purpose, user_id, now).await?.ok_or_else(gone)?;
    serde_json::from_str(&stored).map_err(|e| {
        tracing::error!(error = %e, "a stored passkey ceremony does not read back");
        AppError::unexpected()
    })
}

pub(super) fn relying_party(state: &AppState) -> Result<&Webauthn, AppError> {
    state.passkeys.as_deref().ok_or_else(|| {
        AppError::Conflict(
            "Passkeys are off on this server: its public address names no domain. Open it at \
             http://localhost:<port>, or ask its operator to set GATEHOUSE_PUBLIC_ORIGIN."
                .into(),
        )
    })
}

/// The WebAuthn user handle of an account: its id, which is a UUID.
pub(super) fn user_handle(user_id: &UserId) -> Result<Uuid, AppError> {
    Uuid::parse_str(user_id.as_str()).map_err(|_| {
        tracing::error!(user_id = %user_id, "an account id is not a UUID");
        AppError::unexpected()
    })
}

pub(super) fn stored(record: &PasskeyRecord) -> Result<Passkey, AppError> {
    serde_json::from_str(&record.credential).map_err(|e| {
        tracing::error!(error = %e, "a stored passkey does not read back");
        AppError::unexpected()
    })
}

/// The signature counter inside the verifier's record.
fn stored_counter(passkey: &Passkey) -> i64 {
    serde_json::to_value(passkey).ok().and_then(|v| v["cred"]["counter"].as_i64()).unwrap_or(0)
}

/// A passkey that may sync between devices is a software-held key; one
/// bound to its device is a hardware-held key (RFC 8176 `swk`, `hwk`).
fn method_of(passkey: &Passkey) -> AuthMethod {
    let synced = serde_json::to_value(passkey).ok().and_then(|v| v["cred"]["backup_eligible"].as_bool());
    if synced.unwrap_or(true) { AuthMethod::SoftwareKey } else { AuthMethod::HardwareKey }
}

/// A name as typed: trimmed, 1 to [`MAX_NAME`] characters, no control
/// characters.
fn passkey_name(name: &str) -> Result<String, AppError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::invalid("name", "Give the passkey a name, like \"Laptop\" or \"Phone\"."));
    }
    if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "name",
            format!("A passkey's name is at most {MAX_NAME} characters, without line breaks."),
        ));
    }
    Ok(name.to_owned())
}

fn refused_answer(ceremony: &str, e: &WebauthnError) -> AppError {
    tracing::info!(ceremony, error = %e, "passkey answer refused");
    AppError::invalid("passkey", NOT_VERIFIED)
}

pub(super) fn verifier_failed(e: &WebauthnError) -> AppError {
    tracing::error!(error = %e, "the passkey verifier failed");
    AppError::unexpected()
}
