//! The two operation routes, `/api/{circle}/ops/{*operation}` and
//! `/api/{circle}/{slug}/ops/{*operation}`, and the input parsing every operation shares.
//!
//! Order of checks: the key (401), its circle (403), the element (404
//! `ELEMENT_NOT_FOUND`), the operation in the element type's table (404
//! `OPERATION_NOT_FOUND`), the method (405 `METHOD_NOT_ALLOWED` with `Allow`), the role
//! (403), whether it runs here (501), the input (400), then the operation itself.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde::de::DeserializeOwned;

use super::{CircleCx, ElementCx, Op, RawInput, Run, circle_ops, element_ops, not_found};
use crate::auth::Caller;
use crate::element::ElementType;
use crate::error::{ApiError, ErrorCode};
use crate::routes::Path;
use crate::state::AppState;
use crate::validate::{refuse_nul_in_json, refuse_nul_in_query};

/// The largest request body of an operation (email attachments may be 20 MiB, a third more
/// in base64; axum's default is 2 MB).
pub(crate) const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// The operation routes.
pub(crate) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/api/{circle}/ops/{*operation}", any(circle_op))
        .route("/api/{circle}/{slug}/ops/{*operation}", any(element_op))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
}

async fn element_op(
    caller: Caller,
    State(state): State<AppState>,
    method: Method,
    Path((circle, slug, operation)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.in_circle(&circle)?;
    let element = crate::element::lifecycle::load(&state, &caller, &slug).await?;
    let element_type = ElementType::parse(&element.element_type)?;
    let what = format!("a {} element", element_type.as_str());
    let op = find(element_ops(element_type), &operation, &method, &what)?;
    let raw = RawInput {
        method,
        query: query.unwrap_or_default(),
        body,
    };
    // Reads are not activity: only operations that may change something are recorded.
    let record = (!op.allows(&Method::GET)).then(|| {
        (
            state.clone(),
            element.clone(),
            caller.key_id.clone(),
            std::time::Instant::now(),
        )
    });
    let cx = ElementCx {
        state,
        caller,
        element,
    };
    let role = op.role;
    let answer = run(op, role, cx, raw, |cx| &cx.caller).await;
    if let Some((state, element, key_id, started)) = record {
        let outcome = answer.as_ref().map(|r| r.status().as_u16());
        let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        crate::element::activity::record(&state, &element, op.name, &key_id, outcome, duration_ms)
            .await;
    }
    answer
}

async fn circle_op(
    caller: Caller,
    State(state): State<AppState>,
    method: Method,
    Path((circle, operation)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.in_circle(&circle)?;
    let op = find(circle_ops(), &operation, &method, "a circle")?;
    let raw = RawInput {
        method,
        query: query.unwrap_or_default(),
        body,
    };
    let role = op.role;
    run(op, role, CircleCx { state, caller }, raw, |cx| &cx.caller).await
}

/// The operation `path` of `ops` that `method` may call.
fn find<'a, C>(
    ops: &'a [Op<C>],
    path: &str,
    method: &Method,
    what: &str,
) -> Result<&'a Op<C>, ApiError> {
    let op = ops
        .iter()
        .find(|op| op.answers(path))
        .ok_or_else(|| not_found(what, path))?;
    if op.allows(method) {
        Ok(op)
    } else {
        Err(method_not_allowed(op))
    }
}

/// 405 for an operation called with another method.
fn method_not_allowed<C>(op: &Op<C>) -> ApiError {
    let allowed: Vec<&str> = std::iter::once(&op.method)
        .chain(&op.also)
        .map(Method::as_str)
        .collect();
    ApiError::MethodNotAllowed {
        what: op.name.to_owned(),
        allowed: allowed.join(", "),
    }
}

async fn run<C>(
    op: &Op<C>,
    role: crate::auth::Role,
    cx: C,
    raw: RawInput,
    caller: impl Fn(&C) -> &Caller,
) -> Result<Response, ApiError> {
    caller(&cx).require(role)?;
    match &op.run {
        Run::NotSupported(why) => Err(ApiError::failed(
            axum::http::StatusCode::NOT_IMPLEMENTED,
            ErrorCode::OperationNotSupported,
            format!("{} is not offered by voxgate: {why}", op.name),
            false,
        )),
        Run::Handler { call, .. } => {
            let value = call(cx, raw).await?;
            Ok((op.status, Json(value)).into_response())
        }
    }
}

/// An operation's typed input: from the query string for GET and DELETE, from the JSON
/// body otherwise (an empty body is `{}`).
pub(crate) fn parse_input<I: DeserializeOwned>(raw: &RawInput) -> Result<I, ApiError> {
    if matches!(raw.method, Method::GET | Method::DELETE | Method::HEAD) {
        refuse_nul_in_query(&raw.query, ErrorCode::InvalidQuery)?;
        serde_urlencoded::from_str(&raw.query)
            .map_err(|e| ApiError::invalid(ErrorCode::InvalidQuery, format!("query: {e}")))
    } else {
        let body: &[u8] = if raw.body.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &raw.body
        };
        refuse_nul_in_json(body, ErrorCode::InvalidBody)?;
        serde_json::from_slice(body)
            .map_err(|e| ApiError::invalid(ErrorCode::InvalidBody, format!("body: {e}")))
    }
}
