//! Server functions for passkeys. The ceremonies are driven by
//! `/passkeys.js` in the browser (WebAuthn needs JavaScript): each calls an
//! `...-options` function, asks the browser's authenticator, and sends the
//! answer to the finishing function, which sets cookies as a password
//! sign-in does. Listing and removing work as plain forms too.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::ssr;
#[cfg(feature = "ssr")]
use crate::domain::Page;
use crate::error::AppError;

/// The first half of a ceremony, for the browser.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CeremonyView {
    /// The handle that brings the answer back to its challenge.
    pub ceremony: String,
    /// The options for `navigator.credentials`, JSON.
    pub options: String,
}

/// A passkey as its owner's pages show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyRow {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// The passkeys section: whether passkeys work here, and the person's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeysView {
    pub on: bool,
    pub passkeys: Vec<PasskeyRow>,
}

/// Starts a passkey sign-in.
#[server(prefix = "/_fn", endpoint = "passkey-sign-in-options")]
pub async fn passkey_sign_in_options() -> Result<CeremonyView, AppError> {
    let state = ssr::state()?;
    ceremony(crate::accounts::begin_sign_in(&state, &ssr::client()?).await?)
}

/// Finishes a passkey sign-in: sets the session's cookies and answers
/// where to go next.
#[server(prefix = "/_fn", endpoint = "passkey-sign-in")]
pub async fn passkey_sign_in(ceremony: String, credential: String, next: Option<String>) -> Result<String, AppError> {
    use crate::web::cookies;
    let state = ssr::state()?;
    let answer = read(&credential)?;
    let tokens = crate::accounts::finish_sign_in(&state, &ceremony, &answer, &ssr::client()?).await?;
    ssr::set_cookies(cookies::set_session(&tokens, state.refresh.idle_ttl));
    ssr::set_cookies([cookies::clear_second_step()]);
    Ok(crate::domain::safe_next_path(next.as_deref()).to_owned())
}

/// The signed-in person's passkeys.
#[server(prefix = "/_fn", endpoint = "passkeys")]
pub async fn passkeys() -> Result<PasskeysView, AppError> {
    let (state, user) = ssr::allowed(Page::Reauth).await?;
    let passkeys = crate::accounts::list_passkeys(&state, &user)
        .await?
        .into_iter()
        .map(|p| PasskeyRow { id: p.id, name: p.name, created_at: p.created_at, last_used_at: p.last_used_at })
        .collect();
    Ok(PasskeysView { on: crate::accounts::passkeys_on(&state), passkeys })
}

/// Starts adding a passkey (a recent sign-in).
#[server(prefix = "/_fn", endpoint = "passkey-add-options")]
pub async fn passkey_add_options() -> Result<CeremonyView, AppError> {
    let (state, user) = ssr::allowed(Page::Reauth).await?;
    ceremony(crate::accounts::begin_adding(&state, &user).await?)
}

/// Finishes adding a passkey named `name`.
#[server(prefix = "/_fn", endpoint = "passkey-add")]
pub async fn passkey_add(ceremony: String, name: String, credential: String) -> Result<(), AppError> {
    let (state, user) = ssr::allowed(Page::Reauth).await?;
    let answer = serde_json::from_str(&credential).map_err(|_| unreadable())?;
    let (_, access) = crate::accounts::finish_adding(&state, &user, &ceremony, &name, &answer, &ssr::client()?).await?;
    ssr::set_cookies([crate::web::cookies::set_access(&access.token, access.lifetime())]);
    Ok(())
}

/// Removes one of the person's passkeys (a recent sign-in).
#[server(prefix = "/_fn", endpoint = "passkey-remove")]
pub async fn remove_passkey(id: String) -> Result<(), AppError> {
    let (state, user) = ssr::allowed(Page::Reauth).await?;
    crate::accounts::remove_passkey(&state, &user, &id, &ssr::client()?).await?;
    if ssr::is_plain_form_post()? {
        ssr::redirect_with(Page::Account.path(), &crate::flash::Flash::notice("Passkey removed."));
    }
    Ok(())
}

/// Starts confirming who the person is with a passkey.
#[server(prefix = "/_fn", endpoint = "passkey-confirm-options")]
pub async fn passkey_confirm_options() -> Result<CeremonyView, AppError> {
    let (state, user) = ssr::allowed(Page::Reauth).await?;
    ceremony(crate::accounts::begin_confirming(&state, &user).await?)
}

/// Finishes confirming with a passkey; answers where to go next.
#[server(prefix = "/_fn", endpoint = "passkey-confirm")]
pub async fn passkey_confirm(ceremony: String, credential: String, next: Option<String>) -> Result<String, AppError> {
    let (state, user) = ssr::allowed(Page::Reauth).await?;
    let answer = read(&credential)?;
    let access = crate::accounts::finish_confirming(&state, &user, &ceremony, &answer, &ssr::client()?).await?;
    ssr::set_cookies([crate::web::cookies::set_access(&access.token, access.lifetime())]);
    Ok(crate::domain::safe_next_path(next.as_deref()).to_owned())
}

#[cfg(feature = "ssr")]
fn ceremony<T: Serialize>(c: crate::accounts::Ceremony<T>) -> Result<CeremonyView, AppError> {
    let options = serde_json::to_string(&c.options).map_err(|e| AppError::internal(&e))?;
    Ok(CeremonyView { ceremony: c.handle.expose().to_owned(), options })
}

#[cfg(feature = "ssr")]
fn read(credential: &str) -> Result<webauthn_rs::prelude::PublicKeyCredential, AppError> {
    serde_json::from_str(credential).map_err(|_| unreadable())
}

#[cfg(feature = "ssr")]
fn unreadable() -> AppError {
    AppError::invalid("passkey", "The browser's passkey answer could not be read. Try again.")
}
