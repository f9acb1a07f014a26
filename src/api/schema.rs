//! The shapes of the JSON API's bodies, named so that the OpenAPI document
//! is generated from the same types the handlers read and write.

use serde::Serialize;
use utoipa::ToSchema;

use super::json::JsonBody;
use crate::error::AppError;

/// A refusal or failure: every error of the API has this body.
#[derive(Serialize, ToSchema)]
pub struct Message {
    /// What went wrong, in words a person can act on.
    pub msg: String,
}

/// A username and password.
#[derive(ToSchema)]
pub struct Credentials<'a> {
    pub username: &'a str,
    pub password: &'a str,
}

impl<'a> Credentials<'a> {
    pub fn read(body: &'a JsonBody) -> Result<Self, AppError> {
        Ok(Self { username: body.string("username")?, password: body.string("password")? })
    }
}

/// The password of the signed-in person, confirming who they are.
#[derive(ToSchema)]
pub struct Reauthentication<'a> {
    pub password: &'a str,
}

impl<'a> Reauthentication<'a> {
    pub fn read(body: &'a JsonBody) -> Result<Self, AppError> {
        Ok(Self { password: body.string("password")? })
    }
}

/// A password change by the signed-in person.
#[derive(ToSchema)]
pub struct PasswordChange<'a> {
    pub current_password: &'a str,
    pub new_password: &'a str,
}

impl<'a> PasswordChange<'a> {
    pub fn read(body: &'a JsonBody) -> Result<Self, AppError> {
        Ok(Self { current_password: body.string("current_password")?, new_password: body.string("new_password")? })
    }
}

/// A new password set with a reset link's secret.
#[derive(ToSchema)]
pub struct PasswordReset<'a> {
    /// The `token` parameter of the reset link (`grs_...`).
    pub token: &'a str,
    pub new_password: &'a str,
}

impl<'a> PasswordReset<'a> {
    pub fn read(body: &'a JsonBody) -> Result<Self, AppError> {
        Ok(Self { token: body.string("token")?, new_password: body.string("new_password")? })
    }
}

/// A role to give an account.
#[derive(ToSchema)]
pub struct RoleChange<'a> {
    /// `user` or `admin`.
    pub role: &'a str,
}

impl<'a> RoleChange<'a> {
    pub fn read(body: &'a JsonBody) -> Result<Self, AppError> {
        Ok(Self { role: body.string("role")? })
    }
}

/// An access token (after re-authentication).
#[derive(Serialize, ToSchema)]
pub struct AccessToken {
    /// A JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

/// An access token and the refresh token of a new or renewed session.
#[derive(Serialize, ToSchema)]
pub struct TokenPair {
    #[serde(flatten)]
    pub access: AccessToken,
    /// Opaque (`grt_...`); each use returns a new one and kills this one.
    pub refresh_token: String,
}

/// A new account's name, as stored (NFKC).
#[derive(Serialize, ToSchema)]
pub struct Registered {
    pub username: String,
}

/// Who the access token belongs to.
#[derive(Serialize, ToSchema)]
pub struct LoggedInAs {
    pub logged_in_as: String,
}

/// The caller's live sessions, the current one marked.
#[derive(Serialize, ToSchema)]
pub struct Sessions {
    pub sessions: Vec<crate::domain::SessionSummary>,
}

/// Whether the request changed anything (`false`: it was so already).
#[derive(Serialize, ToSchema)]
pub struct Changed {
    pub changed: bool,
}

/// How many sessions were ended.
#[derive(Serialize, ToSchema)]
pub struct Ended {
    pub ended: u64,
}

/// A single-use password-reset link.
#[derive(Serialize, ToSchema)]
pub struct ResetLink {
    pub url: String,
    /// Unix seconds.
    pub expires_at: i64,
}
