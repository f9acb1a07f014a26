//! Where the signing keys come from and how they change.
//!
//! Either one configured secret (`GATEHOUSE_JWT_SECRET`, HS256, rotated by
//! redeploying), or, by default, keys managed in the database: generated
//! here, sealed under the master key (`GATEHOUSE_MASTER_KEY`, or in local
//! mode a key generated once into the data directory with 0600), shared by
//! every instance, rotated with `gatehouse keys rotate` and re-read every
//! [`RELOAD_EVERY`] seconds. The schedule itself is `auth::rotation`.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use secrecy::ExposeSecret;

use crate::auth::clock::UnixTime;
use crate::auth::keys::{KeyAlgorithm, KeyError, KeyRing, PublicJwk, SigningKey};
use crate::auth::rotation::{Schedule, Scheduled};
use crate::auth::sealed::{MasterKey, SealError};
use crate::config::{Mode, Settings};
use crate::db::{self, Db};

/// The key file of earlier versions (one HS256 secret); imported as the
/// first managed key so that sessions survive the upgrade.
pub const KEY_FILE: &str = "signing-key.hs256";
/// The generated master key's file name inside the data directory.
pub const MASTER_KEY_FILE: &str = "master.key";
/// Instances re-read the stored keys this often (seconds).
pub const RELOAD_EVERY: u64 = 30;

/// Why no key could be had.
#[derive(Debug, thiserror::Error)]
pub enum KeystoreError {
    #[error("GATEHOUSE_JWT_SECRET is unusable: {0}")]
    Configured(#[source] KeyError),
    #[error("GATEHOUSE_MASTER_KEY must be set to manage signing keys")]
    NoMaster,
    #[error("GATEHOUSE_MASTER_KEY is unusable: {0}")]
    Master(#[source] KeyError),
    #[error("the key file {path} is unusable: {source}")]
    File { path: PathBuf, source: KeyError },
    #[error("the key file {path} is readable by other users; run `chmod 600 {path}`")]
    Permissions { path: PathBuf },
    #[error("could not read or write {path}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("the operating system has no randomness to give")]
    Random(#[from] getrandom::Error),
    #[error("could not read or store signing keys")]
    Database(#[from] sqlx::Error),
    #[error("stored signing key {kid} {source}")]
    Sealed { kid: String, source: SealError },
    #[error("stored signing key {kid} is unusable: {reason}")]
    Stored { kid: String, reason: String },
    #[error("keys come from GATEHOUSE_JWT_SECRET here; unset it (and set GATEHOUSE_MASTER_KEY) to manage keys")]
    Fixed,
    #[error("another process rotated the keys at the same moment; try again")]
    Contended,
}

/// The keys in force, shared by every request and replaced on reload.
pub struct Keys {
    schedule: RwLock<Arc<Schedule>>,
    /// The ring for the current stretch of time: (valid from, valid until, ring).
    cache: Mutex<Option<(UnixTime, UnixTime, Arc<KeyRing>)>>,
    /// `None` for a configured secret.
    store: Option<Store>,
    /// Seals people's secrets (their authenticator apps'). `None` only in
    /// production with a configured signing secret and no master key.
    master: Option<Arc<MasterKey>>,
}

struct Store {
    master: Arc<MasterKey>,
    grace: i64,
}

/// Why a person's secret could not be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("no master key is configured (set GATEHOUSE_MASTER_KEY)")]
    NoMasterKey,
    #[error("the operating system has no randomness to give")]
    Random(#[from] getrandom::Error),
    #[error("a stored secret {0}")]
    Sealed(#[from] SealError),
}

/// The published keys: a JWK Set (RFC 7517).
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct KeySet {
    pub keys: Vec<PublicJwk>,
}

/// What `gatehouse keys rotate` made.
#[derive(Clone, Debug)]
pub struct Rotated {
    pub kid: String,
    pub algorithm: KeyAlgorithm,
    pub signs_from: UnixTime,
}

impl Keys {
    /// The ring in force at `now` (recomputed only when the schedule or a
    /// moment in it changes it).
    pub fn ring(&self, now: UnixTime) -> Arc<KeyRing> {
        let mut cache = self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((from, until, ring)) = cache.as_ref()
            && (*from..*until).contains(&now)
        {
            return Arc::clone(ring);
        }
        let (ring, until) = self.schedule().ring_at(now);
        let ring = Arc::new(ring);
        *cache = Some((now, until, Arc::clone(&ring)));
        ring
    }

    pub fn schedule(&self) -> Arc<Schedule> {
        Arc::clone(&self.schedule.read().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    fn replace(&self, schedule: Schedule) {
        *self.schedule.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(schedule);
        *self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }

    /// Whether people's secrets can be sealed here (see [`Keys::seal`]).
    pub fn can_seal(&self) -> bool {
        self.master.is_some()
    }

    /// Seals a person's `secret` under the master key, bound to `context`
    /// (what it is and whose), like the signing keys.
    ///
    /// # Errors
    /// [`SecretError`].
    pub fn seal(&self, secret: &[u8], context: &str) -> Result<String, SecretError> {
        Ok(self.master.as_ref().ok_or(SecretError::NoMasterKey)?.seal(secret, context)?)
    }

    /// Opens what [`Keys::seal`] made with the same `context`.
    ///
    /// # Errors
    /// [`SecretError`].
    pub fn open(&self, sealed: &str, context: &str) -> Result<Vec<u8>, SecretError> {
        Ok(self.master.as_ref().ok_or(SecretError::NoMasterKey)?.open(sealed, context)?)
    }

    /// The public keys to publish at `now`; never a secret.
    pub fn jwks(&self, now: UnixTime) -> KeySet {
        KeySet { keys: self.schedule().published(now).filter_map(SigningKey::public_jwk).collect() }
    }

    /// Re-reads the stored keys (nothing to do for a configured secret).
    ///
    /// # Errors
    /// [`KeystoreError`] when they cannot be read or opened; the keys in
    /// force stay as they were.
    pub async fn reload(&self, db: &Db) -> Result<(), KeystoreError> {
        if let Some(store) = &self.store {
            self.replace(read_schedule(db, store).await?);
        }
        Ok(())
    }

    /// Makes a new `algorithm` key that signs from `signs_from` (published
    /// at once), and takes it into this process's schedule.
    ///
    /// # Errors
    /// [`KeystoreError::Fixed`] for a configured secret; storage failures.
    pub async fn rotate(
        &self,
        db: &Db,
        algorithm: KeyAlgorithm,
        signs_from: UnixTime,
        now: UnixTime,
    ) -> Result<Rotated, KeystoreError> {
        let store = self.store.as_ref().ok_or(KeystoreError::Fixed)?;
        let seq = db::keys::list(db).await?.iter().map(|k| k.seq).max().unwrap_or(0) + 1;
        let (key, secret) = SigningKey::generate(algorithm)?;
        if !store_key(db, store, seq, &key, &secret, now, signs_from).await? {
            return Err(KeystoreError::Contended);
        }
        self.reload(db).await?;
        Ok(Rotated { kid: key.kid().to_owned(), algorithm, signs_from })
    }
}

/// Loads the keys for `settings`: the configured secret, or the stored
/// keys (making the first one when there is none).
///
/// # Errors
/// [`KeystoreError`] saying what is missing, weak or unreadable.
pub async fn load(settings: &Settings, db: &Db, now: UnixTime) -> Result<Keys, KeystoreError> {
    let master = match &settings.master_key {
        Some(text) => Some(MasterKey::from_text(text.expose_secret()).map_err(KeystoreError::Master)?),
        None if settings.mode == Mode::Local => {
            let path = settings.data_dir.join(MASTER_KEY_FILE);
            let text = secret_file(&path, || MasterKey::generate().map(|(_, text)| text))?;
            Some(MasterKey::from_text(&text).map_err(|source| KeystoreError::File { path, source })?)
        }
        None => None,
    }
    .map(Arc::new);
    if let Some(secret) = &settings.jwt_secret {
        let key = SigningKey::hs256_from_base64(secret.expose_secret()).map_err(KeystoreError::Configured)?;
        if master.is_none() {
            tracing::warn!("no GATEHOUSE_MASTER_KEY: second factors cannot be turned on");
        }
        return Ok(Keys {
            schedule: RwLock::new(Arc::new(Schedule::fixed(key))),
            cache: Mutex::new(None),
            store: None,
            master,
        });
    }
    // Config refuses production without a master key unless a signing
    // secret is configured.
    let Some(master) = master else { return Err(KeystoreError::NoMaster) };
    let store = Store { master: Arc::clone(&master), grace: settings.tokens.access_ttl + settings.tokens.leeway };
    if db::keys::list(db).await?.is_empty() {
        let legacy = settings.data_dir.join(KEY_FILE);
        let (key, secret) = if legacy.exists() {
            let text = secret_file(&legacy, || Err(getrandom::Error::UNSUPPORTED))?;
            let key =
                SigningKey::hs256_from_base64(&text).map_err(|source| KeystoreError::File { path: legacy, source })?;
            (key, text)
        } else {
            SigningKey::generate(settings.jwt_algorithm)?
        };
        // Losing this race to another instance is fine: its key is read below.
        if store_key(db, &store, 1, &key, &secret, now, now).await? {
            tracing::info!(kid = key.kid(), algorithm = %key.key_algorithm(), "made the first signing key");
        }
    }
    let schedule = read_schedule(db, &store).await?;
    Ok(Keys {
        schedule: RwLock::new(Arc::new(schedule)),
        cache: Mutex::new(None),
        store: Some(store),
        master: Some(master),
    })
}

/// Re-reads the stored keys every [`RELOAD_EVERY`] seconds, so a rotation
/// made anywhere reaches this instance.
pub async fn keep_reloading(keys: Arc<Keys>, db: Db) {
    let every = std::time::Duration::from_secs(RELOAD_EVERY);
    // The keys were just loaded: the first reload is one period away.
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tick.tick().await;
        if let Err(e) = keys.reload(&db).await {
            tracing::error!(error = %crate::error::chain(&e), "could not reload the signing keys; keeping the current ones");
        }
    }
}

/// What a sealed secret is bound to: its key's id and algorithm.
fn context(kid: &str, algorithm: KeyAlgorithm) -> String {
    format!("gatehouse signing key {kid} {algorithm}")
}

async fn store_key(
    db: &Db,
    store: &Store,
    seq: i64,
    key: &SigningKey,
    secret: &str,
    now: UnixTime,
    signs_from: UnixTime,
) -> Result<bool, KeystoreError> {
    let algorithm = key.key_algorithm();
    let sealed_secret = store.master.seal(secret.as_bytes(), &context(key.kid(), algorithm))?;
    let row = db::keys::StoredKey {
        seq,
        kid: key.kid().to_owned(),
        algorithm: algorithm.as_str().to_owned(),
        sealed_secret,
        created_at: now,
        signs_from,
    };
    Ok(db::keys::insert(db, &row).await?)
}

async fn read_schedule(db: &Db, store: &Store) -> Result<Schedule, KeystoreError> {
    let mut keys = Vec::new();
    for row in db::keys::list(db).await? {
        let stored = |reason: String| KeystoreError::Stored { kid: row.kid.clone(), reason };
        let algorithm = KeyAlgorithm::parse(&row.algorithm)
            .ok_or_else(|| stored(format!("unknown algorithm {}", row.algorithm)))?;
        let secret = store
            .master
            .open(&row.sealed_secret, &context(&row.kid, algorithm))
            .map_err(|source| KeystoreError::Sealed { kid: row.kid.clone(), source })?;
        let secret = String::from_utf8(secret).map_err(|_| stored("is not text".into()))?;
        let key = SigningKey::from_secret(algorithm, &secret).map_err(|e| stored(e.to_string()))?;
        if key.kid() != row.kid {
            return Err(stored("does not match its kid".into()));
        }
        keys.push(Scheduled { seq: row.seq, key, signs_from: row.signs_from });
    }
    Schedule::new(keys, store.grace)
        .ok_or_else(|| KeystoreError::Stored { kid: "-".into(), reason: "none stored".into() })
}

/// The secret text in `path` (0600), made with `generate` when missing.
fn secret_file(path: &Path, generate: impl Fn() -> Result<String, getrandom::Error>) -> Result<String, KeystoreError> {
    let io = |source| KeystoreError::Io { path: path.to_owned(), source };
    match fs::read_to_string(path) {
        Ok(text) => {
            let mode = fs::metadata(path).map_err(io)?.permissions().mode();
            if mode & 0o077 != 0 {
                return Err(KeystoreError::Permissions { path: path.to_owned() });
            }
            Ok(text.trim().to_owned())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir).map_err(io)?;
            }
            let text = generate()?;
            // create_new: two instances starting at once cannot overwrite
            // each other's key; the loser reads the winner's.
            match OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
                Ok(mut file) => {
                    file.write_all(text.as_bytes()).and_then(|()| file.sync_all()).map_err(io)?;
                    Ok(text)
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => secret_file(path, generate),
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
        let path = dir.path().join("nested").join(MASTER_KEY_FILE);
        let first = secret_file(&path, || MasterKey::generate().map(|(_, t)| t)).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let second = secret_file(&path, || MasterKey::generate().map(|(_, t)| t)).unwrap();
        assert_eq!(first, second);
    }

    #[test]
    fn a_world_readable_key_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(MASTER_KEY_FILE);
        let make = || MasterKey::generate().map(|(_, t)| t);
        secret_file(&path, make).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(secret_file(&path, make), Err(KeystoreError::Permissions { .. })));
    }

    async fn keys_in(dir: &Path, settings: impl FnOnce(&mut Settings)) -> Result<Keys, KeystoreError> {
        let site = leptos::config::LeptosOptions::builder().output_name("gatehouse").build();
        let mut s = Settings::local(dir.to_owned(), site);
        settings(&mut s);
        let db = Db::connect(&crate::config::sqlite_url(dir), 2).await.unwrap();
        load(&s, &db, 1_000).await
    }

    #[tokio::test]
    async fn the_key_file_of_earlier_versions_becomes_the_first_stored_key() {
        let dir = tempfile::tempdir().unwrap();
        let (old, text) = SigningKey::generate_hs256().unwrap();
        let path = dir.path().join(KEY_FILE);
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        let keys = keys_in(dir.path(), |_| {}).await.unwrap();
        assert_eq!(keys.ring(1_000).active().kid(), old.kid(), "sessions signed before the upgrade stay valid");
        let again = keys_in(dir.path(), |_| {}).await.unwrap();
        assert_eq!(again.schedule().keys().len(), 1, "imported once");
    }

    #[tokio::test]
    async fn a_configured_secret_is_the_only_key_and_cannot_be_rotated() {
        let dir = tempfile::tempdir().unwrap();
        let (key, text) = SigningKey::generate_hs256().unwrap();
        let keys = keys_in(dir.path(), |s| s.jwt_secret = Some(text.into())).await.unwrap();
        assert_eq!(keys.ring(1_000).active().kid(), key.kid());
        let db = Db::connect(&crate::config::sqlite_url(dir.path()), 2).await.unwrap();
        assert!(matches!(keys.rotate(&db, KeyAlgorithm::EdDsa, 1_000, 1_000).await, Err(KeystoreError::Fixed)));
        assert!(keys.can_seal(), "locally a master key is made for people's secrets");
        let sealed = keys.seal(b"totp", "whose").unwrap();
        assert_eq!(keys.open(&sealed, "whose").unwrap(), b"totp");
        assert!(keys.open(&sealed, "someone else's").is_err());
    }
}
