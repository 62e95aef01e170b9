//! `ops/schema`: an element type's ports, its spec's JSON schema, and every operation
//! with its method, role and input and output schemas, each self-contained (the
//! `#/components/schemas/...` references inlined), so that an MCP client can list them as
//! tools.

use serde::Serialize;
use serde_json::Value;

use super::{Op, Run, TypeSchema, element_ops};
use crate::auth::Role;
use crate::element::ElementType;
use crate::error::ApiError;

/// `ops/schema` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SchemaView {
    /// The element type.
    pub element_type: &'static str,
    /// Its ports, as the interface document names them.
    pub ports: Vec<Port>,
    /// The spec's JSON schema.
    #[schema(value_type = Object)]
    pub spec: Value,
    /// Every operation.
    pub operations: Vec<OperationView>,
}

/// A port.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Port {
    /// `trigger`, `request`, `message`, ...
    pub name: &'static str,
    /// `input` or `output`.
    pub direction: &'static str,
    /// `event` or `request`.
    pub kind: &'static str,
    /// Whether it must be wired.
    pub required: bool,
    /// What it carries.
    pub description: &'static str,
}

/// An operation.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OperationView {
    /// The documented name.
    pub name: &'static str,
    /// The path under `ops/`.
    pub path: &'static str,
    /// The HTTP method.
    pub method: &'static str,
    /// The least role.
    pub role: Role,
    /// What it does.
    pub summary: &'static str,
    /// Whether voxgate runs it (otherwise it answers 501, for `why`).
    pub supported: bool,
    /// Why it is not supported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<&'static str>,
    /// Where the input goes: `query` (GET, DELETE) or `body`.
    pub input_in: &'static str,
    /// The input's JSON schema (null for an operation answered 501).
    #[schema(value_type = Option<Object>)]
    pub input: Value,
    /// The output's JSON schema (null for an operation answered 501).
    #[schema(value_type = Option<Object>)]
    pub output: Value,
}

/// The schema of `element_type`.
pub fn of(element_type: ElementType) -> Result<SchemaView, ApiError> {
    let spec = to_value(&element_type.spec_schema())?;
    let operations = element_ops(element_type)
        .iter()
        .map(operation)
        .collect::<Result<_, _>>()?;
    Ok(SchemaView {
        element_type: element_type.as_str(),
        ports: ports(element_type),
        spec,
        operations,
    })
}

fn operation<C>(op: &Op<C>) -> Result<OperationView, ApiError> {
    let (input, output, why) = match &op.run {
        Run::Handler { input, output, .. } => (inline(input)?, inline(output)?, None),
        Run::NotSupported(why) => (Value::Null, Value::Null, Some(*why)),
    };
    Ok(OperationView {
        name: op.name,
        path: op.path,
        method: method_name(&op.method),
        role: op.role,
        summary: op.summary,
        supported: why.is_none(),
        why,
        input_in: if matches!(op.method.as_str(), "GET" | "DELETE") {
            "query"
        } else {
            "body"
        },
        input,
        output,
    })
}

fn method_name(method: &axum::http::Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "PUT" => "PUT",
        _ => "POST",
    }
}

fn to_value<T: Serialize>(value: &T) -> Result<Value, ApiError> {
    serde_json::to_value(value).map_err(|e| ApiError::Store(e.to_string()))
}

/// The schema with its component references replaced by the components themselves.
pub(crate) fn inline(schema: &TypeSchema) -> Result<Value, ApiError> {
    let mut root = to_value(&schema.schema)?;
    let components: Vec<(String, Value)> = schema
        .components
        .iter()
        .map(|(name, s)| Ok((name.clone(), to_value(s)?)))
        .collect::<Result<_, ApiError>>()?;
    resolve(&mut root, &components, 0);
    Ok(root)
}

/// Deepest nesting of references followed (a recursive type stops there).
const MAX_DEPTH: usize = 16;

fn resolve(value: &mut Value, components: &[(String, Value)], depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match value {
        Value::Object(map) => {
            let target = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
                .and_then(|name| components.iter().find(|(n, _)| n == name));
            if let Some((_, found)) = target {
                *value = found.clone();
                resolve(value, components, depth + 1);
            } else {
                for v in map.values_mut() {
                    resolve(v, components, depth);
                }
            }
        }
        Value::Array(items) => {
            for v in items {
                resolve(v, components, depth);
            }
        }
        _ => {}
    }
}

fn port(
    name: &'static str,
    direction: &'static str,
    kind: &'static str,
    description: &'static str,
) -> Port {
    Port {
        name,
        direction,
        kind,
        required: false,
        description,
    }
}

/// The ports the interface documents name.
fn ports(element_type: ElementType) -> Vec<Port> {
    match element_type {
        ElementType::PhoneNumber => vec![
            port(
                "trigger",
                "input",
                "event",
                "inbound SMS to the number (SmsReceived)",
            ),
            port(
                "call_trigger",
                "input",
                "event",
                "inbound call to the number (CallReceived)",
            ),
            port(
                "request",
                "input",
                "request",
                "SMS to send (SmsSendRequest)",
            ),
            port(
                "call_request",
                "input",
                "request",
                "call to place (CallRequest)",
            ),
            port("message", "output", "event", "a received SMS (SmsReceived)"),
            port(
                "result",
                "output",
                "event",
                "a send's result and delivery status",
            ),
            port(
                "call_event",
                "output",
                "event",
                "call status updates (CallResponse)",
            ),
        ],
        ElementType::Email => vec![
            port(
                "trigger",
                "input",
                "event",
                "inbound mail to the element's addresses",
            ),
            port("request", "input", "request", "mail to send"),
            port("message", "output", "event", "a received message"),
            port(
                "result",
                "output",
                "event",
                "a send's result and delivery status",
            ),
        ],
        ElementType::Websocket => vec![port(
            "message",
            "output",
            "event",
            "events pushed to connected clients",
        )],
    }
}
