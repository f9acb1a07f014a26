//! Whether a state-changing request really comes from this site. Pure: it
//! reads only the headers a browser sets and the allowed origins.
//!
//! SameSite cookies stop a foreign page from using a session, but not from
//! signing a victim into the attacker's account (login CSRF) or from
//! posting forms that need no session. So every state change a browser
//! can make with cookies must name its origin, and it must be ours,
//! exactly.

use axum::http::{HeaderMap, Uri, header};

/// Why a request was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OriginError {
    #[error("the browser marked it as cross-site")]
    CrossSite,
    #[error("its Origin is not this site")]
    ForeignOrigin,
    #[error("its Origin is hidden and the browser did not vouch for it")]
    OpaqueOrigin,
    #[error("its Referer is not this site")]
    ForeignReferer,
    #[error("it names no Origin or Referer")]
    Unknown,
}

/// Checks the request's `Sec-Fetch-Site`, then `Origin`, or when that is
/// absent `Referer`, against `allowed` (each `scheme://host[:port]`).
///
/// A page with `Referrer-Policy: no-referrer` (the reset page: its address
/// holds a secret) makes the browser post its forms with `Origin: null`
/// and no `Referer`. Then only the browser's own `Sec-Fetch-Site:
/// same-origin` lets it through: no page can set that header, and a
/// foreign page, sandboxed frame or `data:` document gets `cross-site`.
///
/// # Errors
/// The [`OriginError`] that refuses it.
pub fn check(headers: &HeaderMap, allowed: &[String]) -> Result<(), OriginError> {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if text(header::HeaderName::from_static("sec-fetch-site")) == Some("cross-site") {
        return Err(OriginError::CrossSite);
    }
    if text(header::ORIGIN) == Some("null") {
        return match text(header::HeaderName::from_static("sec-fetch-site")) {
            Some("same-origin") => Ok(()),
            _ => Err(OriginError::OpaqueOrigin),
        };
    }
    if let Some(origin) = text(header::ORIGIN) {
        return if allowed.iter().any(|a| a == origin) { Ok(()) } else { Err(OriginError::ForeignOrigin) };
    }
    if let Some(referer) = text(header::REFERER) {
        let origin = referer.parse::<Uri>().ok().as_ref().and_then(origin_of);
        return match origin {
            Some(o) if allowed.contains(&o) => Ok(()),
            _ => Err(OriginError::ForeignReferer),
        };
    }
    Err(OriginError::Unknown)
}

/// The origin (`scheme://host[:port]`, lower case) of an absolute URI.
pub fn origin_of(uri: &Uri) -> Option<String> {
    Some(format!("{}://{}", uri.scheme_str()?, uri.authority()?.as_str().to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn allowed() -> Vec<String> {
        vec!["https://app.example.com".to_owned()]
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn our_own_origin_passes() {
        assert_eq!(check(&headers(&[("origin", "https://app.example.com")]), &allowed()), Ok(()));
        assert_eq!(check(&headers(&[("referer", "https://app.example.com/login?next=%2F")]), &allowed()), Ok(()));
        let same = headers(&[("origin", "https://app.example.com"), ("sec-fetch-site", "same-origin")]);
        assert_eq!(check(&same, &allowed()), Ok(()));
    }

    #[test]
    fn every_look_alike_fails() {
        for origin in [
            "https://evil.example",
            "https://app.example.com.evil.com",
            "https://evilapp.example.com",
            "http://app.example.com",
            "https://app.example.com:8443",
            "",
            "https://APP.example.com.",
        ] {
            let mut h = HeaderMap::new();
            h.insert("origin", HeaderValue::from_str(origin).unwrap());
            assert_eq!(check(&h, &allowed()), Err(OriginError::ForeignOrigin), "{origin:?}");
        }
    }

    #[test]
    fn a_foreign_referer_or_none_at_all_fails() {
        assert_eq!(
            check(&headers(&[("referer", "https://evil.example/x")]), &allowed()),
            Err(OriginError::ForeignReferer)
        );
        assert_eq!(check(&headers(&[("referer", "/relative")]), &allowed()), Err(OriginError::ForeignReferer));
        assert_eq!(check(&HeaderMap::new(), &allowed()), Err(OriginError::Unknown));
    }

    #[test]
    fn a_hidden_origin_passes_only_when_the_browser_says_same_origin() {
        let ours = headers(&[("origin", "null"), ("sec-fetch-site", "same-origin")]);
        assert_eq!(check(&ours, &allowed()), Ok(()));
        for site in [None, Some("same-site"), Some("none"), Some("cross-site")] {
            let mut h = headers(&[("origin", "null")]);
            if let Some(site) = site {
                h.insert("sec-fetch-site", HeaderValue::from_static(site));
            }
            let expected = if site == Some("cross-site") { OriginError::CrossSite } else { OriginError::OpaqueOrigin };
            assert_eq!(check(&h, &allowed()), Err(expected), "{site:?}");
        }
        // A referer cannot stand in for the browser's word.
        let h = headers(&[("origin", "null"), ("referer", "https://app.example.com/reset")]);
        assert_eq!(check(&h, &allowed()), Err(OriginError::OpaqueOrigin));
    }

    #[test]
    fn the_browsers_cross_site_mark_wins() {
        let h = headers(&[("origin", "https://app.example.com"), ("sec-fetch-site", "cross-site")]);
        assert_eq!(check(&h, &allowed()), Err(OriginError::CrossSite));
    }
}
