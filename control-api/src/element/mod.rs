//! Elements: the typed, versioned things a circle owns (`phone-number`, `email`,
//! `websocket`), their spec validation, secrets in specs, deep-merge updates, and the
//! generic lifecycle ([`lifecycle`]: create, update, versions, restore, enable, delete,
//! activity, stats, README, bundles). The operation tables are in [`crate::ops`].

pub mod activity;
pub mod bundle;
pub mod email;
pub mod lifecycle;
pub mod merge;
pub mod phone;
pub mod sealed;
pub mod websocket;

use serde::Serialize;
use serde_json::Value;

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

    /// The spec's JSON schema, generated from the spec type where it is typed.
    pub fn spec_schema(self) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::PartialSchema as _;
        match self {
            Self::PhoneNumber => phone::PhoneSpec::schema(),
            Self::Email => email::EmailSpec::schema(),
            Self::Websocket => websocket::WebsocketSpec::schema(),
        }
    }

    /// Shows the secrets of a stored spec of this type masked.
    pub fn redact(self, spec: &mut Value) {
        match self {
            Self::PhoneNumber => phone::redact(spec),
            Self::Email => email::redact(spec),
            Self::Websocket => {}
        }
    }

    /// What a deep-merge update starts from: the stored spec without the defaults that
    /// follow other fields, so that the merge takes them along.
    pub fn unfill(self, stored: &Value) -> Value {
        match self {
            Self::Email => email::unfill(stored),
            Self::PhoneNumber => {
                let mut spec = stored.clone();
                phone::documented_names(&mut spec);
                spec
            }
            Self::Websocket => stored.clone(),
        }
    }

    /// Rewrites earlier field names in a spec change to the documented ones (see
    /// [`phone::documented_names`]), so that it merges onto a stored spec.
    pub fn documented_names(self, change: &mut Value) {
        if self == Self::PhoneNumber {
            phone::documented_names(change);
        }
    }

    /// Copies into `spec` (an older version, or a bundle's) what only operations set, as it
    /// is in `current` (a phone number's lease or rented number), so that restoring or
    /// importing cannot claim or drop a number.
    pub fn carry_managed(self, spec: &mut Value, current: &Value) {
        if self == Self::PhoneNumber {
            phone::carry_managed(spec, current);
        }
    }

    /// Readies a validated spec for storage as element `id`: refuses changes to what only
    /// operations set, and seals secrets (`previous`: the stored spec on update).
    pub fn prepare(
        self,
        spec: &mut Value,
        previous: Option<&Value>,
        id: &str,
        sealer: Option<&crate::secrets::Sealer>,
    ) -> Result<(), ApiError> {
        match self {
            Self::PhoneNumber => {
                phone::check_managed(previous, spec)?;
                phone::seal_secrets(spec, previous, id, sealer)
            }
            Self::Email => email::seal_password(spec, previous, id, sealer),
            Self::Websocket => Ok(()),
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

/// The documents' retry properties of phone-number and email alike: `max_retries` 0-10
/// (default 3) and `retry_backoff_ms` 500-60000 (default 2000); `code` otherwise.
pub(crate) fn retries(
    max_retries: Option<i64>,
    retry_backoff_ms: Option<i64>,
    code: ErrorCode,
) -> Result<(u32, u32), ApiError> {
    let ranged =
        |field: &str, value: Option<i64>, range: std::ops::RangeInclusive<u32>, default| {
            let Some(value) = value else {
                return Ok(default);
            };
            u32::try_from(value)
                .ok()
                .filter(|v| range.contains(v))
                .ok_or_else(|| {
                    ApiError::invalid(
                        code,
                        format!(
                            "{field} must be between {} and {}, not {value}",
                            range.start(),
                            range.end()
                        ),
                    )
                })
        };
    Ok((
        ranged("max_retries", max_retries, 0..=10, 3)?,
        ranged("retry_backoff_ms", retry_backoff_ms, 500..=60_000, 2000)?,
    ))
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
    /// Unique per circle; cannot change.
    pub slug: String,
    /// Display name (the slug unless one was given).
    pub name: String,
    /// What the element is for.
    pub intention: Option<String>,
    /// The spec, defaults filled in; secrets (`smtp_password`, `webrtc_sip_pass`) shown as
    /// `********`.
    #[schema(value_type = Object)]
    pub spec: Value,
    /// User-interface metadata (`update_meta`).
    #[schema(value_type = Object)]
    pub meta: Value,
    /// Whether operations run.
    pub enabled: bool,
    /// `ready` or `disabled`.
    pub state: &'static str,
    /// Why it was disabled, if a reason was given.
    pub disabled_reason: Option<String>,
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
        if let Ok(element_type) = ElementType::parse(&element.element_type) {
            element_type.redact(&mut spec);
        }
        Self {
            id: element.id,
            element_type: element.element_type,
            slug: element.slug,
            name: element.name,
            intention: element.intention,
            spec,
            meta: element.meta,
            enabled: element.enabled,
            state: if element.enabled { "ready" } else { "disabled" },
            disabled_reason: element.disabled_reason,
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
}
