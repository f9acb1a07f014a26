//! Server functions for signing in and out. Each is thin: it reads the
//! request, calls `accounts` or the guard, and sets cookies and redirects.
//! All live under the stable `/_fn/` prefix, apart from the JSON API.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::Role;
use crate::error::AppError;

/// What the browser may know about the signed-in person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub username: String,
    pub role: Role,
}

/// Signs in and sets the access cookie, then redirects to `next` when it
/// is a safe local path, else to the dashboard.
#[server(prefix = "/_fn", endpoint = "login")]
pub async fn login(
    username: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    use crate::domain::safe_next_path;
    let state = ssr::state()?;
    let signed_in = crate::accounts::sign_in(&state, &username, &password).await?;
    let claims = &signed_in.access.claims;
    ssr::set_cookie(crate::auth::cookies::set_access(
        &signed_in.access.token,
        claims.exp - claims.iat,
    ));
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

/// Revokes the current access token on the server and clears the cookie.
#[server(prefix = "/_fn", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::auth::guard::{AuthError, authenticate_parts};
    let (state, parts) = (ssr::state()?, ssr::parts()?);
    match authenticate_parts(&state, &parts).await {
        Ok(user) => crate::accounts::sign_out(&state, &user).await?,
        Err(AuthError::Internal) => return Err(AppError::Internal),
        // Nothing valid to revoke: clearing the cookie is all there is.
        Err(_) => {}
    }
    ssr::set_cookie(crate::auth::cookies::clear_access());
    leptos_axum::redirect("/login?signed_out=1");
    Ok(())
}

/// Who is signed in, or `None`.
#[server(prefix = "/_fn", endpoint = "me")]
pub async fn current_user() -> Result<Option<Viewer>, AppError> {
    use crate::auth::guard::{AuthError, authenticate_parts};
    let (state, parts) = (ssr::state()?, ssr::parts()?);
    match authenticate_parts(&state, &parts).await {
        Ok(user) => Ok(Some(Viewer {
            username: user.username,
            role: user.role,
        })),
        Err(AuthError::Internal) => Err(AppError::Internal),
        Err(_) => Ok(None),
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use axum::http::request::Parts;
    use axum::http::{HeaderValue, header};
    use leptos::prelude::use_context;
    use leptos_axum::ResponseOptions;

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

    pub fn set_cookie(value: HeaderValue) {
        if let Some(response) = use_context::<ResponseOptions>() {
            response.append_header(header::SET_COOKIE, value);
        }
    }
}
