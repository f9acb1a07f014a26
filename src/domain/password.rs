use std::fmt;

/// A password as typed, never normalised or truncated. Its `Debug` output
/// is redacted so it cannot reach a log by accident.
#[derive(Clone)]
pub struct Password(String);

/// Why a password was refused; the `Display` text is shown to people.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("Enter a password.")]
    Empty,
    #[error("Passwords are at least {min} characters long.", min = Password::MIN_CHARS)]
    TooShort,
    #[error("Passwords are at most {max} bytes long.", max = Password::MAX_BYTES)]
    TooLong,
}

impl Password {
    /// Counted in Unicode characters, not bytes.
    pub const MIN_CHARS: usize = 8;
    /// Enforced before hashing so nobody can make the server hash a megabyte.
    pub const MAX_BYTES: usize = 1024;

    /// A password for a new account: the length policy applies.
    ///
    /// # Errors
    /// [`PasswordError`] when it is empty, too short or too long.
    pub fn parse_new(raw: &str) -> Result<Self, PasswordError> {
        let candidate = Self::parse_attempt(raw)?;
        if raw.chars().count() < Self::MIN_CHARS {
            return Err(PasswordError::TooShort);
        }
        Ok(candidate)
    }

    /// A password typed at sign-in: only emptiness and the size bound are
    /// checked, so a policy change never locks out an existing account.
    ///
    /// # Errors
    /// [`PasswordError::Empty`] or [`PasswordError::TooLong`].
    pub fn parse_attempt(raw: &str) -> Result<Self, PasswordError> {
        if raw.is_empty() {
            return Err(PasswordError::Empty);
        }
        if raw.len() > Self::MAX_BYTES {
            return Err(PasswordError::TooLong);
        }
        Ok(Self(raw.to_owned()))
    }

    /// The secret itself, for the hasher only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_counts_characters_not_bytes() {
        // Eight characters, sixteen bytes.
        assert!(Password::parse_new("ééééèèèè").is_ok());
        assert_eq!(Password::parse_new("abcdefg").err(), Some(PasswordError::TooShort));
    }

    #[test]
    fn the_size_bound_is_in_bytes_and_applies_before_anything_else() {
        assert!(Password::parse_new(&"a".repeat(Password::MAX_BYTES)).is_ok());
        assert_eq!(Password::parse_attempt(&"a".repeat(Password::MAX_BYTES + 1)).err(), Some(PasswordError::TooLong));
        assert_eq!(Password::parse_new(&"a".repeat(1 << 20)).err(), Some(PasswordError::TooLong));
    }

    #[test]
    fn spaces_are_kept_as_typed() {
        assert_eq!(Password::parse_new("  padded  ").unwrap().expose(), "  padded  ");
    }

    #[test]
    fn sign_in_attempts_skip_the_new_password_policy() {
        assert!(Password::parse_attempt("short").is_ok());
        assert_eq!(Password::parse_attempt("").err(), Some(PasswordError::Empty));
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let p = Password::parse_new("correct horse battery").unwrap();
        assert!(!format!("{p:?}").contains("horse"));
    }
}
