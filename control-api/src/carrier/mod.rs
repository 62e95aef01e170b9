//! The 46elks carrier, as voxgate's control API uses it: the REST client ([`ElksClient`]),
//! its answers ([`wire`]), the webhooks it posts ([`webhook`]) and its timestamps
//! ([`time`]). Reference: `reference/46elks.md` §2-§3.
//!
//! Carrier failures become the product's codes through [`Failure::into_api`]:
//!
//! | failure | code | status |
//! |---|---|---|
//! | 401 | `PHONE_AUTH_FAILED` | 502 |
//! | 402, 403 about credits | `PHONE_INSUFFICIENT_BALANCE` | 402 |
//! | 429 | `PHONE_RATE_LIMITED` | 429 (retryable) |
//! | other 4xx | `PHONE_REJECTED` | 422 |
//! | 5xx, timeout, unreachable, after retries | `PHONE_SEND_FAILED` / `PHONE_CALL_FAILED` / `PHONE_CARRIER_UNAVAILABLE` | 502 (retryable) |
//! | 2xx that is not the documented JSON | the same per-operation code | 502 |

pub mod client;
pub mod time;
pub mod webhook;
pub mod wire;

use axum::http::StatusCode;

pub use client::{Credentials, ElksClient, Failure, ListQuery, NewCall, NewSms, RetryPolicy};

use crate::error::{ApiError, ErrorCode};

/// Whether `id` is a carrier id (`s...`, `c...`, `n...`): 1-64 ASCII letters and digits.
/// One rule for ids in paths, webhooks and specs, so none can carry a `/` or a control
/// character anywhere.
pub fn is_carrier_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// What was being done when the carrier failed: picks the code of a transient failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Doing {
    /// Sending an SMS.
    Sms,
    /// Placing a call.
    Call,
    /// Anything else (numbers, the account, reading history).
    Other,
}

impl Failure {
    /// The API error a client sees.
    pub fn into_api(self, doing: Doing) -> ApiError {
        let transient_code = match doing {
            Doing::Sms => ErrorCode::PhoneSendFailed,
            Doing::Call => ErrorCode::PhoneCallFailed,
            Doing::Other => ErrorCode::PhoneCarrierUnavailable,
        };
        let (status, code, message, retryable) = match self {
            Self::Auth => (
                StatusCode::BAD_GATEWAY,
                ErrorCode::PhoneAuthFailed,
                "the carrier refused the credentials (401); check the credential_ref".to_owned(),
                false,
            ),
            Self::InsufficientBalance => (
                StatusCode::PAYMENT_REQUIRED,
                ErrorCode::PhoneInsufficientBalance,
                "the carrier account has too little credit".to_owned(),
                false,
            ),
            Self::RateLimited => (
                StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::PhoneRateLimited,
                "the carrier is rate limiting this account; try again later".to_owned(),
                true,
            ),
            Self::Rejected { status, reason } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::PhoneRejected,
                format!("the carrier rejected the request ({status}): {reason}"),
                false,
            ),
            Self::Unavailable { reason, .. } => (
                StatusCode::BAD_GATEWAY,
                transient_code,
                format!("the carrier failed: {reason}"),
                true,
            ),
            Self::Protocol { reason } => (
                StatusCode::BAD_GATEWAY,
                transient_code,
                format!("the carrier answered unexpectedly: {reason}"),
                false,
            ),
        };
        ApiError::Carrier {
            status,
            code,
            message,
            retryable,
        }
    }
}
