//! Password hashing with Argon2id. Pure and CPU-bound: callers on an async
//! runtime run it on a blocking thread (see `hasher`).

use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};

use crate::domain::Password;

/// Argon2id cost parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl HashParams {
    /// OWASP's recommendation for Argon2id: 19 MiB, 2 passes, 1 lane.
    pub const OWASP: Self = Self { memory_kib: 19_456, iterations: 2, parallelism: 1 };
}

/// Whether `stored` was made with anything other than Argon2id v1.3 at
/// exactly `params`: then it is re-hashed at the next successful sign-in.
pub fn needs_rehash(stored: &str, params: HashParams) -> bool {
    let HashParams { memory_kib: m, iterations: t, parallelism: p } = params;
    !stored.starts_with(&format!("$argon2id$v=19$m={m},t={t},p={p}$"))
}

/// A hashing failure that is the server's fault, never the user's.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("invalid Argon2 parameters: {0}")]
    Params(argon2::Error),
    #[error("hashing failed: {0}")]
    Hash(argon2::password_hash::Error),
    #[error("the stored hash is not a valid PHC string")]
    StoredHashInvalid,
}

fn hasher(params: HashParams) -> Result<Argon2<'static>, HashError> {
    let params =
        Params::new(params.memory_kib, params.iterations, params.parallelism, None).map_err(HashError::Params)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes `password` with a fresh random salt into a PHC string
/// (`$argon2id$v=19$m=...`).
///
/// # Errors
/// [`HashError`] on bad parameters or when the OS has no randomness.
pub fn hash(password: &Password, params: HashParams) -> Result<String, HashError> {
    hasher(params)?.hash_password(password.expose().as_bytes()).map(|h| h.to_string()).map_err(HashError::Hash)
}

/// Checks `password` against a stored PHC string, using the parameters
/// recorded in it.
///
/// # Errors
/// [`HashError::StoredHashInvalid`] when the stored value is corrupt; a
/// wrong password is `Ok(false)`.
pub fn verify(password: &Password, stored: &str) -> Result<bool, HashError> {
    let parsed = PasswordHash::new(stored).map_err(|_| HashError::StoredHashInvalid)?;
    match Argon2::default().verify_password(password.expose().as_bytes(), &parsed) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
        Err(e) => Err(HashError::Hash(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Tiny costs keep the unit tests fast; the OWASP set is tested once.
    const CHEAP: HashParams = HashParams { memory_kib: 64, iterations: 1, parallelism: 1 };

    fn pw(s: &str) -> Password {
        Password::parse_attempt(s).unwrap()
    }

    #[test]
    fn a_hash_verifies_its_password_and_nothing_else() {
        let h = hash(&pw("correct horse"), CHEAP).unwrap();
        assert!(verify(&pw("correct horse"), &h).unwrap());
        assert!(!verify(&pw("correct horsE"), &h).unwrap());
        assert!(!verify(&pw("correct horse "), &h).unwrap());
    }

    #[test]
    fn the_same_password_hashes_differently_each_time() {
        assert_ne!(hash(&pw("same"), CHEAP).unwrap(), hash(&pw("same"), CHEAP).unwrap());
    }

    #[test]
    fn owasp_parameters_are_recorded_in_the_hash() {
        let h = hash(&pw("correct horse"), HashParams::OWASP).unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify(&pw("correct horse"), &h).unwrap());
    }

    #[test]
    fn a_hash_needs_rehashing_exactly_when_its_parameters_differ() {
        let h = hash(&pw("correct horse"), CHEAP).unwrap();
        assert!(!needs_rehash(&h, CHEAP));
        assert!(needs_rehash(&h, HashParams { memory_kib: 128, ..CHEAP }));
        assert!(needs_rehash(&h, HashParams { iterations: 2, ..CHEAP }));
        assert!(needs_rehash(&h, HashParams { parallelism: 2, ..CHEAP }));
        assert!(needs_rehash("$argon2i$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA", CHEAP), "other variants are upgraded");
    }

    #[test]
    fn a_corrupt_stored_hash_is_an_error_not_a_mismatch() {
        assert!(matches!(verify(&pw("x"), "not-a-hash"), Err(HashError::StoredHashInvalid)));
        assert!(matches!(verify(&pw("x"), ""), Err(HashError::StoredHashInvalid)));
    }
}
