//! Password hashing with Argon2id. Pure and CPU-bound: callers on an async
//! runtime run it on the hashing threads (see `hasher`), each of which
//! keeps one [`Workspace`] for all the hashes it computes.

use argon2::password_hash::phc::{Output, PasswordHash, Salt};
use argon2::{ARGON2ID_IDENT, Algorithm, Argon2, Block, Params, Version};

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
    #[error("Argon2 refused: {0}")]
    Argon2(argon2::Error),
    #[error("the stored hash is not a valid PHC string")]
    StoredHashInvalid,
    #[error("no memory for Argon2's {0} KiB")]
    OutOfMemory(usize),
    #[error("the OS has no randomness: {0}")]
    Random(getrandom::Error),
    #[error("cannot write the PHC string")]
    Encode,
}

/// Argon2's working memory (`m` KiB), kept from one hash to the next: a
/// hashing thread then neither allocates nor faults in 19 MiB per
/// password, and the process holds exactly one such area per thread.
#[derive(Default)]
pub struct Workspace {
    blocks: Vec<Block>,
}

impl Workspace {
    fn blocks(&mut self, params: &Params) -> Result<&mut [Block], HashError> {
        let count = params.block_count();
        if self.blocks.len() < count {
            // Every block is written before it is read, so stale contents
            // from an earlier hash never matter.
            self.blocks
                .try_reserve_exact(count - self.blocks.len())
                .map_err(|_| HashError::OutOfMemory(count * Block::SIZE / 1024))?;
            self.blocks.resize(count, Block::default());
        }
        Ok(&mut self.blocks[..count])
    }
}

const SALT_BYTES: usize = 16;
const OUTPUT_BYTES: usize = 32;

fn argon2_params(params: HashParams) -> Result<Params, HashError> {
    Params::new(params.memory_kib, params.iterations, params.parallelism, Some(OUTPUT_BYTES)).map_err(HashError::Argon2)
}

/// Hashes `password` with a fresh random salt into a PHC string
/// (`$argon2id$v=19$m=...`).
///
/// # Errors
/// [`HashError`] on bad parameters, no memory, or no randomness.
pub fn hash(password: &Password, params: HashParams, workspace: &mut Workspace) -> Result<String, HashError> {
    let params = argon2_params(params)?;
    let mut salt = [0u8; SALT_BYTES];
    getrandom::fill(&mut salt).map_err(HashError::Random)?;
    let mut output = [0u8; OUTPUT_BYTES];
    let memory = workspace.blocks(&params)?;
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(password.expose().as_bytes(), &salt, &mut output, memory)
        .map_err(HashError::Argon2)?;
    phc_string(&params, &salt, &output)
}

/// A stored hash at `params` that no password matches (its output is
/// random), so checking a password for an account that does not exist costs
/// exactly what a real check costs.
///
/// # Errors
/// [`HashError`] on bad parameters or no randomness.
pub fn unmatchable(params: HashParams) -> Result<String, HashError> {
    let params = argon2_params(params)?;
    let mut bytes = [0u8; SALT_BYTES + OUTPUT_BYTES];
    getrandom::fill(&mut bytes).map_err(HashError::Random)?;
    let (salt, output) = bytes.split_at(SALT_BYTES);
    phc_string(&params, salt, output)
}

fn phc_string(params: &Params, salt: &[u8], output: &[u8]) -> Result<String, HashError> {
    fn encoding<E>(_: E) -> HashError {
        HashError::Encode
    }
    let phc = PasswordHash {
        algorithm: ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: params.try_into().map_err(encoding)?,
        salt: Some(Salt::new(salt).map_err(encoding)?),
        hash: Some(Output::new(output).map_err(encoding)?),
    };
    Ok(phc.to_string())
}

/// Checks `password` against a stored PHC string, using the algorithm,
/// version and parameters recorded in it (older hashes keep working until
/// they are upgraded). The outputs are compared in constant time.
///
/// # Errors
/// [`HashError::StoredHashInvalid`] when the stored value is corrupt; a
/// wrong password is `Ok(false)`.
pub fn verify(password: &Password, stored: &str, workspace: &mut Workspace) -> Result<bool, HashError> {
    fn invalid<E>(_: E) -> HashError {
        HashError::StoredHashInvalid
    }
    let parsed = PasswordHash::new(stored).map_err(invalid)?;
    let algorithm = Algorithm::try_from(parsed.algorithm.as_str()).map_err(invalid)?;
    let version = parsed.version.map(Version::try_from).transpose().map_err(invalid)?.unwrap_or_default();
    let params = Params::try_from(&parsed).map_err(invalid)?;
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return Err(HashError::StoredHashInvalid);
    };
    let mut output = [0u8; Output::MAX_LENGTH];
    let output = output.get_mut(..expected.len()).ok_or(HashError::StoredHashInvalid)?;
    let memory = workspace.blocks(&params)?;
    Argon2::new(algorithm, version, params.clone())
        .hash_password_into_with_memory(password.expose().as_bytes(), salt.as_ref(), output, memory)
        .map_err(HashError::Argon2)?;
    // `Output`'s equality is constant-time.
    Ok(Output::new(output).map_err(invalid)? == *expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Tiny costs keep the unit tests fast; the OWASP set is tested once.
    const CHEAP: HashParams = HashParams { memory_kib: 64, iterations: 1, parallelism: 1 };

    fn pw(s: &str) -> Password {
        Password::parse_attempt(s).unwrap()
    }

    fn hash(password: &Password, params: HashParams) -> Result<String, HashError> {
        super::hash(password, params, &mut Workspace::default())
    }

    fn verify(password: &Password, stored: &str) -> Result<bool, HashError> {
        super::verify(password, stored, &mut Workspace::default())
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
    fn hashes_agree_with_the_reference_implementation_both_ways() {
        use argon2::{PasswordHasher as _, PasswordVerifier as _};
        let reference = Argon2::new(Algorithm::Argon2id, Version::V0x13, argon2_params(CHEAP).unwrap());
        let theirs = reference.hash_password(b"correct horse").unwrap().to_string();
        assert!(verify(&pw("correct horse"), &theirs).unwrap(), "hashes stored before stay valid");
        assert!(!verify(&pw("correct horsE"), &theirs).unwrap());
        let ours = hash(&pw("correct horse"), CHEAP).unwrap();
        assert!(reference.verify_password(b"correct horse", &PasswordHash::new(&ours).unwrap()).is_ok());
    }

    #[test]
    fn one_workspace_serves_hashes_of_any_size_in_any_order() {
        let mut ws = Workspace::default();
        let big = HashParams { memory_kib: 256, ..CHEAP };
        let a = super::hash(&pw("first"), big, &mut ws).unwrap();
        let b = super::hash(&pw("second"), CHEAP, &mut ws).unwrap();
        let c = super::hash(&pw("third"), HashParams { memory_kib: 512, ..CHEAP }, &mut ws).unwrap();
        for (p, h) in [("first", &a), ("second", &b), ("third", &c)] {
            assert!(super::verify(&pw(p), h, &mut ws).unwrap(), "{p}");
            assert!(verify(&pw(p), h).unwrap(), "{p} with a fresh workspace");
        }
        assert!(!super::verify(&pw("first"), &b, &mut ws).unwrap());
    }

    #[test]
    fn an_unmatchable_hash_has_the_parameters_and_matches_nothing() {
        let h = unmatchable(CHEAP).unwrap();
        assert!(!needs_rehash(&h, CHEAP), "{h}");
        assert_ne!(h, unmatchable(CHEAP).unwrap());
        assert!(!verify(&pw("gatehouse"), &h).unwrap());
        assert!(matches!(unmatchable(HashParams { memory_kib: 1, ..CHEAP }), Err(HashError::Argon2(_))));
    }

    #[test]
    fn a_corrupt_stored_hash_is_an_error_not_a_mismatch() {
        assert!(matches!(verify(&pw("x"), "not-a-hash"), Err(HashError::StoredHashInvalid)));
        assert!(matches!(verify(&pw("x"), ""), Err(HashError::StoredHashInvalid)));
        let good = hash(&pw("x"), CHEAP).unwrap();
        let (head, _) = good.rsplit_once('$').unwrap();
        assert!(matches!(verify(&pw("x"), head), Err(HashError::StoredHashInvalid)), "no output");
        let other = good.replace("argon2id", "scrypt");
        assert!(matches!(verify(&pw("x"), &other), Err(HashError::StoredHashInvalid)), "not Argon2");
    }
}
