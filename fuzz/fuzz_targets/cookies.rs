//! The request headers Gatehouse reads credentials from: `Cookie` (the
//! session, second-step and flash cookies) and `Authorization`. Any bytes
//! are read without a panic; a flash that decodes survives its own
//! encoding unchanged; a bearer token is what follows the scheme, trimmed.
#![no_main]

use axum::http::{HeaderMap, HeaderValue, header};
use gatehouse::web::caller::{Authorization, authorization};
use gatehouse::web::cookies;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Lines are headers: the first is `Authorization`, the rest `Cookie`.
    let mut lines = data.split(|&b| b == b'\n');
    let mut headers = HeaderMap::new();
    if let Some(Ok(value)) = lines.next().map(HeaderValue::from_bytes) {
        headers.insert(header::AUTHORIZATION, value);
    }
    for value in lines.filter_map(|l| HeaderValue::from_bytes(l).ok()) {
        headers.append(header::COOKIE, value);
    }

    let _ = cookies::read_access(&headers);
    let _ = cookies::read_refresh(&headers);
    let _ = cookies::read_second_step(&headers);
    let _ = cookies::any_present(&headers);
    // A flash that still fits a cookie once encoded again (a decoded one
    // may be written back a little longer) reads back the same.
    if let Some(flash) = cookies::read_flash(&headers)
        && let Some(text) = flash.encode()
    {
        assert!(gatehouse::flash::Flash::decode(&text) == Some(flash), "a flash does not survive its own encoding");
    }

    match authorization(&headers) {
        Authorization::Absent => assert!(!headers.contains_key(header::AUTHORIZATION)),
        Authorization::Bearer(token) => {
            let raw = headers[header::AUTHORIZATION].to_str().expect("a bearer header is text");
            assert!(raw.get(..7).is_some_and(|s| s.eq_ignore_ascii_case("bearer ")), "{raw:?}");
            assert_eq!(token, token.trim());
            assert!(raw.trim_end().ends_with(token), "{raw:?} {token:?}");
        }
        Authorization::Other => {}
    }
});
