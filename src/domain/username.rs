use std::fmt;

use caseless::Caseless;
use unicode_normalization::UnicodeNormalization;

/// A validated username.
///
/// The rules, as the README states them: surrounding whitespace is
/// trimmed and the name is put in Unicode NFKC form (so fullwidth `ａｌｉｃｅ`
/// becomes `alice`); it is then 3 to 32 characters of Unicode letters and
/// digits plus `.`, `_` and `-`, starting with a letter or digit.
///
/// Uniqueness is decided by [`Username::key`], the case-folded NFKC form,
/// so `Alice`, `alice` and `ａｌｉｃｅ` are one account.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

/// Why a username was refused; the `Display` text is shown to people.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    #[error("Enter a username.")]
    Empty,
    #[error("Usernames are at least {min} characters long.", min = Username::MIN_CHARS)]
    TooShort,
    #[error("Usernames are at most {max} characters long.", max = Username::MAX_CHARS)]
    TooLong,
    #[error("Usernames start with a letter or a digit.")]
    BadStart,
    #[error("Usernames may contain only letters, digits, '.', '_' and '-'.")]
    BadCharacter,
}

impl Username {
    pub const MIN_CHARS: usize = 3;
    pub const MAX_CHARS: usize = 32;
    /// Longer input is refused before any Unicode work is done on it.
    const MAX_INPUT_BYTES: usize = 4 * Self::MAX_CHARS + 64;

    /// Parses what a person typed.
    ///
    /// # Errors
    /// A [`UsernameError`] naming the first rule the input breaks.
    pub fn parse(raw: &str) -> Result<Self, UsernameError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(UsernameError::Empty);
        }
        if trimmed.len() > Self::MAX_INPUT_BYTES {
            return Err(UsernameError::TooLong);
        }
        let name: String = trimmed.nfkc().collect();
        if !name.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-')) {
            return Err(UsernameError::BadCharacter);
        }
        let chars = name.chars().count();
        if chars > Self::MAX_CHARS {
            return Err(UsernameError::TooLong);
        }
        if chars < Self::MIN_CHARS {
            return Err(UsernameError::TooShort);
        }
        if !name.starts_with(char::is_alphanumeric) {
            return Err(UsernameError::BadStart);
        }
        Ok(Self(name))
    }

    /// The name in NFKC form, with the case the person typed.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form that decides uniqueness: NFKC with Unicode case folding.
    pub fn key(&self) -> String {
        Self::fold(&self.0)
    }

    /// Unicode compatibility caseless form (UAX #44 NFKC_Casefold, via
    /// the definition D146 of the Unicode standard).
    pub(crate) fn fold(text: &str) -> String {
        text.nfd().default_case_fold().nfkd().default_case_fold().nfkc().collect()
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Username({:?})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(raw: &str) -> String {
        Username::parse(raw).unwrap().key()
    }

    #[test]
    fn accepts_ordinary_names_and_trims_whitespace() {
        assert_eq!(Username::parse("  alice ").unwrap().as_str(), "alice");
        assert_eq!(Username::parse("Bob_2.x-y").unwrap().as_str(), "Bob_2.x-y");
    }

    #[test]
    fn case_and_width_variants_share_one_key() {
        assert_eq!(key("Alice"), "alice");
        assert_eq!(key("aLICE"), "alice");
        assert_eq!(key("ａｌｉｃｅ"), "alice");
        assert_eq!(key("ＡＬＩＣＥ"), "alice");
        assert_ne!(Username::parse("Alice").unwrap(), Username::parse("alice").unwrap(), "display keeps the case");
    }

    #[test]
    fn fullwidth_input_is_stored_in_its_compatibility_form() {
        assert_eq!(Username::parse("ａｌｉｃｅ").unwrap().as_str(), "alice");
    }

    #[test]
    fn letters_of_other_scripts_are_names_too_and_fold_fully() {
        assert_eq!(key("Straße"), key("STRASSE"));
        assert_eq!(key("ΌΣΟΣ"), key("όσος"));
        assert!(Username::parse("José").is_ok());
        assert!(Username::parse("東京タワー").is_ok());
        // A precomposed and a decomposed é are one name.
        assert_eq!(key("Jos\u{e9}"), key("Jose\u{301}"));
    }

    #[test]
    fn refuses_each_broken_rule_with_its_own_reason() {
        assert_eq!(Username::parse(""), Err(UsernameError::Empty));
        assert_eq!(Username::parse("   "), Err(UsernameError::Empty));
        assert_eq!(Username::parse("ab"), Err(UsernameError::TooShort));
        assert_eq!(Username::parse(&"a".repeat(33)), Err(UsernameError::TooLong));
        assert_eq!(Username::parse(&"é".repeat(33)), Err(UsernameError::TooLong));
        assert!(Username::parse(&"é".repeat(32)).is_ok(), "length counts characters, not bytes");
        assert_eq!(Username::parse("_alice"), Err(UsernameError::BadStart));
        assert_eq!(Username::parse("al ice"), Err(UsernameError::BadCharacter));
        assert_eq!(Username::parse("alice<script>"), Err(UsernameError::BadCharacter));
        assert_eq!(Username::parse("al\u{0}ice"), Err(UsernameError::BadCharacter));
        assert_eq!(Username::parse("al\u{200d}ice"), Err(UsernameError::BadCharacter), "zero-width joiner");
        assert_eq!(Username::parse("al\u{202e}ice"), Err(UsernameError::BadCharacter), "bidi override");
        assert_eq!(Username::parse("alice🔑"), Err(UsernameError::BadCharacter));
    }

    #[test]
    fn a_megabyte_name_is_refused_as_too_long() {
        assert_eq!(Username::parse(&"a".repeat(1 << 20)), Err(UsernameError::TooLong));
    }
}
