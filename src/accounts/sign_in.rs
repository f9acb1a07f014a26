//! Signing in with a password (and, for an account with a second factor,
//! a code after it), and confirming who one is for sensitive actions.

use super::audit::{event, note};
use super::second_factor::{self, Typed};
use super::{SessionTokens, attempts, hasher_error, issue, new_id};
use crate::auth::caller::{Client, CurrentUser, SessionOwner};
use crate::auth::opaque::SecondStepToken;
use crate::auth::refresh::RefreshToken;
use crate::auth::token::Issued;
use crate::db::audit::Event;
use crate::db::factors::{self, Finished};
use crate::db::{sessions, users};
use crate::domain::{AuditKind, AuthMethod, Password, SessionId, Username};
use crate::error::AppError;
use crate::state::AppState;

/// Seconds a password sign-in waits for its second step.
pub const SECOND_STEP_TTL: i64 = 5 * 60;

/// How a right password ends.
#[derive(Debug)]
pub enum SignIn {
    /// Signed in.
    Session(Box<SessionTokens>),
    /// The account has a second factor: no session yet, only the
    /// credential that carries the attempt to [`second_step`].
    SecondStep(PendingStep),
}

/// A password sign-in waiting for its code.
#[derive(Debug)]
pub struct PendingStep {
    pub token: SecondStepToken,
    /// Seconds it stays usable.
    pub expires_in: i64,
}

/// What a second step accepts: the API's `methods`.
pub const SECOND_STEP_METHODS: [&str; 2] = ["totp", "recovery_code"];

/// Checks a username and password and, unless the account has a second
/// factor, starts a session on `client`.
///
/// An unknown user, a malformed name, a disabled account and a wrong
/// password all cost one Argon2id verification and get the same answer.
/// For an account with a second factor a right password does not clear
/// the account's count of failures: only a finished second step does, so
/// knowing the password never buys more guesses at the code.
///
/// # Errors
/// [`AppError::BadCredentials`], or [`AppError::Invalid`] for a password
/// that is empty or over the size bound (refused before any hashing).
pub async fn sign_in(state: &AppState, username: &str, password: &str, client: &Client) -> Result<SignIn, AppError> {
    let password = Password::parse_attempt(password).map_err(|e| AppError::invalid("password", e))?;
    // Overload is refused first: it costs nothing and counts as no guess.
    let place = state.hasher.reserve().map_err(hasher_error)?;
    let attempt = attempts::password(state, client, username).await?;
    let user = match Username::parse(username) {
        Ok(name) => users::find_by_username(&state.db, &name).await?,
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
    upgrade_hash(state, &user, password.clone()).await;
    if second_factor::has_second_factor(state, &user.id).await? {
        attempt.pending();
        let token = SecondStepToken::generate().map_err(|e| AppError::internal(&e))?;
        factors::open_step(&state.db, &token.hash(), &user.id, now, now + SECOND_STEP_TTL).await?;
        tracing::info!(user_id = %user.id, "password right; waiting for the second step");
        return Ok(SignIn::SecondStep(PendingStep { token, expires_in: SECOND_STEP_TTL }));
    }
    attempt.succeeded(state).await;
    let tokens = start_session(state, user, vec![AuthMethod::Password], client, "").await?;
    tracing::info!(user_id = %tokens.owner.user_id, session_id = %tokens.owner.session_id, "signed in");
    Ok(SignIn::Session(Box::new(tokens)))
}

/// Finishes a password sign-in with a `code` from the authenticator app
/// or a recovery code, presented with the sign-in's `credential`: then,
/// and only then, the session exists. Wrong codes count against the
/// account and the address like wrong passwords, and a credential that
/// has seen [`factors::STEP_FAILURES`] of them is gone.
///
/// # Errors
/// [`AppError::Unauthorized`] for a credential that is unknown, expired or
/// used; [`AppError::Invalid`] naming `code` for a refused code;
/// [`AppError::TooManyAttempts`].
pub async fn second_step(
    state: &AppState,
    credential: &str,
    code: &str,
    client: &Client,
) -> Result<SessionTokens, AppError> {
    let gone = || AppError::Unauthorized(STEP_GONE.into());
    let token = SecondStepToken::parse(credential.trim()).ok_or_else(gone)?;
    let hash = token.hash();
    let now = state.clock.now();
    let user_id = factors::step_account(&state.db, &hash, now).await?.ok_or_else(gone)?;
    let typed = Typed::recognise(code)?;
    let user = users::find_by_id(&state.db, &user_id).await?.filter(|u| !u.disabled).ok_or_else(gone)?;
    let attempt = attempts::code(state, client, &user.username).await?;
    let refused = |reason: &'static str| StepRefusal { hash: &hash, user_id: &user_id, kind: typed.name(), reason };
    let proven = match second_factor::check_code(state, &user_id, &typed, now).await? {
        Ok(proven) => proven,
        Err(reason) => return Err(refused(reason).answer(state, client, attempt).await),
    };
    let new = NewSessionFor { user, methods: vec![AuthMethod::Password, AuthMethod::OneTimeCode] };
    let refresh = RefreshToken::generate().map_err(|e| AppError::internal(&e))?;
    let session = new.row(client);
    let detail = format!("password and {}", typed.name());
    let mine = Some(user_id.as_str());
    let event = Event { actor_id: mine, subject_id: mine, detail: &detail, ..event(AuditKind::SignIn, client, now) };
    match factors::finish_step(&state.db, &hash, proven.proof(), &session.row(), &refresh.hash(), &event).await? {
        Finished::SignedIn => {}
        Finished::StepGone => {
            attempt.pending();
            return Err(gone());
        }
        Finished::CodeSpent => return Err(refused(proven.spent()).answer(state, client, attempt).await),
    }
    attempt.succeeded(state).await;
    let tokens = new.started(state, session.id, refresh, now)?;
    tracing::info!(user_id = %tokens.owner.user_id, session_id = %tokens.owner.session_id, "signed in with two factors");
    Ok(tokens)
}

/// What a second step says when its credential is no good.
pub const STEP_GONE: &str = "This sign-in took too long or was already finished. Sign in again.";

/// A refused code in a second step.
struct StepRefusal<'a> {
    hash: &'a str,
    user_id: &'a crate::domain::UserId,
    kind: &'static str,
    reason: &'static str,
}

impl StepRefusal<'_> {
    /// Counts and records the refusal, and says what to do.
    async fn answer(self, state: &AppState, client: &Client, attempt: attempts::PasswordAttempt) -> AppError {
        attempt.failed(state, client).await;
        let open = match factors::step_failed(&state.db, self.hash).await {
            Ok(open) => open,
            Err(e) => return e.into(),
        };
        let detail = format!("{} refused", self.kind);
        let whose = Some(self.user_id.as_str());
        note(
            state,
            &Event {
                success: false,
                subject_id: whose,
                detail: &detail,
                ..event(AuditKind::SecondStep, client, state.clock.now())
            },
        )
        .await;
        tracing::info!(user_id = %self.user_id, open, "second step refused");
        if open { AppError::invalid("code", self.reason) } else { AppError::Unauthorized(TOO_MANY_CODES.into()) }
    }
}

const TOO_MANY_CODES: &str = "Too many wrong codes for this sign-in. Sign in again with your password.";

/// A session about to start for `user`, signed in by `methods`.
struct NewSessionFor {
    user: users::UserRecord,
    methods: Vec<AuthMethod>,
}

/// Its row's own values.
struct SessionRow<'a> {
    id: SessionId,
    user: &'a NewSessionFor,
    client: &'a Client,
}

impl SessionRow<'_> {
    fn row(&self) -> sessions::NewSession<'_> {
        sessions::NewSession {
            id: &self.id,
            user_id: &self.user.user.id,
            user_agent: &self.client.user_agent,
            ip: &self.client.ip,
            methods: &self.user.methods,
        }
    }
}

impl NewSessionFor {
    fn row<'a>(&'a self, client: &'a Client) -> SessionRow<'a> {
        SessionRow { id: SessionId::from(new_id()), user: self, client }
    }

    /// The session is stored: its tokens.
    fn started(
        &self,
        state: &AppState,
        session_id: SessionId,
        refresh: RefreshToken,
        now: i64,
    ) -> Result<SessionTokens, AppError> {
        let owner = SessionOwner {
            user_id: self.user.id.clone(),
            username: self.user.username.clone(),
            role: self.user.role,
            session_id,
            authenticated_at: now,
            methods: self.methods.clone(),
        };
        let access = issue(state, &owner)?;
        Ok(SessionTokens { owner, access, refresh })
    }
}

/// Starts a session for `user`, who proved who they are by `methods`, on
/// `client`, and records the sign-in with `detail`.
pub(super) async fn start_session(
    state: &AppState,
    user: users::UserRecord,
    methods: Vec<AuthMethod>,
    client: &Client,
    detail: &str,
) -> Result<SessionTokens, AppError> {
    let now = state.clock.now();
    let new = NewSessionFor { user, methods };
    let refresh = RefreshToken::generate().map_err(|e| AppError::internal(&e))?;
    let session = new.row(client);
    let me = Some(new.user.id.as_str());
    let signed_in = Event { actor_id: me, subject_id: me, detail, ..event(AuditKind::SignIn, client, now) };
    sessions::create(&state.db, &session.row(), &refresh.hash(), &signed_in, now).await?;
    new.started(state, session.id, refresh, now)
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

/// How a signed-in person confirms who they are.
#[derive(Clone, Copy)]
pub enum Confirmation<'a> {
    Password(&'a str),
    /// A code from their authenticator app, or a recovery code.
    Code(&'a str),
}

impl std::fmt::Debug for Confirmation<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Password(_) => "Confirmation::Password(..)",
            Self::Code(_) => "Confirmation::Code(..)",
        })
    }
}

/// Confirms who `user` is for sensitive actions, by password or by a
/// code: the session counts as freshly signed in from now, and a new
/// access token says so. Failures count like failed sign-ins.
///
/// # Errors
/// [`AppError::Invalid`] for a wrong password or code (the person is
/// signed in, so this reveals nothing), [`AppError::Unauthorized`] when
/// the session ended meanwhile.
pub async fn reauthenticate(
    state: &AppState,
    user: &CurrentUser,
    confirmation: Confirmation<'_>,
    client: &Client,
) -> Result<Issued, AppError> {
    match confirmation {
        Confirmation::Password(password) => reauthenticate_by_password(state, user, password, client).await,
        Confirmation::Code(code) => reauthenticate_by_code(state, user, code, client).await,
    }
}

/// Why a password alone no longer confirms who one is.
pub const CONFIRM_WITH_FACTOR: &str = "Your account has two-step sign-in: confirm with a code from your \
     authenticator app, one of your recovery codes or a passkey instead of your password.";

async fn reauthenticate_by_password(
    state: &AppState,
    user: &CurrentUser,
    password: &str,
    client: &Client,
) -> Result<Issued, AppError> {
    let password = Password::parse_attempt(password).map_err(|e| AppError::invalid("password", e))?;
    if second_factor::has_second_factor(state, &user.id).await? {
        return Err(AppError::invalid("password", CONFIRM_WITH_FACTOR));
    }
    let place = state.hasher.reserve().map_err(hasher_error)?;
    let attempt = attempts::password(state, client, &user.username).await?;
    let record = users::find_by_id(&state.db, &user.id).await?.ok_or_else(AppError::unexpected)?;
    let matched = place.verify(password, Some(record.password_hash)).await.map_err(hasher_error)?;
    let now = state.clock.now();
    let mine = reauth_event(user, client, now);
    if !matched {
        attempt.failed(state, client).await;
        note(state, &Event { success: false, detail: "wrong password", ..mine }).await;
        return Err(AppError::invalid("password", "That password is not correct."));
    }
    attempt.succeeded(state).await;
    if !sessions::reauthenticate(&state.db, &user.session_id, &user.methods, now).await? {
        return Err(AppError::Unauthorized("Session has ended; sign in again".into()));
    }
    note(state, &Event { detail: "password", ..mine }).await;
    issue(state, &SessionOwner { authenticated_at: now, ..user.owner() })
}

async fn reauthenticate_by_code(
    state: &AppState,
    user: &CurrentUser,
    code: &str,
    client: &Client,
) -> Result<Issued, AppError> {
    let typed = Typed::recognise(code)?;
    if !second_factor::has_second_factor(state, &user.id).await? {
        return Err(AppError::invalid(
            "code",
            "No authenticator app is on for this account: confirm with your password instead.",
        ));
    }
    let attempt = attempts::code(state, client, &user.username).await?;
    let now = state.clock.now();
    let mine = reauth_event(user, client, now);
    let spent = match second_factor::check_code(state, &user.id, &typed, now).await? {
        Ok(proven) => {
            if factors::spend_code(&state.db, &user.id, proven.proof(), now).await? {
                Ok(())
            } else {
                Err(proven.spent())
            }
        }
        Err(reason) => Err(reason),
    };
    if let Err(reason) = spent {
        attempt.failed(state, client).await;
        let detail = format!("{} refused", typed.name());
        note(state, &Event { success: false, detail: &detail, ..mine }).await;
        return Err(AppError::invalid("code", reason));
    }
    attempt.succeeded(state).await;
    note(state, &Event { detail: typed.name(), ..mine }).await;
    second_factor::proved_second_factor(state, user, now, true).await
}

fn reauth_event<'a>(user: &'a CurrentUser, client: &'a Client, now: i64) -> Event<'a> {
    let me = Some(user.id.as_str());
    Event { actor_id: me, subject_id: me, ..event(AuditKind::Reauthenticate, client, now) }
}
