//! Server functions for signing in and out and for managing sessions.
//! Each is thin: it reads the request, calls `accounts` or the guard, and
//! sets cookies and redirects. All live under the stable `/_fn/` prefix,
//! apart from the JSON API.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::{Role, SessionSummary};
use crate::error::AppError;

/// What the browser may know about the signed-in person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub username: String,
    pub role: Role,
}

/// Signs in, sets the access and refresh cookies, then redirects to `next`
/// when it is a safe local path, else to the dashboard.
#[server(prefix = "/_fn", endpoint = "login")]
pub async fn login(username: String, password: String, next: Option<String>) -> Result<(), AppError> {
    use crate::domain::safe_next_path;
    let state = ssr::state()?;
    let signed_in = crate::accounts::sign_in(&state, &username, &password, &ssr::client()?).await?;
    ssr::set_cookies(signed_in.cookies(&state));
    leptos_axum::redirect(safe_next_path(next.as_deref()));
    Ok(())
}

/// Creates an account and sends the person to sign in.
#[server(prefix = "/_fn", endpoint = "register")]
pub async fn register(username: String, password: String) -> Result<(), AppError> {
    let state = ssr::state()?;
    crate::accounts::sign_up(&state, &username, &password, &ssr::client()?).await?;
    leptos_axum::redirect("/login?registered=1");
    Ok(())
}

/// Ends this browser's session on the server and clears its cookies, even
/// when the access token has already expired.
#[server(prefix = "/_fn", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::auth::{cookies, guard};
    let (state, parts, client) = (ssr::state()?, ssr::parts()?, ssr::client()?);
    match guard::authenticate(&state, &parts.headers).await {
        Ok(user) => crate::accounts::sign_out(&state, &user, &client).await?,
        Err(guard::AuthError::Internal) => return Err(AppError::Internal),
        Err(_) => {
            if let Some(refresh) = cookies::read_refresh(&parts.headers) {
                crate::accounts::sign_out_by_refresh(&state, &refresh, &client).await?;
            }
        }
    }
    ssr::signed_out(cookies::clear_all());
    leptos_axum::redirect("/login?signed_out=1");
    Ok(())
}

/// Ends every session of the signed-in person, this one included.
#[server(prefix = "/_fn", endpoint = "logout-everywhere")]
pub async fn logout_everywhere() -> Result<(), AppError> {
    let (state, user) = ssr::signed_in().await?;
    crate::accounts::sign_out_everywhere(&state, &user, false, &ssr::client()?).await?;
    ssr::signed_out(crate::auth::cookies::clear_all());
    leptos_axum::redirect("/login?signed_out=1");
    Ok(())
}

/// Who is signed in, or `None`. Renews the tokens when only the refresh
/// cookie is still good.
#[server(prefix = "/_fn", endpoint = "me")]
pub async fn current_user() -> Result<Option<Viewer>, AppError> {
    match ssr::signed_in().await {
        Ok((_, user)) => Ok(Some(Viewer { username: user.username, role: user.role })),
        Err(AppError::Internal) => Err(AppError::Internal),
        Err(_) => Ok(None),
    }
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
    let (state, user) = ssr::signed_in().await?;
    let form = NewPasswordForm { new: &new_password, confirm: Some(&confirm_password) };
    crate::accounts::change_password(&state, &user, &form, &current_password, &ssr::client()?).await?;
    leptos_axum::redirect("/account?changed=1");
    Ok(())
}

/// Confirms the signed-in person's password before sensitive actions,
/// then returns them to `next`.
#[server(prefix = "/_fn", endpoint = "reauth")]
pub async fn reauthenticate(password: String, next: Option<String>) -> Result<(), AppError> {
    use crate::domain::safe_next_path;
    let (state, user) = ssr::signed_in().await?;
    let (_, access) = crate::accounts::reauthenticate(&state, &user, &password, &ssr::client()?).await?;
    ssr::set_cookies([crate::auth::cookies::set_access(&access.token, access.lifetime())]);
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
    crate::accounts::reset_password(&state, &token, &form, &ssr::client()?).await?;
    ssr::set_cookies(crate::auth::cookies::clear_all());
    leptos_axum::redirect("/login?reset=1");
    Ok(())
}

/// The signed-in person's live sessions.
#[server(prefix = "/_fn", endpoint = "sessions")]
pub async fn list_sessions() -> Result<Vec<SessionSummary>, AppError> {
    let (state, user) = ssr::signed_in().await?;
    crate::accounts::list_sessions(&state, &user).await
}

/// Ends one of the signed-in person's sessions, or all the others.
#[server(prefix = "/_fn", endpoint = "end-session")]
pub async fn end_session(session_id: String) -> Result<(), AppError> {
    let (state, user) = ssr::signed_in().await?;
    let client = ssr::client()?;
    if session_id == "others" {
        crate::accounts::sign_out_everywhere(&state, &user, true, &client).await?;
    } else {
        crate::accounts::end_session(&state, &user, &session_id, &client).await?;
    }
    leptos_axum::redirect("/sessions");
    Ok(())
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use axum::http::request::Parts;
    use axum::http::{HeaderValue, header};
    use leptos::prelude::use_context;
    use leptos_axum::ResponseOptions;

    use crate::auth::cookies;
    use crate::auth::guard::{self, Client, CurrentUser};
    use crate::error::AppError;
    use crate::state::AppState;

    pub fn state() -> Result<AppState, AppError> {
        use_context::<AppState>().ok_or_else(|| {
            tracing::error!("AppState missing from the server function context");
            AppError::Internal
        })
    }

    pub fn parts() -> Result<Parts, AppError> {
        use_context::<Parts>().ok_or_else(|| {
            tracing::error!("request parts missing from the server function context");
            AppError::Internal
        })
    }

    /// Whether this call is a plain HTML form post (no JavaScript): then
    /// the answer is a redirect to a page, not data.
    pub fn is_plain_form_post() -> Result<bool, AppError> {
        let parts = parts()?;
        let accept = parts.headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
        Ok(accept.contains("text/html"))
    }

    pub fn client() -> Result<Client, AppError> {
        let parts = parts()?;
        Ok(Client::from_request(&parts.headers, &parts.extensions))
    }

    /// The caller, through the one guard. Renewed cookies are set on this
    /// response; cookies that no longer sign anyone in are cleared.
    pub async fn signed_in() -> Result<(AppState, CurrentUser), AppError> {
        let (state, parts) = (state()?, parts()?);
        match guard::authenticate_parts(&state, &parts).await {
            Ok((user, renewal)) => {
                set_cookies(renewal.into_iter().flatten());
                Ok((state, user))
            }
            Err(e) => {
                let has_cookies = cookies::any_present(&parts.headers);
                if e != guard::AuthError::Internal && has_cookies {
                    set_cookies(cookies::clear_all());
                }
                Err(e.into())
            }
        }
    }

    /// Clears `cookies` and tells the browser to drop everything it kept
    /// for this site (cache, cookies, storage): the end of a sign-out.
    pub fn signed_out(cookies: impl IntoIterator<Item = HeaderValue>) {
        set_cookies(cookies);
        if let Some(response) = use_context::<ResponseOptions>() {
            response.insert_header(
                header::HeaderName::from_static("clear-site-data"),
                HeaderValue::from_static(r#""cache", "cookies", "storage""#),
            );
        }
    }

    pub fn set_cookies(values: impl IntoIterator<Item = HeaderValue>) {
        if let Some(response) = use_context::<ResponseOptions>() {
            for value in values {
                response.append_header(header::SET_COOKIE, value);
            }
        }
    }
}
