//! Server functions for signing in and out, the page frame, the password
//! and the sessions.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::ssr;
#[cfg(feature = "ssr")]
use crate::domain::Page;
use crate::domain::{AccountOverview, Role, SessionSummary};
use crate::error::AppError;
use crate::flash::Flash;

/// What the browser may know about the signed-in person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub username: String,
    pub role: Role,
}

/// Signs in, sets the access and refresh cookies, then redirects to `next`
/// when it is a safe local path, else to the dashboard. For an account
/// with a second factor it sets only the pending sign-in's cookie and
/// goes to the page that asks for the code.
#[server(prefix = "/_fn", endpoint = "login")]
pub async fn login(username: String, password: String, next: Option<String>) -> Result<(), AppError> {
    use crate::accounts::SignIn;
    use crate::domain::{safe_next_path, second_step_url};
    use crate::web::cookies;
    let state = ssr::state()?;
    let next = safe_next_path(next.as_deref());
    match crate::accounts::sign_in(&state, &username, &password, &ssr::client()?).await? {
        SignIn::Session(tokens) => {
            ssr::set_cookies(cookies::set_session(&tokens, state.refresh.idle_ttl));
            ssr::set_cookies([cookies::clear_second_step()]);
            leptos_axum::redirect(next);
        }
        SignIn::SecondStep(step) => {
            ssr::set_cookies([cookies::set_second_step(&step)]);
            leptos_axum::redirect(&second_step_url(next));
        }
    }
    Ok(())
}

/// Creates an account and sends the person to sign in.
#[server(prefix = "/_fn", endpoint = "register")]
pub async fn register(username: String, password: String) -> Result<(), AppError> {
    let state = ssr::state()?;
    crate::accounts::sign_up(&state, &username, &password, &ssr::client()?).await?;
    ssr::redirect_with_notice("/login", "Your account is ready. Sign in to continue.");
    Ok(())
}

/// Ends this browser's session on the server and clears its cookies, even
/// when the access token has already expired.
#[server(prefix = "/_fn", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::web::cookies;
    use crate::web::guard::{self, AuthError, Refresh};
    let (state, parts, client) = (ssr::state()?, ssr::parts()?, ssr::client()?);
    match guard::check(&state, &parts.headers, &parts.extensions, Refresh::Never).await.caller {
        Ok(user) => crate::accounts::sign_out(&state, &user, &client).await?,
        Err(AuthError::Internal) => return Err(AppError::Unavailable),
        Err(_) => {
            if let Some(refresh) = cookies::read_refresh(&parts.headers) {
                crate::accounts::sign_out_by_refresh(&state, &refresh, &client).await?;
            }
        }
    }
    ssr::signed_out(cookies::clear_all());
    ssr::redirect_with_notice("/login", "You have been signed out.");
    Ok(())
}

/// Ends every session of the signed-in person, this one included.
#[server(prefix = "/_fn", endpoint = "logout-everywhere")]
pub async fn logout_everywhere() -> Result<(), AppError> {
    let (state, user) = ssr::signed_in().await?;
    crate::accounts::sign_out_everywhere(&state, &user, false, &ssr::client()?).await?;
    ssr::signed_out(crate::web::cookies::clear_all());
    ssr::redirect_with_notice("/login", "You have been signed out on every device.");
    Ok(())
}

/// Who is signed in, or `None`. Renews the tokens when only the refresh
/// cookie is still good.
#[server(prefix = "/_fn", endpoint = "me")]
pub async fn current_user() -> Result<Option<Viewer>, AppError> {
    match ssr::signed_in().await {
        Ok((_, user)) => Ok(Some(Viewer { username: user.username, role: user.role })),
        // Not knowing is not "nobody": the caller hears why.
        Err(e @ (AppError::Internal { .. } | AppError::Unavailable | AppError::StorageFull)) => Err(e),
        Err(_) => Ok(None),
    }
}

/// What every page needs besides its own data: who is signed in, whether
/// the page's rule admits them, and the flash left for this page load.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frame {
    pub viewer: Option<Viewer>,
    /// Why the page at this path may not be shown to this viewer.
    pub refused: Option<AppError>,
    pub flash: Option<Flash>,
}

/// The page context of `path`, fetched once per navigation. Taking the
/// flash clears its cookie: it is shown once.
#[server(prefix = "/_fn", endpoint = "page")]
pub async fn page_context(path: String) -> Result<Frame, AppError> {
    let flash = crate::web::cookies::read_flash(&ssr::parts()?.headers);
    if flash.is_some() {
        ssr::set_cookies([crate::web::cookies::clear_flash()]);
    }
    let rule = Page::governing(&path).rule();
    let (viewer, refused) = match ssr::signed_in().await {
        Ok((state, user)) => {
            let refused = user.may(rule, state.clock.now(), &state.accounts).err();
            (Some(Viewer { username: user.username, role: user.role }), refused)
        }
        // The session cannot be read: every page says so, none shows a
        // visitor's view (that would look like a sign-out).
        Err(e @ (AppError::Unavailable | AppError::StorageFull)) => (None, Some(e)),
        // No one signed in: a page anyone may see is shown as to a
        // visitor, any other says why not.
        Err(e) => (None, rule.check(None, || false).err().map(|_| e)),
    };
    Ok(Frame { viewer, refused, flash })
}

/// Changes the signed-in person's password; every other session ends.
/// Needs a recent sign-in.
#[server(prefix = "/_fn", endpoint = "change-password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
    confirm_password: String,
) -> Result<(), AppError> {
    use crate::accounts::NewPasswordForm;
    let (state, user) = ssr::allowed(Page::Account).await?;
    let form = NewPasswordForm { new: &new_password, confirm: Some(&confirm_password) };
    crate::accounts::change_password(&state, &user, &form, &current_password, &ssr::client()?).await?;
    // A hydrated page says so itself; a plain form post gets the page again.
    if ssr::is_plain_form_post()? {
        ssr::redirect_with_notice("/account", PASSWORD_CHANGED);
    }
    Ok(())
}

/// What a successful password change says.
pub const PASSWORD_CHANGED: &str = "Your password was changed. Every other session has been signed out.";

/// Confirms who the signed-in person is before sensitive actions, by
/// password or, when the form sends one, by a code, then returns them to
/// `next`.
#[server(prefix = "/_fn", endpoint = "reauth")]
pub async fn reauthenticate(
    password: Option<String>,
    code: Option<String>,
    next: Option<String>,
) -> Result<(), AppError> {
    use crate::accounts::Confirmation;
    use crate::domain::safe_next_path;
    let (state, user) = ssr::allowed(Page::Reauth).await?;
    let confirmation = match &code {
        Some(code) => Confirmation::Code(code.trim()),
        None => Confirmation::Password(password.as_deref().unwrap_or_default()),
    };
    let access = crate::accounts::reauthenticate(&state, &user, confirmation, &ssr::client()?).await?;
    ssr::set_cookies([crate::web::cookies::set_access(&access.token, access.lifetime())]);
    leptos_axum::redirect(safe_next_path(next.as_deref()));
    Ok(())
}

/// What the reset page shows for a link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResetLinkView {
    Live { username: String },
    Dead { reason: String },
}

/// Looks at a reset link without using it.
#[server(prefix = "/_fn", endpoint = "reset-link")]
pub async fn reset_link(token: String) -> Result<ResetLinkView, AppError> {
    use crate::accounts::ResetLink;
    let state = ssr::state()?;
    Ok(match crate::accounts::reset_link(&state, &token, &ssr::client()?).await? {
        ResetLink::Live { username } => ResetLinkView::Live { username },
        ResetLink::Dead(reason) => ResetLinkView::Dead { reason: reason.to_owned() },
    })
}

/// Uses a reset link to set a new password; every session of the account
/// ends, and the person signs in afresh.
#[server(prefix = "/_fn", endpoint = "reset-password")]
pub async fn reset_password(token: String, new_password: String, confirm_password: String) -> Result<(), AppError> {
    use crate::accounts::NewPasswordForm;
    let state = ssr::state()?;
    let form = NewPasswordForm { new: &new_password, confirm: Some(&confirm_password) };
    let done = crate::accounts::reset_password(&state, &token, &form, &ssr::client()?).await;
    if let Err(error) = &done
        && ssr::is_plain_form_post()?
    {
        // The reset page sends no Referer (its address holds the link's
        // secret), so a refused plain post is told its own way back.
        let page = format!("/reset?{}", crate::domain::query_string(&[("token", &token)]));
        ssr::back_with_error(&page, error);
    }
    done?;
    ssr::set_cookies(crate::web::cookies::clear_all());
    ssr::redirect_with_notice("/login", "Your new password is set and every old session has ended. Sign in with it.");
    Ok(())
}

/// The signed-in person's account at a glance, for the dashboard.
#[server(prefix = "/_fn", endpoint = "overview")]
pub async fn overview() -> Result<AccountOverview, AppError> {
    let (state, user) = ssr::allowed(Page::Dashboard).await?;
    crate::accounts::overview(&state, &user).await
}

/// The signed-in person's live sessions.
#[server(prefix = "/_fn", endpoint = "sessions")]
pub async fn list_sessions() -> Result<Vec<SessionSummary>, AppError> {
    let (state, user) = ssr::allowed(Page::Sessions).await?;
    crate::accounts::list_sessions(&state, &user).await
}

/// What ending sessions says.
pub const ENDED_ONE: &str = "That session has ended: the device it was on is signed out.";
pub const ENDED_OTHERS: &str = "Every other session has ended. This device stays signed in.";

/// Ends one of the signed-in person's sessions, or all the others, and
/// says what it did.
#[server(prefix = "/_fn", endpoint = "end-session")]
pub async fn end_session(session_id: String) -> Result<String, AppError> {
    let (state, user) = ssr::allowed(Page::Sessions).await?;
    let client = ssr::client()?;
    let notice = if session_id == "others" {
        crate::accounts::sign_out_everywhere(&state, &user, true, &client).await?;
        ENDED_OTHERS
    } else {
        crate::accounts::end_session(&state, &user, &session_id.into(), &client).await?;
        ENDED_ONE
    };
    // A hydrated page reloads its list and says so itself.
    if ssr::is_plain_form_post()? {
        ssr::redirect_with_notice("/sessions", notice);
    }
    Ok(notice.to_owned())
}
