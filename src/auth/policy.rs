//! Limits on what accounts may do, in seconds. Plain data, set from
//! configuration.

/// Time limits on what accounts may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountPolicy {
    /// Sensitive actions need a sign-in or password confirmation within
    /// this many seconds.
    pub reauth_window: i64,
    /// A password-reset link works for this many seconds.
    pub reset_ttl: i64,
    /// Audit events are kept this many seconds.
    pub audit_retention: i64,
}

impl Default for AccountPolicy {
    fn default() -> Self {
        Self { reauth_window: 10 * 60, reset_ttl: 30 * 60, audit_retention: 90 * 86_400 }
    }
}
