//! The policy gates of a send: suppression, `known_only`, consent for tracked mail.

use axum::http::StatusCode;
use serde_json::json;

use crate::email::address::Address;
use crate::email::audit::{self, Subject};
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use crate::store::Element;

pub(super) async fn gate_suppressed(
    state: &AppState,
    element: &Element,
    recipients: &[Address],
) -> Result<(), ApiError> {
    for address in recipients {
        if let Some(s) = state
            .store()
            .email()
            .suppression(&element.circle_id, address.as_str())
            .await?
        {
            audit::record(
                state,
                &element.circle_id,
                "blocked",
                Subject {
                    element_id: Some(&element.id),
                    message: None,
                    address: Some(address.as_str()),
                },
                json!({"reason": s.reason, "source": s.source}),
            )
            .await?;
            return Err(ApiError::failed(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::EmailSuppressed,
                format!(
                    "{address} is on the suppression list ({}): nothing was sent",
                    s.source
                ),
                false,
            ));
        }
    }
    Ok(())
}

pub(super) async fn gate_known(
    state: &AppState,
    circle: &str,
    recipients: &[Address],
) -> Result<(), ApiError> {
    for address in recipients {
        if state
            .store()
            .email()
            .contact(circle, address.as_str())
            .await?
            .is_none()
        {
            return Err(ApiError::failed(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::EmailUnknownRecipient,
                format!(
                    "{address} is not a known contact and send_policy is known_only: nothing was sent"
                ),
                false,
            ));
        }
    }
    Ok(())
}

pub(super) async fn gate_consent(
    state: &AppState,
    circle: &str,
    recipients: &[Address],
) -> Result<(), ApiError> {
    for address in recipients {
        let consent = state
            .store()
            .email()
            .contact(circle, address.as_str())
            .await?
            .map(|c| c.consent);
        if !matches!(consent.as_deref(), Some("soft_optin" | "double_optin")) {
            return Err(ApiError::failed(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::EmailNoConsent,
                format!(
                    "{address} has not opted in (soft_optin or double_optin) to tracked mail: nothing was sent"
                ),
                false,
            ));
        }
    }
    Ok(())
}
