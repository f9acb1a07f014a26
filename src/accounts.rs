//! What people do with their accounts and sessions: register, sign in,
//! confirm their password, refresh, sign out (here, one device, or
//! everywhere), change or reset their password. Used alike by the server
//! functions behind the pages, the JSON API and the command line, so all
//! speak with one set of rules and one set of messages, and every change
//! leaves an audit event.

use axum::http::HeaderValue;

use crate::attempts::{self, PerAddress};
use crate::audit::{event, note};
use crate::auth::caller::{Client, CurrentUser};
use crate::auth::cookies;
use crate::auth::hasher::HasherError;
use crate::auth::opaque::ResetToken;
pub use crate::auth::policy::AccountPolicy;
use crate::auth::refresh::{self, RefreshToken, Verdict};
use crate::auth::token::{self, Grant, Issued};
use crate::db::audit::Event;
use crate::db::{audit, resets, sessions, users};
use crate::domain::{self, AccountOverview, AuditKind, Password, Role, SessionSummary, Username};
use crate::error::{AppError, db_error};
use crate::state::AppState;

/// A new access token and refresh token for one session.
#[derive(Debug)]
pub struct Renewed {
    pub user: CurrentUser,
    pub access: Issued,
    pub refresh: RefreshToken,
}

impl Renewed {
    /// The two cookies a browser keeps them in.
    pub fn cookies(&self, state: &AppState) -> [HeaderValue; 2] {
        [
            cookies::set_access(&self.access.token, self.access.lifetime()),
            cookies::set_refresh(self.refresh.expose(), state.refresh.idle_ttl),
        ]
    }
}

/// The outcome of presenting a refresh token.
#[derive(Debug)]
pub enum Refreshed {
    Renewed(Box<Renewed>),
    /// A concurrent request rotated this token a moment ago: the caller is
    /// who they say, but the new tokens went to that other request.
    Superseded(CurrentUser),
}

/// Why a refresh token was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum RefreshError {
    Invalid,
    Expired,
    SessionEnded,
    /// An already-rotated token came back: the session was ended.
    Reused,
    AccountUnavailable,
    Internal,
}

impl From<RefreshError> for AppError {
    fn from(e: RefreshError) -> Self {
        let msg = match e {
            RefreshError::Invalid => "Refresh token is invalid",
            RefreshError::Expired => "Refresh token has expired; sign in again",
            RefreshError::SessionEnded => "Session has ended; sign in again",
            RefreshError::Reused => "Refresh token was already used; the session has been ended for safety",
            RefreshError::AccountUnavailable => "Account is not available",
            RefreshError::Internal => return AppError::unexpected(),
        };
        AppError::Unauthorized(msg.to_owned())
    }
}

fn hasher_error(e: HasherError) -> AppError {
    match e {
        HasherError::Busy => AppError::Busy,
        other => AppError::internal(&other),
    }
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Registration by a stranger: counted per address (whatever the outcome,
/// so probing for taken names is throttled too), then an ordinary `user`.
///
/// # Errors
/// As [`register`], and [`AppError::TooManyAttempts`].
pub async fn sign_up(state: &AppState, username: &str, password: &str, client: &Client) -> Result<Username, AppError> {
    attempts::count(state, client, PerAddress::Registration).await?;
    register(state, username, password, Role::User, client).await
}

/// Creates an account with `role` (people registering get `user`; only
/// the command line makes administrators).
///
/// # Errors
/// [`AppError::Invalid`] naming the field, [`AppError::Conflict`] when the
/// normalised name is taken.
pub async fn register(
    state: &AppState,
    username: &str,
    password: &str,
    role: Role,
    client: &Client,
) -> Result<Username, AppError> {
    let username = Username::parse(username).map_err(|e| AppError::invalid("username", e))?;
    let password = Password::parse_new(password, &username).map_err(|e| AppError::invalid("password", e))?;
    let hash = state.hasher.hash(password).await.map_err(hasher_error)?;
    let id = new_id();
    let detail = format!("role {role}");
    let event = Event {
        subject_id: Some(&id),
        username: Some(username.as_str()),
        detail: &detail,
        ..event(AuditKind::Register, client, state.clock.now())
    };
    let user = users::NewUser { id: &id, username: &username, password_hash: &hash, role };
    match users::create(&state.db, user, &event).await {
        Ok(()) => {
            tracing::info!(user_id = %id, %role, "account created");
            Ok(username)
        }
        Err(users::CreateError::Taken) => Err(AppError::Conflict("That username is taken. Choose another one.".into())),
        Err(users::CreateError::Db(e)) => Err(db_error(e)),
    }
}

/// Checks a username and password and starts a session on `client`.
///
/// An unknown user, a malformed name, a disabled account and a wrong
/// password all cost one Argon2id verification and get the same answer.
///
/// # Errors
/// [`AppError::BadCredentials`], or [`AppError::Invalid`] for a password
/// that is empty or over the size bound (refused before any hashing).
pub async fn sign_in(state: &AppState, username: &str, password: &str, client: &Client) -> Result<Renewed, AppError> {
    let password = Password::parse_attempt(password).map_err(|e| AppError::invalid("password", e))?;
    // Overload is refused first: it costs nothing and counts as no guess.
    let place = state.hasher.reserve().map_err(hasher_error)?;
    let attempt = attempts::password(state, client, username).await?;
    let user = match Username::parse(username) {
        Ok(name) => users::find_by_username(&state.db, &name).await.map_err(db_error)?,
        Err(_) => None,
    };
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let matched = place.verify(password.clone(), stored).await.map_err(hasher_error)?;
    let now = state.clock.now();
    let user = match user {
        Some(u) if matched && !u.disabled => u,
        user => {
            attempt.failed(state, client).await;
            let detail = match &user {
                None => "no such account",
                Some(u) if u.disabled && matched => "account disabled",
                Some(_) => "wrong password",
            };
            let attempted: String = username.trim().chars().take(64).collect();
            let subject_id = user.as_ref().map(|u| u.id.as_str());
            note(
                state,
                &Event {
                    success: false,
                    subject_id,
                    username: Some(&attempted),
                    detail,
                    ..event(AuditKind::SignIn, client, now)
                },
            )
            .await;
            tracing::info!("sign-in refused");
            return Err(AppError::BadCredentials);
        }
    };
    attempt.succeeded(state).await;
    upgrade_hash(state, &user, password).await;
    let refresh = RefreshToken::generate().map_err(|e| AppError::internal(&e))?;
    let session_id = new_id();
    let session =
        sessions::NewSession { id: &session_id, user_id: &user.id, user_agent: &client.user_agent, ip: &client.ip };
    sessions::create(&state.db, &session, &refresh.hash(), now).await.map_err(db_error)?;
    let current =
        CurrentUser { id: user.id, username: user.username, role: user.role, session_id, authenticated_at: now };
    let access = issue(state, &current)?;
    note(
        state,
        &Event { actor_id: Some(&current.id), subject_id: Some(&current.id), ..event(AuditKind::SignIn, client, now) },
    )
    .await;
    tracing::info!(user_id = %current.id, session_id = %current.session_id, "signed in");
    Ok(Renewed { user: current, access, refresh })
}

/// After a successful sign-in: replaces a hash made with other Argon2
/// parameters than the configured ones. Failing to is logged and does not
/// stop the sign-in; the next one tries again.
async fn upgrade_hash(state: &AppState, user: &users::UserRecord, password: Password) {
    if !state.hasher.needs_rehash(&user.password_hash) {
        return;
    }
    let upgraded = match state.hasher.hash(password).await {
        Ok(hash) => {
            users::upgrade_hash(&state.db, &user.id, &user.password_hash, &hash).await.map_err(|e| e.to_string())
        }
        Err(e) => Err(e.to_string()),
    };
    match upgraded {
        Ok(true) => tracing::info!(user_id = %user.id, "password hash upgraded to the configured parameters"),
        Ok(false) => {}
        Err(e) => tracing::warn!(user_id = %user.id, error = %e, "could not upgrade a password hash"),
    }
}

/// Confirms `user`'s password for sensitive actions: the session counts
/// as freshly signed in from now, and a new access token says so.
///
/// # Errors
/// [`AppError::Invalid`] for a wrong password (the person is signed in,
/// so this reveals nothing), [`AppError::Unauthorized`] when the session
/// ended meanwhile.
pub async fn reauthenticate(
    state: &AppState,
    user: &CurrentUser,
    password: &str,
    client: &Client,
) -> Result<(CurrentUser, Issued), AppError> {
    let password = Password::parse_attempt(password).map_err(|e| AppError::invalid("password", e))?;
    let place = state.hasher.reserve().map_err(hasher_error)?;
    let attempt = attempts::password(state, client, &user.username).await?;
    let record = users::find_by_id(&state.db, &user.id).await.map_err(db_error)?.ok_or_else(AppError::unexpected)?;
    let matched = place.verify(password, Some(record.password_hash)).await.map_err(hasher_error)?;
    let now = state.clock.now();
    let mine =
        Event { actor_id: Some(&user.id), subject_id: Some(&user.id), ..event(AuditKind::Reauthenticate, client, now) };
    if !matched {
        attempt.failed(state, client).await;
        note(state, &Event { success: false, detail: "wrong password", ..mine }).await;
        return Err(AppError::invalid("password", "That password is not correct."));
    }
    attempt.succeeded(state).await;
    if !sessions::reauthenticate(&state.db, &user.session_id, now).await.map_err(db_error)? {
        return Err(AppError::Unauthorized("Session has ended; sign in again".into()));
    }
    note(state, &mine).await;
    let fresh = CurrentUser { authenticated_at: now, ..user.clone() };
    let access = issue(state, &fresh)?;
    Ok((fresh, access))
}

fn issue(state: &AppState, user: &CurrentUser) -> Result<Issued, AppError> {
    let grant =
        Grant { user_id: &user.id, role: user.role, session_id: &user.session_id, auth_time: user.authenticated_at };
    let now = state.clock.now();
    token::issue_access(&state.keys.ring(now), &state.tokens, grant, new_id(), now).map_err(|e| AppError::internal(&e))
}

/// Rotates a refresh token: the presented one dies, a new access and
/// refresh token are issued for the same session. Presenting a token that
/// was rotated earlier (outside the short grace for concurrent requests)
/// ends the whole session: the thief's and the owner's newest tokens alike.
///
/// # Errors
/// A [`RefreshError`] saying why the token was refused.
pub async fn refresh(state: &AppState, presented: &str, client: &Client) -> Result<Refreshed, RefreshError> {
    let internal = |e: sqlx::Error| {
        let _ = AppError::internal(&e);
        RefreshError::Internal
    };
    let token = RefreshToken::parse(presented).ok_or(RefreshError::Invalid)?;
    let record =
        sessions::find_refresh(&state.db, &token.hash()).await.map_err(internal)?.ok_or(RefreshError::Invalid)?;
    let now = state.clock.now();
    match refresh::judge(&record.stored, &state.refresh, now) {
        Verdict::Rotate | Verdict::Superseded => {}
        Verdict::Expired => return Err(RefreshError::Expired),
        Verdict::Revoked => return Err(RefreshError::SessionEnded),
        Verdict::Reused => {
            sessions::revoke(&state.db, &record.user_id, &record.session_id, "refresh token reuse", now)
                .await
                .map_err(internal)?;
            tracing::warn!(
                user_id = %record.user_id,
                session_id = %record.session_id,
                ip = %client.ip,
                "refresh token reuse detected; session ended"
            );
            let subject = Some(record.user_id.as_str());
            let detail = "an already rotated refresh token came back; the session was ended";
            note(
                state,
                &Event { success: false, subject_id: subject, detail, ..event(AuditKind::RefreshReuse, client, now) },
            )
            .await;
            return Err(RefreshError::Reused);
        }
    }
    let principal = sessions::principal(&state.db, &record.user_id, &record.session_id)
        .await
        .map_err(internal)?
        .ok_or(RefreshError::SessionEnded)?;
    if principal.disabled {
        return Err(RefreshError::AccountUnavailable);
    }
    let user = CurrentUser {
        id: record.user_id,
        username: principal.username,
        role: principal.role,
        session_id: record.session_id,
        authenticated_at: principal.authenticated_at,
    };
    if record.stored.rotated_at.is_some() {
        return Ok(Refreshed::Superseded(user));
    }
    let next = RefreshToken::generate().map_err(|e| {
        let _ = AppError::internal(&e);
        RefreshError::Internal
    })?;
    if !sessions::rotate(&state.db, &user.session_id, &token.hash(), &next.hash(), now).await.map_err(internal)? {
        // Another request rotated it between our read and our write.
        return Ok(Refreshed::Superseded(user));
    }
    let access = issue(state, &user).map_err(|_| RefreshError::Internal)?;
    note(
        state,
        &Event { actor_id: Some(&user.id), subject_id: Some(&user.id), ..event(AuditKind::Refresh, client, now) },
    )
    .await;
    Ok(Refreshed::Renewed(Box::new(Renewed { user, access, refresh: next })))
}

/// Ends the session `user` is signed in with: every access and refresh
/// token of it stops working at once.
///
/// # Errors
/// [`AppError::Internal`] when it cannot be stored.
pub async fn sign_out(state: &AppState, user: &CurrentUser, client: &Client) -> Result<(), AppError> {
    let now = state.clock.now();
    sessions::revoke(&state.db, &user.id, &user.session_id, "signed out", now).await.map_err(db_error)?;
    note(
        state,
        &Event { actor_id: Some(&user.id), subject_id: Some(&user.id), ..event(AuditKind::SignOut, client, now) },
    )
    .await;
    tracing::info!(user_id = %user.id, session_id = %user.session_id, "signed out");
    Ok(())
}

/// Ends the session a refresh token belongs to, whatever state the token
/// is in: for signing out when the access token has already expired.
///
/// # Errors
/// [`AppError::Internal`] when it cannot be stored.
pub async fn sign_out_by_refresh(state: &AppState, presented: &str, client: &Client) -> Result<(), AppError> {
    let Some(token) = RefreshToken::parse(presented) else { return Ok(()) };
    if let Some(r) = sessions::find_refresh(&state.db, &token.hash()).await.map_err(db_error)? {
        let now = state.clock.now();
        if sessions::revoke(&state.db, &r.user_id, &r.session_id, "signed out", now).await.map_err(db_error)? {
            let who = Some(r.user_id.as_str());
            note(state, &Event { actor_id: who, subject_id: who, ..event(AuditKind::SignOut, client, now) }).await;
            tracing::info!(user_id = %r.user_id, session_id = %r.session_id, "signed out");
        }
    }
    Ok(())
}

/// Ends all of `user`'s sessions, or all but the current one.
///
/// # Errors
/// [`AppError::Internal`] when it cannot be stored.
pub async fn sign_out_everywhere(
    state: &AppState,
    user: &CurrentUser,
    keep_current: bool,
    client: &Client,
) -> Result<u64, AppError> {
    let keep = keep_current.then_some(user.session_id.as_str());
    let now = state.clock.now();
    let n = sessions::revoke_all(&state.db, &user.id, keep, "signed out everywhere", now).await.map_err(db_error)?;
    let detail = format!("{n} ended by the owner{}", if keep_current { ", this one kept" } else { "" });
    let who = Some(user.id.as_str());
    note(
        state,
        &Event { actor_id: who, subject_id: who, detail: &detail, ..event(AuditKind::SessionsEnded, client, now) },
    )
    .await;
    tracing::info!(user_id = %user.id, ended = n, "signed out of other sessions");
    Ok(n)
}

/// Changes `user`'s password after checking the current one, and ends
/// every other session of the account; this one stays signed in. Needs a
/// recent sign-in.
///
/// # Errors
/// [`AppError::ReauthRequired`] when the sign-in is not recent,
/// [`AppError::Invalid`] naming the field: a wrong current password, a
/// mismatched confirmation, or a new one that breaks the policy or equals
/// the current one.
pub async fn change_password(
    state: &AppState,
    user: &CurrentUser,
    form: &NewPasswordForm<'_>,
    current: &str,
    client: &Client,
) -> Result<u64, AppError> {
    user.require_fresh(state.clock.now(), state.accounts.reauth_window)?;
    let current = Password::parse_attempt(current).map_err(|e| AppError::invalid("current_password", e))?;
    let username = Username::parse(&user.username).map_err(|_| AppError::unexpected())?;
    let new = form.parse(&username)?;
    if new.expose() == current.expose() {
        return Err(AppError::invalid("new_password", "Choose a password different from your current one."));
    }
    let record = users::find_by_id(&state.db, &user.id).await.map_err(db_error)?.ok_or_else(AppError::unexpected)?;
    if !state.hasher.verify(current, Some(record.password_hash)).await.map_err(hasher_error)? {
        return Err(AppError::invalid("current_password", "Your current password is not correct."));
    }
    let hash = state.hasher.hash(new).await.map_err(hasher_error)?;
    let who = Some(user.id.as_str());
    let event = Event {
        actor_id: who,
        subject_id: who,
        detail: "other sessions ended",
        ..event(AuditKind::PasswordChange, client, state.clock.now())
    };
    let ended =
        users::set_password(&state.db, &user.id, &hash, Some(&user.session_id), &event).await.map_err(db_error)?;
    tracing::info!(user_id = %user.id, other_sessions_ended = ended, "password changed");
    Ok(ended)
}

/// A new password as typed twice on a form (or once in the API, where the
/// confirmation is the client's business).
#[derive(Clone, Copy, Debug)]
pub struct NewPasswordForm<'a> {
    pub new: &'a str,
    pub confirm: Option<&'a str>,
}

impl NewPasswordForm<'_> {
    fn parse(&self, username: &Username) -> Result<Password, AppError> {
        let new = Password::parse_new(self.new, username).map_err(|e| AppError::invalid("new_password", e))?;
        if self.confirm.is_some_and(|c| c != self.new) {
            return Err(AppError::invalid("confirm_password", "The two new passwords do not match."));
        }
        Ok(new)
    }
}

/// What a reset link is worth, in words for the reset page.
#[derive(Debug, PartialEq, Eq)]
pub enum ResetLink {
    /// Usable: it sets the password of this account.
    Live {
        username: String,
    },
    Dead(&'static str),
}

/// Looks at a presented reset link without using it.
///
/// # Errors
/// [`AppError::Internal`] when the database fails.
pub async fn reset_link(state: &AppState, presented: &str, client: &Client) -> Result<ResetLink, AppError> {
    attempts::count(state, client, PerAddress::Reset).await?;
    match ResetToken::parse(presented.trim()) {
        Some(token) => look_up_reset(state, &token.hash()).await,
        None => Ok(ResetLink::Dead(DEAD_LINK)),
    }
}

async fn look_up_reset(state: &AppState, hash: &str) -> Result<ResetLink, AppError> {
    Ok(match resets::status(&state.db, hash, state.clock.now()).await.map_err(db_error)? {
        resets::Status::Live { username, .. } => ResetLink::Live { username },
        resets::Status::Used => {
            ResetLink::Dead("This reset link has already been used. Ask an administrator for a new one.")
        }
        resets::Status::Expired => ResetLink::Dead("This reset link has expired. Ask an administrator for a new one."),
        resets::Status::Unknown => ResetLink::Dead(DEAD_LINK),
    })
}

const DEAD_LINK: &str =
    "This reset link is not valid. It may have been replaced by a newer one; ask an administrator for a new link.";

/// Uses a reset link: sets the new password, ends every session of the
/// account and kills the link, all at once.
///
/// # Errors
/// [`AppError::Invalid`] for a dead link (field `token`) or a new
/// password that breaks the policy.
pub async fn reset_password(
    state: &AppState,
    presented: &str,
    form: &NewPasswordForm<'_>,
    client: &Client,
) -> Result<(), AppError> {
    attempts::count(state, client, PerAddress::Reset).await?;
    let dead = |message: &str| AppError::invalid("token", message);
    let hash = ResetToken::parse(presented.trim()).ok_or_else(|| dead(DEAD_LINK))?.hash();
    let username = match look_up_reset(state, &hash).await? {
        ResetLink::Live { username } => username,
        ResetLink::Dead(why) => return Err(dead(why)),
    };
    let username = Username::parse(&username).map_err(|_| AppError::unexpected())?;
    let password_hash = state.hasher.hash(form.parse(&username)?).await.map_err(hasher_error)?;
    let event = Event { detail: "all sessions ended", ..event(AuditKind::ResetUsed, client, state.clock.now()) };
    match resets::consume(&state.db, &hash, &password_hash, &event).await.map_err(db_error)? {
        Some(user_id) => {
            tracing::info!(user_id = %user_id, "password reset with a link");
            Ok(())
        }
        // Used or expired between the look and the use.
        None => Err(dead("This reset link is no longer valid. Ask an administrator for a new one.")),
    }
}

/// Ends one of `user`'s own sessions.
///
/// # Errors
/// [`AppError::Invalid`] when it is not a live session of theirs.
pub async fn end_session(
    state: &AppState,
    user: &CurrentUser,
    session_id: &str,
    client: &Client,
) -> Result<(), AppError> {
    let now = state.clock.now();
    if sessions::revoke(&state.db, &user.id, session_id, "ended by owner", now).await.map_err(db_error)? {
        let who = Some(user.id.as_str());
        let detail = "one session ended by the owner";
        note(state, &Event { actor_id: who, subject_id: who, detail, ..event(AuditKind::SessionsEnded, client, now) })
            .await;
        Ok(())
    } else {
        Err(AppError::invalid("session", "That session has already ended."))
    }
}

/// How many security events the dashboard lists.
pub const RECENT_EVENTS: u32 = 6;

/// How far back the dashboard's one read of the account's events looks
/// for the sign-in before this one; further only when it is not there.
const SIGN_IN_LOOK_BACK: u32 = 20;

/// The signed-in person's account at a glance: sessions, the sign-in
/// before this one, and recent security events.
///
/// # Errors
/// [`AppError::Unavailable`] or [`AppError::Internal`] when they cannot be read.
pub async fn overview(state: &AppState, user: &CurrentUser) -> Result<AccountOverview, AppError> {
    let sessions = list_sessions(state, user).await?;
    let this_began = sessions.iter().find(|s| s.current).map_or(i64::MAX, |s| s.created_at);
    // One read serves both, unless a run of other events (a flood of
    // refused guesses, say) pushed the previous sign-in further back.
    let mut recent = audit::concerning(&state.db, &user.id, None, None, SIGN_IN_LOOK_BACK).await.map_err(db_error)?;
    let mut previous_sign_in = domain::previous_sign_in(&recent, this_began);
    if previous_sign_in.is_none() && recent.len() == SIGN_IN_LOOK_BACK as usize {
        let sign_ins =
            audit::concerning(&state.db, &user.id, Some(AuditKind::SignIn), Some(true), 2).await.map_err(db_error)?;
        previous_sign_in = domain::previous_sign_in(&sign_ins, this_began);
    }
    recent.truncate(RECENT_EVENTS as usize);
    Ok(AccountOverview { sessions, previous_sign_in, recent })
}

/// `user`'s live sessions, this device first, then the most recently
/// used.
///
/// # Errors
/// [`AppError::Unavailable`] or [`AppError::Internal`] when they cannot be read.
pub async fn list_sessions(state: &AppState, user: &CurrentUser) -> Result<Vec<SessionSummary>, AppError> {
    let now = state.clock.now();
    let rows = sessions::list_live(&state.db, &user.id, now - state.refresh.absolute_ttl, now - state.refresh.idle_ttl)
        .await
        .map_err(db_error)?;
    let mut list: Vec<SessionSummary> = rows
        .into_iter()
        .map(|r| SessionSummary {
            current: r.id == user.session_id,
            id: r.id,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            user_agent: r.user_agent,
            ip: r.ip,
        })
        .collect();
    // This device first, then the most recently used.
    list.sort_by_key(|s| !s.current);
    Ok(list)
}
