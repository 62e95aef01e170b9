//! The one error type of the simulator: start-up failures, and the API errors its routes
//! answer with.
//!
//! 46elks publishes no error catalogue (doc §2.8). The simulator answers like the
//! third-party reference the doc cites: 401 for bad credentials, 400 with a plain-text
//! reason for bad parameters, 403 with `{"error":"Not enough credits"}` for an empty
//! balance, plain-text 403/404 otherwise.

use std::net::SocketAddr;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Everything that can go wrong in the simulator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why binding failed.
        #[source]
        source: std::io::Error,
    },
    /// The HTTP server stopped with an error.
    #[error("server failed: {0}")]
    Serve(#[source] std::io::Error),
    /// Waiting for ctrl-c failed.
    #[error("cannot wait for ctrl-c: {0}")]
    Signal(#[source] std::io::Error),
    /// The HTTP client for webhooks could not be built.
    #[error("cannot build the webhook client: {0}")]
    Client(#[source] reqwest::Error),
    /// 401: missing or wrong HTTP Basic credentials.
    #[error("Unauthorized")]
    Unauthorized,
    /// 400: a missing or invalid parameter; the text is the reason shown to the client.
    #[error("{0}")]
    BadRequest(String),
    /// 403 `{"error":"Not enough credits"}`: the balance is below the cost.
    #[error("Not enough credits")]
    NotEnoughCredits,
    /// 403 with a plain-text reason (a `from` the account may not use, a deallocated
    /// number, an empty inventory).
    #[error("{0}")]
    Forbidden(String),
    /// 404 with a plain-text reason.
    #[error("{0}")]
    NotFound(String),
}

impl SimError {
    /// The HTTP status the error answers with (500 for start-up errors, which never reach a
    /// route).
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotEnoughCredits | Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Bind { .. } | Self::Serve(_) | Self::Signal(_) | Self::Client(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

impl IntoResponse for SimError {
    fn into_response(self) -> Response {
        let status = self.status();
        match self {
            Self::NotEnoughCredits => (
                status,
                axum::Json(serde_json::json!({"error": "Not enough credits"})),
            )
                .into_response(),
            Self::Unauthorized => {
                let mut response = (status, "Unauthorized").into_response();
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"46elks\""),
                );
                response
            }
            other => (status, other.to_string()).into_response(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        let table = [
            (SimError::Unauthorized, 401),
            (SimError::BadRequest("x".into()), 400),
            (SimError::NotEnoughCredits, 403),
            (SimError::Forbidden("x".into()), 403),
            (SimError::NotFound("x".into()), 404),
        ];
        for (error, status) in table {
            assert_eq!(error.status().as_u16(), status, "{error:?}");
            assert_eq!(error.into_response().status().as_u16(), status);
        }
    }
}
