//! The one-time message a page shows after a redirect: "You have been
//! signed out", or why a form posted without JavaScript was refused (with
//! the username that was typed, never a password).
//!
//! It travels in a short-lived HttpOnly cookie, never in the URL, so a
//! link cannot make Gatehouse say something it did not say, and a reload
//! or a bookmark does not repeat it. The first page that renders it takes
//! it and clears the cookie.

use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// What the next page shows once.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flash {
    /// Something that went well.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
    /// Why the form on the page was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<AppError>,
    /// The username typed into the refused form, to fill it in again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// New recovery codes, after a plain form post made them: shown once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_codes: Option<Vec<String>>,
}

/// Recovery codes never reach a log.
impl std::fmt::Debug for Flash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Flash")
            .field("notice", &self.notice)
            .field("error", &self.error)
            .field("username", &self.username)
            .field("recovery_codes", &self.recovery_codes.as_ref().map(|c| format!("{} codes", c.len())))
            .finish()
    }
}

impl Flash {
    pub fn notice(text: impl Into<String>) -> Self {
        Self { notice: Some(text.into()), ..Self::default() }
    }
}

/// The longest username kept for the form: a real one is at most 32
/// characters, so anything longer is not worth keeping.
#[cfg(feature = "ssr")]
const MAX_KEPT_USERNAME: usize = 128;

/// A flash's cookie form grows no larger than this; a message that would
/// need more is dropped rather than cut.
#[cfg(feature = "ssr")]
pub const MAX_ENCODED: usize = 1024;

#[cfg(feature = "ssr")]
impl Flash {
    /// A refused form post: its error, and the username typed into it.
    pub fn failed(error: AppError, typed_username: Option<String>) -> Self {
        let username = typed_username.filter(|u| !u.is_empty() && u.len() <= MAX_KEPT_USERNAME);
        Self { error: Some(error), username, ..Self::default() }
    }

    /// The cookie value: JSON in unpadded base64url, or `None` when it
    /// would be too large for a cookie.
    pub fn encode(&self) -> Option<String> {
        use base64::Engine as _;
        let json = serde_json::to_vec(self).ok()?;
        let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
        (text.len() <= MAX_ENCODED).then_some(text)
    }

    /// Reads a cookie value; anything malformed or oversized is no flash.
    pub fn decode(text: &str) -> Option<Self> {
        use base64::Engine as _;
        if text.len() > MAX_ENCODED {
            return None;
        }
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).ok()?;
        serde_json::from_slice(&json).ok()
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn a_flash_survives_its_cookie_form() {
        let flash = Flash::failed(AppError::TooManyAttempts { retry_after: 90 }, Some("alice".into()));
        let text = flash.encode().unwrap();
        assert!(text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{text}");
        assert_eq!(Flash::decode(&text), Some(flash));
        assert_eq!(Flash::decode(&Flash::notice("Signed out.").encode().unwrap()), Some(Flash::notice("Signed out.")));
    }

    #[test]
    fn passwords_never_and_absurd_usernames_are_not_kept() {
        let flash = Flash::failed(AppError::BadCredentials, Some("x".repeat(129)));
        assert_eq!(flash.username, None);
        assert_eq!(Flash::failed(AppError::BadCredentials, Some(String::new())).username, None);
        let json = serde_json::to_string(&Flash::failed(AppError::BadCredentials, Some("bob".into()))).unwrap();
        assert!(!json.contains("password"), "{json}");
    }

    #[test]
    fn garbage_and_oversized_values_are_no_flash() {
        for text in ["", "not base64!", "e30", "bnVsbA", &"A".repeat(MAX_ENCODED + 1)] {
            // "e30" is `{}`: a valid, empty flash.
            let decoded = Flash::decode(text);
            assert!(decoded.is_none() || decoded == Some(Flash::default()), "{text}: {decoded:?}");
        }
        assert_eq!(Flash::decode("not base64!"), None);
        assert_eq!(Flash::notice("x".repeat(MAX_ENCODED)).encode(), None, "too large for a cookie");
    }
}
