//! Secrets at rest: signing keys are stored sealed (XChaCha20-Poly1305)
//! under a master key that never enters the database, with the key's id
//! and algorithm bound in as associated data, so a sealed secret cannot be
//! moved to another row or relabelled without failing to open.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};

use super::keys::{KeyError, secret_bytes};

const NONCE_BYTES: usize = 24;

/// The key that seals the signing keys.
pub struct MasterKey([u8; 32]);

/// Why a sealed secret could not be opened.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("not a sealed secret")]
    Malformed,
    #[error("does not open with this master key (a different GATEHOUSE_MASTER_KEY, or altered data)")]
    WrongKey,
}

impl MasterKey {
    /// From its text form (at least 32 random bytes, base64).
    ///
    /// # Errors
    /// [`KeyError`] when it is weak or not base64.
    pub fn from_text(text: &str) -> Result<Self, KeyError> {
        Ok(Self(Sha256::digest(secret_bytes(text)?).into()))
    }

    /// A new master key and its text form.
    ///
    /// # Errors
    /// When the operating system has no randomness to give.
    pub fn generate() -> Result<(Self, String), getrandom::Error> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)?;
        let text = URL_SAFE_NO_PAD.encode(bytes);
        Ok((Self::from_text(&text).expect("32 random bytes are a strong key"), text))
    }

    /// Seals `secret`, bound to `context`.
    ///
    /// # Errors
    /// When the operating system has no randomness to give.
    pub fn seal(&self, secret: &[u8], context: &str) -> Result<String, getrandom::Error> {
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce)?;
        let sealed = XChaCha20Poly1305::new(&self.0.into())
            .encrypt(&XNonce::from(nonce), Payload { msg: secret, aad: context.as_bytes() })
            .expect("encryption into memory cannot fail");
        Ok(URL_SAFE_NO_PAD.encode([nonce.as_slice(), &sealed].concat()))
    }

    /// Opens what [`MasterKey::seal`] made with the same `context`.
    ///
    /// # Errors
    /// [`SealError`].
    pub fn open(&self, sealed: &str, context: &str) -> Result<Vec<u8>, SealError> {
        let bytes = URL_SAFE_NO_PAD.decode(sealed.trim()).map_err(|_| SealError::Malformed)?;
        if bytes.len() <= NONCE_BYTES {
            return Err(SealError::Malformed);
        }
        let (nonce, body) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| SealError::Malformed)?;
        XChaCha20Poly1305::new(&self.0.into())
            .decrypt(&XNonce::from(nonce), Payload { msg: body, aad: context.as_bytes() })
            .map_err(|_| SealError::WrongKey)
    }
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_context() {
        let (master, _) = MasterKey::generate().unwrap();
        let sealed = master.seal(b"the signing seed", "ed-abc EdDSA").unwrap();
        assert!(!sealed.contains("signing"));
        assert_eq!(master.open(&sealed, "ed-abc EdDSA").unwrap(), b"the signing seed");
        assert_eq!(master.open(&sealed, "ed-xyz EdDSA"), Err(SealError::WrongKey), "moved to another key");
        let (other, _) = MasterKey::generate().unwrap();
        assert_eq!(other.open(&sealed, "ed-abc EdDSA"), Err(SealError::WrongKey));
        let mut tampered = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(master.open(&URL_SAFE_NO_PAD.encode(tampered), "ed-abc EdDSA"), Err(SealError::WrongKey));
        assert_eq!(master.open("short", "x"), Err(SealError::Malformed));
    }

    #[test]
    fn the_same_secret_seals_differently_each_time() {
        let (master, _) = MasterKey::generate().unwrap();
        assert_ne!(master.seal(b"s", "c").unwrap(), master.seal(b"s", "c").unwrap());
    }

    #[test]
    fn weak_master_keys_are_refused() {
        assert_eq!(MasterKey::from_text("secret").unwrap_err(), KeyError::WellKnown);
        assert!(format!("{:?}", MasterKey::generate().unwrap().0) == "MasterKey(..)");
    }
}
