//! What every server function needs on the server: the state, the
//! request, the caller through the one guard, the rule of the page it
//! serves, and the answer's cookies and redirects.

use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

use crate::auth::caller::{Client, CurrentUser};
use crate::domain::Page;
use crate::error::AppError;
use crate::flash::Flash;
use crate::state::AppState;
use crate::web::cookies;
use crate::web::guard::{self, Refresh};

pub fn state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the server function context");
        AppError::unexpected()
    })
}

pub fn parts() -> Result<Parts, AppError> {
    use_context::<Parts>().ok_or_else(|| {
        tracing::error!("request parts missing from the server function context");
        AppError::unexpected()
    })
}

/// Whether this call is a plain HTML form post (no JavaScript): then
/// the answer is a redirect to a page, not data.
pub fn is_plain_form_post() -> Result<bool, AppError> {
    Ok(crate::web::boundary::wants_a_page(&parts()?.headers))
}

pub fn client() -> Result<Client, AppError> {
    let parts = parts()?;
    Ok(Client::from_request(&parts.headers, &parts.extensions))
}

/// The caller, through the one guard. Renewed cookies are set on this
/// response; cookies that no longer sign anyone in are cleared.
pub async fn signed_in() -> Result<(AppState, CurrentUser), AppError> {
    let (state, parts) = (state()?, parts()?);
    let checked = guard::check(&state, &parts.headers, &parts.extensions, Refresh::Silently).await;
    set_cookies(checked.cookies);
    Ok((state, checked.caller?))
}

/// The caller, when `page`'s rule admits them: what a server function
/// feeding that page checks first, so a client-side navigation meets the
/// same rule as a page load.
pub async fn allowed(page: Page) -> Result<(AppState, CurrentUser), AppError> {
    let (state, user) = signed_in().await?;
    user.may(page.rule(), state.clock.now(), &state.accounts)?;
    Ok((state, user))
}

/// Clears `cookies` and tells the browser to drop what it cached or
/// stored for this site: the end of a sign-out. Not `"cookies"`: ours
/// are cleared by name, and that directive would also wipe every
/// cookie of sibling subdomains (other apps on the same registrable
/// domain) and the flash that says the sign-out happened.
pub fn signed_out(cookies: impl IntoIterator<Item = HeaderValue>) {
    set_cookies(cookies);
    if let Some(response) = use_context::<ResponseOptions>() {
        response.insert_header(
            header::HeaderName::from_static("clear-site-data"),
            HeaderValue::from_static(r#""cache", "storage""#),
        );
    }
}

/// Sends the browser to `path`, which shows `notice` once.
pub fn redirect_with_notice(path: &str, notice: &str) {
    redirect_with(path, &Flash::notice(notice));
}

/// Sends a refused plain form post back to `page`, which shows `error`
/// once: for forms whose page sends no `Referer` to return to.
pub fn back_with_error(page: &str, error: &AppError) {
    redirect_with(page, &Flash::failed(error.clone(), None));
}

/// Sends the browser to `path`, which shows `flash` once.
pub fn redirect_with(path: &str, flash: &Flash) {
    set_cookies(cookies::set_flash(flash));
    leptos_axum::redirect(path);
}

pub fn set_cookies(values: impl IntoIterator<Item = HeaderValue>) {
    if let Some(response) = use_context::<ResponseOptions>() {
        for value in values {
            response.append_header(header::SET_COOKIE, value);
        }
    }
}
