//! Writing down what happened: the audit event a client's action makes,
//! and recording it when it accompanies no stored change of its own.
//! Used by every flow of `accounts`, `administer` and `attempts` alike.

use crate::auth::caller::Client;
use crate::auth::clock::UnixTime;
use crate::db::audit::{self, Event};
use crate::domain::AuditKind;
use crate::state::AppState;

/// An audit event of `kind` by `client` now, successful, about no one yet:
/// callers fill in the rest with struct update syntax.
pub(crate) fn event<'a>(kind: AuditKind, client: &'a Client, at: UnixTime) -> Event<'a> {
    Event {
        kind,
        success: true,
        actor_id: None,
        subject_id: None,
        username: None,
        ip: &client.ip,
        user_agent: &client.user_agent,
        detail: "",
        at,
    }
}

/// Records an event that accompanies no stored change of its own (a
/// refused attempt, a throttle). A failure is logged, not passed on: the
/// person's request is not refused because the record could not be
/// written. An event that goes with a change is written in the change's
/// transaction instead.
pub(crate) async fn note(state: &AppState, event: &Event<'_>) {
    if let Err(e) = audit::record(state.db.pool(), event).await {
        tracing::error!(error = %crate::error::chain(&e), kind = event.kind.as_str(), "could not record an audit event");
    }
}
