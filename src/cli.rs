//! The `gatehouse` command line: serving, and the operator's account
//! commands. This is how the first administrator is made: there is never a
//! default account. Passwords are read from the terminal without echo, or
//! from standard input when it is not a terminal, never from arguments
//! (which other users of the machine can see).

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};

use crate::accounts::administer::{self, Actor};
use crate::auth::caller::Client;
use crate::auth::clock::SystemClock;
use crate::auth::keys::KeyAlgorithm;
use crate::auth::rotation::Stage;
use crate::config::Settings;
use crate::domain::Role;
use crate::domain::format_utc;
use crate::error::AppError;
use crate::state::AppState;

/// Sign people in and keep pages and APIs safe with JWTs.
#[derive(Debug, Parser)]
#[command(name = "gatehouse", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web app and the JSON API (what `gatehouse` alone does).
    Serve,
    /// Manage accounts, with the same settings (GATEHOUSE_*) as the server.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage the signing keys (stored keys only, not GATEHOUSE_JWT_SECRET).
    #[command(subcommand)]
    Keys(KeysCommand),
    /// List every page and who may load it (the page table).
    Pages {
        /// As JSON, for tools and tests.
        #[arg(long)]
        json: bool,
    },
}

/// The page table in words, or as JSON: `[{"path", "access", "fresh"}]`.
pub fn pages(json: bool) -> String {
    use crate::domain::{Access, Page};
    if json {
        let rows: Vec<_> = Page::ALL
            .iter()
            .map(|p| serde_json::json!({ "path": p.path(), "access": p.rule().access, "fresh": p.rule().fresh }))
            .collect();
        return serde_json::Value::from(rows).to_string();
    }
    let mut out = format!("{:<14} {:<10} {}", "PAGE", "WHO", "RECENT SIGN-IN");
    for &page in Page::ALL {
        let rule = page.rule();
        let who = match rule.access {
            Access::Anyone => "anyone",
            Access::SignedIn => "signed in",
            Access::Admin => "admin",
        };
        out.push_str(&format!("\n{:<14} {:<10} {}", page.path(), who, if rule.fresh { "yes" } else { "no" }));
    }
    out
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List the keys, and which signs, which only verifies, which is next.
    List,
    /// Make a new key: published at once, signing after a delay; the key it
    /// replaces keeps verifying for one access-token lifetime after that.
    Rotate {
        /// HS256 or EdDSA (default: GATEHOUSE_JWT_ALGORITHM).
        #[arg(long, value_parser = parse_algorithm)]
        algorithm: Option<KeyAlgorithm>,
        /// Seconds until it signs: long enough for services caching the
        /// key set (5 minutes) and for every instance (30 s) to see it.
        #[arg(long = "in", value_name = "SECONDS", default_value_t = 600)]
        delay: u32,
    },
}

fn parse_algorithm(text: &str) -> Result<KeyAlgorithm, String> {
    KeyAlgorithm::parse(text).ok_or_else(|| format!("'{text}' is not HS256 or EdDSA"))
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account; the password is asked for (or read from stdin).
    Create {
        username: String,
        /// Make it an administrator.
        #[arg(long)]
        admin: bool,
    },
    /// Set an account's role.
    Role { username: String, role: RoleArg },
    /// Disable an account and end all its sessions.
    Disable { username: String },
    /// Let a disabled account sign in again.
    Enable { username: String },
    /// End every session of an account.
    EndSessions { username: String },
    /// Print a single-use password-reset link for an account.
    ResetLink { username: String },
    /// Remove every second factor of an account and end its sessions.
    ResetTwoStep { username: String },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum RoleArg {
    User,
    Admin,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::User => Role::User,
            RoleArg::Admin => Role::Admin,
        }
    }
}

/// Runs an account command and reports on stdout (results) and stderr
/// (problems). Exit codes: 0 done, 1 refused or failed, 2 bad settings.
pub async fn run_user_command(settings: Settings, command: UserCommand) -> ExitCode {
    let state = match crate::startup::build_state(&settings, settings.listen_addr.port(), Arc::new(SystemClock)).await {
        Ok(state) => state,
        Err(e) => {
            eprintln!("gatehouse: could not open the database: {}", crate::error::chain(&e));
            return ExitCode::from(1);
        }
    };
    match execute(&state, command).await {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gatehouse: {e}");
            ExitCode::from(1)
        }
    }
}

async fn execute(state: &AppState, command: UserCommand) -> Result<String, AppError> {
    let client = Client::command_line();
    let changed = |done: bool, yes: String, no: String| if done { yes } else { no };
    match command {
        UserCommand::Create { username, admin } => {
            let password = read_password()?;
            let role = if admin { Role::Admin } else { Role::User };
            let name = crate::accounts::register(state, &username, &password, role, &client).await?;
            Ok(format!("Created {role} account '{name}'."))
        }
        UserCommand::Role { username, role } => {
            let role = Role::from(role);
            let id = administer::find(state, &username).await?;
            let done = administer::set_role(state, Actor::CommandLine, &id, role, &client).await?;
            Ok(changed(done, format!("'{username}' is now {role}."), format!("'{username}' was already {role}.")))
        }
        UserCommand::Disable { username } => {
            let id = administer::find(state, &username).await?;
            let done = administer::set_disabled(state, Actor::CommandLine, &id, true, &client).await?;
            Ok(changed(
                done,
                format!("'{username}' is disabled; every session has ended."),
                format!("'{username}' was already disabled."),
            ))
        }
        UserCommand::Enable { username } => {
            let id = administer::find(state, &username).await?;
            let done = administer::set_disabled(state, Actor::CommandLine, &id, false, &client).await?;
            Ok(changed(done, format!("'{username}' can sign in again."), format!("'{username}' was not disabled.")))
        }
        UserCommand::EndSessions { username } => {
            let id = administer::find(state, &username).await?;
            let n = administer::end_sessions(state, Actor::CommandLine, &id, &client).await?;
            Ok(format!("Ended {n} session(s) of '{username}'."))
        }
        UserCommand::ResetTwoStep { username } => {
            let id = administer::find(state, &username).await?;
            let done = administer::reset_factors(state, Actor::CommandLine, &id, &client).await?;
            Ok(changed(
                done,
                format!("Two-step sign-in of '{username}' is reset; every session has ended."),
                format!("'{username}' had no two-step sign-in."),
            ))
        }
        UserCommand::ResetLink { username } => {
            let id = administer::find(state, &username).await?;
            let issued = administer::issue_reset(state, Actor::CommandLine, &id, &client).await?;
            let minutes = (issued.expires_at - state.clock.now()) / 60;
            Ok(format!(
                "Reset link for '{username}' (single use, valid for {minutes} minutes; older links no longer work):\n{}",
                issued.url
            ))
        }
    }
}

/// Runs a key command. Exit codes as for account commands.
pub async fn run_keys_command(settings: Settings, command: KeysCommand) -> ExitCode {
    let state = match crate::startup::build_state(&settings, settings.listen_addr.port(), Arc::new(SystemClock)).await {
        Ok(state) => state,
        Err(e) => {
            eprintln!("gatehouse: could not open the keys: {}", crate::error::chain(&e));
            return ExitCode::from(1);
        }
    };
    let now = state.clock.now();
    match command {
        KeysCommand::List => {
            let schedule = state.keys.schedule();
            for (i, k) in schedule.keys().iter().enumerate() {
                let stage = match schedule.stage(i, now) {
                    Stage::Upcoming { signs_from } => format!("published, signs from {}", format_utc(signs_from)),
                    Stage::Signing => "signs new tokens".to_owned(),
                    Stage::Verifying { until } => format!("verifies until {}", format_utc(until)),
                    Stage::Retired => "retired".to_owned(),
                };
                println!("{}  {:5}  {stage}", k.key.kid(), k.key.key_algorithm().as_str());
            }
            ExitCode::SUCCESS
        }
        KeysCommand::Rotate { algorithm, delay } => {
            let algorithm = algorithm.unwrap_or(settings.jwt_algorithm);
            match state.keys.rotate(&state.db, algorithm, now + i64::from(delay), now).await {
                Ok(r) => {
                    println!(
                        "New {} key {} is published now and signs from {}; tokens signed before stay valid for their lifetime.",
                        r.algorithm,
                        r.kid,
                        format_utc(r.signs_from)
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("gatehouse: {}", crate::error::chain(&e));
                    ExitCode::from(1)
                }
            }
        }
    }
}

/// The new account's password: typed twice without echo at a terminal, or
/// the first line of standard input.
fn read_password() -> Result<String, AppError> {
    let unreadable = |_| AppError::invalid("password", "Could not read the password.");
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ").map_err(unreadable)?;
        let second = rpassword::prompt_password("Password again: ").map_err(unreadable)?;
        if first != second {
            return Err(AppError::invalid("password", "The two passwords do not match."));
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(unreadable)?;
    // Only the line ending goes; spaces are part of the password.
    Ok(line.strip_suffix('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).unwrap_or(&line).to_owned())
}
