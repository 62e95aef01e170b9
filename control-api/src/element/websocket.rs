//! The `websocket` element's spec: a live event stream endpoint. Its operations belong to
//! the live-events issue; this validates what exists now: `events`, if given, is a list of
//! event-type strings (`WS_INVALID_CONFIG` otherwise); other fields are kept as given.

use serde_json::Value;

use super::Validated;
use crate::error::{ApiError, ErrorCode};

/// A websocket spec as far as it is typed today: other fields are kept as given.
#[derive(Debug, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
pub struct WebsocketSpec {
    /// Event types the endpoint carries, e.g. `call.started`.
    pub events: Option<Vec<String>>,
}

/// Validates a websocket spec.
pub(super) fn validate(spec: &Value) -> Result<Validated, ApiError> {
    let Value::Object(fields) = spec else {
        return Err(ApiError::invalid(
            ErrorCode::WsInvalidConfig,
            "a websocket spec is a JSON object",
        ));
    };
    if let Some(events) = fields.get("events") {
        let ok = events.as_array().is_some_and(|list| {
            list.iter()
                .all(|e| e.as_str().is_some_and(|s| !s.is_empty()))
        });
        if !ok {
            return Err(ApiError::invalid(
                ErrorCode::WsInvalidConfig,
                "events must be a list of event types, e.g. [\"call.started\"]",
            ));
        }
    }
    Ok(Validated {
        spec: spec.clone(),
        warnings: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn events_must_be_strings() {
        validate(&json!({})).expect("empty");
        validate(&json!({"events": ["call.started"]})).expect("events");
        for bad in [
            json!({"events": "call.started"}),
            json!({"events": [1]}),
            json!({"events": [""]}),
            json!(1),
        ] {
            assert_eq!(validate(&bad).expect_err("bad").code(), "WS_INVALID_CONFIG");
        }
    }
}
