//! API keys and roles, and the [`Caller`] extractor that checks `Authorization: Bearer` on
//! every protected route.
//!
//! A key is `vgk_` and 43 characters of base64url from 32 random bytes. Only its SHA-256 is
//! stored (the key has 256 bits of entropy, so a slow password hash would add nothing but
//! latency on every request); the first 12 characters are kept in clear to tell keys apart
//! in listings. A key is shown once, when it is created.

mod role;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::Engine as _;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

pub use role::Role;

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{Circle, KeyRecord, NewKey};

/// What every key starts with.
pub const KEY_PREFIX: &str = "vgk_";
/// Characters of a key kept in clear (the prefix and 8 more).
const SHOWN: usize = 12;

/// A freshly made key: the secret to show once and what to store.
#[derive(Debug)]
pub struct IssuedKey {
    /// The full key; never stored.
    pub secret: String,
    /// What the store keeps.
    pub record: NewKey,
}

/// Makes a new key for `circle_id` with `role`.
pub fn issue_key(circle_id: &str, role: Role) -> IssuedKey {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = format!(
        "{KEY_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let record = NewKey {
        id: crate::ids::new_id("key"),
        circle_id: circle_id.to_owned(),
        role,
        hash: hash_key(&secret),
        shown: secret[..SHOWN].to_owned(),
    };
    IssuedKey { secret, record }
}

/// The stored form of a key: SHA-256, lower-case hex.
pub fn hash_key(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The authenticated caller of a request: its key's circle and role.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The key's circle.
    pub circle: Circle,
    /// The key's role.
    pub role: Role,
    /// The key's id (for audit logs; never the key itself).
    pub key_id: String,
}

impl Caller {
    /// Fails with 403 unless the key's role is at least `needed`.
    pub fn require(&self, needed: Role) -> Result<(), ApiError> {
        if self.role >= needed {
            Ok(())
        } else {
            Err(ApiError::Forbidden {
                needed,
                has: self.role,
            })
        }
    }

    /// Fails with 403 unless the key belongs to the circle named `name`.
    pub fn in_circle(&self, name: &str) -> Result<(), ApiError> {
        if self.circle.name == name {
            Ok(())
        } else {
            Err(ApiError::WrongCircle(name.to_owned()))
        }
    }

    /// [`require`](Self::require) and [`in_circle`](Self::in_circle) at once.
    pub fn may(&self, circle: &str, needed: Role) -> Result<(), ApiError> {
        self.in_circle(circle)?;
        self.require(needed)
    }
}

impl From<KeyRecord> for Caller {
    fn from(record: KeyRecord) -> Self {
        Self {
            circle: record.circle,
            role: record.role,
            key_id: record.id,
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or(ApiError::AuthRequired)?;
        let secret = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|k| k.starts_with(KEY_PREFIX) && k.len() < 128)
            .ok_or(ApiError::InvalidKey)?;
        let record = state
            .store()
            .key_by_hash(&hash_key(secret))
            .await?
            .ok_or(ApiError::InvalidKey)?;
        Ok(record.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_only_their_hash_is_kept() {
        let a = issue_key("cir_1", Role::Admin);
        let b = issue_key("cir_1", Role::Admin);
        assert_ne!(a.secret, b.secret);
        assert!(a.secret.starts_with(KEY_PREFIX));
        assert_eq!(a.secret.len(), KEY_PREFIX.len() + 43);
        assert_eq!(a.record.hash, hash_key(&a.secret));
        assert_eq!(a.record.hash.len(), 64);
        assert!(!a.record.hash.contains(&a.secret[KEY_PREFIX.len()..]));
        assert_eq!(a.record.shown, a.secret[..SHOWN]);
    }

    #[test]
    fn sha256_of_a_known_string() {
        // FIPS 180-2 test vector.
        assert_eq!(
            hash_key("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
