//! Elements: the typed, versioned things a circle owns (`phone-number`, `email`,
//! `websocket`), their spec validation, deep-merge updates, and the operation table each
//! type declares (name, method, role), from which `ops/schema` and the router's role checks
//! are both taken.

pub mod email;
pub mod merge;
pub mod phone;
mod websocket;

use serde::Serialize;
use serde_json::{Value, json};

use crate::auth::Role;
use crate::e164::clip;
use crate::error::{ApiError, ErrorCode};
use crate::ids::rfc3339;
use crate::store::Element;

/// The kinds of element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElementType {
    /// One E.164 number on a carrier: SMS and calls.
    PhoneNumber,
    /// One mailbox.
    Email,
    /// A live event stream.
    Websocket,
}

impl ElementType {
    /// Every type.
    pub const ALL: [Self; 3] = [Self::PhoneNumber, Self::Email, Self::Websocket];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PhoneNumber => "phone-number",
            Self::Email => "email",
            Self::Websocket => "websocket",
        }
    }

    /// Parses a wire name; `ELEMENT_INVALID_TYPE` otherwise.
    pub fn parse(text: &str) -> Result<Self, ApiError> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == text)
            .ok_or_else(|| {
                ApiError::invalid(
                    ErrorCode::ElementInvalidType,
                    format!(
                        "unknown element_type {:?}: expected phone-number, email or websocket",
                        clip(text)
                    ),
                )
            })
    }

    /// Validates a spec of this type, filling in defaults.
    pub fn validate(self, spec: &Value) -> Result<Validated, ApiError> {
        match self {
            Self::PhoneNumber => phone::validate(spec),
            Self::Email => email::validate(spec),
            Self::Websocket => websocket::validate(spec),
        }
    }

    /// What the type's ports carry: inputs it acts on, outputs it emits.
    fn ports(self) -> Value {
        match self {
            Self::PhoneNumber => json!({
                "inputs": ["sms.send", "call.place", "call.message"],
                "outputs": ["sms.received", "sms.delivered", "call.started", "call.turn", "call.ended"],
            }),
            Self::Email => json!({
                "inputs": ["email.send"],
                "outputs": ["email.received", "email.bounced"],
            }),
            Self::Websocket => json!({"inputs": [], "outputs": ["event"]}),
        }
    }

    /// The spec's JSON schema, generated from the spec type where it is typed.
    fn spec_schema(self) -> Value {
        match self {
            Self::PhoneNumber => {
                serde_json::to_value(<phone::PhoneSpec as utoipa::PartialSchema>::schema())
                    .unwrap_or(Value::Null)
            }
            Self::Email => {
                serde_json::to_value(<email::EmailSpec as utoipa::PartialSchema>::schema())
                    .unwrap_or(Value::Null)
            }
            Self::Websocket => json!({
                "type": "object",
                "properties": {"events": {"type": "array", "items": {"type": "string"}}},
            }),
        }
    }
}

/// A validated spec and what the client should know about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Validated {
    /// The spec with defaults filled in.
    pub spec: Value,
    /// Allowed but probably unintended settings.
    pub warnings: Vec<String>,
}

/// One operation on an element: how it is called and the least role it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Operation {
    /// `get`, `update`, ...
    pub name: &'static str,
    /// HTTP method.
    pub method: &'static str,
    /// Least role.
    pub role: Role,
    /// What it does.
    pub summary: &'static str,
}

/// The operations every element type has. Type-specific ones (SMS, calls) join them in
/// their issues.
pub const COMMON_OPERATIONS: [Operation; 8] = [
    Operation {
        name: "get",
        method: "GET",
        role: Role::Read,
        summary: "the element and its spec",
    },
    Operation {
        name: "update",
        method: "PATCH",
        role: Role::Write,
        summary: "deep-merge (or replace) the spec; records a version",
    },
    Operation {
        name: "version",
        method: "GET",
        role: Role::Read,
        summary: "the current version; ?history=true for every version",
    },
    Operation {
        name: "delete",
        method: "DELETE",
        role: Role::Write,
        summary: "soft delete; refused while calls are active",
    },
    Operation {
        name: "enable",
        method: "POST",
        role: Role::Write,
        summary: "enable the element",
    },
    Operation {
        name: "disable",
        method: "POST",
        role: Role::Write,
        summary: "disable the element",
    },
    Operation {
        name: "schema",
        method: "GET",
        role: Role::Read,
        summary: "ports, spec schema and operations",
    },
    Operation {
        name: "stats",
        method: "GET",
        role: Role::Read,
        summary: "versions, calls and activity",
    },
];

/// The phone-number element's own operations (see [`crate::phone`]). `call-message`
/// joins them when it is built; until then it is `OPERATION_NOT_FOUND`.
pub const PHONE_OPERATIONS: [Operation; 16] = [
    op(
        "claim_sandbox_number",
        "POST",
        Role::Write,
        "lease a number from the sandbox pool (outbound only, daily SMS cap)",
    ),
    op(
        "release_sandbox_number",
        "POST",
        Role::Write,
        "give the sandbox number back",
    ),
    op(
        "provision",
        "POST",
        Role::Admin,
        "rent a number at the carrier (country, capabilities) and configure it",
    ),
    op(
        "release",
        "POST",
        Role::Admin,
        "give the rented number back to the carrier, for good",
    ),
    op(
        "configure",
        "POST",
        Role::Write,
        "register voxgate's webhook URLs (fresh tokens) at the carrier",
    ),
    op(
        "test-connection",
        "GET",
        Role::Read,
        "account status, balance and number status; sends nothing",
    ),
    op(
        "send-sms",
        "POST",
        Role::Execute,
        "send an SMS (stored before it is attempted)",
    ),
    op(
        "list-sms",
        "GET",
        Role::Read,
        "SMS both ways, newest first, with a page token",
    ),
    op("get-sms", "GET", Role::Read, "one SMS by message_id"),
    op(
        "make-call",
        "POST",
        Role::Execute,
        "a call over the SIP leg",
    ),
    op(
        "agent-dial",
        "POST",
        Role::Execute,
        "an agent call over the SIP leg",
    ),
    op(
        "agent-call",
        "POST",
        Role::Execute,
        "call a number; an agent talks when it answers",
    ),
    op(
        "call-message",
        "POST",
        Role::Execute,
        "call a number and play it a spoken message (at most 1200 characters)",
    ),
    op(
        "list-calls",
        "GET",
        Role::Read,
        "calls on the number, newest first, with a page token",
    ),
    op("get-call", "GET", Role::Read, "one call by call_id"),
    op(
        "sip-register-test",
        "POST",
        Role::Execute,
        "register with the SIP trunk and report",
    ),
];

const fn op(
    name: &'static str,
    method: &'static str,
    role: Role,
    summary: &'static str,
) -> Operation {
    Operation {
        name,
        method,
        role,
        summary,
    }
}

/// The role `create` needs.
pub const CREATE_ROLE: Role = Role::Write;

/// The least role of operation `name`.
pub fn role_of(name: &str) -> Option<Role> {
    COMMON_OPERATIONS
        .iter()
        .chain(&PHONE_OPERATIONS)
        .chain(&crate::email::ops::OPERATIONS)
        .find(|op| op.name == name)
        .map(|op| op.role)
}

/// `ops/schema`: ports, the spec schema and the operations with their input and output
/// schemas.
pub fn schema(element_type: ElementType) -> Value {
    let element = json!({"$ref": "#/components/schemas/ElementView"});
    let own: &[Operation] = match element_type {
        ElementType::PhoneNumber => &PHONE_OPERATIONS,
        ElementType::Email => &crate::email::ops::OPERATIONS,
        ElementType::Websocket => &[],
    };
    let operations: Vec<Value> = COMMON_OPERATIONS
        .iter()
        .chain(own)
        .map(|op| {
            let (input, output) = match op.name {
                "update" => (json!({"type": "object", "required": ["spec"], "properties": {
                    "spec": {"type": "object"}, "deep": {"type": "boolean", "default": true}}}), element.clone()),
                "version" => (json!({"type": "object", "properties": {"history": {"type": "boolean"}}}),
                              json!({"type": "object", "properties": {"version": {"type": "integer"}, "history": {"type": "array"}}})),
                "schema" | "stats" => (Value::Null, json!({"type": "object"})),
                name if own.iter().any(|o| o.name == name) => match element_type {
                    ElementType::Email => crate::email::ops::io_schema(name),
                    _ => crate::phone::io_schema(name),
                },
                "delete" => (Value::Null, json!({"type": "object", "properties": {"deleted": {"type": "boolean"}}})),
                _ => (Value::Null, element.clone()),
            };
            json!({"name": op.name, "method": op.method, "role": op.role,
                   "summary": op.summary, "input": input, "output": output})
        })
        .collect();
    json!({
        "element_type": element_type.as_str(),
        "ports": element_type.ports(),
        "spec": element_type.spec_schema(),
        "operations": operations,
    })
}

/// Checks a slug or circle name: 1-63 of `a-z`, `0-9` and `-`, starting with a letter or
/// digit.
pub fn check_name(field: &'static str, code: ErrorCode, name: &str) -> Result<(), ApiError> {
    let ok = (1..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            code,
            format!(
                "{field} {:?} must be 1-63 characters of a-z, 0-9 and -",
                clip(name)
            ),
        ))
    }
}

/// An element as the API returns it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ElementView {
    /// `elm_...`.
    pub id: String,
    /// `phone-number`, `email` or `websocket`.
    pub element_type: String,
    /// Unique per circle.
    pub slug: String,
    /// The spec, defaults filled in; secrets (an email's `smtp_password`) shown as
    /// `********`.
    #[schema(value_type = Object)]
    pub spec: Value,
    /// Whether operations run.
    pub enabled: bool,
    /// 1 on create, +1 per update.
    pub version: i64,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
    /// Settings that are allowed but probably unintended (on create and update).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl ElementView {
    /// The view of `element`, with `warnings`; secrets in the spec are masked.
    pub fn new(element: Element, warnings: Vec<String>) -> Self {
        let mut spec = element.spec;
        if element.element_type == ElementType::Email.as_str() {
            email::redact(&mut spec);
        }
        Self {
            id: element.id,
            element_type: element.element_type,
            slug: element.slug,
            spec,
            enabled: element.enabled,
            version: element.version,
            created_at: rfc3339(element.created_at),
            updated_at: rfc3339(element.updated_at),
            warnings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_round_trip_and_unknown_is_an_error() {
        for t in ElementType::ALL {
            assert_eq!(ElementType::parse(t.as_str()).ok(), Some(t));
        }
        assert_eq!(
            ElementType::parse("fax").expect_err("no fax").code(),
            "ELEMENT_INVALID_TYPE"
        );
    }

    #[test]
    fn names() {
        for ok in ["a", "front-desk", "0800", &"x".repeat(63)] {
            check_name("slug", ErrorCode::ElementInvalidSlug, ok).expect(ok);
        }
        for bad in ["", "-a", "Front", "a b", "a/b", "ä", &"x".repeat(64)] {
            assert!(
                check_name("slug", ErrorCode::ElementInvalidSlug, bad).is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_phone_schema_is_generated_from_the_spec_type() {
        let schema = schema(ElementType::PhoneNumber);
        let properties = &schema["spec"]["properties"];
        assert!(properties["max_retries"].is_object(), "{schema}");
        assert!(properties["number"].is_object(), "{schema}");
        assert!(properties["credential_ref"].is_object(), "{schema}");
        let operations = schema["operations"].as_array().expect("operations");
        assert_eq!(
            operations.len(),
            COMMON_OPERATIONS.len() + PHONE_OPERATIONS.len()
        );
        let send = operations
            .iter()
            .find(|op| op["name"] == "send-sms")
            .expect("send-sms");
        assert_eq!(
            (send["role"].as_str(), send["method"].as_str()),
            (Some("execute"), Some("POST"))
        );
        assert_eq!(send["input"]["required"], serde_json::json!(["to", "body"]));
        assert_eq!(role_of("provision"), Some(Role::Admin));
        assert_eq!(role_of("list-sms"), Some(Role::Read));
        let email = super::schema(ElementType::Email);
        let email_ops = email["operations"].as_array().expect("operations");
        assert_eq!(
            email_ops.len(),
            COMMON_OPERATIONS.len() + crate::email::ops::OPERATIONS.len(),
            "phone operations are the phone number's own"
        );
        assert!(!email_ops.iter().any(|op| op["name"] == "send-sms"));
        let send = email_ops
            .iter()
            .find(|op| op["name"] == "send")
            .expect("send");
        assert_eq!(send["role"], "execute");
        assert!(
            send["input"]["properties"]["attachments"].is_object(),
            "{send}"
        );
        assert_eq!(role_of("add-suppression"), Some(Role::Admin));
        assert_eq!(role_of("update"), Some(Role::Write));
        assert_eq!(role_of("get"), Some(Role::Read));
    }
}
