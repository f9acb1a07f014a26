//! A software passkey for the tests: what a browser and its authenticator
//! answer to WebAuthn options (ES256, "none" attestation, user verified),
//! with every part an attacker controls left open to change: the origin,
//! the counter, the user handle.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub struct SoftPasskey {
    key: SigningKey,
    pub credential_id: Vec<u8>,
    /// What the passkey says whose it is (the account's id, from creation).
    pub user_handle: Vec<u8>,
    pub counter: u32,
    /// The page's origin, as the browser would report it.
    pub origin: String,
    pub rp_id: String,
    /// A passkey that syncs between devices.
    pub synced: bool,
    /// What the browser reports of the credential's residency
    /// (`credProps.rk`); `None` for a browser that says nothing.
    pub resident: Option<bool>,
}

const UP: u8 = 0x01;
const UV: u8 = 0x04;
const BE: u8 = 0x08;
const BS: u8 = 0x10;
const AT: u8 = 0x40;

impl SoftPasskey {
    /// A new passkey for pages at `origin` (whose host is the RP ID).
    pub fn new(origin: &str) -> Self {
        let mut seed = [0u8; 32];
        getrandom(&mut seed);
        let mut credential_id = vec![0u8; 16];
        getrandom(&mut credential_id);
        let host = origin.split("://").nth(1).unwrap().split(':').next().unwrap().to_owned();
        Self {
            key: SigningKey::from_slice(&Sha256::digest(seed)).unwrap(),
            credential_id,
            user_handle: Vec::new(),
            counter: 0,
            origin: origin.to_owned(),
            rp_id: host,
            synced: false,
            resident: Some(true),
        }
    }

    pub fn id(&self) -> String {
        URL_SAFE_NO_PAD.encode(&self.credential_id)
    }

    fn flags(&self) -> u8 {
        UP | UV | if self.synced { BE | BS } else { 0 }
    }

    fn client_data(&self, kind: &str, options: &Value) -> Vec<u8> {
        let challenge = options["publicKey"]["challenge"].as_str().expect("options carry a challenge");
        serde_json::to_vec(&json!({
            "type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": false
        }))
        .unwrap()
    }

    /// `navigator.credentials.create(options)`, as `toJSON()` gives it.
    pub fn create(&mut self, options: &Value) -> Value {
        if let Some(user) = options["publicKey"]["user"]["id"].as_str() {
            self.user_handle = URL_SAFE_NO_PAD.decode(user).unwrap();
        }
        let client_data = self.client_data("webauthn.create", options);
        let point = self.key.verifying_key().to_encoded_point(false);
        let mut cose = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20];
        cose.extend_from_slice(point.x().unwrap());
        cose.extend_from_slice(&[0x22, 0x58, 0x20]);
        cose.extend_from_slice(point.y().unwrap());
        let mut auth_data = Sha256::digest(self.rp_id.as_bytes()).to_vec();
        auth_data.push(self.flags() | AT);
        auth_data.extend_from_slice(&self.counter.to_be_bytes());
        auth_data.extend_from_slice(&[0u8; 16]);
        auth_data.extend_from_slice(&u16::try_from(self.credential_id.len()).unwrap().to_be_bytes());
        auth_data.extend_from_slice(&self.credential_id);
        auth_data.extend_from_slice(&cose);
        let mut attestation = vec![0xa3];
        cbor_text(&mut attestation, "fmt");
        cbor_text(&mut attestation, "none");
        cbor_text(&mut attestation, "attStmt");
        attestation.push(0xa0);
        cbor_text(&mut attestation, "authData");
        cbor_bytes(&mut attestation, &auth_data);
        json!({
            "id": self.id(),
            "rawId": self.id(),
            "type": "public-key",
            "response": {
                "attestationObject": URL_SAFE_NO_PAD.encode(attestation),
                "clientDataJSON": URL_SAFE_NO_PAD.encode(client_data),
                "transports": ["internal"],
            },
            "extensions": self.resident.map_or_else(|| json!({}), |rk| json!({ "credProps": { "rk": rk } })),
        })
    }

    /// `navigator.credentials.get(options)`, as `toJSON()` gives it; the
    /// counter moves on by one first (unless it is kept at zero).
    pub fn get(&mut self, options: &Value) -> Value {
        if self.counter > 0 || !self.synced {
            self.counter += 1;
        }
        self.answer(options)
    }

    /// The same, with the counter as it stands.
    pub fn answer(&self, options: &Value) -> Value {
        let client_data = self.client_data("webauthn.get", options);
        let mut auth_data = Sha256::digest(self.rp_id.as_bytes()).to_vec();
        auth_data.push(self.flags());
        auth_data.extend_from_slice(&self.counter.to_be_bytes());
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&Sha256::digest(&client_data));
        let signature: Signature = self.key.sign(&signed);
        json!({
            "id": self.id(),
            "rawId": self.id(),
            "type": "public-key",
            "response": {
                "authenticatorData": URL_SAFE_NO_PAD.encode(auth_data),
                "clientDataJSON": URL_SAFE_NO_PAD.encode(client_data),
                "signature": URL_SAFE_NO_PAD.encode(signature.to_der().as_bytes()),
                "userHandle": URL_SAFE_NO_PAD.encode(&self.user_handle),
            },
            "extensions": {},
        })
    }
}

fn getrandom(buf: &mut [u8]) {
    use std::time::{SystemTime, UNIX_EPOCH};
    // Test keys need only differ between tests, not resist an attacker.
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    let digest = Sha256::digest(format!("{now} {n} {}", std::process::id()));
    for (b, d) in buf.iter_mut().zip(digest.iter().cycle()) {
        *b = *d;
    }
}

fn cbor_text(out: &mut Vec<u8>, text: &str) {
    assert!(text.len() < 24);
    out.push(0x60 + u8::try_from(text.len()).unwrap());
    out.extend_from_slice(text.as_bytes());
}

fn cbor_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    match bytes.len() {
        n if n < 24 => out.push(0x40 + u8::try_from(n).unwrap()),
        n if n < 256 => out.extend_from_slice(&[0x58, u8::try_from(n).unwrap()]),
        n => {
            out.push(0x59);
            out.extend_from_slice(&u16::try_from(n).unwrap().to_be_bytes());
        }
    }
    out.extend_from_slice(bytes);
}
