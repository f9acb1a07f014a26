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
    let (state, parts) = (ssr::state()?, ssr::parts()?);
    let client = crate::auth::guard::Client::from_request(&parts.headers, &parts.extensions);
    let signed_in = crate::accounts::sign_in(&state, &username, &password, &client).await?;
    ssr::set_cookies(signed_in.cookies(&state));
    leptos_axum::redirect(safe_next_path(next.as_deref()));
    Ok(())
}

/// Creates an account and sends the person to sign in.
#[server(prefix = "/_fn", endpoint = "register")]
pub async fn register(username: String, password: String) -> Result<(), AppError> {
    let state = ssr::state()?;
    crate::accounts::register(&state, &username, &password).await?;
    leptos_axum::redirect("/login?registered=1");
    Ok(())
}

/// Ends this browser's session on the server and clears its cookies, even
/// when the access token has already expired.
#[server(prefix = "/_fn", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::auth::{cookies, guard};
    let (state, parts) = (ssr::state()?, ssr::parts()?);
    match guard::authenticate(&state, &parts.headers).await {
        Ok(user) => crate::accounts::sign_out(&state, &user).await?,
        Err(guard::AuthError::Internal) => return Err(AppError::Internal),
        Err(_) => {
            if let Some(refresh) = cookies::read_refresh(&parts.headers) {
                crate::accounts::sign_out_by_refresh(&state, &refresh).await?;
            }
        }
    }
    ssr::set_cookies(cookies::clear_all());
    leptos_axum::redirect("/login?signed_out=1");
    Ok(())
}

/// Ends every session of the signed-in person, this one included.
#[server(prefix = "/_fn", endpoint = "logout-everywhere")]
pub async fn logout_everywhere() -> Result<(), AppError> {
    let (state, user) = ssr::signed_in().await?;
    crate::accounts::sign_out_everywhere(&state, &user, false).await?;
    ssr::set_cookies(crate::auth::cookies::clear_all());
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
#[server(prefix = "/_fn", endpoint = "change-password")]
pub async fn change_password(current_password: String, new_password: String) -> Result<(), AppError> {
    let (state, user) = ssr::signed_in().await?;
    crate::accounts::change_password(&state, &user, &current_password, &new_password).await?;
    leptos_axum::redirect("/account?changed=1");
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
    if session_id == "others" {
        crate::accounts::sign_out_everywhere(&state, &user, true).await?;
    } else {
        crate::accounts::end_session(&state, &user, &session_id).await?;
    }
    leptos_axum::redirect("/sessions");
    Ok(())
}

#[cfg(feature = "ssr")]
mod ssr {
    use axum::http::request::Parts;
    use axum::http::{HeaderValue, header};
    use leptos::prelude::use_context;
    use leptos_axum::ResponseOptions;

    use crate::auth::cookies;
    use crate::auth::guard::{self, CurrentUser};
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

    pub fn set_cookies(values: impl IntoIterator<Item = HeaderValue>) {
        if let Some(response) = use_context::<ResponseOptions>() {
            for value in values {
                response.append_header(header::SET_COOKIE, value);
            }
        }
    }
}
