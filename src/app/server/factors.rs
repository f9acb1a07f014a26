//! Server functions for second factors: the second step of a password
//! sign-in, and the authenticator app and recovery codes on the two-step
//! page.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::ssr;
#[cfg(feature = "ssr")]
use crate::domain::Page;
use crate::error::AppError;

/// Finishes a password sign-in with a code from the authenticator app or
/// a recovery code, then goes on to `next` like the sign-in would have.
#[server(prefix = "/_fn", endpoint = "second-step")]
pub async fn second_step(code: String, next: Option<String>) -> Result<(), AppError> {
    use crate::domain::safe_next_path;
    use crate::web::cookies;
    let (state, parts) = (ssr::state()?, ssr::parts()?);
    let credential = cookies::read_second_step(&parts.headers).unwrap_or_default();
    match crate::accounts::second_step(&state, &credential, &code, &ssr::client()?).await {
        Ok(tokens) => {
            ssr::set_cookies(cookies::set_session(&tokens, state.refresh.idle_ttl));
            ssr::set_cookies([cookies::clear_second_step()]);
            leptos_axum::redirect(safe_next_path(next.as_deref()));
            Ok(())
        }
        // The sign-in is over: back to the password, saying why.
        Err(error @ AppError::Unauthorized(_)) => {
            ssr::set_cookies([cookies::clear_second_step()]);
            if ssr::is_plain_form_post()? {
                ssr::back_with_error(&crate::domain::sign_in_url(next.as_deref().unwrap_or("")), &error);
            }
            Err(error)
        }
        Err(error) => Err(error),
    }
}

/// Where the signed-in person's authenticator app stands, as the two-step
/// page shows it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TotpView {
    Off,
    /// Added, waiting for a first code: what to scan or type into the app.
    Pending {
        secret: String,
        otpauth_uri: String,
        /// The QR code, an SVG drawn on the server.
        qr_svg: String,
    },
    On {
        since: i64,
        recovery_codes_left: i64,
    },
}

/// The pending secret never reaches a log.
impl std::fmt::Debug for TotpView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Off => f.write_str("Off"),
            Self::Pending { .. } => f.write_str("Pending(..)"),
            Self::On { since, recovery_codes_left } => {
                f.debug_struct("On").field("since", since).field("recovery_codes_left", recovery_codes_left).finish()
            }
        }
    }
}

/// The two-step page's state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwoStepView {
    pub totp: TotpView,
    /// This server requires a second factor of this person.
    pub required: bool,
    /// ... and this session has not shown one: nothing else opens until it does.
    pub owed: bool,
}

/// The signed-in person's authenticator app.
#[server(prefix = "/_fn", endpoint = "totp")]
pub async fn totp_state() -> Result<TwoStepView, AppError> {
    use crate::accounts::TotpStatus;
    let (state, user) = ssr::allowed(Page::TwoStep).await?;
    let required = state.accounts.second_factor.requires(user.role);
    let owed = user.owes_second_factor(&state.accounts);
    let totp = match crate::accounts::totp_status(&state, &user).await? {
        TotpStatus::Off => TotpView::Off,
        TotpStatus::Pending(setup) => TotpView::Pending {
            qr_svg: qr_svg(&setup.otpauth_uri)?,
            secret: setup.secret,
            otpauth_uri: setup.otpauth_uri,
        },
        TotpStatus::On { since, recovery_codes_left } => TotpView::On { since, recovery_codes_left },
    };
    Ok(TwoStepView { totp, required, owed })
}

/// How the signed-in person can confirm who they are, besides a password.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaysToConfirm {
    /// A code from the authenticator app, or a recovery code.
    pub code: bool,
    pub passkey: bool,
}

impl WaysToConfirm {
    /// An account with two-step sign-in confirms with a second factor, not
    /// its password.
    pub fn password(self) -> bool {
        !self.code
    }
}

/// How the signed-in person can confirm who they are.
#[server(prefix = "/_fn", endpoint = "confirm-ways")]
pub async fn confirm_ways() -> Result<WaysToConfirm, AppError> {
    let (state, user) = ssr::allowed(Page::Reauth).await?;
    let code = matches!(crate::accounts::totp_status(&state, &user).await?, crate::accounts::TotpStatus::On { .. });
    let passkey =
        crate::accounts::passkeys_on(&state) && !crate::accounts::list_passkeys(&state, &user).await?.is_empty();
    Ok(WaysToConfirm { code, passkey })
}

/// Adds a pending authenticator app; the page then shows its QR code.
#[server(prefix = "/_fn", endpoint = "totp-begin")]
pub async fn begin_totp() -> Result<(), AppError> {
    let (state, user) = ssr::allowed(Page::TwoStep).await?;
    crate::accounts::begin_totp(&state, &user).await?;
    back_to_page()
}

/// Turns the pending app on with its first code; answers the recovery
/// codes, shown this once. This session has now shown a second factor.
#[server(prefix = "/_fn", endpoint = "totp-confirm")]
pub async fn confirm_totp(code: String) -> Result<Vec<String>, AppError> {
    let (state, user) = ssr::allowed(Page::TwoStep).await?;
    let (codes, access) = crate::accounts::confirm_totp(&state, &user, &code, &ssr::client()?).await?;
    ssr::set_cookies([crate::web::cookies::set_access(&access.token, access.lifetime())]);
    let codes = exposed(&codes);
    show_codes_without_script(&codes)?;
    Ok(codes)
}

/// Turns the authenticator app off (or drops a pending one).
#[server(prefix = "/_fn", endpoint = "totp-disable")]
pub async fn disable_totp() -> Result<(), AppError> {
    let (state, user) = ssr::allowed(Page::TwoStep).await?;
    crate::accounts::disable_totp(&state, &user, &ssr::client()?).await?;
    back_to_page()
}

/// A new set of recovery codes, shown this once; the old set dies.
#[server(prefix = "/_fn", endpoint = "recovery-codes")]
pub async fn renew_recovery_codes() -> Result<Vec<String>, AppError> {
    let (state, user) = ssr::allowed(Page::TwoStep).await?;
    let codes = exposed(&crate::accounts::renew_recovery_codes(&state, &user, &ssr::client()?).await?);
    show_codes_without_script(&codes)?;
    Ok(codes)
}

#[cfg(feature = "ssr")]
fn exposed(codes: &[crate::auth::recovery::RecoveryCode]) -> Vec<String> {
    codes.iter().map(|c| c.expose().to_owned()).collect()
}

/// A plain form post gets the page again; a hydrated one updates itself.
#[cfg(feature = "ssr")]
fn back_to_page() -> Result<(), AppError> {
    if ssr::is_plain_form_post()? {
        leptos_axum::redirect(Page::TwoStep.path());
    }
    Ok(())
}

/// Without JavaScript the codes reach the next page once, in the flash
/// (an HttpOnly cookie of this site that lives a minute).
#[cfg(feature = "ssr")]
fn show_codes_without_script(codes: &[String]) -> Result<(), AppError> {
    if ssr::is_plain_form_post()? {
        let flash = crate::flash::Flash { recovery_codes: Some(codes.to_vec()), ..crate::flash::Flash::default() };
        ssr::redirect_with(Page::TwoStep.path(), &flash);
    }
    Ok(())
}

/// `uri` as a QR code: an SVG with a quiet zone, black on white whatever
/// the theme, so every camera reads it.
#[cfg(feature = "ssr")]
fn qr_svg(uri: &str) -> Result<String, AppError> {
    use qrcode::render::svg;
    let code = qrcode::QrCode::with_error_correction_level(uri.as_bytes(), qrcode::EcLevel::M).map_err(|e| {
        tracing::error!(error = %e, "could not draw a QR code");
        AppError::unexpected()
    })?;
    Ok(code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build())
}
