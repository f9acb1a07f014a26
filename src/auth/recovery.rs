//! Recovery codes: the way back in after losing the authenticator. A set
//! is ten codes of sixteen base32 letters and digits (80 random bits
//! each), shown once as `abcd-efgh-ijkl-mnop`; each works once. They are
//! stored only as SHA-256 hashes: at 80 bits even a sweep over every code
//! of a leaked table is out of reach, so a slow hash would add nothing.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use data_encoding::BASE32_NOPAD;
use sha2::{Digest, Sha256};

/// Codes in a set.
pub const PER_SET: usize = 10;
/// Characters of a code, without its dashes.
const LEN: usize = 16;
/// Shown in groups of this many.
const GROUP: usize = 4;

/// One recovery code in its canonical form (lowercase, with the dashes).
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
                // 10 bytes are 80 bits: exactly 16 base32 characters.
                let mut bytes = [0u8; 10];
                getrandom::fill(&mut bytes)?;
                Ok(Self::grouped(&BASE32_NOPAD.encode(&bytes).to_ascii_lowercase()))
            })
            .collect()
    }

    /// A code as a person may type it: any case, with or without the
    /// dashes and spaces, and `0`, `1`, `8` read as the `o`, `l`, `b` they
    /// look like (base32 has no such digits). `None` when it cannot be one
    /// of ours.
    pub fn parse(presented: &str) -> Option<Self> {
        if presented.len() > 4 * LEN {
            return None;
        }
        let letters: String = presented
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| match c.to_ascii_lowercase() {
                '0' => 'o',
                '1' => 'l',
                '8' => 'b',
                c => c,
            })
            .collect();
        let ours = letters.len() == LEN && letters.bytes().all(|b| matches!(b, b'a'..=b'z' | b'2'..=b'7'));
        ours.then(|| Self::grouped(&letters))
    }

    fn grouped(letters: &str) -> Self {
        let groups: Vec<&str> = (0..LEN).step_by(GROUP).map(|i| &letters[i..i + GROUP]).collect();
        Self(groups.join("-"))
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
            assert_eq!(shown.len(), LEN + LEN / GROUP - 1, "{shown}");
            assert_eq!(shown.split('-').map(str::len).collect::<Vec<_>>(), [GROUP; LEN / GROUP], "{shown}");
            assert_eq!(RecoveryCode::parse(shown).as_ref(), Some(code));
        }
    }

    #[test]
    fn typing_it_differently_is_the_same_code() {
        let code = RecoveryCode::parse("abcd-efgh-ijkl-mn23").unwrap();
        assert_eq!(code.expose(), "abcd-efgh-ijkl-mn23");
        for typed in [
            "ABCD-EFGH-IJKL-MN23",
            "abcdefghijklmn23",
            " abcd efgh ijkl mn23 ",
            "a-bcdefgh-ijklmn-23",
            "a8cd-efgh-ijk1-mn23",
        ] {
            assert_eq!(RecoveryCode::parse(typed).map(|c| c.hash()), Some(code.hash()), "{typed}");
        }
    }

    #[test]
    fn what_cannot_be_a_code_is_refused_before_any_lookup() {
        let long = "a".repeat(100);
        for junk in [
            "",
            "abcd-efgh-ijkl-mn2",
            "abcd-efgh-ijkl-mn234",
            "abcd-efgh-ijkl-mn29",
            "abcd-efgh-ijkl-mn2!",
            "ábcd-efgh-ijkl-mn23",
            long.as_str(),
        ] {
            assert_eq!(RecoveryCode::parse(junk), None, "{junk:?}");
        }
        assert_eq!(format!("{:?}", RecoveryCode::parse("abcd-efgh-ijkl-mn23").unwrap()), "RecoveryCode(..)");
    }
}
