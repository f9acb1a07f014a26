//! Terminating TLS ourselves: the rustls configuration from PEM files, or a
//! self-signed certificate for the loopback names made once into the data
//! directory for trying HTTPS locally. Plain HTTP on a second port only
//! redirects to HTTPS.

use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use axum::Router;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum_server::tls_rustls::RustlsConfig;

use crate::config::Tls;

/// Why TLS could not be set up; the text names the file.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("could not load the TLS certificate {cert} and key {key} (both PEM)")]
    Load { cert: PathBuf, key: PathBuf, source: std::io::Error },
    #[error("could not make a self-signed certificate")]
    Generate(#[from] rcgen::Error),
    #[error("could not write {0}")]
    Write(PathBuf, #[source] std::io::Error),
}

/// Where the self-signed certificate and its key are kept.
const SELF_SIGNED: (&str, &str) = ("tls-self-signed.pem", "tls-self-signed-key.pem");

/// The rustls configuration for `tls`, or `None` when TLS is off.
///
/// # Errors
/// [`TlsError`] naming what could not be read or written.
pub async fn config(tls: &Tls, data_dir: &Path) -> Result<Option<RustlsConfig>, TlsError> {
    // One process-wide choice of cryptography; a second call is a no-op.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (cert, key) = match tls {
        Tls::Off => return Ok(None),
        Tls::Files { cert, key } => (cert.clone(), key.clone()),
        Tls::SelfSigned => self_signed(data_dir)?,
    };
    RustlsConfig::from_pem_file(&cert, &key).await.map(Some).map_err(|source| TlsError::Load { cert, key, source })
}

/// The self-signed pair in `data_dir`, made on first use.
fn self_signed(data_dir: &Path) -> Result<(PathBuf, PathBuf), TlsError> {
    let (cert_path, key_path) = (data_dir.join(SELF_SIGNED.0), data_dir.join(SELF_SIGNED.1));
    if cert_path.exists() && key_path.exists() {
        return Ok((cert_path, key_path));
    }
    let names = ["localhost", "127.0.0.1", "::1"].map(str::to_owned).to_vec();
    let made = rcgen::generate_simple_self_signed(names)?;
    write_private(&key_path, made.signing_key.serialize_pem().as_bytes())?;
    std::fs::write(&cert_path, made.cert.pem()).map_err(|e| TlsError::Write(cert_path.clone(), e))?;
    tracing::warn!(
        cert = %cert_path.display(),
        "made a self-signed certificate for localhost: browsers will warn, as they should; use a real one in production"
    );
    Ok((cert_path, key_path))
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), TlsError> {
    use std::io::Write;
    let err = |e| TlsError::Write(path.to_owned(), e);
    let mut file =
        std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path).map_err(err)?;
    file.write_all(bytes).map_err(err)
}

/// The whole plain-HTTP surface when TLS is on: every request is sent,
/// with its path and query, to `https_origin` (the configured public
/// origin, never the request's own Host header).
pub fn redirect_router(https_origin: String) -> Router {
    Router::new().fallback(move |uri: Uri| {
        let target = format!("{https_origin}{}", uri.path_and_query().map_or("/", |pq| pq.as_str()));
        async move { to_https(&target) }
    })
}

fn to_https(target: &str) -> Response {
    match HeaderValue::from_str(target) {
        Ok(location) => {
            (StatusCode::PERMANENT_REDIRECT, [(header::LOCATION, location)], "This site is served over HTTPS.")
                .into_response()
        }
        Err(_) => (StatusCode::BAD_REQUEST, "Bad request").into_response(),
    }
}
