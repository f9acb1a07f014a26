use std::fmt;

use super::Username;
use super::common_passwords;

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
    #[error(
        "This password is one of the most common ones, which attackers try first. Choose something less predictable."
    )]
    Common,
    #[error("Your password must not contain your username.")]
    ContainsUsername,
}

impl Password {
    /// Counted in Unicode characters, not bytes.
    pub const MIN_CHARS: usize = 8;
    /// Enforced before hashing so nobody can make the server hash a megabyte.
    pub const MAX_BYTES: usize = 1024;

    /// A new password for the account named `username`, after NIST SP
    /// 800-63B: a length range and a list of common passwords, no
    /// composition rules.
    ///
    /// # Errors
    /// [`PasswordError`] naming the first rule it breaks.
    pub fn parse_new(raw: &str, username: &Username) -> Result<Self, PasswordError> {
        let candidate = Self::parse_attempt(raw)?;
        if raw.chars().count() < Self::MIN_CHARS {
            return Err(PasswordError::TooShort);
        }
        if common_passwords::contains(raw) {
            return Err(PasswordError::Common);
        }
        if Username::fold(raw).contains(&username.key()) {
            return Err(PasswordError::ContainsUsername);
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

    fn alice() -> Username {
        Username::parse("alice").unwrap()
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        // Eight characters, sixteen bytes.
        assert!(Password::parse_new("ééééèèèè", &alice()).is_ok());
        assert_eq!(Password::parse_new("abcdefg", &alice()).err(), Some(PasswordError::TooShort));
    }

    #[test]
    fn the_size_bound_is_in_bytes_and_applies_before_anything_else() {
        assert!(Password::parse_new(&"ab".repeat(Password::MAX_BYTES / 2), &alice()).is_ok());
        assert_eq!(Password::parse_attempt(&"a".repeat(Password::MAX_BYTES + 1)).err(), Some(PasswordError::TooLong));
        assert_eq!(Password::parse_new(&"a".repeat(1 << 20), &alice()).err(), Some(PasswordError::TooLong));
    }

    #[test]
    fn spaces_are_kept_as_typed() {
        assert_eq!(Password::parse_new("  padded  ", &alice()).unwrap().expose(), "  padded  ");
    }

    #[test]
    fn sign_in_attempts_skip_the_new_password_policy() {
        assert!(Password::parse_attempt("short").is_ok());
        assert_eq!(Password::parse_attempt("").err(), Some(PasswordError::Empty));
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let p = Password::parse_new("correct horse battery", &alice()).unwrap();
        assert!(!format!("{p:?}").contains("horse"));
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        for p in ["password", "Password1", "QWERTYUIOP", "iloveyou1"] {
            assert_eq!(Password::parse_new(p, &alice()).err(), Some(PasswordError::Common), "{p}");
        }
    }

    #[test]
    fn a_password_built_on_the_username_is_refused() {
        for p in ["alice-rocks-2026", "ALICE!ALICE!", "my name is Alice"] {
            assert_eq!(Password::parse_new(p, &alice()).err(), Some(PasswordError::ContainsUsername), "{p}");
        }
        assert!(Password::parse_new("al1ce is not my name", &alice()).is_ok());
    }

    #[test]
    fn no_composition_rules_apply() {
        for p in ["correct horse battery staple", "aaaaaaaaaaaaaaaaaaaa!", "ééééèèèè", "🔑🔑🔑🔑🔑🔑🔑🔑"]
        {
            assert!(Password::parse_new(p, &alice()).is_ok(), "{p}");
        }
    }
}
