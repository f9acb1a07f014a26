use serde::{Deserialize, Serialize};

use super::{AuditEntry, AuditKind, SessionId};

/// How a person proved who they are, by the names of RFC 8176 (the
/// tokens' `amr` claim). Each factor Gatehouse learns adds its name here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum AuthMethod {
    /// A password.
    #[serde(rename = "pwd")]
    Password,
    /// A one-time code: from an authenticator app, or a recovery code.
    #[serde(rename = "otp")]
    OneTimeCode,
    /// A passkey bound to its device ("hardware-secured key").
    #[serde(rename = "hwk")]
    HardwareKey,
    /// A passkey that syncs between devices ("software-secured key").
    #[serde(rename = "swk")]
    SoftwareKey,
}

impl AuthMethod {
    /// The RFC 8176 name, as stored and in tokens.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Password => "pwd",
            Self::OneTimeCode => "otp",
            Self::HardwareKey => "hwk",
            Self::SoftwareKey => "swk",
        }
    }

    /// Whether it is a second factor: what a policy that requires two
    /// factors looks for in a session. A passkey counts as two on its own
    /// (the device, and the PIN or biometric that unlocked it).
    pub fn is_second_factor(self) -> bool {
        match self {
            Self::Password => false,
            Self::OneTimeCode | Self::HardwareKey | Self::SoftwareKey => true,
        }
    }

    /// In words, for the sessions list.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Password => "a password",
            Self::OneTimeCode => "a one-time code",
            Self::HardwareKey | Self::SoftwareKey => "a passkey",
        }
    }

    /// Space-separated names, as stored.
    pub fn encode(methods: &[Self]) -> String {
        methods.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(" ")
    }

    /// The stored form. A name this server does not know (written by a
    /// newer version, during a rolling deploy or after a rollback) is
    /// skipped, not an error: the session still works.
    pub fn decode(stored: &str) -> Vec<Self> {
        stored
            .split_whitespace()
            .filter_map(|name| match name {
                "pwd" => Some(Self::Password),
                "otp" => Some(Self::OneTimeCode),
                "hwk" => Some(Self::HardwareKey),
                "swk" => Some(Self::SoftwareKey),
                _ => None,
            })
            .collect()
    }
}

/// A live session as its owner sees it on the sessions page and in the API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SessionSummary {
    pub id: SessionId,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds: the last sign-in or refresh.
    pub last_used_at: i64,
    pub user_agent: String,
    pub ip: String,
    /// The session this request is made with.
    pub current: bool,
    /// How it was signed in.
    pub methods: Vec<AuthMethod>,
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

/// The newest successful sign-in to the account other than the one that
/// began this session (at `this_began`), among `events`, newest first;
/// `None` when `events` holds no other.
pub fn previous_sign_in(events: &[AuditEntry], this_began: i64) -> Option<AuditEntry> {
    let succeeded = || events.iter().filter(|e| e.kind == AuditKind::SignIn && e.success);
    // A session's start and its sign-in's event share one clock reading.
    let began_this = succeeded().find(|e| e.at <= this_began).map(|e| &e.id);
    succeeded().find(|e| Some(&e.id) != began_this).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(at: i64, kind: AuditKind, success: bool) -> AuditEntry {
        AuditEntry {
            id: format!("e{at}"),
            at,
            kind,
            success,
            actor: None,
            subject: Some("ada".into()),
            ip: String::new(),
            user_agent: String::new(),
            detail: String::new(),
        }
    }

    #[test]
    fn the_previous_sign_in_skips_the_one_that_began_this_session_and_failures() {
        let events = [
            event(100, AuditKind::SignIn, true),
            event(90, AuditKind::SignIn, false),
            event(80, AuditKind::SignOut, true),
            event(70, AuditKind::SignIn, true),
            event(60, AuditKind::SignIn, true),
        ];
        assert_eq!(previous_sign_in(&events, 100).map(|e| e.at), Some(70));
        // Another device signed in after this session began: that is the
        // one to know about.
        assert_eq!(previous_sign_in(&events, 70).map(|e| e.at), Some(100));
        assert_eq!(previous_sign_in(&events, 50).map(|e| e.at), Some(100));
        assert_eq!(previous_sign_in(&events[..3], 100), None, "only this session's sign-in");
        assert_eq!(previous_sign_in(&[], 100), None);
    }
}

#[cfg(test)]
mod method_tests {
    use super::AuthMethod;

    #[test]
    fn methods_are_stored_and_signed_by_their_rfc_8176_names() {
        assert_eq!(AuthMethod::encode(&[AuthMethod::Password]), "pwd");
        assert_eq!(AuthMethod::decode("pwd"), [AuthMethod::Password]);
        assert_eq!(AuthMethod::decode("hwk-from-the-future pwd"), [AuthMethod::Password]);
        assert!(AuthMethod::decode("").is_empty());
        let both = [AuthMethod::Password, AuthMethod::OneTimeCode];
        assert_eq!(AuthMethod::decode(&AuthMethod::encode(&both)), both);
        assert_eq!(AuthMethod::encode(&both), "pwd otp");
        assert_eq!(serde_json::to_string(&[AuthMethod::Password]).unwrap(), r#"["pwd"]"#);
    }
}
