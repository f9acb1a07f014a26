//! Authenticator-app codes: RFC 6238 TOTP with HMAC-SHA-1, 6 digits and
//! 30-second steps, the parameters every common authenticator app
//! understands. Pure: the secret, the time and the last step already used
//! come in as arguments; where the secret is sealed and the step stored is
//! the caller's business.

use std::fmt;

use data_encoding::BASE32_NOPAD;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

use super::clock::UnixTime;
use crate::domain::query_string;

/// Digits of a code.
pub const DIGITS: u32 = 6;
/// Seconds a code lives.
pub const STEP_SECS: i64 = 30;
/// Steps of clock difference accepted either way.
pub const SKEW_STEPS: i64 = 1;
/// 160 bits, the size RFC 4226 recommends for HMAC-SHA-1.
const SECRET_BYTES: usize = 20;

/// The shared secret of one authenticator. Its `Debug` shows nothing.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret([u8; SECRET_BYTES]);

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(..)")
    }
}

impl TotpSecret {
    /// A new secret from the OS CSPRNG.
    ///
    /// # Errors
    /// When the operating system has no randomness to give.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; SECRET_BYTES];
        getrandom::fill(&mut bytes)?;
        Ok(Self(bytes))
    }

    /// The secret as stored (sealed) bytes; `None` for any other length.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }

    /// The secret as [`TotpSecret::base32`] shows it (any case, spaces
    /// ignored), as an app or a test reads it back.
    pub fn from_base32(text: &str) -> Option<Self> {
        let clean: String = text.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
        BASE32_NOPAD.decode(clean.as_bytes()).ok().and_then(|b| Self::from_bytes(&b))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The secret as people type it into an app: base32, no padding.
    pub fn base32(&self) -> String {
        BASE32_NOPAD.encode(&self.0)
    }

    /// The `otpauth://` URI an app reads from the QR code: the label is
    /// `issuer:account` with a literal colon, as every app splits it, so a
    /// colon inside the issuer is dropped.
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> String {
        let issuer: String = issuer.chars().filter(|c| *c != ':').collect();
        let encoded = |part: &str| query_string(&[("p", part)]).trim_start_matches("p=").to_owned();
        let issuer = issuer.as_str();
        let query = query_string(&[
            ("secret", &self.base32()),
            ("issuer", issuer),
            ("algorithm", "SHA1"),
            ("digits", &DIGITS.to_string()),
            ("period", &STEP_SECS.to_string()),
        ]);
        format!("otpauth://totp/{}:{}?{query}", encoded(issuer), encoded(account))
    }

    /// The code of time step `step` (RFC 4226's HOTP of the step counter),
    /// `digits` long.
    fn code(&self, step: i64, digits: u32) -> String {
        let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(&self.0) else { return String::new() };
        mac.update(&step.to_be_bytes());
        let hash = mac.finalize().into_bytes();
        let offset = usize::from(hash[hash.len() - 1] & 0x0f);
        let binary = u32::from_be_bytes([hash[offset] & 0x7f, hash[offset + 1], hash[offset + 2], hash[offset + 3]]);
        let width = digits as usize;
        format!("{:0width$}", binary % 10_u32.pow(digits))
    }

    /// The code an app shows at `now`.
    pub fn code_at(&self, now: UnixTime) -> String {
        self.code(step_of(now), DIGITS)
    }
}

/// The time step `now` falls in.
pub fn step_of(now: UnixTime) -> i64 {
    now.div_euclid(STEP_SECS)
}

/// What a presented code is worth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeCheck {
    /// Right, for this step: store it, so it cannot be used again.
    Accepted {
        step: i64,
    },
    /// Right, but its step (or a later one) was already used.
    Replayed,
    Wrong,
    /// Not six digits (spaces between them are fine).
    Malformed,
}

/// Checks `presented` against `secret` at `now`, one step of clock skew
/// either way, refusing any step at or before `last_used`.
pub fn check(secret: &TotpSecret, presented: &str, now: UnixTime, last_used: Option<i64>) -> CodeCheck {
    let digits: String = presented.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() != DIGITS as usize || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return CodeCheck::Malformed;
    }
    let current = step_of(now);
    // Every candidate is computed and compared, so the time taken does not
    // tell which step matched.
    let matched = (current - SKEW_STEPS..=current + SKEW_STEPS).fold(None, |found, step| {
        let same: bool = secret.code(step, DIGITS).as_bytes().ct_eq(digits.as_bytes()).into();
        if same { Some(step) } else { found }
    });
    match matched {
        None => CodeCheck::Wrong,
        Some(step) if last_used.is_some_and(|used| step <= used) => CodeCheck::Replayed,
        Some(step) => CodeCheck::Accepted { step },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238, appendix B: the SHA-1 seed.
    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(b"12345678901234567890").unwrap()
    }

    #[test]
    fn codes_match_the_rfc_6238_test_vectors() {
        let s = rfc_secret();
        for (time, eight) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(s.code(step_of(time), 8), eight, "{time}");
            assert_eq!(s.code_at(time), eight[2..], "{time}: six digits are the last six");
        }
    }

    #[test]
    fn one_step_of_skew_either_way_and_no_more() {
        let s = rfc_secret();
        let now = 1_234_567_890;
        let code = s.code_at(now);
        assert_eq!(check(&s, &code, now, None), CodeCheck::Accepted { step: step_of(now) });
        // The step recorded is the code's own, not the clock's.
        assert_eq!(check(&s, &code, now + STEP_SECS, None), CodeCheck::Accepted { step: step_of(now) });
        assert_eq!(check(&s, &code, now - STEP_SECS, None), CodeCheck::Accepted { step: step_of(now) });
        assert_eq!(check(&s, &code, now + 2 * STEP_SECS, None), CodeCheck::Wrong);
        assert_eq!(check(&s, &code, now - 2 * STEP_SECS, None), CodeCheck::Wrong);
    }

    #[test]
    fn a_code_is_accepted_once() {
        let s = rfc_secret();
        let now = 1_234_567_890;
        let CodeCheck::Accepted { step } = check(&s, &s.code_at(now), now, None) else { panic!("accepted") };
        assert_eq!(check(&s, &s.code_at(now), now, Some(step)), CodeCheck::Replayed);
        // The previous step's code, still within the skew, is older than the one used.
        assert_eq!(check(&s, &s.code_at(now - STEP_SECS), now, Some(step)), CodeCheck::Replayed);
        let next = now + STEP_SECS;
        assert_eq!(check(&s, &s.code_at(next), next, Some(step)), CodeCheck::Accepted { step: step_of(next) });
    }

    #[test]
    fn a_code_from_a_fast_clock_cannot_be_used_again_when_its_time_comes() {
        let s = rfc_secret();
        let now = 1_234_567_890;
        let ahead = s.code_at(now + STEP_SECS);
        let CodeCheck::Accepted { step } = check(&s, &ahead, now, None) else { panic!("accepted within the skew") };
        assert_eq!(step, step_of(now) + 1);
        assert_eq!(check(&s, &ahead, now + STEP_SECS, Some(step)), CodeCheck::Replayed);
        // Nor any code of the step between.
        assert_eq!(check(&s, &s.code_at(now), now, Some(step)), CodeCheck::Replayed);
    }

    #[test]
    fn malformed_and_wrong_codes_are_told_apart() {
        let s = rfc_secret();
        for junk in ["", "12345", "1234567", "12a456", "١٢٣٤٥٦", "123456\u{0}"] {
            assert_eq!(check(&s, junk, 59, None), CodeCheck::Malformed, "{junk:?}");
        }
        let right = s.code_at(59);
        let spaced = format!("{} {}", &right[..3], &right[3..]);
        assert!(matches!(check(&s, &spaced, 59, None), CodeCheck::Accepted { .. }));
        let wrong = if right == "000000" { "000001" } else { "000000" };
        assert_eq!(check(&s, wrong, 59, None), CodeCheck::Wrong);
    }

    #[test]
    fn apps_read_the_secret_and_the_uri() {
        let s = rfc_secret();
        assert_eq!(s.base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(
            s.otpauth_uri("Gatehouse", "ada lovelace"),
            "otpauth://totp/Gatehouse:ada%20lovelace?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Gatehouse\
             &algorithm=SHA1&digits=6&period=30"
        );
        let odd = s.otpauth_uri("https://auth.example", "ada");
        assert!(odd.starts_with("otpauth://totp/https%2F%2Fauth.example:ada?"), "{odd}");
        assert_eq!(format!("{s:?}"), "TotpSecret(..)", "never in a log");
        assert!(TotpSecret::from_bytes(&[0; 19]).is_none());
        let fresh = TotpSecret::generate().unwrap();
        assert_ne!(fresh, TotpSecret::generate().unwrap());
        assert_eq!(TotpSecret::from_bytes(fresh.as_bytes()), Some(fresh));
    }
}
