//! The inline SMTP password: sealed before it is stored, masked wherever a spec is shown,
//! opened only for the one place that logs in. No message here contains it.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{EmailSpec, config_error};
use crate::error::ApiError;
use crate::secrets::{Sealer, Secret};

/// What the API shows instead of a stored `smtp_password`. Sent back unchanged in an
/// update, it keeps the stored password.
pub const PASSWORD_MASK: &str = "********";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The inline password as stored: sealed. A plain string is accepted from clients and
/// sealed by the routes before it is stored.
#[derive(Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum SmtpPassword {
    /// As a client gave it (or [`PASSWORD_MASK`]: keep the stored one).
    Plain(String),
    /// Sealed for the element.
    Sealed(SealedPassword),
}

/// `{"sealed": base64}`: [`Sealer::seal`] of the password, bound to the element id.
#[derive(Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SealedPassword {
    /// Base64 (standard, padded) of the sealed bytes.
    pub sealed: String,
}

impl std::fmt::Debug for SmtpPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Plain(_) => "SmtpPassword::Plain(***)",
            Self::Sealed(_) => "SmtpPassword::Sealed(***)",
        })
    }
}

/// Opens the stored inline password of element `element_id`. A plain string (a row
/// written before passwords were sealed) is returned as it is.
///
/// # Errors
///
/// [`ApiError::SecretsUnavailable`] if it was sealed under another key or for another
/// element, or is damaged.
pub fn smtp_password(
    spec: &EmailSpec,
    sealer: &Sealer,
    element_id: &str,
) -> Result<Option<Secret>, ApiError> {
    match &spec.smtp_password {
        None => Ok(None),
        Some(SmtpPassword::Plain(plain)) => Ok(Some(Secret::new(plain.clone()))),
        Some(SmtpPassword::Sealed(SealedPassword { sealed })) => {
            let bytes = B64
                .decode(sealed)
                .map_err(|_| ApiError::SecretsUnavailable)?;
            sealer.open(element_id, &bytes).map(Some)
        }
    }
}

/// Makes a validated spec's `smtp_password` fit to store: a plain string is sealed for
/// `element_id`; [`PASSWORD_MASK`] or the unchanged sealed value keeps `previous`'s
/// (the stored spec, `None` on create). A sealed value a client made up is refused.
///
/// # Errors
///
/// `EMAIL_INVALID_CONFIG` for the mask with nothing stored or a foreign sealed value;
/// [`ApiError::SecretsUnavailable`] when a password must be sealed and `sealer` is `None`.
pub fn seal_password(
    spec: &mut Value,
    previous: Option<&Value>,
    element_id: &str,
    sealer: Option<&Sealer>,
) -> Result<(), ApiError> {
    let stored = previous
        .and_then(|p| p.get("smtp_password"))
        .filter(|v| v.is_object());
    let Some(given) = spec.get_mut("smtp_password") else {
        return Ok(());
    };
    match given {
        Value::Null => Ok(()),
        Value::String(mask) if mask == PASSWORD_MASK => {
            *given = stored.cloned().ok_or_else(|| {
                config_error("smtp_password ******** is the mask the API shows, not a password")
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
        _ => Err(config_error(
            "smtp_password must be given as a string; a sealed value cannot be set",
        )),
    }
}

/// Shows a stored `smtp_password` as [`PASSWORD_MASK`].
pub fn redact(spec: &mut Value) {
    if let Some(password) = spec.get_mut("smtp_password")
        && !password.is_null()
    {
        *password = Value::String(PASSWORD_MASK.to_owned());
    }
}

/// Checks a given password's shape: 1-1024 characters, or a sealed value in base64.
pub(super) fn check(password: &SmtpPassword) -> Result<(), ApiError> {
    match password {
        SmtpPassword::Plain(p) if !(1..=1024).contains(&p.chars().count()) => {
            Err(config_error("smtp_password must be 1-1024 characters"))
        }
        SmtpPassword::Sealed(SealedPassword { sealed }) if B64.decode(sealed).is_err() => Err(
            config_error("smtp_password is not a sealed value; give the password as a string"),
        ),
        _ => Ok(()),
    }
}
