//! The relying party of passkeys: which site a passkey is bound to, and
//! the one origin whose pages may use it, both from the public origin.
//!
//! Browsers refuse an IP address as a relying-party ID, so a server with
//! no public origin (the local default) names itself `localhost`: passkeys
//! work at `http://localhost:<port>`, not at `127.0.0.1`.

use webauthn_rs::prelude::Url;
use webauthn_rs::{Webauthn, WebauthnBuilder};

/// What a passkey's account is called by the authenticator.
pub const RP_NAME: &str = "Gatehouse";

/// Why passkeys are off.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RelyingPartyError {
    #[error(
        "passkeys are off: GATEHOUSE_PUBLIC_ORIGIN {0} names no domain (browsers refuse an IP address for passkeys)"
    )]
    NoDomain(String),
    #[error("passkeys are off: the verifier refused the origin {0}")]
    Refused(String),
}

/// The relying party for `public_origin`, or, with none, for
/// `scheme://localhost:port`.
///
/// # Errors
/// [`RelyingPartyError`] when the origin names no domain.
pub fn relying_party(public_origin: Option<&str>, scheme: &str, port: u16) -> Result<Webauthn, RelyingPartyError> {
    let origin = public_origin.map_or_else(|| format!("{scheme}://localhost:{port}"), str::to_owned);
    let url = Url::parse(&origin).map_err(|_| RelyingPartyError::NoDomain(origin.clone()))?;
    let domain = url.domain().ok_or_else(|| RelyingPartyError::NoDomain(origin.clone()))?.to_owned();
    WebauthnBuilder::new(&domain, &url)
        .and_then(|b| b.rp_name(RP_NAME).build())
        .map_err(|_| RelyingPartyError::Refused(origin))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_default_is_localhost_and_an_ip_address_turns_passkeys_off() {
        let rp = relying_party(None, "http", 3000).unwrap();
        assert_eq!(rp.get_allowed_origins(), [Url::parse("http://localhost:3000").unwrap()]);
        let rp = relying_party(Some("https://auth.example.com"), "http", 3000).unwrap();
        assert_eq!(rp.get_allowed_origins(), [Url::parse("https://auth.example.com").unwrap()]);
        assert_eq!(
            relying_party(Some("https://127.0.0.1:8443"), "https", 8443).err(),
            Some(RelyingPartyError::NoDomain("https://127.0.0.1:8443".into()))
        );
    }
}
