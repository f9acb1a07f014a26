//! Where the signing key comes from: the configured secret, or in local
//! mode a key generated once into the data directory (0600), so restarts
//! keep sessions valid.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use secrecy::ExposeSecret;

use crate::auth::keys::{KeyError, KeyRing, SigningKey};
use crate::config::{Mode, Settings};

/// The generated key's file name inside the data directory.
pub const KEY_FILE: &str = "signing-key.hs256";

/// Why no key could be had.
#[derive(Debug, thiserror::Error)]
pub enum KeystoreError {
    #[error("GATEHOUSE_JWT_SECRET is unusable: {0}")]
    Configured(#[source] KeyError),
    #[error("the key file {path} is unusable: {source}")]
    File { path: PathBuf, source: KeyError },
    #[error("the key file {path} is readable by other users; run `chmod 600 {path}`")]
    Permissions { path: PathBuf },
    #[error("could not read or write {path}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("the operating system has no randomness to give")]
    Random(#[from] getrandom::Error),
}

/// Loads the key ring for `settings`.
///
/// # Errors
/// [`KeystoreError`] when the configured secret is weak, or the key file is
/// unreadable, corrupt or too widely readable.
pub fn load(settings: &Settings) -> Result<KeyRing, KeystoreError> {
    if let Some(secret) = &settings.jwt_secret {
        let key = SigningKey::hs256_from_base64(secret.expose_secret()).map_err(KeystoreError::Configured)?;
        return Ok(KeyRing::single(key));
    }
    debug_assert_eq!(settings.mode, Mode::Local, "config refuses production without a secret");
    load_or_create(&settings.data_dir.join(KEY_FILE)).map(KeyRing::single)
}

fn load_or_create(path: &Path) -> Result<SigningKey, KeystoreError> {
    let io = |source| KeystoreError::Io { path: path.to_owned(), source };
    match fs::read_to_string(path) {
        Ok(text) => {
            let mode = fs::metadata(path).map_err(io)?.permissions().mode();
            if mode & 0o077 != 0 {
                return Err(KeystoreError::Permissions { path: path.to_owned() });
            }
            SigningKey::hs256_from_base64(&text).map_err(|source| KeystoreError::File { path: path.to_owned(), source })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir).map_err(io)?;
            }
            let (key, text) = SigningKey::generate_hs256()?;
            // create_new: two instances starting at once cannot overwrite
            // each other's key; the loser reads the winner's.
            match OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
                Ok(mut file) => {
                    file.write_all(text.as_bytes()).and_then(|()| file.sync_all()).map_err(io)?;
                    tracing::info!(kid = key.kid(), "generated a new signing key");
                    Ok(key)
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load_or_create(path),
                Err(e) => Err(io(e)),
            }
        }
        Err(e) => Err(io(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_is_private_and_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join(KEY_FILE);
        let first = load_or_create(&path).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let second = load_or_create(&path).unwrap();
        assert_eq!(first.kid(), second.kid());
    }

    #[test]
    fn a_world_readable_key_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE);
        load_or_create(&path).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(load_or_create(&path), Err(KeystoreError::Permissions { .. })));
    }

    #[test]
    fn a_corrupt_key_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE);
        OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path).unwrap().write_all(b"short").unwrap();
        assert!(matches!(load_or_create(&path), Err(KeystoreError::File { .. })));
    }
}
