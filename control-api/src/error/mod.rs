//! [`ApiError`]: every failure of the control API, with its HTTP status and the stable
//! machine-readable code clients switch on.
//!
//! The wire shape is the product's: `{"error": {"code": "PHONE_INVALID_NUMBER", "message":
//! "...", "retryable": false}}`. Codes never change once published; messages are for people.
//! Storage failures are logged with their cause and answered with a generic message, so
//! that nothing about the database (or a secret) leaks to a client.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::auth::Role;
use crate::store::StoreError;

mod code;

pub use code::ErrorCode;

/// A failed control-API request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// No `Authorization: Bearer` header (401 `AUTH_REQUIRED`).
    #[error("an API key is required: Authorization: Bearer <key>")]
    AuthRequired,
    /// The key is unknown or malformed (401 `AUTH_INVALID_KEY`).
    #[error("the API key is not valid")]
    InvalidKey,
    /// The key's role is below what the operation needs (403 `AUTH_FORBIDDEN`).
    #[error("this operation needs the {needed} role; the key has {has}")]
    Forbidden {
        /// The operation's role.
        needed: Role,
        /// The key's role.
        has: Role,
    },
    /// The key belongs to another circle than the one addressed (403 `AUTH_WRONG_CIRCLE`).
    #[error("the API key does not belong to circle {0:?}")]
    WrongCircle(String),
    /// The request is malformed or fails validation (400).
    #[error("{message}")]
    Invalid {
        /// The stable code, e.g. `PHONE_INVALID_NUMBER` or `INVALID_BODY`.
        code: ErrorCode,
        /// What is wrong, naming the field.
        message: String,
    },
    /// The addressed thing does not exist in this circle (404).
    #[error("{message}")]
    NotFound {
        /// The stable code, e.g. `ELEMENT_NOT_FOUND`.
        code: ErrorCode,
        /// What was looked for.
        message: String,
    },
    /// The request conflicts with stored state (409).
    #[error("{message}")]
    Conflict {
        /// The stable code, e.g. `ELEMENT_SLUG_TAKEN`.
        code: ErrorCode,
        /// What conflicts.
        message: String,
    },
    /// The carrier failed or refused (see `carrier` for the mapping).
    #[error("{message}")]
    Carrier {
        /// 402, 422, 429 or 502.
        status: StatusCode,
        /// `PHONE_AUTH_FAILED`, `PHONE_SEND_FAILED`, ...
        code: ErrorCode,
        /// What the carrier said, without credentials.
        message: String,
        /// Whether the same request may succeed later.
        retryable: bool,
    },
    /// A refusal or failure with a status of its own: a mail server's answer (502, 504), a
    /// daily cap (429), something another circle owns (403).
    #[error("{message}")]
    Failed {
        /// The HTTP status.
        status: StatusCode,
        /// `EMAIL_SEND_FAILED`, `EMAIL_DAILY_CAP_REACHED`, ...
        code: ErrorCode,
        /// What happened, without credentials.
        message: String,
        /// Whether the same request may succeed later.
        retryable: bool,
    },
    /// A webhook's token is missing or wrong (401).
    #[error("{message}")]
    Unauthorized {
        /// The stable code, e.g. `WEBHOOK_TOKEN_INVALID`.
        code: ErrorCode,
        /// What is wrong.
        message: String,
    },
    /// A dependency of the operation is not available (503), e.g. the SIP leg.
    #[error("{message}")]
    Unavailable {
        /// The stable code, e.g. `PHONE_SIP_UNAVAILABLE`.
        code: ErrorCode,
        /// What is missing.
        message: String,
    },
    /// The path exists, but not with this method (405 `METHOD_NOT_ALLOWED`, with `Allow`).
    #[error("{what} takes {allowed}")]
    MethodNotAllowed {
        /// The operation or path.
        what: String,
        /// The methods it takes, comma-separated.
        allowed: String,
    },
    /// The secrets key cannot be read, so credentials can be neither stored nor used (503).
    #[error("the secrets key is unavailable")]
    SecretsUnavailable,
    /// The database failed (500, retryable). The cause is logged, never returned.
    #[error("storage failed: {0}")]
    Store(String),
}

/// The JSON body of every error.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// `error` in [`ErrorBody`].
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
    /// Whether the same request may succeed later.
    pub retryable: bool,
}

impl ApiError {
    /// A 400 with `code`.
    pub fn invalid(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Invalid {
            code,
            message: message.into(),
        }
    }

    /// A 404 with `code`.
    pub fn not_found(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::NotFound {
            code,
            message: message.into(),
        }
    }

    /// A 409 with `code`.
    pub fn conflict(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            message: message.into(),
        }
    }

    /// A failure with its own `status`.
    pub fn failed(
        status: StatusCode,
        code: ErrorCode,
        message: impl Into<String>,
        retryable: bool,
    ) -> Self {
        Self::Failed {
            status,
            code,
            message: message.into(),
            retryable,
        }
    }

    /// The stable code's wire name.
    pub fn code(&self) -> &'static str {
        self.error_code().as_str()
    }

    /// The stable code.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            Self::AuthRequired => ErrorCode::AuthRequired,
            Self::InvalidKey => ErrorCode::AuthInvalidKey,
            Self::Forbidden { .. } => ErrorCode::AuthForbidden,
            Self::WrongCircle(_) => ErrorCode::AuthWrongCircle,
            Self::Invalid { code, .. }
            | Self::NotFound { code, .. }
            | Self::Conflict { code, .. }
            | Self::Carrier { code, .. }
            | Self::Failed { code, .. }
            | Self::Unavailable { code, .. }
            | Self::Unauthorized { code, .. } => *code,
            Self::MethodNotAllowed { .. } => ErrorCode::MethodNotAllowed,
            Self::SecretsUnavailable => ErrorCode::SecretsUnavailable,
            Self::Store(_) => ErrorCode::StoreFailed,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::AuthRequired | Self::InvalidKey | Self::Unauthorized { .. } => {
                StatusCode::UNAUTHORIZED
            }
            Self::Forbidden { .. } | Self::WrongCircle(_) => StatusCode::FORBIDDEN,
            Self::Invalid { .. } => StatusCode::BAD_REQUEST,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::Carrier { status, .. } | Self::Failed { status, .. } => *status,
            Self::SecretsUnavailable | Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Whether retrying the same request may succeed.
    pub fn retryable(&self) -> bool {
        match self {
            Self::Carrier { retryable, .. } | Self::Failed { retryable, .. } => *retryable,
            other => matches!(other, Self::Store(_) | Self::SecretsUnavailable),
        }
    }

    /// The wire body.
    pub fn body(&self) -> ErrorBody {
        let message = match self {
            Self::Store(_) => "storage failed; try again".to_owned(),
            other => other.to_string(),
        };
        ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message,
                retryable: self.retryable(),
            },
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Backend(cause) => Self::Store(cause),
            StoreError::Conflict { code, message } => Self::Conflict { code, message },
            StoreError::Invalid { code, message } => Self::Invalid { code, message },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Store(cause) = &self {
            tracing::error!(%cause, "control API storage failure");
        }
        let mut response = (self.status(), Json(self.body())).into_response();
        if let Self::MethodNotAllowed { allowed, .. } = &self
            && let Ok(allow) = axum::http::HeaderValue::from_str(allowed)
        {
            response
                .headers_mut()
                .insert(axum::http::header::ALLOW, allow);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_codes_and_retryability() {
        let table: [(ApiError, u16, &str, bool); 8] = [
            (ApiError::AuthRequired, 401, "AUTH_REQUIRED", false),
            (ApiError::InvalidKey, 401, "AUTH_INVALID_KEY", false),
            (
                ApiError::Forbidden {
                    needed: Role::Admin,
                    has: Role::Read,
                },
                403,
                "AUTH_FORBIDDEN",
                false,
            ),
            (
                ApiError::WrongCircle("b".into()),
                403,
                "AUTH_WRONG_CIRCLE",
                false,
            ),
            (
                ApiError::invalid(ErrorCode::PhoneInvalidNumber, "x"),
                400,
                "PHONE_INVALID_NUMBER",
                false,
            ),
            (
                ApiError::conflict(ErrorCode::ElementSlugTaken, "x"),
                409,
                "ELEMENT_SLUG_TAKEN",
                false,
            ),
            (
                ApiError::SecretsUnavailable,
                503,
                "SECRETS_UNAVAILABLE",
                true,
            ),
            (
                ApiError::Store("disk full".into()),
                500,
                "STORE_FAILED",
                true,
            ),
        ];
        for (error, status, code, retryable) in table {
            assert_eq!(error.status().as_u16(), status, "{error:?}");
            assert_eq!(error.code(), code);
            assert_eq!(error.retryable(), retryable);
        }
    }

    #[test]
    fn storage_causes_stay_in_the_log() {
        let body = ApiError::Store("password authentication failed for user x".into()).body();
        assert_eq!(body.error.code, "STORE_FAILED");
        assert!(
            !body.error.message.contains("password"),
            "{}",
            body.error.message
        );
    }
}
