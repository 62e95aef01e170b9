//! The inline SMTP password, `smtp_password`: a [`SealedField`] (see
//! [`crate::element::sealed`]), opened only for the one place that logs in.

use serde_json::Value;

use super::EmailSpec;
use crate::element::sealed::{self, SealedField};
use crate::error::{ApiError, ErrorCode};
use crate::secrets::{Sealer, Secret};

pub use crate::element::sealed::MASK as PASSWORD_MASK;

/// The field.
const FIELD: &str = "smtp_password";

/// Opens the stored inline password of element `element_id`.
///
/// # Errors
///
/// [`ApiError::SecretsUnavailable`] if it cannot be opened.
pub fn smtp_password(
    spec: &EmailSpec,
    sealer: &Sealer,
    element_id: &str,
) -> Result<Option<Secret>, ApiError> {
    spec.smtp_password
        .as_ref()
        .map(|p| p.open(sealer, element_id))
        .transpose()
}

/// Seals a validated spec's `smtp_password` for `element_id` (see [`sealed::seal`]).
///
/// # Errors
///
/// `EMAIL_INVALID_CONFIG`, or [`ApiError::SecretsUnavailable`] without a sealer.
pub fn seal_password(
    spec: &mut Value,
    previous: Option<&Value>,
    element_id: &str,
    sealer: Option<&Sealer>,
) -> Result<(), ApiError> {
    sealed::seal(
        spec,
        previous,
        FIELD,
        ErrorCode::EmailInvalidConfig,
        element_id,
        sealer,
    )
}

/// Shows a stored `smtp_password` as the mask.
pub fn redact(spec: &mut Value) {
    sealed::redact(spec, FIELD);
}

/// Checks a given password's shape.
pub(super) fn check(password: &SealedField) -> Result<(), ApiError> {
    password.check(FIELD, ErrorCode::EmailInvalidConfig)
}
