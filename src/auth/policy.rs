//! Limits on what accounts may do, in seconds. Plain data, set from
//! configuration.

/// Who must have a second factor (`GATEHOUSE_REQUIRE_MFA`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SecondFactorPolicy {
    /// Nobody; anyone may turn one on.
    #[default]
    None,
    /// Administrators.
    Admins,
    /// Everyone.
    All,
}

impl SecondFactorPolicy {
    /// From `none`, `admins` or `all`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "none" => Some(Self::None),
            "admins" => Some(Self::Admins),
            "all" => Some(Self::All),
            _ => None,
        }
    }

    /// Whether a person of `role` must have a second factor.
    pub fn requires(self, role: crate::domain::Role) -> bool {
        match self {
            Self::None => false,
            Self::Admins => role == crate::domain::Role::Admin,
            Self::All => true,
        }
    }
}

/// Time limits on what accounts may do, and who needs a second factor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountPolicy {
    /// Sensitive actions need a sign-in or password confirmation within
    /// this many seconds.
    pub reauth_window: i64,
    /// A password-reset link works for this many seconds.
    pub reset_ttl: i64,
    /// Audit events are kept this many seconds.
    pub audit_retention: i64,
    pub second_factor: SecondFactorPolicy,
}

impl Default for AccountPolicy {
    fn default() -> Self {
        Self {
            reauth_window: 10 * 60,
            reset_ttl: 30 * 60,
            audit_retention: 90 * 86_400,
            second_factor: SecondFactorPolicy::None,
        }
    }
}
