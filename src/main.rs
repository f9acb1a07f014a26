//! The server binary: settings → logging → application → serve, or an
//! account command for the operator (`gatehouse user --help`).

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use gatehouse::auth::clock::SystemClock;
use gatehouse::cli::{Cli, Command};
use gatehouse::config::{LogFormat, Settings};
use gatehouse::startup::Application;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Pages { json }) = cli.command {
        println!("{}", gatehouse::cli::pages(json));
        return ExitCode::SUCCESS;
    }
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("gatehouse: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    match cli.command {
        None | Some(Command::Serve) => serve(settings).await,
        Some(Command::User(command)) => {
            // Commands talk to the operator; only warnings go to the log.
            gatehouse::telemetry::init(LogFormat::Pretty, "warn");
            gatehouse::cli::run_user_command(settings, command).await
        }
        Some(Command::Keys(command)) => {
            gatehouse::telemetry::init(LogFormat::Pretty, "warn");
            gatehouse::cli::run_keys_command(settings, command).await
        }
        // Printed above: the table needs no settings.
        Some(Command::Pages { .. }) => ExitCode::SUCCESS,
    }
}

async fn serve(settings: Settings) -> ExitCode {
    gatehouse::telemetry::init(settings.log_format, &settings.log_filter);
    let app = match Application::build(settings, Arc::new(SystemClock)).await {
        Ok(app) => app,
        Err(e) => {
            tracing::error!(error = %gatehouse::error::chain(&e), "gatehouse could not start");
            eprintln!("gatehouse: could not start: {}", gatehouse::error::chain(&e));
            return ExitCode::from(1);
        }
    };
    match app.run_until_stopped().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "server stopped with an error");
            ExitCode::from(1)
        }
    }
}
