//! The HTTP surface: [`router`] and the extractors that turn malformed requests into
//! [`ApiError`]s with stable codes instead of axum's plain-text rejections.

mod agents;
pub(crate) mod calls;
mod email;
pub(crate) mod openapi;
mod phone;
mod telephony;

use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

pub(crate) use crate::validate::plain_text;
use crate::validate::refuse_nul_in_query;

/// Every control-API route. Each handler authenticates with [`Caller`](crate::auth::Caller)
/// and checks its operation's role, except the carrier webhooks and the tracking links
/// (their tokens are the proof) and the OpenAPI document. A path no route has is 404
/// `NOT_FOUND`, a method a path does not take 405 `METHOD_NOT_ALLOWED`: both with the
/// error envelope, like every other failure.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(crate::ops::dispatch::routes())
        .merge(agents::routes())
        .merge(telephony::routes())
        .merge(calls::routes())
        .merge(phone::routes())
        .merge(email::routes())
        .merge(openapi::routes())
        .fallback(no_route)
        .layer(axum::middleware::map_response(enveloped))
        .with_state(state)
}

async fn no_route() -> ApiError {
    ApiError::not_found(ErrorCode::NotFound, "no route has this path")
}

/// Gives axum's own bare rejections (405 from a method router, 413 from a body limit, 415)
/// the error envelope; answers that already have a content type pass untouched.
async fn enveloped(response: Response) -> Response {
    let status = response.status();
    let bare = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|t| t.starts_with("text/plain"));
    if !bare || !status.is_client_error() {
        return response;
    }
    let error = match status {
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed {
            what: "this path".to_owned(),
            allowed: response
                .headers()
                .get(header::ALLOW)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned(),
        },
        StatusCode::NOT_FOUND => ApiError::not_found(ErrorCode::NotFound, "no route has this path"),
        other => ApiError::failed(
            other,
            ErrorCode::InvalidBody,
            other.canonical_reason().unwrap_or("bad request").to_owned(),
            false,
        ),
    };
    error.into_response()
}

/// A JSON body; `INVALID_BODY` (400) when it is not JSON of the expected shape.
#[derive(Debug)]
pub(crate) struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        axum::Json::<T>::from_request(req, state)
            .await
            .map(|axum::Json(value)| Self(value))
            .map_err(|rejection| ApiError::invalid(ErrorCode::InvalidBody, rejection.body_text()))
    }
}

/// A JSON body whose server-set fields (`id`, `created_at`, `updated_at`) are dropped
/// before it is parsed, as the telephony document says ("ignored if supplied"); any other
/// unknown field still fails the type's `deny_unknown_fields`.
#[derive(Debug)]
pub(crate) struct UserBody<T>(pub T);

/// The fields a client may send back from a response but never sets.
const SERVER_SET: [&str; 3] = ["id", "created_at", "updated_at"];

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for UserBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let Body(mut value) = Body::<serde_json::Value>::from_request(req, state).await?;
        if let Some(object) = value.as_object_mut() {
            for field in SERVER_SET {
                object.remove(field);
            }
        }
        serde_json::from_value(value)
            .map(Self)
            .map_err(|e| ApiError::invalid(ErrorCode::InvalidBody, e.to_string()))
    }
}

/// A query string; `INVALID_QUERY` (400) when it does not parse.
#[derive(Debug)]
pub(crate) struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        refuse_nul_in_query(
            parts.uri.query().unwrap_or_default(),
            ErrorCode::InvalidQuery,
        )?;
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Self(value))
            .map_err(|rejection| ApiError::invalid(ErrorCode::InvalidQuery, rejection.body_text()))
    }
}

/// Path parameters; `INVALID_PATH` (400) when they do not decode.
#[derive(Debug)]
pub(crate) struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        if has_encoded_control(parts.uri.path()) {
            return Err(ApiError::invalid(
                ErrorCode::InvalidPath,
                "control characters are not allowed in the path",
            ));
        }
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Self(value))
            .map_err(|rejection| ApiError::invalid(ErrorCode::InvalidPath, rejection.body_text()))
    }
}

/// Whether a raw URI path holds a percent-encoded control character (`%00`-`%1F`, `%7F`):
/// no id, slug or name may contain one (PostgreSQL refuses NUL in text outright).
fn has_encoded_control(path: &str) -> bool {
    path.as_bytes().windows(3).any(|w| {
        w[0] == b'%' && (matches!(w[1], b'0' | b'1') || (w[1] == b'7' && w[2] | 0x20 == b'f'))
    })
}

/// The `X-Account-ID` header: the circle a `/api/v1/telephony` request acts in.
#[derive(Debug)]
pub(crate) struct Account(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Account {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        parts
            .headers
            .get("x-account-id")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(|v| Self(v.to_owned()))
            .ok_or_else(|| {
                ApiError::invalid(
                    ErrorCode::AccountRequired,
                    "the X-Account-ID header is required",
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_control_characters_in_paths() {
        for bad in ["/api/v1/agents/%00", "/a/%1f/b", "/a%7F", "/x/%0a"] {
            assert!(has_encoded_control(bad), "{bad}");
        }
        for ok in [
            "/api/v1/agents/agt_x",
            "/a/%20b",
            "/a/%2B46",
            "/a/%7e",
            "/a%",
        ] {
            assert!(!has_encoded_control(ok), "{ok}");
        }
    }
}
