//! The access-token cookie: how it is written, cleared and read.

use axum::http::{HeaderMap, HeaderValue, header};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

use crate::auth::token::MAX_TOKEN_BYTES;

/// `__Host-` makes the browser insist on Secure, Path=/ and no Domain, so
/// no subdomain or plain-http page can plant or overwrite it.
pub const ACCESS_COOKIE: &str = "__Host-gatehouse-access";

/// A `Set-Cookie` value carrying `token` for `max_age` seconds: HttpOnly
/// (no script can read it), Secure, SameSite=Lax, host-only.
pub fn set_access(token: &str, max_age: i64) -> HeaderValue {
    access_cookie(token, max_age)
}

/// A `Set-Cookie` value that deletes the access cookie.
pub fn clear_access() -> HeaderValue {
    access_cookie("", 0)
}

fn access_cookie(value: &str, max_age: i64) -> HeaderValue {
    let cookie = Cookie::build((ACCESS_COOKIE, value))
        .path("/")
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Lax)
        .max_age(time::Duration::seconds(max_age.max(0)))
        .build();
    // A JWT is base64url and dots: always a valid header value.
    HeaderValue::from_str(&cookie.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The access token from the request's cookies, if one is present.
/// An oversized value is returned as is: the verifier refuses it cheaply.
pub fn read_access(headers: &HeaderMap) -> Option<String> {
    // Never parse an absurd Cookie header: the verifier would refuse any
    // token in it anyway.
    let total: usize = headers
        .get_all(header::COOKIE)
        .iter()
        .map(|v| v.len())
        .sum();
    if total > 16 * MAX_TOKEN_BYTES {
        return Some(String::new());
    }
    CookieJar::from_headers(headers)
        .get(ACCESS_COOKIE)
        .map(|c| c.value().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_carries_every_protective_flag() {
        let v = set_access("a.b.c", 900);
        let s = v.to_str().unwrap();
        assert!(s.starts_with("__Host-gatehouse-access=a.b.c"), "{s}");
        for flag in [
            "HttpOnly",
            "Secure",
            "SameSite=Lax",
            "Path=/",
            "Max-Age=900",
        ] {
            assert!(s.contains(flag), "{flag} missing in {s}");
        }
        assert!(!s.to_ascii_lowercase().contains("domain"), "{s}");
    }

    #[test]
    fn clearing_expires_the_cookie_at_once() {
        let s = clear_access().to_str().unwrap().to_owned();
        assert!(
            s.contains("Max-Age=0") && s.starts_with("__Host-gatehouse-access=;"),
            "{s}"
        );
    }

    #[test]
    fn reads_the_token_among_other_cookies() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("theme=dark; __Host-gatehouse-access=x.y.z; a=b"),
        );
        assert_eq!(read_access(&h).as_deref(), Some("x.y.z"));
        assert_eq!(read_access(&HeaderMap::new()), None);
    }
}
