//! [`Sealer`]: carrier credentials encrypted at rest with ChaCha20-Poly1305.
//!
//! The 32-byte key comes from config (`secrets.key`, base64) or from a key file the server
//! keeps in the data dir. A sealed value is `1 || nonce(12) ||
//! ciphertext || tag(16)`, and the record's id is bound in as associated data, so a sealed
//! secret copied onto another row does not open. Secrets are never logged: [`Secret`]'s
//! `Debug` prints a placeholder.

use base64::Engine as _;
use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore as _;

use crate::error::{ApiError, ErrorCode};

/// The format byte of a sealed value.
const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;

/// A secret in memory: never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The secret itself, for the one place that sends it to the carrier.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Seals and opens secrets under one key.
#[derive(Clone)]
pub struct Sealer {
    cipher: ChaCha20Poly1305,
    /// HMAC key for webhook URL tags, derived from the sealing key (never the key itself).
    mac_key: [u8; 32],
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(***)")
    }
}

impl Sealer {
    /// A sealer with the 32-byte `key`.
    pub fn new(key: &[u8; 32]) -> Self {
        use sha2::Digest as _;
        let mut derive = sha2::Sha256::new();
        derive.update(b"voxgate webhook tags v1\0");
        derive.update(key);
        Self {
            cipher: ChaCha20Poly1305::new(Key::from_slice(key)),
            mac_key: derive.finalize().into(),
        }
    }

    /// A tag that proves a URL was made by this server: HMAC-SHA256 of `purpose` and
    /// `data` under a key derived from the sealing key, 128 bits in hex. Used for the
    /// per-message delivery-report URLs given to the carrier.
    pub fn tag(&self, purpose: &str, data: &str) -> String {
        use hmac::Mac as _;
        let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(&self.mac_key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(data.as_bytes());
        mac.finalize().into_bytes()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Whether `tag` is [`tag`](Self::tag) of `purpose` and `data` (constant time).
    pub fn verify_tag(&self, purpose: &str, data: &str, tag: &str) -> bool {
        let expected = self.tag(purpose, data);
        expected.len() == tag.len()
            && expected
                .bytes()
                .zip(tag.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }

    /// A sealer from a base64 key (config `secrets.key`).
    ///
    /// # Errors
    ///
    /// `SECRETS_KEY_INVALID` unless `text` is base64 of exactly 32 bytes.
    pub fn from_base64(text: &str) -> Result<Self, ApiError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| {
                ApiError::invalid(
                    ErrorCode::SecretsKeyInvalid,
                    "secrets.key must be base64 of 32 bytes",
                )
            })?;
        Ok(Self::new(&bytes))
    }

    /// Seals `secret`, bound to `record_id`.
    pub fn seal(&self, record_id: &str, secret: &Secret) -> Result<Vec<u8>, ApiError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let payload = Payload {
            msg: secret.expose().as_bytes(),
            aad: record_id.as_bytes(),
        };
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), payload)
            .map_err(|_| ApiError::SecretsUnavailable)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Opens what [`seal`](Self::seal) made for `record_id`.
    ///
    /// # Errors
    ///
    /// [`ApiError::SecretsUnavailable`] if the value was sealed under another key or for
    /// another record, or is damaged.
    pub fn open(&self, record_id: &str, sealed: &[u8]) -> Result<Secret, ApiError> {
        let Some((&VERSION, rest)) = sealed.split_first() else {
            return Err(ApiError::SecretsUnavailable);
        };
        if rest.len() < NONCE_LEN {
            return Err(ApiError::SecretsUnavailable);
        }
        let (nonce, body) = rest.split_at(NONCE_LEN);
        let payload = Payload {
            msg: body,
            aad: record_id.as_bytes(),
        };
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), payload)
            .map_err(|_| ApiError::SecretsUnavailable)?;
        String::from_utf8(plain)
            .map(Secret)
            .map_err(|_| ApiError::SecretsUnavailable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> Secret {
        Secret::new("p4ssw0rd-of-the-carrier".into())
    }

    #[test]
    fn seals_and_opens_and_never_shows_the_secret() {
        let sealer = Sealer::new(&[7; 32]);
        let sealed = sealer.seal("prv_1", &secret()).expect("seal");
        assert!(!sealed.windows(8).any(|w| w == b"p4ssw0rd"));
        assert_eq!(sealer.open("prv_1", &sealed).expect("open"), secret());
        assert_ne!(
            sealed,
            sealer.seal("prv_1", &secret()).expect("seal"),
            "fresh nonce"
        );
        assert_eq!(format!("{:?}", secret()), "Secret(***)");
    }

    #[test]
    fn wrong_key_record_or_damage_does_not_open() {
        let sealer = Sealer::new(&[7; 32]);
        let sealed = sealer.seal("prv_1", &secret()).expect("seal");
        assert!(Sealer::new(&[8; 32]).open("prv_1", &sealed).is_err());
        assert!(sealer.open("prv_2", &sealed).is_err());
        let mut damaged = sealed.clone();
        *damaged.last_mut().expect("bytes") ^= 1;
        assert!(sealer.open("prv_1", &damaged).is_err());
        assert!(sealer.open("prv_1", &[]).is_err());
        assert!(sealer.open("prv_1", &sealed[..5]).is_err());
    }

    #[test]
    fn a_key_must_be_base64_of_32_bytes() {
        assert!(Sealer::from_base64("not a key").is_err());
        assert!(Sealer::from_base64("c2hvcnQ=").is_err());
        let key = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";
        let sealed = Sealer::from_base64(key)
            .expect("32 bytes")
            .seal("prv_1", &secret())
            .expect("seal");
        assert_eq!(
            Sealer::new(&[7; 32])
                .open("prv_1", &sealed)
                .expect("the same key"),
            secret()
        );
    }
}
