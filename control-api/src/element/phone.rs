//! The `phone-number` element's spec: one E.164 number on a carrier, its SMS and voice
//! settings, and how carrier calls are retried.
//!
//! Validation follows the phone-number documentation: `number` is E.164
//! (`^\+[1-9]\d{1,14}$`, `PHONE_INVALID_NUMBER`), `country` an upper-case ISO 3166-1 alpha-2
//! code (`PHONE_INVALID_COUNTRY`), `sender_id` at most 11 characters (`PHONE_INVALID_SENDER_ID`),
//! `max_retries` 0-10 and `retry_backoff_ms` 500-60000 (`PHONE_INVALID_CONFIG`, as are unknown
//! fields and wrong types). Defaults are filled in, so a stored spec is always complete.
//! Voice enabled without a `voice_start_url` is allowed, with a warning.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Validated;
use crate::e164::{E164, clip};
use crate::error::{ApiError, ErrorCode};

/// The carrier's API when the spec names none.
pub const DEFAULT_CARRIER_API_URL: &str = "https://api.46elks.com/a1";

/// A stored, valid phone-number spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhoneSpec {
    /// The number, E.164; unset until one is claimed or provisioned.
    #[schema(value_type = Option<String>, example = "+46766860000")]
    pub number: Option<E164>,
    /// ISO 3166-1 alpha-2 country of the number, upper-case.
    #[schema(example = "SE")]
    pub country: Option<String>,
    /// Alphanumeric sender ID or number shown on outgoing SMS, at most 11 characters.
    pub sender_id: Option<String>,
    /// The carrier. Only `46elks`.
    pub carrier: String,
    /// The carrier's REST API base URL. Default `https://api.46elks.com/a1`.
    pub carrier_api_url: String,
    /// The carrier credential to use: a provider id of `/api/v1/telephony/providers`.
    /// Required to provision, configure and send outside sandbox mode.
    pub credential_ref: Option<String>,
    /// The SIP trunk `make-call`, `agent-dial` and `sip-register-test` use: a provider id
    /// of kind `sip` (registrar, user name, sealed password).
    pub sip_credential_ref: Option<String>,
    /// The agent that answers calls to this number.
    pub agent_id: Option<String>,
    /// Whether the number sends and receives SMS. Default true.
    pub sms_enabled: bool,
    /// Whether the number takes calls. Default true.
    pub voice_enabled: bool,
    /// Where the carrier asks what to do with an incoming call.
    pub voice_start_url: Option<String>,
    /// Where the carrier posts incoming SMS.
    pub sms_url: Option<String>,
    /// What an incoming call gets: `ai` (an agent answers; the default) or `forward_to`
    /// (connected to `forward_to_number`).
    pub incoming_handling: String,
    /// Where `forward_to` connects incoming calls, E.164.
    #[schema(value_type = Option<String>)]
    pub forward_to_number: Option<E164>,
    /// Set by `claim_sandbox_number`: the number is leased from the sandbox pool
    /// (outbound only, daily SMS cap). Not settable.
    pub sandbox: bool,
    /// Set by `provision`: the carrier's id of the number (`n...`). Not settable.
    pub carrier_number_id: Option<String>,
    /// Retries of a transient carrier failure, 0-10. Default 3.
    pub max_retries: u32,
    /// First retry delay in milliseconds, doubled per retry, 500-60000. Default 1000.
    pub retry_backoff_ms: u32,
}

/// What a client may send: everything optional, checked field by field.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    number: Option<String>,
    country: Option<String>,
    sender_id: Option<String>,
    carrier: Option<String>,
    carrier_api_url: Option<String>,
    #[serde(alias = "provider_id")]
    credential_ref: Option<String>,
    sip_credential_ref: Option<String>,
    agent_id: Option<String>,
    incoming_handling: Option<String>,
    forward_to_number: Option<String>,
    sandbox: Option<bool>,
    carrier_number_id: Option<String>,
    sms_enabled: Option<bool>,
    voice_enabled: Option<bool>,
    voice_start_url: Option<String>,
    sms_url: Option<String>,
    max_retries: Option<i64>,
    retry_backoff_ms: Option<i64>,
}

fn config_error(message: impl Into<String>) -> ApiError {
    ApiError::invalid(ErrorCode::PhoneInvalidConfig, message)
}

/// Validates `spec` and fills in defaults.
pub fn validate(spec: &Value) -> Result<Validated, ApiError> {
    let input: Input = serde_json::from_value(spec.clone())
        .map_err(|e| config_error(format!("phone-number spec: {e}")))?;
    let number = input.number.as_deref().map(E164::parse).transpose()?;
    let country = input.country.map(country).transpose()?;
    let sender_id = input.sender_id.map(sender_id).transpose()?;
    let carrier = input.carrier.unwrap_or_else(|| "46elks".to_owned());
    if carrier != "46elks" {
        return Err(config_error(format!(
            "unknown carrier {:?}: expected 46elks",
            clip(&carrier)
        )));
    }
    let carrier_api_url = url("carrier_api_url", input.carrier_api_url)?
        .unwrap_or_else(|| DEFAULT_CARRIER_API_URL.to_owned());
    let incoming_handling = input.incoming_handling.unwrap_or_else(|| "ai".to_owned());
    if !matches!(incoming_handling.as_str(), "ai" | "forward_to") {
        return Err(config_error(format!(
            "incoming_handling must be ai or forward_to, not {:?}",
            clip(&incoming_handling)
        )));
    }
    let forward_to_number = input
        .forward_to_number
        .as_deref()
        .map(E164::parse)
        .transpose()?;
    if incoming_handling == "forward_to" && forward_to_number.is_none() {
        return Err(config_error(
            "incoming_handling forward_to needs forward_to_number",
        ));
    }
    if let Some(id) = &input.carrier_number_id
        && !crate::carrier::is_carrier_id(id)
    {
        return Err(config_error("carrier_number_id is not a carrier id"));
    }
    let max_retries = ranged("max_retries", input.max_retries, 0..=10, 3)?;
    let retry_backoff_ms = ranged(
        "retry_backoff_ms",
        input.retry_backoff_ms,
        500..=60_000,
        1_000,
    )?;
    let spec = PhoneSpec {
        number,
        country,
        sender_id,
        carrier,
        carrier_api_url,
        credential_ref: input.credential_ref,
        sip_credential_ref: input.sip_credential_ref,
        agent_id: input.agent_id,
        incoming_handling,
        forward_to_number,
        sandbox: input.sandbox.unwrap_or(false),
        carrier_number_id: input.carrier_number_id,
        sms_enabled: input.sms_enabled.unwrap_or(true),
        voice_enabled: input.voice_enabled.unwrap_or(true),
        voice_start_url: url("voice_start_url", input.voice_start_url)?,
        sms_url: url("sms_url", input.sms_url)?,
        max_retries,
        retry_backoff_ms,
    };
    let mut warnings = Vec::new();
    if spec.voice_enabled && spec.voice_start_url.is_none() {
        warnings.push(
            "voice is enabled but voice_start_url is not set: the carrier has nowhere to send \
             incoming calls"
                .to_owned(),
        );
    }
    let spec = serde_json::to_value(&spec).map_err(|e| ApiError::Store(e.to_string()))?;
    Ok(Validated { spec, warnings })
}

/// Refuses a client's change of what only operations set: `sandbox` and
/// `carrier_number_id` (set by `claim_sandbox_number` and `provision`), and `number` while
/// one of them holds it. `old` is `None` on create.
pub fn check_managed(old: Option<&Value>, new: &Value) -> Result<(), ApiError> {
    let field = |spec: &Value, name: &str| spec.get(name).cloned().unwrap_or(Value::Null);
    let managed = |spec: &Value| {
        field(spec, "sandbox") == Value::Bool(true) || !field(spec, "carrier_number_id").is_null()
    };
    let changed = |name: &str| match old {
        Some(old) => field(old, name) != field(new, name),
        None => !matches!(field(new, name), Value::Null | Value::Bool(false)),
    };
    let mut fields = vec!["sandbox", "carrier_number_id"];
    if old.is_some_and(managed) {
        fields.push("number");
    }
    match fields.into_iter().find(|f| changed(f)) {
        None => Ok(()),
        Some(name) => Err(ApiError::conflict(
            ErrorCode::PhoneNumberManaged,
            format!(
                "{name} is set by the number operations (claim_sandbox_number, provision, \
                 release); it cannot be changed by update"
            ),
        )),
    }
}

/// The fields only the number operations set.
const MANAGED: [&str; 3] = ["sandbox", "carrier_number_id", "number"];

/// Copies the managed fields of `current` into `spec` (restore, import).
pub fn carry_managed(spec: &mut Value, current: &Value) {
    if let Value::Object(spec) = spec {
        for field in MANAGED {
            match current.get(field) {
                Some(v) if !v.is_null() => {
                    spec.insert(field.to_owned(), v.clone());
                }
                _ if field != "number" || spec.get("sandbox") == Some(&Value::Bool(true)) => {
                    spec.remove(field);
                }
                _ => {}
            }
        }
    }
}

/// The phone spec's secret field.
const SIP_PASS: &str = "webrtc_sip_pass";

/// Shows a stored spec's `webrtc_sip_pass` masked.
pub fn redact(spec: &mut Value) {
    super::sealed::redact(spec, SIP_PASS);
}

/// Seals a validated spec's `webrtc_sip_pass` for element `id` (see
/// [`super::sealed::seal`]).
pub fn seal_secrets(
    spec: &mut Value,
    previous: Option<&Value>,
    id: &str,
    sealer: Option<&crate::secrets::Sealer>,
) -> Result<(), ApiError> {
    super::sealed::seal(
        spec,
        previous,
        SIP_PASS,
        ErrorCode::PhoneInvalidConfig,
        id,
        sealer,
    )
}

fn country(code: String) -> Result<String, ApiError> {
    if code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(code)
    } else {
        Err(ApiError::invalid(
            ErrorCode::PhoneInvalidCountry,
            format!(
                "{:?} is not an ISO 3166-1 alpha-2 code in upper case, e.g. SE",
                clip(&code)
            ),
        ))
    }
}

/// An alphanumeric sender ID: 1-11 letters, digits or spaces, with at least one letter
/// (all digits would be read as a phone number; numbers are given in E.164).
pub(crate) fn sender_id(id: String) -> Result<String, ApiError> {
    let count = id.chars().count();
    if (1..=11).contains(&count)
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ')
        && id.chars().any(|c| c.is_ascii_alphabetic())
    {
        Ok(id)
    } else {
        Err(ApiError::invalid(
            ErrorCode::PhoneInvalidSenderId,
            "sender_id must be 1 to 11 letters, digits or spaces, with at least one letter",
        ))
    }
}

fn url(field: &str, value: Option<String>) -> Result<Option<String>, ApiError> {
    match value {
        Some(u) if !(u.starts_with("https://") || u.starts_with("http://")) || u.len() > 2048 => {
            Err(config_error(format!(
                "{field} must be an http:// or https:// URL"
            )))
        }
        other => Ok(other),
    }
}

fn ranged(
    field: &str,
    value: Option<i64>,
    range: std::ops::RangeInclusive<u32>,
    default: u32,
) -> Result<u32, ApiError> {
    let Some(value) = value else {
        return Ok(default);
    };
    u32::try_from(value)
        .ok()
        .filter(|v| range.contains(v))
        .ok_or_else(|| {
            config_error(format!(
                "{field} must be between {} and {}, not {value}",
                range.start(),
                range.end()
            ))
        })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn defaults_are_filled_in() {
        let v = validate(&json!({"number": "+46766860000"})).expect("valid");
        assert_eq!(v.spec["carrier"], "46elks");
        assert_eq!(v.spec["carrier_api_url"], DEFAULT_CARRIER_API_URL);
        assert_eq!(v.spec["max_retries"], 3);
        assert_eq!(v.spec["retry_backoff_ms"], 1000);
        assert_eq!(v.spec["sms_enabled"], true);
        assert_eq!(v.spec["voice_enabled"], true);
        assert_eq!(v.warnings.len(), 1, "voice without voice_start_url warns");
        let quiet = validate(&json!({"voice_enabled": false})).expect("valid");
        assert!(quiet.warnings.is_empty());
        let routed = validate(&json!({"voice_start_url": "https://x.example/voice"})).expect("ok");
        assert!(routed.warnings.is_empty());
    }

    #[test]
    fn validation_table() {
        let table = [
            (json!({"number": "0766860000"}), "PHONE_INVALID_NUMBER"),
            (json!({"number": "+0766860000"}), "PHONE_INVALID_NUMBER"),
            (
                json!({"number": "+1234567890123456"}),
                "PHONE_INVALID_NUMBER",
            ),
            (json!({"country": "se"}), "PHONE_INVALID_COUNTRY"),
            (json!({"country": "SWE"}), "PHONE_INVALID_COUNTRY"),
            (
                json!({"sender_id": "TwelveChars1"}),
                "PHONE_INVALID_SENDER_ID",
            ),
            (json!({"sender_id": ""}), "PHONE_INVALID_SENDER_ID"),
            (json!({"sender_id": "12345"}), "PHONE_INVALID_SENDER_ID"),
            (
                json!({"sender_id": "semi;colon"}),
                "PHONE_INVALID_SENDER_ID",
            ),
            (json!({"max_retries": 11}), "PHONE_INVALID_CONFIG"),
            (json!({"max_retries": -1}), "PHONE_INVALID_CONFIG"),
            (json!({"retry_backoff_ms": 499}), "PHONE_INVALID_CONFIG"),
            (json!({"retry_backoff_ms": 60001}), "PHONE_INVALID_CONFIG"),
            (json!({"max_retries": "3"}), "PHONE_INVALID_CONFIG"),
            (json!({"carrier": "twilio"}), "PHONE_INVALID_CONFIG"),
            (
                json!({"carrier_api_url": "ftp://x"}),
                "PHONE_INVALID_CONFIG",
            ),
            (json!({"nubmer": "+46766860000"}), "PHONE_INVALID_CONFIG"),
            (json!(["+46766860000"]), "PHONE_INVALID_CONFIG"),
        ];
        for (spec, code) in table {
            let Err(err) = validate(&spec) else {
                panic!("{spec} was accepted");
            };
            assert_eq!(err.code(), code, "{spec}");
        }
        let edges = [
            json!({"max_retries": 0, "retry_backoff_ms": 500}),
            json!({"max_retries": 10, "retry_backoff_ms": 60000}),
            json!({"sender_id": "ElevenChars", "country": "SE"}),
        ];
        for spec in edges {
            if let Err(e) = validate(&spec) {
                panic!("{spec}: {e}");
            }
        }
    }

    #[test]
    fn a_stored_spec_validates_to_itself() {
        let v = validate(&json!({"number": "+46700000001", "country": "SE"})).expect("valid");
        assert_eq!(validate(&v.spec).expect("again").spec, v.spec);
    }
}
