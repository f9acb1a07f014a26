//! What administrators see: accounts and the audit trail. Plain data
//! shared by the server and the browser.

use serde::{Deserialize, Serialize};

use super::{Role, UserId};

/// One account in the administrators' list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserSummary {
    pub id: UserId,
    pub username: String,
    pub role: Role,
    pub disabled: bool,
    /// Unix seconds.
    pub created_at: i64,
    /// Sessions not yet ended (some may have run out of time already).
    pub open_sessions: i64,
    /// Second factors the account has: `totp`.
    pub factors: Vec<String>,
}

/// One page of a list, with what is needed to page through it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Paged<T> {
    pub items: Vec<T>,
    /// 1-based.
    pub page: u32,
    pub per_page: u32,
    /// Matching rows over all pages.
    pub total: i64,
}

impl<T> Paged<T> {
    pub const PER_PAGE: u32 = 20;

    pub fn has_previous(&self) -> bool {
        self.page > 1
    }

    pub fn has_next(&self) -> bool {
        i64::from(self.page) * i64::from(self.per_page) < self.total
    }

    /// The SQL `LIMIT` and `OFFSET` of 1-based page `page`.
    pub fn window(page: u32) -> (i64, i64) {
        let per_page = i64::from(Self::PER_PAGE);
        (per_page, i64::from(page.saturating_sub(1)) * per_page)
    }

    /// 1-based page numbers are clamped to `1..=1_000_000`.
    pub fn clamp(page: Option<u32>) -> u32 {
        page.unwrap_or(1).clamp(1, 1_000_000)
    }
}

/// What an audit event records. Stored by name; the names are stable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    SignIn,
    SignOut,
    Refresh,
    RefreshReuse,
    Reauthenticate,
    Register,
    PasswordChange,
    ResetIssued,
    ResetUsed,
    RoleChange,
    Disable,
    Enable,
    SessionsEnded,
    /// Too many guesses: an account or an address was locked for a while.
    Throttled,
    /// A code typed after the password (or to confirm who one is).
    SecondStep,
    FactorAdded,
    FactorRemoved,
    RecoveryCodesRenewed,
    /// An administrator removed every second factor of an account.
    FactorsReset,
}

impl AuditKind {
    pub const ALL: [Self; 19] = [
        Self::SignIn,
        Self::SignOut,
        Self::Refresh,
        Self::RefreshReuse,
        Self::Reauthenticate,
        Self::Register,
        Self::PasswordChange,
        Self::ResetIssued,
        Self::ResetUsed,
        Self::RoleChange,
        Self::Disable,
        Self::Enable,
        Self::SessionsEnded,
        Self::Throttled,
        Self::SecondStep,
        Self::FactorAdded,
        Self::FactorRemoved,
        Self::RecoveryCodesRenewed,
        Self::FactorsReset,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignIn => "sign_in",
            Self::SignOut => "sign_out",
            Self::Refresh => "refresh",
            Self::RefreshReuse => "refresh_reuse",
            Self::Reauthenticate => "reauthenticate",
            Self::Register => "register",
            Self::PasswordChange => "password_change",
            Self::ResetIssued => "reset_issued",
            Self::ResetUsed => "reset_used",
            Self::RoleChange => "role_change",
            Self::Disable => "disable",
            Self::Enable => "enable",
            Self::SessionsEnded => "sessions_ended",
            Self::Throttled => "throttled",
            Self::SecondStep => "second_step",
            Self::FactorAdded => "factor_added",
            Self::FactorRemoved => "factor_removed",
            Self::RecoveryCodesRenewed => "recovery_codes_renewed",
            Self::FactorsReset => "factors_reset",
        }
    }

    pub fn from_stored(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// For people.
    pub fn label(self) -> &'static str {
        match self {
            Self::SignIn => "Sign-in",
            Self::SignOut => "Sign-out",
            Self::Refresh => "Token refresh",
            Self::RefreshReuse => "Refresh token reuse",
            Self::Reauthenticate => "Password confirmed",
            Self::Register => "Account created",
            Self::PasswordChange => "Password changed",
            Self::ResetIssued => "Reset link issued",
            Self::ResetUsed => "Reset link used",
            Self::RoleChange => "Role changed",
            Self::Disable => "Account disabled",
            Self::Enable => "Account enabled",
            Self::SessionsEnded => "Sessions ended",
            Self::Throttled => "Throttle triggered",
            Self::SecondStep => "Second step",
            Self::FactorAdded => "Second factor added",
            Self::FactorRemoved => "Second factor removed",
            Self::RecoveryCodesRenewed => "New recovery codes",
            Self::FactorsReset => "Two-step sign-in reset",
        }
    }
}

/// One audit event as administrators see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub id: String,
    /// Unix seconds.
    pub at: i64,
    pub kind: AuditKind,
    pub success: bool,
    /// Who acted, by name, when known.
    pub actor: Option<String>,
    /// Whose account it concerned, by name, when known.
    pub subject: Option<String>,
    pub ip: String,
    pub user_agent: String,
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_stored_names() {
        for k in AuditKind::ALL {
            assert_eq!(AuditKind::from_stored(k.as_str()), Some(k));
        }
        assert_eq!(AuditKind::from_stored("drop table"), None);
    }

    #[test]
    fn paging_knows_its_ends() {
        let p = Paged::<()> { items: vec![], page: 1, per_page: 20, total: 20 };
        assert!(!p.has_previous() && !p.has_next());
        let p = Paged::<()> { items: vec![], page: 2, per_page: 20, total: 41 };
        assert!(p.has_previous() && p.has_next());
        assert_eq!(Paged::<()>::clamp(Some(0)), 1);
        assert_eq!(Paged::<()>::window(1), (20, 0));
        assert_eq!(Paged::<()>::window(3), (20, 40));
    }
}
