//! Fault injection: the next requests to a path get a chosen status and body, or are slowed.
//!
//! `POST /sim/faults {"path":"/a1/sms","method":"POST","status":503,"body":"...",
//! "delay_ms":0,"count":2}` makes the next `count` matching API requests (path prefix,
//! case-insensitive; method optional) answer `status` with `body` after `delay_ms`, without
//! being served. Without `status`, they are served normally after `delay_ms`. Faults apply
//! before authentication, so an injected 401 hits correct credentials too, and never to
//! `/sim` routes (a fault must not lock the test out of its own controls). A body that is
//! JSON is sent as `application/json`, anything else as plain text.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::SimError;
use crate::store::Sim;

/// One injected fault, as posted to `/sim/faults`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct Fault {
    /// Path prefix, e.g. `/a1/sms` (compared lower-case).
    pub(crate) path: String,
    /// `GET`, `POST`, ...; any method when absent.
    #[serde(default)]
    pub(crate) method: Option<String>,
    /// The status to answer; when absent the request is delayed and then served.
    #[serde(default)]
    pub(crate) status: Option<u16>,
    /// The body to answer with.
    #[serde(default)]
    pub(crate) body: String,
    /// How long to wait first.
    #[serde(default)]
    pub(crate) delay_ms: u64,
    /// How many requests it still applies to. Default 1.
    #[serde(default = "one")]
    pub(crate) count: u32,
}

fn one() -> u32 {
    1
}

impl Fault {
    /// Checks what cannot be answered: a status that is not a valid HTTP status.
    pub(crate) fn validate(&self) -> Result<(), SimError> {
        match self.status {
            Some(s) if StatusCode::from_u16(s).is_err() || s < 100 => {
                Err(SimError::BadRequest(format!("invalid status {s}")))
            }
            _ if self.path.is_empty() => Err(SimError::BadRequest("path is required".into())),
            _ => Ok(()),
        }
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({
            "path": self.path,
            "method": self.method,
            "status": self.status,
            "body": self.body,
            "delay_ms": self.delay_ms,
            "count": self.count,
        })
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        self.count > 0
            && path.starts_with(&self.path.to_ascii_lowercase())
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
    }

    fn response(&self) -> Option<Response> {
        let status = StatusCode::from_u16(self.status?).ok()?;
        let json = serde_json::from_str::<Value>(&self.body).is_ok();
        let content_type = if json {
            "application/json"
        } else {
            "text/plain; charset=utf-8"
        };
        Some(
            (
                status,
                [(header::CONTENT_TYPE, content_type)],
                self.body.clone(),
            )
                .into_response(),
        )
    }
}

/// Takes one use of the first fault matching the request, if any.
fn take(sim: &Sim, method: &str, path: &str) -> Option<Fault> {
    sim.with(|store| {
        let fault = store.faults.iter_mut().find(|f| f.matches(method, path))?;
        fault.count -= 1;
        let taken = fault.clone();
        store.faults.retain(|f| f.count > 0);
        Some(taken)
    })
}

/// Middleware: applies a matching fault to an API request (the path is lower-case already).
pub(crate) async fn inject(State(sim): State<Arc<Sim>>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if path.starts_with("/sim") {
        return next.run(request).await;
    }
    let Some(fault) = take(&sim, request.method().as_str(), path) else {
        return next.run(request).await;
    };
    tracing::debug!(?fault, "injecting a fault");
    if fault.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(fault.delay_ms)).await;
    }
    match fault.response() {
        Some(response) => response,
        None => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(path: &str, method: Option<&str>) -> Fault {
        Fault {
            path: path.into(),
            method: method.map(str::to_owned),
            status: Some(503),
            body: String::new(),
            delay_ms: 0,
            count: 1,
        }
    }

    #[test]
    fn matching() {
        let table = [
            (fault("/a1/SMS", None), "POST", "/a1/sms", true),
            (fault("/a1/sms", Some("post")), "POST", "/a1/sms/s1", true),
            (fault("/a1/sms", Some("GET")), "POST", "/a1/sms", false),
            (fault("/a1/calls", None), "POST", "/a1/sms", false),
        ];
        for (fault, method, path, expected) in table {
            assert_eq!(fault.matches(method, path), expected, "{fault:?} {path}");
        }
        let spent = Fault {
            count: 0,
            ..fault("/a1", None)
        };
        assert!(!spent.matches("GET", "/a1/me"));
    }
}
