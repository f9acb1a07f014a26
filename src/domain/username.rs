use std::fmt;

/// A validated username: 3 to 32 characters from `a-z A-Z 0-9 . _ -`,
/// starting with a letter or digit. Surrounding whitespace is trimmed.
///
/// Uniqueness is decided by [`Username::key`], so `Alice` and `alice` are
/// the same account.
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
    #[error("Usernames may contain only letters a-z, digits, '.', '_' and '-'.")]
    BadCharacter,
}

impl Username {
    pub const MIN_CHARS: usize = 3;
    pub const MAX_CHARS: usize = 32;

    /// Parses what a person typed.
    ///
    /// # Errors
    /// A [`UsernameError`] naming the first rule the input breaks.
    pub fn parse(raw: &str) -> Result<Self, UsernameError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(UsernameError::Empty);
        }
        // Check the length in bytes first so a huge input costs nothing more.
        if name.len() > Self::MAX_CHARS {
            return Err(if name.is_ascii() || name.chars().count() > Self::MAX_CHARS {
                UsernameError::TooLong
            } else {
                UsernameError::BadCharacter
            });
        }
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
            return Err(UsernameError::BadCharacter);
        }
        if name.len() < Self::MIN_CHARS {
            return Err(UsernameError::TooShort);
        }
        if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err(UsernameError::BadStart);
        }
        Ok(Self(name.to_owned()))
    }

    /// The name as the person typed it (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form that decides uniqueness: case-folded.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
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

    #[test]
    fn accepts_ordinary_names_and_trims_whitespace() {
        assert_eq!(Username::parse("  alice ").unwrap().as_str(), "alice");
        assert_eq!(Username::parse("Bob_2.x-y").unwrap().as_str(), "Bob_2.x-y");
    }

    #[test]
    fn case_variants_share_one_key() {
        let a = Username::parse("Alice").unwrap();
        let b = Username::parse("aLICE").unwrap();
        assert_eq!(a.key(), b.key());
        assert_ne!(a, b, "the display form is kept as typed");
    }

    #[test]
    fn refuses_each_broken_rule_with_its_own_reason() {
        assert_eq!(Username::parse(""), Err(UsernameError::Empty));
        assert_eq!(Username::parse("   "), Err(UsernameError::Empty));
        assert_eq!(Username::parse("ab"), Err(UsernameError::TooShort));
        assert_eq!(Username::parse(&"a".repeat(33)), Err(UsernameError::TooLong));
        assert_eq!(Username::parse("_alice"), Err(UsernameError::BadStart));
        assert_eq!(Username::parse("al ice"), Err(UsernameError::BadCharacter));
        assert_eq!(Username::parse("ａｌｉｃｅ"), Err(UsernameError::BadCharacter));
        assert_eq!(Username::parse("alice<script>"), Err(UsernameError::BadCharacter));
        assert_eq!(Username::parse("al\u{0}ice"), Err(UsernameError::BadCharacter));
    }

    #[test]
    fn a_megabyte_name_is_refused_as_too_long() {
        assert_eq!(Username::parse(&"a".repeat(1 << 20)), Err(UsernameError::TooLong));
    }
}
