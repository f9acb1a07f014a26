/// Where a person lands after signing in when no usable `next` was given.
pub const DEFAULT_AFTER_SIGN_IN: &str = "/dashboard";

const MAX_LEN: usize = 512;

/// Turns an untrusted `next` value (already URL-decoded once) into a
/// same-origin relative path, or [`DEFAULT_AFTER_SIGN_IN`].
///
/// Only a plain absolute path is accepted: it starts with one `/`, and holds
/// no backslash, no encoded slash or backslash, no whitespace or control
/// character, no scheme. Anything else could be read by some browser as
/// another origin (`//evil`, `/\evil`, `javascript:`), so it is dropped
/// rather than repaired.
pub fn safe_next_path(next: Option<&str>) -> &str {
    match next {
        Some(path) if is_safe(path) => path,
        _ => DEFAULT_AFTER_SIGN_IN,
    }
}

fn is_safe(path: &str) -> bool {
    let bytes = path.as_bytes();
    if path.len() > MAX_LEN || bytes.first() != Some(&b'/') || bytes.get(1) == Some(&b'/') {
        return false;
    }
    let lower = path.to_ascii_lowercase();
    if lower.contains("%2f") || lower.contains("%5c") || lower.contains("%00") {
        return false;
    }
    path.bytes().all(|b| {
        b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.' | b'~' | b'?' | b'=' | b'&' | b'%' | b'+')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_plain_relative_paths() {
        assert_eq!(safe_next_path(Some("/dashboard")), "/dashboard");
        assert_eq!(safe_next_path(Some("/sessions?page=2")), "/sessions?page=2");
        assert_eq!(safe_next_path(Some("/")), "/");
    }

    #[test]
    fn everything_that_could_leave_the_site_falls_back() {
        for evil in [
            "//evil.example",
            "https://evil.example",
            "http:evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/%2F%2Fevil.example",
            "/%2fevil.example",
            "/%5Cevil.example",
            "%2F%2Fevil.example",
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "/\tevil",
            "/\r\nLocation: https://evil.example",
            " /dashboard",
            "",
            "dashboard",
            "/x\u{0}",
            "/ünïcode",
        ] {
            assert_eq!(safe_next_path(Some(evil)), DEFAULT_AFTER_SIGN_IN, "{evil:?}");
        }
        assert_eq!(safe_next_path(None), DEFAULT_AFTER_SIGN_IN);
    }

    #[test]
    fn very_long_targets_fall_back() {
        let long = format!("/{}", "a".repeat(MAX_LEN));
        assert_eq!(safe_next_path(Some(&long)), DEFAULT_AFTER_SIGN_IN);
    }
}
