//! The one error type at every boundary: server functions send it to the
//! browser as JSON, the JSON API turns it into a status and `{"msg": ...}`.
//! Its text is always safe to show; internal causes are logged where they
//! happen and never travel to the client.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// What went wrong, in words a person can act on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// Input was refused; `field` names the form field when one is to blame.
    #[error("{message}")]
    Invalid { field: Option<String>, message: String },
    /// The same answer for an unknown user and a wrong password.
    #[error("Bad username or password")]
    BadCredentials,
    /// No usable credential: the message says which problem.
    #[error("{0}")]
    Unauthorized(String),
    /// Signed in, but not recently enough for a sensitive action: the
    /// person confirms their password and tries again.
    #[error("For your security, confirm your password to continue.")]
    ReauthRequired,
    /// Signed in, but this account must have two-step sign-in
    /// (`GATEHOUSE_REQUIRE_MFA`) and this session has shown no second
    /// factor: the person sets one up, or confirms with it.
    #[error("Your account needs two-step sign-in. Set it up to continue.")]
    SecondFactorRequired,
    /// Authenticated (or not needed), but not allowed.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooLarge(String),
    /// A method nothing at this address answers to.
    #[error("Method not allowed on this endpoint")]
    MethodNotAllowed,
    /// Too many guesses: the same answer whether or not the account exists.
    #[error("Too many attempts. Wait {} and try again.", wait_in_words(*retry_after))]
    TooManyAttempts { retry_after: i64 },
    #[error("The server is busy. Please try again in a few seconds.")]
    Busy,
    /// The database cannot be reached; the service recovers by itself
    /// when it is back.
    #[error("Gatehouse cannot reach its database right now. Please try again in a moment.")]
    Unavailable,
    /// The database has no room left to write: nothing was changed, and
    /// reads go on working until whoever runs the service frees space.
    #[error(
        "Gatehouse cannot save anything right now: its database is out of space. Nothing was changed; please try again later."
    )]
    StorageFull,
    /// Something failed that the person cannot fix. `reference` is the
    /// request's id, to quote to whoever runs the service: the log lines
    /// of the cause carry the same id.
    #[error("Something went wrong on our side. Please try again in a moment.")]
    Internal { reference: Option<String> },
    /// Only produced in the browser, when the server could not be reached.
    #[error("Could not reach the server. Check your connection and try again.")]
    Network,
}

impl AppError {
    /// A refused field, with the message to show beside it.
    pub fn invalid(field: &str, message: impl ToString) -> Self {
        Self::Invalid { field: Some(field.to_owned()), message: message.to_string() }
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            Self::Invalid { .. } => 400,
            Self::BadCredentials | Self::Unauthorized(_) | Self::ReauthRequired => 401,
            Self::Forbidden(_) | Self::SecondFactorRequired => 403,
            Self::NotFound(_) => 404,
            Self::Conflict(_) => 409,
            Self::MethodNotAllowed => 405,
            Self::TooLarge(_) => 413,
            Self::TooManyAttempts { .. } => 429,
            Self::Busy | Self::Unavailable | Self::StorageFull | Self::Network => 503,
            Self::Internal { .. } => 500,
        }
    }

    /// [`Self::status`] as the HTTP type.
    #[cfg(feature = "ssr")]
    pub fn status_code(&self) -> axum::http::StatusCode {
        axum::http::StatusCode::from_u16(self.status()).unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// Seconds to wait before trying again, for a `Retry-After` header.
    pub fn retry_after(&self) -> Option<i64> {
        match self {
            Self::TooManyAttempts { retry_after } => Some((*retry_after).max(1)),
            // A queue of password checks drains in about a second.
            Self::Busy => Some(1),
            _ => None,
        }
    }

    /// Logs `cause` with its whole chain and returns the generic error: the
    /// client learns only that something failed, and which request it was.
    #[cfg(feature = "ssr")]
    #[track_caller]
    pub fn internal(cause: &(dyn std::error::Error + 'static)) -> Self {
        let at = std::panic::Location::caller();
        tracing::error!(error = %chain(cause), at = %at, "internal error");
        Self::unexpected()
    }

    /// The generic error, naming the request being served (the
    /// `X-Request-Id` the server gave it) when there is one.
    pub fn unexpected() -> Self {
        Self::Internal { reference: request_id() }
    }
}

/// The id of the request being served, inside a page render or server
/// function (elsewhere, and in the browser, there is none).
fn request_id() -> Option<String> {
    #[cfg(feature = "ssr")]
    {
        request_id_in(&leptos::prelude::use_context::<axum::http::request::Parts>()?.headers)
    }
    #[cfg(not(feature = "ssr"))]
    None
}

/// The id a request with `headers` was given, fit to show to a person.
#[cfg(feature = "ssr")]
pub fn request_id_in(headers: &axum::http::HeaderMap) -> Option<String> {
    let id = headers.get(REQUEST_ID)?.to_str().ok()?;
    // Our own ids are UUIDs; a client's odd one is not echoed.
    (id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')).then(|| id.to_owned())
}

/// The header naming each request, set on the way in and echoed on the
/// response.
pub const REQUEST_ID: &str = "x-request-id";

impl From<crate::domain::Refusal> for AppError {
    fn from(refusal: crate::domain::Refusal) -> Self {
        use crate::domain::Refusal;
        match refusal {
            Refusal::SignIn => Self::Unauthorized("Sign in to continue.".into()),
            Refusal::Reauthenticate => Self::ReauthRequired,
            Refusal::Forbidden => Self::Forbidden("You do not have permission to do that.".into()),
            Refusal::SetUpSecondFactor => Self::SecondFactorRequired,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // The form did not match the function's arguments: the
            // library's own text would name Rust types, so it is replaced.
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => Self::Invalid {
                field: None,
                message: "The form could not be read. Reload the page and try again.".into(),
            },
            // On the server this is the body failing to read as text:
            // bytes that are not UTF-8, whatever the content type says.
            #[cfg(feature = "ssr")]
            ServerFnErrorErr::Deserialization(_) => Self::Invalid { field: None, message: NOT_TEXT.into() },
            ServerFnErrorErr::Request(_) => Self::Network,
            _ => Self::unexpected(),
        }
    }
}

/// What a request body that is not UTF-8 text is told.
pub const NOT_TEXT: &str = "The form held characters that are not text (UTF-8). Reload the page and type it again.";

/// An error and all its causes on one line, for the logs.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// "40 seconds", "3 minutes", "1 hour": a wait, rounded up, in words.
fn wait_in_words(secs: i64) -> String {
    const MINUTE: i64 = 60;
    const HOUR: i64 = 3600;
    let secs = secs.max(1);
    let (n, unit) = if secs < MINUTE {
        (secs, "second")
    } else if secs < HOUR {
        ((secs + MINUTE - 1) / MINUTE, "minute")
    } else {
        ((secs + HOUR - 1) / HOUR, "hour")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_read_as_words() {
        let said = |secs| AppError::TooManyAttempts { retry_after: secs }.to_string();
        assert_eq!(said(1), "Too many attempts. Wait 1 second and try again.");
        assert_eq!(said(30), "Too many attempts. Wait 30 seconds and try again.");
        assert_eq!(said(61), "Too many attempts. Wait 2 minutes and try again.");
        assert_eq!(said(900), "Too many attempts. Wait 15 minutes and try again.");
        assert_eq!(said(3600), "Too many attempts. Wait 1 hour and try again.");
    }
}
