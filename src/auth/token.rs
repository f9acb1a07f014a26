//! Issuing and verifying JWTs. Pure: the caller passes the key ring, the
//! policy and the current time.
//!
//! Verification trusts nothing in the token before the signature is
//! checked: the key is chosen by `kid` from memory, the algorithm comes from
//! that key (never from the header), and headers that would make a verifier
//! fetch or embed keys (`jku`, `x5u`, `jwk`, `x5c`) or demand extensions we
//! do not implement (`crit`) are refused outright.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Header, Validation};
use serde::{Deserialize, Serialize};

use super::clock::UnixTime;
use super::keys::KeyRing;
use crate::domain::{AuthMethod, Role};

/// Tokens longer than this are refused before any parsing.
pub const MAX_TOKEN_BYTES: usize = 4096;

/// What a token is for; checked so one kind can never stand in for another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    Access,
    Refresh,
}

/// The rules every token of this deployment follows.
#[derive(Clone, Debug)]
pub struct TokenPolicy {
    pub issuer: String,
    pub audience: String,
    /// Lifetime of an access token, in seconds.
    pub access_ttl: i64,
    /// Allowed clock skew between servers, in seconds.
    pub leeway: i64,
}

/// The registered claims plus ours (`typ`, `role`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id.
    pub sub: String,
    pub iss: String,
    pub aud: String,
    pub iat: UnixTime,
    pub nbf: UnixTime,
    pub exp: UnixTime,
    /// Unique per token.
    pub jti: String,
    /// The session this token belongs to: ending the session ends it.
    pub sid: String,
    /// When the person last proved who they are in this session (OpenID
    /// Connect's `auth_time`): sign-in or re-authentication, never a
    /// refresh. Sensitive actions demand that it be recent.
    pub auth_time: UnixTime,
    pub typ: TokenType,
    pub role: Role,
    /// How the person signed in, by RFC 8176's names. Plain strings, so a
    /// name a newer version signs does not make the token unreadable here;
    /// tokens issued before it was recorded carry none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
}

/// A freshly signed token with the claims it carries.
#[derive(Debug)]
pub struct Issued {
    pub token: String,
    pub claims: Claims,
}

impl Issued {
    /// Seconds from issue to expiry: `expires_in` and the cookie's `Max-Age`.
    pub fn lifetime(&self) -> i64 {
        self.claims.exp - self.claims.iat
    }
}

/// Why a token was refused. Callers map these to one message per kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("token is not a well-formed JWT")]
    Malformed,
    #[error("token header asks for a feature that is refused")]
    ForbiddenHeader,
    #[error("token was signed by a key this server does not know")]
    UnknownKey,
    #[error("token algorithm does not match its key")]
    WrongAlgorithm,
    #[error("token signature is invalid")]
    BadSignature,
    #[error("token has expired")]
    Expired,
    #[error("token is not valid yet")]
    NotYetValid,
    #[error("token was issued by someone else")]
    WrongIssuer,
    #[error("token is meant for another audience")]
    WrongAudience,
    #[error("token is of the wrong type")]
    WrongType,
    #[error("token could not be signed")]
    Signing,
}

/// Whom an access token is for.
#[derive(Clone, Copy, Debug)]
pub struct Grant<'a> {
    pub user_id: &'a str,
    pub role: Role,
    pub session_id: &'a str,
    pub auth_time: UnixTime,
    pub methods: &'a [AuthMethod],
}

/// Signs an access token for `grant`.
///
/// # Errors
/// [`TokenError::Signing`] if the key cannot sign (a broken key).
pub fn issue_access(
    keys: &KeyRing,
    policy: &TokenPolicy,
    grant: Grant<'_>,
    jti: String,
    now: UnixTime,
) -> Result<Issued, TokenError> {
    let claims = Claims {
        sub: grant.user_id.to_owned(),
        iss: policy.issuer.clone(),
        aud: policy.audience.clone(),
        iat: now,
        nbf: now,
        exp: now + policy.access_ttl,
        jti,
        sid: grant.session_id.to_owned(),
        auth_time: grant.auth_time,
        typ: TokenType::Access,
        role: grant.role,
        amr: grant.methods.iter().map(|m| m.as_str().to_owned()).collect(),
    };
    let token = sign(keys, &claims)?;
    Ok(Issued { token, claims })
}

/// Signs arbitrary claims with the active key, putting its `kid` in the
/// header.
///
/// # Errors
/// [`TokenError::Signing`] if the key cannot sign.
pub fn sign(keys: &KeyRing, claims: &Claims) -> Result<String, TokenError> {
    let key = keys.active();
    let mut header = Header::new(key.algorithm());
    header.kid = Some(key.kid().to_owned());
    jsonwebtoken::encode(&header, claims, key.encoding()).map_err(|_| TokenError::Signing)
}

/// Verifies `token` completely: size, header, key, algorithm, signature,
/// issuer, audience, type and time (with the policy's leeway).
///
/// # Errors
/// The first [`TokenError`] that applies.
pub fn verify(
    keys: &KeyRing,
    policy: &TokenPolicy,
    token: &str,
    expected: TokenType,
    now: UnixTime,
) -> Result<Claims, TokenError> {
    if token.is_empty() || token.len() > MAX_TOKEN_BYTES {
        return Err(TokenError::Malformed);
    }
    let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
    if header.jku.is_some()
        || header.x5u.is_some()
        || header.jwk.is_some()
        || header.x5c.is_some()
        || header.crit.is_some()
    {
        return Err(TokenError::ForbiddenHeader);
    }
    let key = header.kid.as_deref().and_then(|kid| keys.find(kid)).ok_or(TokenError::UnknownKey)?;
    if header.alg != key.algorithm() {
        return Err(TokenError::WrongAlgorithm);
    }

    // jsonwebtoken checks the signature; every claim rule is ours, against
    // the injected clock, so the library's own clock is switched off.
    let mut validation = Validation::new(key.algorithm());
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<Claims>(token, key.decoding(), &validation)
        .map_err(|e| match e.kind() {
            ErrorKind::InvalidSignature => TokenError::BadSignature,
            ErrorKind::InvalidAlgorithm => TokenError::WrongAlgorithm,
            _ => TokenError::Malformed,
        })?
        .claims;

    if claims.iss != policy.issuer {
        return Err(TokenError::WrongIssuer);
    }
    if claims.aud != policy.audience {
        return Err(TokenError::WrongAudience);
    }
    if claims.typ != expected {
        return Err(TokenError::WrongType);
    }
    if now >= claims.exp.saturating_add(policy.leeway) {
        return Err(TokenError::Expired);
    }
    if claims.nbf.saturating_sub(policy.leeway) > now || claims.iat.saturating_sub(policy.leeway) > now {
        return Err(TokenError::NotYetValid);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

    use super::*;
    use crate::auth::keys::SigningKey;

    const NOW: UnixTime = 1_800_000_000;

    fn policy() -> TokenPolicy {
        TokenPolicy { issuer: "gatehouse".into(), audience: "gatehouse".into(), access_ttl: 900, leeway: 5 }
    }

    /// A distinct valid test key for each seed.
    fn key(seed: u8) -> SigningKey {
        SigningKey::hs256(&(0u8..32).map(|i| i.wrapping_mul(31).wrapping_add(seed)).collect::<Vec<_>>()).unwrap()
    }

    fn ring() -> KeyRing {
        KeyRing::single(key(1))
    }

    fn issue(ring: &KeyRing) -> Issued {
        issue_access(
            ring,
            &policy(),
            Grant {
                user_id: "user-1",
                role: Role::User,
                session_id: "s-1",
                auth_time: NOW,
                methods: &[AuthMethod::Password],
            },
            "jti-1".into(),
            NOW,
        )
        .unwrap()
    }

    #[test]
    fn a_token_signed_before_amr_was_recorded_still_verifies() {
        let ring = ring();
        let old = Claims { amr: Vec::new(), ..issue(&ring).claims };
        let token = sign(&ring, &old).unwrap();
        assert!(parts(&token).1.get("amr").is_none(), "no amr in the payload");
        let verified = verify(&ring, &policy(), &token, TokenType::Access, NOW).unwrap();
        assert!(verified.amr.is_empty());
        assert_eq!(issue(&ring).claims.amr, ["pwd"]);
    }

    /// Re-encodes a token's header and payload as given, keeping the
    /// original signature.
    fn forge(token: &str, header: &serde_json::Value, claims: &serde_json::Value) -> String {
        let sig = token.rsplit('.').next().unwrap();
        format!("{}.{}.{}", B64.encode(header.to_string()), B64.encode(claims.to_string()), sig)
    }

    fn parts(token: &str) -> (serde_json::Value, serde_json::Value) {
        let mut it = token.split('.');
        let h = serde_json::from_slice(&B64.decode(it.next().unwrap()).unwrap()).unwrap();
        let c = serde_json::from_slice(&B64.decode(it.next().unwrap()).unwrap()).unwrap();
        (h, c)
    }

    #[test]
    fn a_fresh_token_verifies_and_carries_every_claim() {
        let ring = ring();
        let issued = issue(&ring);
        let claims = verify(&ring, &policy(), &issued.token, TokenType::Access, NOW).unwrap();
        assert_eq!(claims, issued.claims);
        assert_eq!((claims.iat, claims.nbf, claims.exp), (NOW, NOW, NOW + 900));
        let (header, _) = parts(&issued.token);
        assert_eq!(header["alg"], "HS256");
        assert_eq!(header["kid"], ring.active().kid());
    }

    #[test]
    fn expiry_honours_the_leeway_exactly() {
        let ring = ring();
        let t = issue(&ring).token;
        let exp = NOW + 900;
        assert!(verify(&ring, &policy(), &t, TokenType::Access, exp + 4).is_ok());
        assert_eq!(verify(&ring, &policy(), &t, TokenType::Access, exp + 5), Err(TokenError::Expired));
        assert_eq!(verify(&ring, &policy(), &t, TokenType::Access, exp + 86_400), Err(TokenError::Expired));
    }

    #[test]
    fn a_token_from_the_future_is_not_yet_valid() {
        let ring = ring();
        let t = issue(&ring).token;
        assert!(verify(&ring, &policy(), &t, TokenType::Access, NOW - 5).is_ok());
        assert_eq!(verify(&ring, &policy(), &t, TokenType::Access, NOW - 6), Err(TokenError::NotYetValid));
    }

    #[test]
    fn a_tampered_payload_fails_the_signature() {
        let ring = ring();
        let t = issue(&ring).token;
        let (h, mut c) = parts(&t);
        c["role"] = "admin".into();
        let forged = forge(&t, &h, &c);
        assert_eq!(verify(&ring, &policy(), &forged, TokenType::Access, NOW), Err(TokenError::BadSignature));
    }

    #[test]
    fn a_token_signed_with_another_secret_under_the_same_kid_fails() {
        let ring = ring();
        let other = KeyRing::single(key(2));
        let t = issue(&other).token;
        let (mut h, c) = parts(&t);
        h["kid"] = ring.active().kid().into();
        let forged =
            format!("{}.{}.{}", B64.encode(h.to_string()), B64.encode(c.to_string()), t.rsplit('.').next().unwrap());
        assert_eq!(verify(&ring, &policy(), &forged, TokenType::Access, NOW), Err(TokenError::BadSignature));
        assert_eq!(verify(&ring, &policy(), &t, TokenType::Access, NOW), Err(TokenError::UnknownKey));
    }

    #[test]
    fn alg_none_is_refused_in_every_spelling() {
        let ring = ring();
        let t = issue(&ring).token;
        let (_, c) = parts(&t);
        for alg in ["none", "None", "NONE", "nOnE", ""] {
            let header = serde_json::json!({"alg": alg, "typ": "JWT", "kid": ring.active().kid()});
            let unsigned = format!("{}.{}.", B64.encode(header.to_string()), B64.encode(c.to_string()));
            assert!(verify(&ring, &policy(), &unsigned, TokenType::Access, NOW).is_err(), "{alg}");
            let keep_sig = forge(&t, &header, &c);
            assert!(verify(&ring, &policy(), &keep_sig, TokenType::Access, NOW).is_err(), "{alg}");
        }
    }

    #[test]
    fn the_algorithm_comes_from_the_key_not_the_header() {
        let ring = ring();
        let t = issue(&ring).token;
        let (mut h, c) = parts(&t);
        for alg in ["HS384", "HS512", "RS256", "EdDSA"] {
            h["alg"] = alg.into();
            assert_eq!(
                verify(&ring, &policy(), &forge(&t, &h, &c), TokenType::Access, NOW),
                Err(TokenError::WrongAlgorithm),
                "{alg}"
            );
        }
    }

    #[test]
    fn key_fetching_and_critical_headers_are_refused() {
        let ring = ring();
        let t = issue(&ring).token;
        let (h, c) = parts(&t);
        for (name, value) in [
            ("jku", serde_json::json!("https://evil.example/jwks.json")),
            ("x5u", serde_json::json!("https://evil.example/cert.pem")),
            ("jwk", serde_json::json!({"kty": "oct", "k": "AAAA"})),
            ("x5c", serde_json::json!(["MIIB"])),
            ("crit", serde_json::json!(["exp"])),
        ] {
            let mut h = h.clone();
            h[name] = value;
            let r = verify(&ring, &policy(), &forge(&t, &h, &c), TokenType::Access, NOW);
            assert!(matches!(r, Err(TokenError::ForbiddenHeader | TokenError::Malformed)), "{name}: {r:?}");
        }
    }

    #[test]
    fn a_missing_or_unknown_kid_is_refused() {
        let ring = ring();
        let t = issue(&ring).token;
        let (mut h, c) = parts(&t);
        h["kid"] = "../../../../etc/passwd".into();
        assert_eq!(verify(&ring, &policy(), &forge(&t, &h, &c), TokenType::Access, NOW), Err(TokenError::UnknownKey));
        h.as_object_mut().unwrap().remove("kid");
        assert_eq!(verify(&ring, &policy(), &forge(&t, &h, &c), TokenType::Access, NOW), Err(TokenError::UnknownKey));
    }

    #[test]
    fn issuer_audience_and_type_are_checked() {
        let ring = ring();
        let t = issue(&ring).token;
        let mut other = policy();
        other.issuer = "someone-else".into();
        assert_eq!(verify(&ring, &other, &t, TokenType::Access, NOW), Err(TokenError::WrongIssuer));
        let mut other = policy();
        other.audience = "billing".into();
        assert_eq!(verify(&ring, &other, &t, TokenType::Access, NOW), Err(TokenError::WrongAudience));
        assert_eq!(verify(&ring, &policy(), &t, TokenType::Refresh, NOW), Err(TokenError::WrongType));
    }

    #[test]
    fn a_token_missing_a_claim_is_malformed() {
        let ring = ring();
        let mut claims = serde_json::to_value(issue(&ring).claims).unwrap();
        claims.as_object_mut().unwrap().remove("exp");
        let key = ring.active();
        let mut header = Header::new(key.algorithm());
        header.kid = Some(key.kid().into());
        let t = jsonwebtoken::encode(&header, &claims, key.encoding()).unwrap();
        assert_eq!(verify(&ring, &policy(), &t, TokenType::Access, NOW), Err(TokenError::Malformed));
    }

    #[test]
    fn garbage_and_oversized_input_is_malformed() {
        let ring = ring();
        for junk in ["", "a", "a.b", "a.b.c", "....", "eyJhbGciOiJIUzI1NiJ9..", "\u{0}\u{0}"] {
            let r = verify(&ring, &policy(), junk, TokenType::Access, NOW);
            assert!(matches!(r, Err(TokenError::Malformed | TokenError::UnknownKey)), "{junk:?}: {r:?}");
        }
        let huge = "a".repeat(MAX_TOKEN_BYTES + 1);
        assert_eq!(verify(&ring, &policy(), &huge, TokenType::Access, NOW), Err(TokenError::Malformed));
    }

    #[test]
    fn a_verify_only_key_still_verifies_old_tokens() {
        let t = issue(&KeyRing::single(key(3))).token;
        let rotated = KeyRing::single(key(4)).with_verify_only(key(3));
        assert!(verify(&rotated, &policy(), &t, TokenType::Access, NOW).is_ok());
    }
}
