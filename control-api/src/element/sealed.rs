//! Secrets inside a spec (an email element's `smtp_password`, a phone number's
//! `webrtc_sip_pass`): sealed before they are stored, masked wherever a spec is shown,
//! opened only where the server logs in with them. No message here contains one.
//!
//! A client sends the secret as a string. The routes seal it for the element
//! (ChaCha20-Poly1305, bound to the element id: [`crate::secrets`]) into
//! `{"sealed": base64}`; every spec the API returns shows [`MASK`]; the mask sent back in
//! an update keeps the stored secret; a sealed value a client made up is refused.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{ApiError, ErrorCode};
use crate::secrets::{Sealer, Secret};

/// What the API shows instead of a stored secret. Sent back unchanged in an update, it
/// keeps the stored one.
pub const MASK: &str = "********";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A secret spec field as stored: sealed. A plain string is accepted from clients and
/// sealed before it is stored.
#[derive(Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum SealedField {
    /// As a client gave it (or [`MASK`]: keep the stored one).
    Plain(String),
    /// Sealed for the element.
    Sealed(SealedValue),
}

/// `{"sealed": base64}`: [`Sealer::seal`] of the secret, bound to the element id.
#[derive(Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SealedValue {
    /// Base64 (standard, padded) of the sealed bytes.
    pub sealed: String,
}

impl std::fmt::Debug for SealedField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Plain(_) => "SealedField::Plain(***)",
            Self::Sealed(_) => "SealedField::Sealed(***)",
        })
    }
}

impl SealedField {
    /// Opens the secret of element `element_id`. A plain string (a row written before
    /// secrets were sealed) is returned as it is.
    ///
    /// # Errors
    ///
    /// [`ApiError::SecretsUnavailable`] if it was sealed under another key or for another
    /// element, or is damaged.
    pub fn open(&self, sealer: &Sealer, element_id: &str) -> Result<Secret, ApiError> {
        match self {
            Self::Plain(plain) => Ok(Secret::new(plain.clone())),
            Self::Sealed(SealedValue { sealed }) => {
                let bytes = B64
                    .decode(sealed)
                    .map_err(|_| ApiError::SecretsUnavailable)?;
                sealer.open(element_id, &bytes)
            }
        }
    }

    /// Checks a given secret's shape: 1-1024 characters, or a sealed value in base64;
    /// `code` otherwise.
    pub fn check(&self, field: &str, code: ErrorCode) -> Result<(), ApiError> {
        match self {
            Self::Plain(p) if !(1..=1024).contains(&p.chars().count()) => Err(ApiError::invalid(
                code,
                format!("{field} must be 1-1024 characters"),
            )),
            Self::Sealed(SealedValue { sealed }) if B64.decode(sealed).is_err() => {
                Err(ApiError::invalid(
                    code,
                    format!("{field} is not a sealed value; give it as a string"),
                ))
            }
            _ => Ok(()),
        }
    }
}

/// Makes a validated spec's secret `field` fit to store: a plain string is sealed for
/// `element_id`; [`MASK`] or the unchanged sealed value keeps `previous`'s (the stored
/// spec, `None` on create). A sealed value a client made up is refused.
///
/// # Errors
///
/// `code` for the mask with nothing stored or a foreign sealed value;
/// [`ApiError::SecretsUnavailable`] when a secret must be sealed and `sealer` is `None`.
pub fn seal(
    spec: &mut Value,
    previous: Option<&Value>,
    field: &str,
    code: ErrorCode,
    element_id: &str,
    sealer: Option<&Sealer>,
) -> Result<(), ApiError> {
    let stored = previous
        .and_then(|p| p.get(field))
        .filter(|v| v.is_object());
    let Some(given) = spec.get_mut(field) else {
        return Ok(());
    };
    match given {
        Value::Null => Ok(()),
        Value::String(mask) if mask == MASK => {
            *given = stored.cloned().ok_or_else(|| {
                ApiError::invalid(
                    code,
                    format!("{field} ******** is the mask the API shows, not a secret"),
                )
            })?;
            Ok(())
        }
        Value::String(plain) => {
            let sealer = sealer.ok_or(ApiError::SecretsUnavailable)?;
            let sealed = sealer.seal(element_id, &Secret::new(std::mem::take(plain)))?;
            *given = json!({"sealed": B64.encode(sealed)});
            Ok(())
        }
        sealed if Some(&*sealed) == stored => Ok(()),
        _ => Err(ApiError::invalid(
            code,
            format!("{field} must be given as a string; a sealed value cannot be set"),
        )),
    }
}

/// Shows a stored secret `field` as [`MASK`].
pub fn redact(spec: &mut Value, field: &str) {
    if let Some(secret) = spec.get_mut(field)
        && !secret.is_null()
    {
        *secret = Value::String(MASK.to_owned());
    }
}
