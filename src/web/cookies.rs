//! The session cookies and the one-time flash cookie: how they are
//! written, cleared and read.

use axum::http::{HeaderMap, HeaderValue, header};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

use crate::auth::token::MAX_TOKEN_BYTES;

/// `__Host-` makes the browser insist on Secure, Path=/ and no Domain, so
/// no subdomain or plain-http page can plant or overwrite it.
pub const ACCESS_COOKIE: &str = "__Host-gatehouse-access";

/// The refresh token's cookie. Path=/ is the narrowest that works: any
/// protected page may need a silent refresh while it is rendered.
pub const REFRESH_COOKIE: &str = "__Host-gatehouse-refresh";

/// The one-time message for the next page ([`crate::flash::Flash`]).
pub const FLASH_COOKIE: &str = "__Host-gatehouse-flash";

/// The credential of a password sign-in waiting for its second step: it
/// is not a session, and nothing but the second step reads it.
pub const SECOND_STEP_COOKIE: &str = "__Host-gatehouse-step";

/// A flash lives until the next page load, and at most this long.
const FLASH_SECONDS: i64 = 60;

/// A `Set-Cookie` value carrying the access `token` for `max_age` seconds:
/// HttpOnly (no script can read it), Secure, SameSite=Lax, host-only.
pub fn set_access(token: &str, max_age: i64) -> HeaderValue {
    build(ACCESS_COOKIE, token, max_age)
}

/// A `Set-Cookie` value carrying the refresh `token`, same flags.
pub fn set_refresh(token: &str, max_age: i64) -> HeaderValue {
    build(REFRESH_COOKIE, token, max_age)
}

/// The two `Set-Cookie` values a browser keeps a session's tokens in; the
/// refresh cookie lives as long as the session may idle.
pub fn set_session(tokens: &crate::accounts::SessionTokens, refresh_idle_ttl: i64) -> [HeaderValue; 2] {
    [set_access(&tokens.access.token, tokens.access.lifetime()), set_refresh(tokens.refresh.expose(), refresh_idle_ttl)]
}

/// A `Set-Cookie` value carrying a second step's credential, as long as
/// it lives.
pub fn set_second_step(step: &crate::accounts::PendingStep) -> HeaderValue {
    build(SECOND_STEP_COOKIE, step.token.expose(), step.expires_in)
}

/// A `Set-Cookie` value that deletes it once the step is over.
pub fn clear_second_step() -> HeaderValue {
    build(SECOND_STEP_COOKIE, "", 0)
}

/// The second step's credential the request carries.
pub fn read_second_step(headers: &HeaderMap) -> Option<String> {
    read(headers, SECOND_STEP_COOKIE)
}

/// `Set-Cookie` values that delete both cookies.
pub fn clear_all() -> [HeaderValue; 2] {
    [build(ACCESS_COOKIE, "", 0), build(REFRESH_COOKIE, "", 0)]
}

/// A `Set-Cookie` value carrying `flash` to the next page, or `None`
/// when it is too large to carry.
pub fn set_flash(flash: &crate::flash::Flash) -> Option<HeaderValue> {
    flash.encode().map(|value| build(FLASH_COOKIE, &value, FLASH_SECONDS))
}

/// A `Set-Cookie` value that deletes the flash once it has been shown.
pub fn clear_flash() -> HeaderValue {
    build(FLASH_COOKIE, "", 0)
}

/// The flash the request carries, if a readable one.
pub fn read_flash(headers: &HeaderMap) -> Option<crate::flash::Flash> {
    read(headers, FLASH_COOKIE).and_then(|v| crate::flash::Flash::decode(&v))
}

fn build(name: &'static str, value: &str, max_age: i64) -> HeaderValue {
    let cookie = Cookie::build((name, value))
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
pub fn read_access(headers: &HeaderMap) -> Option<String> {
    read(headers, ACCESS_COOKIE)
}

/// The refresh token from the request's cookies, if one is present.
pub fn read_refresh(headers: &HeaderMap) -> Option<String> {
    read(headers, REFRESH_COOKIE)
}

/// Whether the request carries either session cookie, valid or not.
pub fn any_present(headers: &HeaderMap) -> bool {
    read_access(headers).is_some() || read_refresh(headers).is_some()
}

fn read(headers: &HeaderMap, name: &str) -> Option<String> {
    // Never parse an absurd Cookie header: any token in it would be
    // refused anyway, so an empty value stands in for it.
    let total: usize = headers.get_all(header::COOKIE).iter().map(|v| v.len()).sum();
    if total > 16 * MAX_TOKEN_BYTES {
        return Some(String::new());
    }
    CookieJar::from_headers(headers).get(name).map(|c| c.value().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_cookies_carry_every_protective_flag() {
        for (v, name) in [(set_access("a.b.c", 900), ACCESS_COOKIE), (set_refresh("grt_x", 900), REFRESH_COOKIE)] {
            let s = v.to_str().unwrap();
            assert!(s.starts_with(&format!("{name}=")), "{s}");
            for flag in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/", "Max-Age=900"] {
                assert!(s.contains(flag), "{flag} missing in {s}");
            }
            assert!(!s.to_ascii_lowercase().contains("domain"), "{s}");
        }
    }

    #[test]
    fn clearing_expires_both_cookies_at_once() {
        let [a, r] = clear_all();
        let (a, r) = (a.to_str().unwrap().to_owned(), r.to_str().unwrap().to_owned());
        assert!(a.contains("Max-Age=0") && a.starts_with("__Host-gatehouse-access=;"), "{a}");
        assert!(r.contains("Max-Age=0") && r.starts_with("__Host-gatehouse-refresh=;"), "{r}");
    }

    #[test]
    fn reads_each_token_among_other_cookies() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("theme=dark; __Host-gatehouse-access=x.y.z; __Host-gatehouse-refresh=grt_1; a=b"),
        );
        assert_eq!(read_access(&h).as_deref(), Some("x.y.z"));
        assert_eq!(read_refresh(&h).as_deref(), Some("grt_1"));
        assert_eq!(read_access(&HeaderMap::new()), None);
    }
}
