//! Passkeys: adding one to an account, listing and removing them, signing
//! in with one (no username: the passkey says whose it is), and confirming
//! who one is with one.
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
    CreationChallengeResponse, DiscoverableAuthentication, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, RequestChallengeResponse, Uuid, WebauthnError,
};
use webauthn_rs_proto::ResidentKeyRequirement;

use super::SessionTokens;
use super::audit::{event, note};
use super::second_factor::{may_change_factors, proved};
use super::sign_in::start_session;
use crate::auth::caller::{Client, CurrentUser};
use crate::auth::opaque::CeremonyHandle;
use crate::auth::token::Issued;
use crate::db::audit::Event;
use crate::db::passkeys::{self, PasskeyRecord, Purpose};
use crate::db::{factors, users};
use crate::domain::{AuditKind, AuthMethod, Rule, UserId};
use crate::error::AppError;
use crate::state::AppState;

/// Seconds a ceremony may take, from options to answer.
pub const CEREMONY_TTL: i64 = 5 * 60;
/// The most passkeys one account keeps.
pub const MAX_PASSKEYS: i64 = 20;
/// The longest name a passkey is given, in characters.
pub const MAX_NAME: usize = 64;

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

const GONE: &str = "This passkey request took too long or was already used. Try again.";
const NOT_VERIFIED: &str = "The passkey's answer could not be verified. Try again, or use another way in.";
const UNKNOWN: &str = "This passkey is not registered here. Sign in another way, then add it on your account page.";

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
        return Err(AppError::Conflict(format!(
            "This account has {MAX_PASSKEYS} passkeys, the most it may have. Remove one to add another."
        )));
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
/// the ceremony `handle`. The session has now shown a passkey: the new
/// access token says so.
///
/// # Errors
/// [`AppError::Invalid`] for a name or an answer that is refused,
/// [`AppError::Conflict`] for a passkey registered already.
pub async fn finish_adding(
    state: &AppState,
    user: &CurrentUser,
    handle: &str,
    name: &str,
    answer: &RegisterPublicKeyCredential,
    client: &Client,
) -> Result<Issued, AppError> {
    let now = state.clock.now();
    user.may(Rule::SETUP, now, &state.accounts)?;
    let name = passkey_name(name)?;
    let rp = relying_party(state)?;
    let registration: PasskeyRegistration = take(state, handle, Purpose::Register, Some(&user.id)).await?;
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
    if !passkeys::insert(&state.db, &record, &added).await? {
        return Err(AppError::Conflict("This passkey is registered already.".into()));
    }
    tracing::info!(user_id = %user.id, "passkey added");
    proved(state, user, method_of(&passkey), now, false).await
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
    let mine = passkeys::of_user(&state.db, &user.id).await?;
    let Some(passkey) = mine.iter().find(|p| p.id == id) else {
        return Err(AppError::NotFound("No such passkey on this account.".into()));
    };
    let app_on = factors::totp(&state.db, &user.id).await?.is_some_and(|r| r.confirmed_at.is_some());
    if mine.len() == 1 && !app_on && state.accounts.second_factor.requires(user.role) {
        return Err(AppError::Conflict(
            "This is your last second factor, and this server requires one: add another passkey or an \
             authenticator app first."
                .into(),
        ));
    }
    let me = Some(user.id.as_str());
    let detail = format!("passkey \"{}\"", passkey.name);
    let removed =
        Event { actor_id: me, subject_id: me, detail: &detail, ..event(AuditKind::FactorRemoved, client, now) };
    if !passkeys::remove(&state.db, &user.id, id, &removed).await? {
        return Err(AppError::NotFound("No such passkey on this account.".into()));
    }
    tracing::info!(user_id = %user.id, "passkey removed");
    Ok(())
}

/// Starts a sign-in with a passkey: no account yet, the passkey will say.
///
/// # Errors
/// [`AppError::Conflict`] when passkeys are off.
pub async fn begin_sign_in(state: &AppState) -> Result<Ceremony<RequestChallengeResponse>, AppError> {
    let rp = relying_party(state)?;
    let (options, authentication) = rp.start_discoverable_authentication().map_err(|e| verifier_failed(&e))?;
    let handle = start(state, Purpose::SignIn, None, &authentication).await?;
    Ok(Ceremony { handle, options })
}

/// Finishes a sign-in with the browser's `answer` to ceremony `handle`:
/// a session exactly like a password's, signed in by the passkey.
///
/// A passkey that is not registered, that is used for another account
/// than its own, whose signature counter went backwards, or whose answer
/// fails verification is refused and audited.
///
/// # Errors
/// [`AppError::Unauthorized`] for a refused passkey or a ceremony that is
/// gone.
pub async fn finish_sign_in(
    state: &AppState,
    handle: &str,
    answer: &PublicKeyCredential,
    client: &Client,
) -> Result<SessionTokens, AppError> {
    let rp = relying_party(state)?;
    let authentication: DiscoverableAuthentication = take(state, handle, Purpose::SignIn, None).await?;
    let refuse = |subject, detail, message| refuse_sign_in(state, client, subject, detail, message);
    let (handle_user, credential_id) = match rp.identify_discoverable_authentication(answer) {
        Ok(found) => found,
        Err(_) => return Err(refuse(None, "passkey: no account named", NOT_VERIFIED).await),
    };
    let Some(record) = passkeys::find(&state.db, &URL_SAFE_NO_PAD.encode(credential_id)).await? else {
        return Err(refuse(None, "passkey: not registered", UNKNOWN).await);
    };
    // The signature first: only a verified answer is held against the
    // passkey's account (a credential ID is no secret).
    let owner = Some(record.user_id.as_str());
    let mut passkey = stored(&record)?;
    let result = match rp.finish_discoverable_authentication_v2(answer, authentication, &passkey) {
        Ok(result) => result,
        Err(WebauthnError::CredentialPossibleCompromise) => {
            return Err(refuse(owner, "passkey: signature counter went backwards (a copied key?)", NOT_VERIFIED).await);
        }
        Err(_) => return Err(refuse(None, "passkey: answer failed verification", NOT_VERIFIED).await),
    };
    if user_handle(&record.user_id)? != handle_user {
        return Err(refuse(owner, "passkey: presented for another account", NOT_VERIFIED).await);
    }
    let Some(user) = users::find_by_id(&state.db, &record.user_id).await?.filter(|u| !u.disabled) else {
        return Err(refuse(owner, "passkey: account disabled", "This account is not available.").await);
    };
    if !record_use(state, &record, &mut passkey, &result).await? {
        return Err(refuse(owner, "passkey: answer already used", NOT_VERIFIED).await);
    }
    let method = method_of_use(&result);
    let tokens = start_session(state, user, vec![method], client, "passkey").await?;
    tracing::info!(user_id = %tokens.owner.user_id, session_id = %tokens.owner.session_id, "signed in with a passkey");
    Ok(tokens)
}

/// Starts confirming who `user` is with one of their passkeys.
///
/// # Errors
/// [`AppError::Conflict`] when passkeys are off or the account has none.
pub async fn begin_confirming(
    state: &AppState,
    user: &CurrentUser,
) -> Result<Ceremony<RequestChallengeResponse>, AppError> {
    user.may(Rule::CONFIRM, state.clock.now(), &state.accounts)?;
    let rp = relying_party(state)?;
    let mine = passkeys::of_user(&state.db, &user.id).await?;
    if mine.is_empty() {
        return Err(AppError::Conflict("This account has no passkey. Confirm another way.".into()));
    }
    let keys = mine.iter().map(stored).collect::<Result<Vec<_>, _>>()?;
    let (options, authentication) = rp.start_passkey_authentication(&keys).map_err(|e| verifier_failed(&e))?;
    let handle = start(state, Purpose::Confirm, Some(&user.id), &authentication).await?;
    Ok(Ceremony { handle, options })
}

/// Finishes confirming who `user` is with the browser's `answer`: the
/// session counts as freshly signed in, and has shown a passkey.
///
/// # Errors
/// [`AppError::Invalid`] for a refused answer, [`AppError::Unauthorized`]
/// for a ceremony that is gone.
pub async fn finish_confirming(
    state: &AppState,
    user: &CurrentUser,
    handle: &str,
    answer: &PublicKeyCredential,
    client: &Client,
) -> Result<Issued, AppError> {
    user.may(Rule::CONFIRM, state.clock.now(), &state.accounts)?;
    let rp = relying_party(state)?;
    let authentication: PasskeyAuthentication = take(state, handle, Purpose::Confirm, Some(&user.id)).await?;
    let now = state.clock.now();
    let me = Some(user.id.as_str());
    let attempt =
        Event { actor_id: me, subject_id: me, detail: "passkey", ..event(AuditKind::Reauthenticate, client, now) };
    let refused = |detail: &'static str| async move {
        note(state, &Event { success: false, detail, ..attempt }).await;
        AppError::invalid("passkey", NOT_VERIFIED)
    };
    let id = URL_SAFE_NO_PAD.encode(answer.get_credential_id());
    let Some(record) = passkeys::find(&state.db, &id).await?.filter(|r| r.user_id == user.id) else {
        return Err(refused("passkey: not one of this account's").await);
    };
    let mut passkey = stored(&record)?;
    let result = match rp.finish_passkey_authentication(answer, &authentication) {
        Ok(result) => result,
        Err(WebauthnError::CredentialPossibleCompromise) => {
            return Err(refused("passkey: signature counter went backwards (a copied key?)").await);
        }
        Err(_) => return Err(refused("passkey: answer failed verification").await),
    };
    if !record_use(state, &record, &mut passkey, &result).await? {
        return Err(refused("passkey: answer already used").await);
    }
    note(state, &attempt).await;
    proved(state, user, method_of_use(&result), now, true).await
}

/// Records a refused passkey sign-in and says so.
async fn refuse_sign_in(
    state: &AppState,
    client: &Client,
    subject_id: Option<&str>,
    detail: &'static str,
    message: &'static str,
) -> AppError {
    let refused = Event { success: false, subject_id, detail, ..event(AuditKind::SignIn, client, state.clock.now()) };
    note(state, &refused).await;
    tracing::info!(detail, "passkey sign-in refused");
    AppError::Unauthorized(message.into())
}

/// Stores a ceremony's `state` under a new handle.
async fn start(
    state: &AppState,
    purpose: Purpose,
    user_id: Option<&UserId>,
    ceremony: &impl serde::Serialize,
) -> Result<CeremonyHandle, AppError> {
    let handle = CeremonyHandle::generate().map_err(|e| AppError::internal(&e))?;
    let stored = serde_json::to_string(ceremony).map_err(|e| AppError::internal(&e))?;
    let now = state.clock.now();
    passkeys::start_ceremony(&state.db, &handle.hash(), purpose, user_id, &stored, now, now + CEREMONY_TTL).await?;
    Ok(handle)
}

/// Takes the ceremony `handle` names back, once.
async fn take<T: serde::de::DeserializeOwned>(
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

/// Records a verified use: the counter moves forward (or stays at zero,
/// for passkeys that keep none), once.
async fn record_use(
    state: &AppState,
    record: &PasskeyRecord,
    passkey: &mut Passkey,
    result: &webauthn_rs::prelude::AuthenticationResult,
) -> Result<bool, AppError> {
    let now = state.clock.now();
    passkey.update_credential(result);
    let credential = serde_json::to_string(passkey).map_err(|e| AppError::internal(&e))?;
    let counter = i64::from(result.counter());
    Ok(passkeys::used(&state.db, &record.id, record.counter, counter, &credential, now).await?)
}

fn relying_party(state: &AppState) -> Result<&Webauthn, AppError> {
    state.passkeys.as_deref().ok_or_else(|| {
        AppError::Conflict(
            "Passkeys are off on this server: its public address names no domain. Open it at \
             http://localhost:<port>, or ask its operator to set GATEHOUSE_PUBLIC_ORIGIN."
                .into(),
        )
    })
}

/// The WebAuthn user handle of an account: its id, which is a UUID.
fn user_handle(user_id: &UserId) -> Result<Uuid, AppError> {
    Uuid::parse_str(user_id.as_str()).map_err(|_| {
        tracing::error!(user_id = %user_id, "an account id is not a UUID");
        AppError::unexpected()
    })
}

fn stored(record: &PasskeyRecord) -> Result<Passkey, AppError> {
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

fn method_of_use(result: &webauthn_rs::prelude::AuthenticationResult) -> AuthMethod {
    if result.backup_eligible() { AuthMethod::SoftwareKey } else { AuthMethod::HardwareKey }
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

fn verifier_failed(e: &WebauthnError) -> AppError {
    tracing::error!(error = %e, "the passkey verifier failed");
    AppError::unexpected()
}
