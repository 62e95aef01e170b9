//! The HTTP surface: [`router`] and the extractors that turn malformed requests into
//! [`ApiError`]s with stable codes instead of axum's plain-text rejections.

mod agents;
mod calls;
mod elements;
pub(crate) mod openapi;
mod telephony;

use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::AppState;

pub(crate) use agents::new_agent as new_agent_record;

/// Every control-API route. Each handler authenticates with [`Caller`](crate::auth::Caller)
/// and checks its operation's role; nothing here is open.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(elements::routes())
        .merge(agents::routes())
        .merge(telephony::routes())
        .merge(calls::routes())
        .merge(openapi::routes())
        .with_state(state)
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
            .map_err(|rejection| ApiError::invalid("INVALID_BODY", rejection.body_text()))
    }
}

/// A query string; `INVALID_QUERY` (400) when it does not parse.
#[derive(Debug)]
pub(crate) struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Self(value))
            .map_err(|rejection| ApiError::invalid("INVALID_QUERY", rejection.body_text()))
    }
}

/// Path parameters; `INVALID_PATH` (400) when they do not decode.
#[derive(Debug)]
pub(crate) struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Self(value))
            .map_err(|rejection| ApiError::invalid("INVALID_PATH", rejection.body_text()))
    }
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
                ApiError::invalid("ACCOUNT_REQUIRED", "the X-Account-ID header is required")
            })
    }
}
