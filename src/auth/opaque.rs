//! Opaque bearer secrets: refresh tokens and password-reset links. Random
//! bytes from the OS behind a prefix that names their purpose, stored only
//! as a SHA-256 hash. Each purpose is its own type, so a reset secret can
//! never be handed to code that expects a refresh token, and each parser
//! accepts only its own prefix.

use std::fmt;
use std::marker::PhantomData;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

const SECRET_BYTES: usize = 32;
/// 32 bytes in unpadded base64url.
const BODY_LEN: usize = 43;

/// What a kind of opaque token is for.
pub trait Purpose {
    /// Begins every token of this kind, e.g. `grt_`.
    const PREFIX: &'static str;
    /// For `Debug` output.
    const NAME: &'static str;
}

/// Refresh tokens (`grt_…`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refresh {}

impl Purpose for Refresh {
    const PREFIX: &'static str = "grt_";
    const NAME: &'static str = "RefreshToken";
}

/// Password-reset secrets (`grs_…`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reset {}

impl Purpose for Reset {
    const PREFIX: &'static str = "grs_";
    const NAME: &'static str = "ResetToken";
}

/// The credential of a password sign-in that still owes its second step
/// (`gmf_…`): short-lived, single-use, never a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecondStep {}

impl Purpose for SecondStep {
    const PREFIX: &'static str = "gmf_";
    const NAME: &'static str = "SecondStepToken";
}

/// The handle of a WebAuthn ceremony under way (`gwa_…`): names the
/// stored challenge, single-use, short-lived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ceremony {}

impl Purpose for Ceremony {
    const PREFIX: &'static str = "gwa_";
    const NAME: &'static str = "CeremonyHandle";
}

/// A secret in the clear: handed out once, never stored.
pub struct Opaque<P: Purpose>(String, PhantomData<P>);

impl<P: Purpose> Opaque<P> {
    /// A new secret from the OS CSPRNG.
    ///
    /// # Errors
    /// When the operating system has no randomness to give.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut secret = [0u8; SECRET_BYTES];
        getrandom::fill(&mut secret)?;
        Ok(Self(format!("{}{}", P::PREFIX, URL_SAFE_NO_PAD.encode(secret)), PhantomData))
    }

    /// Accepts only the exact shape this server issues for this purpose,
    /// so junk of any size is refused before it is hashed or looked up.
    pub fn parse(presented: &str) -> Option<Self> {
        let body = presented.strip_prefix(P::PREFIX)?;
        (body.len() == BODY_LEN && body.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
            .then(|| Self(presented.to_owned(), PhantomData))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the database stores and looks up.
    pub fn hash(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(self.0.as_bytes()))
    }
}

impl<P: Purpose> Clone for Opaque<P> {
    fn clone(&self) -> Self {
        Self(self.0.clone(), PhantomData)
    }
}

impl<P: Purpose> PartialEq for Opaque<P> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<P: Purpose> Eq for Opaque<P> {}

impl<P: Purpose> fmt::Debug for Opaque<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(<redacted>)", P::NAME)
    }
}

/// A refresh token in the clear.
pub type RefreshToken = Opaque<Refresh>;
/// A password-reset secret in the clear.
pub type ResetToken = Opaque<Reset>;
/// A second step's credential in the clear.
pub type SecondStepToken = Opaque<SecondStep>;
/// A WebAuthn ceremony's handle in the clear.
pub type CeremonyHandle = Opaque<Ceremony>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_parse_back_and_hash_stably() {
        let t = RefreshToken::generate().unwrap();
        assert_eq!(t.expose().len(), 4 + BODY_LEN);
        let parsed = RefreshToken::parse(t.expose()).unwrap();
        assert_eq!(parsed.hash(), t.hash());
        assert_ne!(RefreshToken::generate().unwrap().hash(), t.hash());
        assert!(!format!("{t:?}").contains(&t.expose()[4..]));
    }

    #[test]
    fn anything_but_our_exact_shape_is_refused_unhashed() {
        let good = RefreshToken::generate().unwrap();
        let wrong_prefix = format!("xrt_{}", &good.expose()[4..]);
        for junk in ["", "grt_", "grt_short", "eyJhbGciOiJIUzI1NiJ9.e30.sig", &wrong_prefix, &"a".repeat(70_000)] {
            assert!(RefreshToken::parse(junk).is_none(), "{}", &junk[..junk.len().min(20)]);
        }
        let with_dot = format!("{}.", &good.expose()[..good.expose().len() - 1]);
        assert!(RefreshToken::parse(&with_dot).is_none());
    }

    #[test]
    fn one_purpose_never_parses_as_another() {
        let reset = ResetToken::generate().unwrap();
        let refresh = RefreshToken::generate().unwrap();
        assert!(RefreshToken::parse(reset.expose()).is_none());
        assert!(ResetToken::parse(refresh.expose()).is_none());
        let step = SecondStepToken::generate().unwrap();
        assert!(step.expose().starts_with("gmf_"));
        assert!(RefreshToken::parse(step.expose()).is_none() && SecondStepToken::parse(refresh.expose()).is_none());
        assert!(format!("{reset:?}").starts_with("ResetToken("));
    }
}
