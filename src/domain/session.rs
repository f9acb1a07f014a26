use serde::{Deserialize, Serialize};

use super::AuditEntry;

/// A live session as its owner sees it on the sessions page and in the API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SessionSummary {
    pub id: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds: the last sign-in or refresh.
    pub last_used_at: i64,
    pub user_agent: String,
    pub ip: String,
    /// The session this request is made with.
    pub current: bool,
}

/// What the dashboard shows the signed-in person about their own account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountOverview {
    /// Live sessions, this device first.
    pub sessions: Vec<SessionSummary>,
    /// The successful sign-in before the one this session began with.
    pub previous_sign_in: Option<AuditEntry>,
    /// The newest security events of the account (no routine refreshes).
    pub recent: Vec<AuditEntry>,
}
