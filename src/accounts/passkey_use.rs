//! Using a passkey: signing in with one (no username: the passkey says
//! whose it is), and a signed-in person confirming who they are with one.
//! Every refusal is audited; a use is recorded once, with a counter past
//! the stored one.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use webauthn_rs::Webauthn;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyAuthentication, PublicKeyCredential, RequestChallengeResponse,
    WebauthnError,
};

use super::SessionTokens;
use super::attempts::{self, PerAddress};
use super::audit::{event, note};
use super::passkeys::{
    BACKWARDS, Ceremony, NOT_VERIFIED, UNKNOWN, relying_party, start, stored, take, user_handle, verifier_failed,
};
use super::second_factor::proved;
use super::sign_in::start_session;
use crate::auth::caller::{Client, CurrentUser};
use crate::auth::token::Issued;
use crate::db::audit::Event;
use crate::db::passkeys::{self, PasskeyRecord, Purpose};
use crate::db::users;
use crate::domain::{AuditKind, AuthMethod, Rule};
use crate::error::AppError;
use crate::state::AppState;

/// Starts a sign-in with a passkey: no account yet, the passkey will say.
/// Anyone may ask, so each address is throttled, and all of them together
/// hold at most [`super::MAX_LIVE_SIGN_INS`] challenges.
///
/// # Errors
/// [`AppError::Conflict`] when passkeys are off,
/// [`AppError::TooManyAttempts`] for an address that asked too often,
/// [`AppError::Busy`] while the sign-ins under way are at the cap.
pub async fn begin_sign_in(state: &AppState, client: &Client) -> Result<Ceremony<RequestChallengeResponse>, AppError> {
    let rp = relying_party(state)?;
    attempts::count(state, client, PerAddress::PasskeySignIn).await?;
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
/// gone (a refusal counts against the address like a wrong password),
/// [`AppError::TooManyAttempts`] while the address is locked.
pub async fn finish_sign_in(
    state: &AppState,
    handle: &str,
    answer: &PublicKeyCredential,
    client: &Client,
) -> Result<SessionTokens, AppError> {
    let rp = relying_party(state)?;
    let attempt = attempts::unnamed(state, client).await?;
    let authentication: DiscoverableAuthentication = take(state, handle, Purpose::SignIn, None).await?;
    let tokens = match signed_in(state, rp, authentication, answer, client).await {
        Ok(tokens) => tokens,
        Err(e) => {
            if matches!(e, AppError::Unauthorized(_)) {
                attempt.failed(state, client).await;
            }
            return Err(e);
        }
    };
    attempt.succeeded();
    tracing::info!(user_id = %tokens.owner.user_id, session_id = %tokens.owner.session_id, "signed in with a passkey");
    Ok(tokens)
}

/// The checks of [`finish_sign_in`], in order, and the session they earn.
async fn signed_in(
    state: &AppState,
    rp: &Webauthn,
    authentication: DiscoverableAuthentication,
    answer: &PublicKeyCredential,
    client: &Client,
) -> Result<SessionTokens, AppError> {
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
            return Err(refuse(owner, BACKWARDS, NOT_VERIFIED).await);
        }
        Err(_) => return Err(refuse(None, "passkey: answer failed verification", NOT_VERIFIED).await),
    };
    if user_handle(&record.user_id)? != handle_user {
        return Err(refuse(owner, "passkey: presented for another account", NOT_VERIFIED).await);
    }
    let Some(user) = users::find_by_id(&state.db, &record.user_id).await?.filter(|u| !u.disabled) else {
        return Err(refuse(owner, "passkey: account disabled", "This account is not available.").await);
    };
    match record_use(state, &record, &mut passkey, &result).await? {
        Use::Recorded => {}
        Use::Backwards => return Err(refuse(owner, BACKWARDS, NOT_VERIFIED).await),
        Use::Overtaken => return Err(refuse(owner, "passkey: answer already used", NOT_VERIFIED).await),
    }
    start_session(state, user, vec![method_of_use(&result)], client, "passkey").await
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
        Err(WebauthnError::CredentialPossibleCompromise) => return Err(refused(BACKWARDS).await),
        Err(_) => return Err(refused("passkey: answer failed verification").await),
    };
    match record_use(state, &record, &mut passkey, &result).await? {
        Use::Recorded => {}
        Use::Backwards => return Err(refused(BACKWARDS).await),
        Use::Overtaken => return Err(refused("passkey: answer already used").await),
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

/// How recording a verified use ended.
enum Use {
    Recorded,
    /// The signature counter is not past the stored one: a copy of the
    /// key, or an answer kept from before a later use.
    Backwards,
    /// Another use was recorded first (the same answer, twice at once).
    Overtaken,
}

/// Records a verified use: the counter moves forward (or stays at zero,
/// for passkeys that keep none), once. The verifier compares the counter
/// with the record it was given, which for a confirmation is the one read
/// when the ceremony began; this compares it with the stored one.
async fn record_use(
    state: &AppState,
    record: &PasskeyRecord,
    passkey: &mut Passkey,
    result: &webauthn_rs::prelude::AuthenticationResult,
) -> Result<Use, AppError> {
    let counter = i64::from(result.counter());
    if (counter != 0 || record.counter != 0) && counter <= record.counter {
        return Ok(Use::Backwards);
    }
    passkey.update_credential(result);
    let credential = serde_json::to_string(passkey).map_err(|e| AppError::internal(&e))?;
    let now = state.clock.now();
    let recorded = passkeys::used(&state.db, &record.id, record.counter, counter, &credential, now).await?;
    Ok(if recorded { Use::Recorded } else { Use::Overtaken })
}

fn method_of_use(result: &webauthn_rs::prelude::AuthenticationResult) -> AuthMethod {
    if result.backup_eligible() { AuthMethod::SoftwareKey } else { AuthMethod::HardwareKey }
}
