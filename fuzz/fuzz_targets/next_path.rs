//! The `next` target after sign-in, as a crafted link sets it. Whatever
//! comes in, what goes out is the input itself or the default, and is a
//! path on this site that no browser reads as another origin.
#![no_main]

use gatehouse::domain::{DEFAULT_AFTER_SIGN_IN, safe_next_path};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(next) = std::str::from_utf8(data) else { return };
    let out = safe_next_path(Some(next));
    assert!(out == next || out == DEFAULT_AFTER_SIGN_IN, "{next:?} became {out:?}");
    let bytes = out.as_bytes();
    assert_eq!(bytes.first(), Some(&b'/'), "{out:?}");
    assert_ne!(bytes.get(1), Some(&b'/'), "{out:?} is protocol-relative");
    assert!(!out.contains('\\'), "{out:?}");
    assert!(out.bytes().all(|b| b.is_ascii_graphic()), "{out:?}");
    // An encoded slash, backslash or NUL would be decoded once more by
    // some router or browser.
    let lower = out.to_ascii_lowercase();
    for encoded in ["%2f", "%5c", "%00"] {
        assert!(!lower.contains(encoded), "{out:?}");
    }
    // Parsed as a browser would, relative to our origin, it stays there.
    let base = "https://gatehouse.example";
    let joined: axum::http::Uri = format!("{base}{out}").parse().expect("a safe path makes a URL");
    assert_eq!(joined.host(), Some("gatehouse.example"), "{out:?}");
});
