//! Recovery codes: the way back in after losing the authenticator. A set
//! is ten codes of ten base32 letters and digits (50 random bits each),
//! shown once as `abcde-fghij`; each works once. Like the opaque secrets
//! they are stored only as SHA-256 hashes: with that much randomness a
//! slow hash would add nothing.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use data_encoding::BASE32_NOPAD;
use sha2::{Digest, Sha256};

/// Codes in a set.
pub const PER_SET: usize = 10;
/// Characters of a code, without its dash.
const LEN: usize = 10;
const HALF: usize = LEN / 2;

/// One recovery code in its canonical form (lowercase, with the dash).
/// Its `Debug` shows nothing.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCode(String);

impl fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryCode(..)")
    }
}

impl RecoveryCode {
    /// A new set from the OS CSPRNG.
    ///
    /// # Errors
    /// When the operating system has no randomness to give.
    pub fn generate_set() -> Result<Vec<Self>, getrandom::Error> {
        (0..PER_SET)
            .map(|_| {
                // 7 bytes are 56 bits; the first 10 base32 characters keep 50.
                let mut bytes = [0u8; 7];
                getrandom::fill(&mut bytes)?;
                let letters = BASE32_NOPAD.encode(&bytes).to_ascii_lowercase();
                Ok(Self(format!("{}-{}", &letters[..HALF], &letters[HALF..LEN])))
            })
            .collect()
    }

    /// A code as a person may type it: any case, with or without the dash
    /// and spaces. `None` when it cannot be one of ours.
    pub fn parse(presented: &str) -> Option<Self> {
        if presented.len() > 4 * LEN {
            return None;
        }
        let letters: String =
            presented.chars().filter(|c| !c.is_whitespace() && *c != '-').collect::<String>().to_ascii_lowercase();
        let ours = letters.len() == LEN && letters.bytes().all(|b| matches!(b, b'a'..=b'z' | b'2'..=b'7'));
        ours.then(|| Self(format!("{}-{}", &letters[..HALF], &letters[HALF..])))
    }

    /// To show once, and never again.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the database stores and looks up.
    pub fn hash(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(self.0.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_is_ten_distinct_codes_in_the_shown_shape() {
        let set = RecoveryCode::generate_set().unwrap();
        assert_eq!(set.len(), PER_SET);
        let mut hashes: Vec<_> = set.iter().map(RecoveryCode::hash).collect();
        hashes.sort();
        hashes.dedup();
        assert_eq!(hashes.len(), PER_SET);
        for code in &set {
            let shown = code.expose();
            assert_eq!(shown.len(), LEN + 1, "{shown}");
            assert_eq!(&shown[HALF..=HALF], "-");
            assert_eq!(RecoveryCode::parse(shown).as_ref(), Some(code));
        }
    }

    #[test]
    fn typing_it_differently_is_the_same_code() {
        let code = RecoveryCode::parse("abcde-fgh23").unwrap();
        for typed in ["ABCDE-FGH23", "abcdefgh23", " abcde fgh23 ", "ab-cde-fgh-23"] {
            assert_eq!(RecoveryCode::parse(typed).map(|c| c.hash()), Some(code.hash()), "{typed}");
        }
    }

    #[test]
    fn what_cannot_be_a_code_is_refused_before_any_lookup() {
        let long = "a".repeat(100);
        for junk in ["", "abcde-fgh2", "abcde-fgh234", "abcde-fgh01", "abcde-fgh2!", "ábcde-fgh23", long.as_str()] {
            assert_eq!(RecoveryCode::parse(junk), None, "{junk:?}");
        }
        assert_eq!(format!("{:?}", RecoveryCode::parse("abcde-fgh23").unwrap()), "RecoveryCode(..)");
    }
}
