//! The server binary: settings → logging → application → serve.

use std::process::ExitCode;
use std::sync::Arc;

use gatehouse::auth::clock::SystemClock;
use gatehouse::config::Settings;
use gatehouse::startup::Application;

#[tokio::main]
async fn main() -> ExitCode {
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("gatehouse: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    gatehouse::telemetry::init(settings.log_format, &settings.log_filter);
    let app = match Application::build(settings, Arc::new(SystemClock)).await {
        Ok(app) => app,
        Err(e) => {
            tracing::error!(error = %gatehouse::telemetry::chain(&e), "gatehouse could not start");
            eprintln!("gatehouse: could not start: {}", gatehouse::telemetry::chain(&e));
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
