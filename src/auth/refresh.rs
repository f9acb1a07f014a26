//! Refresh tokens: opaque random strings (see `opaque`), stored only as a
//! SHA-256 hash, rotated on every use. Pure: the verdict on a presented token is a
//! function of what was stored, the policy and the time.

use super::clock::UnixTime;
pub use super::opaque::RefreshToken;

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
