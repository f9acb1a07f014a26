//! Tokens as an attacker presents them. A bearer token or cookie value of
//! any bytes is refused without a panic; a token we signed, changed in any
//! way, is refused; one left alone is accepted with the claims signed.
//! The opaque tokens (refresh, reset, second step, ceremony) accept only
//! their own exact shape.
#![no_main]

use std::sync::LazyLock;

use gatehouse::auth::keys::{KeyRing, SigningKey};
use gatehouse::auth::opaque::{Ceremony, Opaque, Refresh, Reset, SecondStep};
use gatehouse::auth::token::{Claims, TokenPolicy, TokenType, sign, verify};
use gatehouse::domain::Role;
use libfuzzer_sys::fuzz_target;

const NOW: i64 = 1_800_000_000;

struct Fixture {
    keys: KeyRing,
    policy: TokenPolicy,
    /// One token per key algorithm, signed by the ring's active key.
    signed: Vec<(String, Claims)>,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let policy = TokenPolicy { issuer: "gatehouse".into(), audience: "gatehouse".into(), access_ttl: 900, leeway: 5 };
    let secret: Vec<u8> = (0u8..32).map(|i| i.wrapping_mul(97).wrapping_add(13)).collect();
    let hs = SigningKey::hs256(&secret).expect("32 varied bytes are a key");
    let ed = SigningKey::ed25519(&[9u8; 32]);
    let claims = Claims {
        sub: "0192f0c5-1f7e-7b3a-9a53-2f1c9c0d8e11".into(),
        iss: policy.issuer.clone(),
        aud: policy.audience.clone(),
        iat: NOW,
        nbf: NOW,
        exp: NOW + policy.access_ttl,
        jti: "jti-1".into(),
        sid: "sid-1".into(),
        auth_time: NOW,
        typ: TokenType::Access,
        role: Role::Admin,
        amr: vec!["pwd".into(), "otp".into()],
    };
    let mut signed = Vec::new();
    for active in [hs.clone(), ed.clone()] {
        let ring = KeyRing::single(active);
        signed.push((sign(&ring, &claims).expect("signs"), claims.clone()));
    }
    // Both keys verify; the HS256 one signs.
    Fixture { keys: KeyRing::new(hs, vec![ed]), policy, signed }
});

fuzz_target!(|data: &[u8]| {
    let f = &*FIXTURE;
    let Some((&mode, rest)) = data.split_first() else { return };
    match mode % 3 {
        // Anything at all, as a bearer token of either type.
        0 => {
            let text = String::from_utf8_lossy(rest);
            for typ in [TokenType::Access, TokenType::Refresh] {
                let _ = verify(&f.keys, &f.policy, &text, typ, NOW);
            }
            // One shape, one purpose: no text is two kinds of secret, and
            // one that parses is the 256-bit form the server issues.
            let purposes = [
                Opaque::<Refresh>::parse(&text).is_some(),
                Opaque::<Reset>::parse(&text).is_some(),
                Opaque::<SecondStep>::parse(&text).is_some(),
                Opaque::<Ceremony>::parse(&text).is_some(),
            ];
            let parsed = purposes.iter().filter(|p| **p).count();
            assert!(parsed <= 1, "{text:?} parses as {parsed} kinds of token");
            if parsed == 1 {
                assert_eq!(text.len(), 4 + 43, "{text:?}");
                assert!(text[4..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{text:?}");
            }
        }
        // A token we signed with some bytes overwritten: pairs of
        // (position, byte) taken from the input.
        _ => {
            let (token, claims) = &f.signed[usize::from(mode % 3 - 1)];
            let mut bytes = token.clone().into_bytes();
            for edit in rest.chunks_exact(3) {
                let at = usize::from(u16::from_le_bytes([edit[0], edit[1]])) % bytes.len();
                bytes[at] = edit[2];
            }
            let Ok(changed) = String::from_utf8(bytes) else { return };
            let verdict = verify(&f.keys, &f.policy, &changed, TokenType::Access, NOW);
            if changed == *token {
                assert_eq!(verdict.as_ref(), Ok(claims), "our own token is refused");
            } else {
                assert!(verdict.is_err(), "a changed token was accepted: {changed}");
            }
        }
    }
});
