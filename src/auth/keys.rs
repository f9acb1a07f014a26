//! Signing keys. A [`KeyRing`] holds one active key that signs and any
//! number of keys that only verify; each has a `kid` and its algorithm is
//! bound to the key, never read from a token.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use sha2::{Digest, Sha256};

/// The fewest secret bytes an HS256 key may have.
pub const MIN_SECRET_BYTES: usize = 32;

/// Values that appear in examples and tutorials: refused even when long
/// enough, because everyone has them.
const WELL_KNOWN: &[&str] = &[
    "secret",
    "changeme",
    "change-me",
    "super-secret",
    "your-secret-key",
    "replace-me-with-at-least-32-random-bytes-base64",
    "CHANGE_ME_generate_with_openssl_rand_base64_32",
];

/// Why a configured secret was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the signing secret is not valid base64 (generate one with `openssl rand -base64 32`)")]
    NotBase64,
    #[error("the signing secret is {0} bytes; at least {MIN_SECRET_BYTES} random bytes are required")]
    TooShort(usize),
    #[error("the signing secret is a well-known example value; generate a random one")]
    WellKnown,
    #[error("the signing secret has almost no randomness (too few distinct bytes)")]
    LowEntropy,
}

/// The algorithms a key can be made for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyAlgorithm {
    /// HMAC-SHA256: one secret signs and verifies. Right for one app.
    Hs256,
    /// Ed25519 signatures: the public half is published (JWKS), so other
    /// services verify without being able to sign.
    EdDsa,
}

impl KeyAlgorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hs256 => "HS256",
            Self::EdDsa => "EdDSA",
        }
    }

    /// `HS256` or `EdDSA`, in any case.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Hs256, Self::EdDsa].into_iter().find(|a| a.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The bytes of a configured secret in text form (base64, standard or
/// URL-safe, padded or not), refused when weak.
///
/// # Errors
/// [`KeyError`] saying why.
pub fn secret_bytes(text: &str) -> Result<Vec<u8>, KeyError> {
    let text = text.trim();
    if WELL_KNOWN.iter().any(|w| w.eq_ignore_ascii_case(text)) {
        return Err(KeyError::WellKnown);
    }
    let unpadded = text.trim_end_matches('=');
    let bytes = URL_SAFE_NO_PAD.decode(unpadded).or_else(|_| STANDARD.decode(text)).map_err(|_| KeyError::NotBase64)?;
    check_strength(&bytes)?;
    Ok(bytes)
}

fn check_strength(secret: &[u8]) -> Result<(), KeyError> {
    if secret.len() < MIN_SECRET_BYTES {
        return Err(KeyError::TooShort(secret.len()));
    }
    let mut distinct = secret.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 8 {
        return Err(KeyError::LowEntropy);
    }
    Ok(())
}

/// A published public key: a JSON Web Key (RFC 7517) of type OKP (RFC 8037).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct PublicJwk {
    /// `OKP`.
    pub kty: &'static str,
    /// `Ed25519`.
    pub crv: &'static str,
    /// The public key, base64url.
    pub x: String,
    pub kid: String,
    /// `EdDSA`.
    pub alg: &'static str,
    /// `sig`.
    #[serde(rename = "use")]
    pub use_: &'static str,
}

/// One key: its id, algorithm and the material to sign and verify.
#[derive(Clone)]
pub struct SigningKey {
    kid: String,
    algorithm: Algorithm,
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// The Ed25519 public key; `None` for a symmetric key, which has
    /// nothing that may be published.
    public: Option<[u8; 32]>,
}

impl SigningKey {
    /// An HS256 key from raw secret bytes, with a `kid` derived from them.
    ///
    /// # Errors
    /// [`KeyError`] when the secret is short, well known or patterned.
    pub fn hs256(secret: &[u8]) -> Result<Self, KeyError> {
        check_strength(secret)?;
        // The kid names the key without revealing it: a truncated hash.
        let digest = Sha256::digest(secret);
        Ok(Self {
            kid: format!("hs-{}", URL_SAFE_NO_PAD.encode(&digest[..9])),
            algorithm: Algorithm::HS256,
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            public: None,
        })
    }

    /// An Ed25519 key from its 32-byte seed, with a `kid` derived from the
    /// public key.
    pub fn ed25519(seed: &[u8; 32]) -> Self {
        use ed25519_dalek::pkcs8::EncodePrivateKey;
        let signing = ed25519_dalek::SigningKey::from_bytes(seed);
        let public = signing.verifying_key().to_bytes();
        let der = signing.to_pkcs8_der().expect("an Ed25519 key always encodes as PKCS#8");
        let digest = Sha256::digest(public);
        Self {
            kid: format!("ed-{}", URL_SAFE_NO_PAD.encode(&digest[..9])),
            algorithm: Algorithm::EdDSA,
            encoding: EncodingKey::from_ed_der(der.as_bytes()),
            decoding: DecodingKey::from_ed_der(&public),
            public: Some(public),
        }
    }

    /// A new key for `algorithm` from the OS CSPRNG, and its secret's text
    /// form (32 bytes, base64url) for sealed storage.
    ///
    /// # Errors
    /// When the operating system has no randomness to give.
    pub fn generate(algorithm: KeyAlgorithm) -> Result<(Self, String), getrandom::Error> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret)?;
        let key = match algorithm {
            KeyAlgorithm::Hs256 => Self::hs256(&secret).expect("32 random bytes always make a valid key"),
            KeyAlgorithm::EdDsa => Self::ed25519(&secret),
        };
        Ok((key, URL_SAFE_NO_PAD.encode(secret)))
    }

    /// A key from its stored secret text (what [`SigningKey::generate`]
    /// returned).
    ///
    /// # Errors
    /// [`KeyError`] when the text is not a usable secret.
    pub fn from_secret(algorithm: KeyAlgorithm, text: &str) -> Result<Self, KeyError> {
        match algorithm {
            KeyAlgorithm::Hs256 => Self::hs256_from_base64(text),
            KeyAlgorithm::EdDsa => {
                let bytes = URL_SAFE_NO_PAD.decode(text.trim()).map_err(|_| KeyError::NotBase64)?;
                let seed: [u8; 32] = bytes.as_slice().try_into().map_err(|_| KeyError::TooShort(bytes.len()))?;
                Ok(Self::ed25519(&seed))
            }
        }
    }

    /// The public key as a JSON Web Key (RFC 8037), for `/.well-known/jwks.json`;
    /// `None` for a symmetric key.
    pub fn public_jwk(&self) -> Option<PublicJwk> {
        self.public.map(|x| PublicJwk {
            kty: "OKP",
            crv: "Ed25519",
            x: URL_SAFE_NO_PAD.encode(x),
            kid: self.kid.clone(),
            alg: "EdDSA",
            use_: "sig",
        })
    }

    /// An HS256 key from its configured text form (base64, standard or
    /// URL-safe, padded or not).
    ///
    /// # Errors
    /// [`KeyError`] when it does not decode or is too weak.
    pub fn hs256_from_base64(text: &str) -> Result<Self, KeyError> {
        Self::hs256(&secret_bytes(text)?)
    }

    /// Generates a fresh HS256 secret from the OS CSPRNG, returning the key
    /// and its text form for storage.
    ///
    /// # Errors
    /// When the operating system has no randomness to give.
    pub fn generate_hs256() -> Result<(Self, String), getrandom::Error> {
        Self::generate(KeyAlgorithm::Hs256)
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    pub fn key_algorithm(&self) -> KeyAlgorithm {
        if self.algorithm == Algorithm::EdDSA { KeyAlgorithm::EdDsa } else { KeyAlgorithm::Hs256 }
    }

    pub(crate) fn encoding(&self) -> &EncodingKey {
        &self.encoding
    }

    pub(crate) fn decoding(&self) -> &DecodingKey {
        &self.decoding
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).field("algorithm", &self.algorithm).finish_non_exhaustive()
    }
}

/// The keys this deployment signs and verifies with.
#[derive(Debug)]
pub struct KeyRing {
    active: SigningKey,
    verify_only: Vec<SigningKey>,
}

impl KeyRing {
    /// A ring with a single key that signs and verifies.
    pub fn single(active: SigningKey) -> Self {
        Self { active, verify_only: Vec::new() }
    }

    /// A ring that signs with `active` and also verifies with `others`.
    pub fn new(active: SigningKey, others: Vec<SigningKey>) -> Self {
        Self { active, verify_only: others }
    }

    /// Adds a key that still verifies tokens but signs nothing new.
    pub fn with_verify_only(mut self, key: SigningKey) -> Self {
        self.verify_only.push(key);
        self
    }

    /// The key new tokens are signed with.
    pub fn active(&self) -> &SigningKey {
        &self.active
    }

    /// Looks a key up by `kid` in memory only; the value from the token is
    /// compared, never used as a path, query or URL.
    pub fn find(&self, kid: &str) -> Option<&SigningKey> {
        std::iter::once(&self.active).chain(&self.verify_only).find(|k| k.kid == kid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "m0Gk3w8wq8a5n1vQpXb2r7TzL4yH6cJ9eU0sD2fK1gA"; // 32 bytes, url-safe

    #[test]
    fn accepts_url_safe_and_standard_base64() {
        assert!(SigningKey::hs256_from_base64(GOOD).is_ok());
        let standard = STANDARD.encode(URL_SAFE_NO_PAD.decode(GOOD).unwrap());
        let a = SigningKey::hs256_from_base64(GOOD).unwrap();
        let b = SigningKey::hs256_from_base64(&standard).unwrap();
        assert_eq!(a.kid(), b.kid(), "the same bytes give the same kid");
    }

    #[test]
    fn refuses_weak_secrets_with_a_reason() {
        assert_eq!(SigningKey::hs256_from_base64("secret").unwrap_err(), KeyError::WellKnown);
        assert_eq!(SigningKey::hs256_from_base64("CHANGEME").unwrap_err(), KeyError::WellKnown);
        assert_eq!(SigningKey::hs256_from_base64("c2hvcnQ").unwrap_err(), KeyError::TooShort(5));
        assert_eq!(SigningKey::hs256_from_base64("not base64 at all!").unwrap_err(), KeyError::NotBase64);
        let zeros = URL_SAFE_NO_PAD.encode([0u8; 64]);
        assert_eq!(SigningKey::hs256_from_base64(&zeros).unwrap_err(), KeyError::LowEntropy);
    }

    #[test]
    fn generated_keys_differ_and_round_trip_through_their_text() {
        let (a, text) = SigningKey::generate_hs256().unwrap();
        let (b, _) = SigningKey::generate_hs256().unwrap();
        assert_ne!(a.kid(), b.kid());
        assert_eq!(SigningKey::hs256_from_base64(&text).unwrap().kid(), a.kid());
    }

    #[test]
    fn debug_never_prints_key_material() {
        let (key, text) = SigningKey::generate_hs256().unwrap();
        assert!(!format!("{key:?}").contains(&text));
    }

    #[test]
    fn ed25519_keys_publish_only_their_public_half() {
        let (key, seed) = SigningKey::generate(KeyAlgorithm::EdDsa).unwrap();
        assert!(key.kid().starts_with("ed-"));
        let jwk = serde_json::to_value(key.public_jwk().unwrap()).unwrap();
        assert_eq!(
            (jwk["kty"].as_str(), jwk["crv"].as_str(), jwk["alg"].as_str()),
            (Some("OKP"), Some("Ed25519"), Some("EdDSA"))
        );
        assert_eq!(jwk["kid"], key.kid());
        assert_eq!(jwk["use"], "sig");
        assert!(!jwk.to_string().contains(&seed), "the seed is never published");
        assert_eq!(URL_SAFE_NO_PAD.decode(jwk["x"].as_str().unwrap()).unwrap().len(), 32);
        let (hs, _) = SigningKey::generate(KeyAlgorithm::Hs256).unwrap();
        assert!(hs.public_jwk().is_none(), "a symmetric secret has nothing to publish");
    }

    #[test]
    fn stored_secrets_round_trip_for_each_algorithm() {
        for alg in [KeyAlgorithm::Hs256, KeyAlgorithm::EdDsa] {
            let (key, text) = SigningKey::generate(alg).unwrap();
            let again = SigningKey::from_secret(alg, &text).unwrap();
            assert_eq!((again.kid(), again.key_algorithm()), (key.kid(), alg));
        }
        assert!(SigningKey::from_secret(KeyAlgorithm::EdDsa, "c2hvcnQ").is_err());
        assert_eq!(KeyAlgorithm::parse("eddsa"), Some(KeyAlgorithm::EdDsa));
        assert_eq!(KeyAlgorithm::parse("RS256"), None);
    }

    #[test]
    fn finds_keys_by_kid_and_nothing_else() {
        let (a, _) = SigningKey::generate_hs256().unwrap();
        let (b, _) = SigningKey::generate_hs256().unwrap();
        let (kid_a, kid_b) = (a.kid().to_owned(), b.kid().to_owned());
        let ring = KeyRing::single(a).with_verify_only(b);
        assert_eq!(ring.find(&kid_a).unwrap().kid(), kid_a);
        assert_eq!(ring.find(&kid_b).unwrap().kid(), kid_b);
        assert!(ring.find("../../etc/passwd").is_none());
        assert!(ring.find("").is_none());
    }
}
