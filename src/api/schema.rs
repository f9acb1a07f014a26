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

/// A username and password. At registration the username is 3 to 32
/// letters, digits, `.`, `_` or `-`, starting with a letter or digit
/// (after Unicode NFKC), and the password at least 8 characters, not among
/// the most common ones and not holding the username.
#[derive(ToSchema)]
pub struct Credentials<'a> {
    pub username: &'a str,
    /// At most 1024 bytes (UTF-8): fewer characters when some take more
    /// than one byte.
    #[schema(min_length = 1, max_length = 1024)]
    pub password: &'a str,
}

impl<'a> Credentials<'a> {
    pub fn read(body: &'a JsonBody) -> Result<Self, AppError> {
        Ok(Self { username: body.string("username")?, password: body.string("password")? })
    }
}

/// The signed-in person confirming who they are: their password, or a
/// code from their authenticator app (or a recovery code). Send one of
/// the two.
#[derive(ToSchema)]
pub struct Reauthentication<'a> {
    pub password: Option<&'a str>,
    pub code: Option<&'a str>,
}

impl<'a> Reauthentication<'a> {
    pub fn read(body: &'a JsonBody) -> Result<crate::accounts::Confirmation<'a>, AppError> {
        use crate::accounts::Confirmation;
        match (body.optional_string("password")?, body.optional_string("code")?) {
            (Some(password), None) => Ok(Confirmation::Password(password)),
            (None, Some(code)) => Ok(Confirmation::Code(code)),
            _ => Err(AppError::Invalid {
                field: None,
                message: "Send either 'password' or 'code' (from your authenticator app, or a recovery code)".into(),
            }),
        }
    }
}

/// The second step of a password sign-in.
#[derive(ToSchema)]
pub struct SecondStep<'a> {
    /// From the `POST /api/login` answer (`gmf_...`).
    pub mfa_token: &'a str,
    /// Six digits from the authenticator app, or a recovery code.
    pub code: &'a str,
}

impl<'a> SecondStep<'a> {
    pub fn read(body: &'a JsonBody) -> Result<Self, AppError> {
        Ok(Self { mfa_token: body.string("mfa_token")?, code: body.string("code")? })
    }
}

/// A code from the authenticator app.
#[derive(ToSchema)]
pub struct Code<'a> {
    /// Six digits.
    pub code: &'a str,
}

impl<'a> Code<'a> {
    pub fn read(body: &'a JsonBody) -> Result<Self, AppError> {
        Ok(Self { code: body.string("code")? })
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
    /// The `token` parameter of the reset link.
    #[schema(pattern = "^grs_[A-Za-z0-9_-]+$")]
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
    #[schema(value_type = crate::domain::Role)]
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

/// The answer to a right password for an account with a second factor:
/// no session yet. Send `mfa_token` with a code to `POST /api/login/mfa`.
#[derive(Serialize, ToSchema)]
pub struct MfaRequired {
    /// Always `true`.
    pub mfa_required: bool,
    /// Single-use, for this sign-in only; never a Bearer token.
    pub mfa_token: String,
    /// What the second step accepts: `totp`, `recovery_code`.
    pub methods: Vec<&'static str>,
    /// Seconds the `mfa_token` stays usable.
    pub expires_in: i64,
}

/// What `POST /api/login` answers: tokens, or the demand for a second step.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum LoginAnswer {
    Tokens(TokenPair),
    SecondStep(MfaRequired),
}

/// A pending authenticator app: add it to the app, then confirm a code.
#[derive(Serialize, ToSchema)]
pub struct TotpEnrolment {
    /// Base32, to type into the app by hand.
    pub secret: String,
    /// `otpauth://totp/...`, what a QR code would carry.
    pub otpauth_uri: String,
}

/// Single-use recovery codes, shown this once: only their hashes are kept.
#[derive(Serialize, ToSchema)]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
    /// A new access token: this session has shown a second factor (after
    /// turning the app on).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
}

/// The caller's second factors.
#[derive(Serialize, ToSchema)]
pub struct Factors {
    /// `off`, `pending` (added, not yet confirmed) or `on`.
    pub totp: &'static str,
    /// Unused recovery codes.
    pub recovery_codes_left: i64,
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

/// An audit event's outcome, to filter by.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    Failure,
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

/// The first half of a passkey ceremony.
#[derive(Serialize, ToSchema)]
pub struct PasskeyOptions {
    /// Single-use, for 5 minutes (`gwa_...`): send it back with the answer.
    pub ceremony: String,
    /// For the browser: `navigator.credentials.create(options)` or
    /// `.get(options)`, after decoding the base64url fields of
    /// `publicKey` (WebAuthn Level 3's `parse...OptionsFromJSON` do).
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
}

/// A new passkey: the ceremony, a name, and the browser's answer.
#[derive(ToSchema)]
pub struct NewPasskey<'a> {
    /// From `POST /api/passkeys/options`.
    pub ceremony: &'a str,
    /// How the passkey is listed, 1 to 64 characters.
    pub name: &'a str,
    /// The `PublicKeyCredential` from `navigator.credentials.create`, as
    /// its `toJSON()` gives it.
    #[schema(value_type = Object)]
    pub credential: webauthn_rs::prelude::RegisterPublicKeyCredential,
}

impl<'a> NewPasskey<'a> {
    pub fn read(body: &'a JsonBody) -> Result<Self, AppError> {
        Ok(Self {
            ceremony: body.string("ceremony")?,
            name: body.string("name")?,
            credential: body.object("credential")?,
        })
    }
}

/// A passkey's answer to a sign-in or confirmation ceremony.
#[derive(ToSchema)]
pub struct PasskeyAnswer<'a> {
    /// From the matching `.../options` call.
    pub ceremony: &'a str,
    /// The `PublicKeyCredential` from `navigator.credentials.get`, as its
    /// `toJSON()` gives it.
    #[schema(value_type = Object)]
    pub credential: webauthn_rs::prelude::PublicKeyCredential,
}

impl<'a> PasskeyAnswer<'a> {
    pub fn read(body: &'a JsonBody) -> Result<Self, AppError> {
        Ok(Self { ceremony: body.string("ceremony")?, credential: body.object("credential")? })
    }
}

/// A passkey on the caller's account.
#[derive(Serialize, ToSchema)]
pub struct PasskeyView {
    /// The credential ID (base64url).
    pub id: String,
    pub name: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds; absent if never used to sign in.
    pub last_used_at: Option<i64>,
}

/// A passkey just added, and an access token that says this session has
/// shown it.
#[derive(Serialize, ToSchema)]
pub struct PasskeyAdded {
    pub passkey: PasskeyView,
    pub access_token: String,
}
