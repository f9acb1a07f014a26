//! The shipped list of common passwords, searched case-insensitively.
//!
//! `common-passwords.txt` beside this file holds every entry of at least 8
//! characters (shorter ones are refused by length anyway) of the 20,000
//! common passwords that Django ships (`django/contrib/auth/
//! common-passwords.txt.gz`, BSD-3-Clause, compiled by Royce Williams from
//! breach corpora): 8,354 entries, lower-cased, de-duplicated and sorted by
//! byte value so it can be binary-searched. To replace it keep that shape:
//! one lower-case password per line, `LC_ALL=C sort -u`.

use std::sync::LazyLock;

static LIST: &str = include_str!("common-passwords.txt");

/// The list's lines, sorted by byte value in the file itself.
static SORTED: LazyLock<Vec<&'static str>> = LazyLock::new(|| LIST.lines().collect());

/// Whether `candidate`, lower-cased, is on the list.
pub fn contains(candidate: &str) -> bool {
    let lowered = candidate.to_lowercase();
    SORTED.binary_search(&lowered.as_str()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_sorted_lower_case_and_free_of_duplicates() {
        assert!(SORTED.len() > 8000);
        assert!(SORTED.windows(2).all(|w| w[0] < w[1]), "sort with LC_ALL=C sort -u");
        assert!(SORTED.iter().all(|p| *p == p.to_lowercase()));
    }

    #[test]
    fn finds_famous_passwords_in_any_case() {
        for p in ["password", "PASSWORD", "Password1", "iloveyou1", "qwertyuiop", "12345678"] {
            assert!(contains(p), "{p}");
        }
        assert!(!contains("correct horse battery staple"));
    }
}
