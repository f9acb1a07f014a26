//! Refresh tokens: opaque random strings, stored only as a SHA-256 hash,
//! rotated on every use. Pure: the verdict on a presented token is a
//! function of what was stored, the policy and the time.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::clock::UnixTime;

const PREFIX: &str = "grt_";
const SECRET_BYTES: usize = 32;
/// `grt_` and 43 base64url characters.
const TOKEN_LEN: usize = PREFIX.len() + 43;

/// How long sessions live and how concurrent refreshes are told apart
/// from stolen tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RefreshPolicy {
    /// A refresh token unused for this long dies (seconds).
    pub idle_ttl: i64,
    /// A session ends this long after sign-in, however active (seconds).
    pub absolute_ttl: i64,
    /// A token rotated less than this long ago is "superseded", not
    /// "reused": parallel requests from one browser race, thieves do not
    /// arrive within seconds of the owner (seconds).
    pub reuse_grace: i64,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        Self { idle_ttl: 7 * 24 * 3600, absolute_ttl: 30 * 24 * 3600, reuse_grace: 10 }
    }
}

/// A refresh token in the clear: handed to the client once, never stored.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken(String);

impl RefreshToken {
    /// A new token from the OS CSPRNG.
    ///
    /// # Errors
    /// When the operating system has no randomness to give.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut secret = [0u8; SECRET_BYTES];
        getrandom::fill(&mut secret)?;
        Ok(Self(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(secret))))
    }

    /// Accepts only the exact shape this server issues, so junk of any
    /// size is refused before it is hashed or looked up.
    pub fn parse(presented: &str) -> Option<Self> {
        let body = presented.strip_prefix(PREFIX)?;
        (presented.len() == TOKEN_LEN && body.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
            .then(|| Self(presented.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the database stores and looks up.
    pub fn hash(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(self.0.as_bytes()))
    }
}

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshToken(<redacted>)")
    }
}

/// What the server knows about a presented refresh token.
#[derive(Clone, Copy, Debug)]
pub struct Stored {
    pub issued_at: UnixTime,
    pub rotated_at: Option<UnixTime>,
    pub session_created_at: UnixTime,
    pub session_revoked: bool,
}

/// What to do with a presented refresh token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Valid and current: rotate it.
    Rotate,
    /// Rotated moments ago by a concurrent request of the same client: no
    /// new tokens, no alarm.
    Superseded,
    /// Rotated long ago and presented again: someone kept a copy. The
    /// whole session must end.
    Reused,
    /// Past its idle or absolute limit.
    Expired,
    /// Its session was ended.
    Revoked,
}

/// Judges a presented token.
pub fn judge(stored: &Stored, policy: &RefreshPolicy, now: UnixTime) -> Verdict {
    if stored.session_revoked {
        return Verdict::Revoked;
    }
    if let Some(rotated) = stored.rotated_at {
        return if now - rotated <= policy.reuse_grace { Verdict::Superseded } else { Verdict::Reused };
    }
    if now >= stored.issued_at + policy.idle_ttl || now >= stored.session_created_at + policy.absolute_ttl {
        return Verdict::Expired;
    }
    Verdict::Rotate
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: UnixTime = 1_900_000_000;
    const POLICY: RefreshPolicy = RefreshPolicy { idle_ttl: 100, absolute_ttl: 1000, reuse_grace: 10 };

    fn fresh(issued_at: UnixTime) -> Stored {
        Stored { issued_at, rotated_at: None, session_created_at: T0, session_revoked: false }
    }

    #[test]
    fn generated_tokens_parse_back_and_hash_stably() {
        let t = RefreshToken::generate().unwrap();
        assert_eq!(t.expose().len(), TOKEN_LEN);
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
        let with_dot = format!("{}.", &good.expose()[..TOKEN_LEN - 1]);
        assert!(RefreshToken::parse(&with_dot).is_none());
    }

    #[test]
    fn a_current_token_rotates_until_its_idle_limit() {
        assert_eq!(judge(&fresh(T0), &POLICY, T0 + 99), Verdict::Rotate);
        assert_eq!(judge(&fresh(T0), &POLICY, T0 + 100), Verdict::Expired);
    }

    #[test]
    fn the_absolute_limit_holds_however_active_the_session_is() {
        // Rotated a moment ago, but the session is 1000 s old.
        assert_eq!(judge(&fresh(T0 + 990), &POLICY, T0 + 999), Verdict::Rotate);
        assert_eq!(judge(&fresh(T0 + 990), &POLICY, T0 + 1000), Verdict::Expired);
    }

    #[test]
    fn a_rotated_token_is_superseded_within_the_grace_and_reused_after() {
        let s = Stored { rotated_at: Some(T0 + 50), ..fresh(T0) };
        assert_eq!(judge(&s, &POLICY, T0 + 50), Verdict::Superseded);
        assert_eq!(judge(&s, &POLICY, T0 + 60), Verdict::Superseded);
        assert_eq!(judge(&s, &POLICY, T0 + 61), Verdict::Reused);
        // Reuse is reported even after the token would have expired anyway.
        assert_eq!(judge(&s, &POLICY, T0 + 5000), Verdict::Reused);
    }

    #[test]
    fn a_revoked_session_wins_over_everything() {
        let s = Stored { session_revoked: true, rotated_at: Some(T0), ..fresh(T0) };
        assert_eq!(judge(&s, &POLICY, T0 + 1), Verdict::Revoked);
    }
}
