//! The `phone-number` element's spec, with the names, types, defaults and validation of the
//! phone-number interface document (`000_*.txt`): one E.164 number on a carrier, its SMS
//! and voice settings, who answers its calls, and how carrier calls are retried.
//!
//! Validation: `phone_number` is E.164 (`^\+[1-9]\d{1,14}$`, `PHONE_INVALID_NUMBER`) and
//! `country` an upper-case ISO 3166-1 alpha-2 code (`PHONE_INVALID_COUNTRY`), each may be
//! null or `""` (unset); `default_sender_id` is at most 11 characters
//! (`PHONE_INVALID_SENDER_ID`); `max_retries` 0-10 and `retry_backoff_ms` 500-60000
//! (`PHONE_INVALID_CONFIG`, as are unknown fields and wrong types). Defaults are filled
//! in, so a stored spec is always complete. Voice on without a `voice_start_url` is
//! allowed, with the documented warning. `webrtc_sip_pass` is sealed at rest and shown
//! masked ([`super::sealed`]).
//!
//! voxgate's earlier names are still accepted on input (`number`, `sender_id`, `agent_id`,
//! `sandbox`, `carrier_number_id`, `sms_enabled`, `voice_enabled`), so stored specs and
//! existing clients keep working; what is stored and shown uses the documented names.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Validated;
use super::sealed::SealedField;
use crate::e164::{E164, clip};
use crate::error::{ApiError, ErrorCode};

/// The carrier's API when the spec names none (`carrier_api_url` `""`).
pub const DEFAULT_CARRIER_API_URL: &str = "https://api.46elks.com/a1";

/// The documented warning for voice without an IVR flow.
pub const VOICE_WITHOUT_START_URL: &str =
    "Voice is enabled but no voice_start_url is configured — inbound calls will have no IVR flow";

/// A stored, valid phone-number spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhoneSpec {
    /// The number, E.164; unset until one is claimed or provisioned.
    #[schema(value_type = Option<String>, example = "+46766861004")]
    #[serde(alias = "number")]
    pub phone_number: Option<E164>,
    /// ISO 3166-1 alpha-2 country of the number, upper-case.
    #[schema(example = "SE")]
    pub country: Option<String>,
    /// Human-readable label for this number.
    #[serde(default)]
    pub friendly_name: Option<String>,
    /// Enabled capabilities: SMS (default true) and voice (default false).
    #[serde(default)]
    pub capabilities: Capabilities,
    /// Default alphanumeric sender ID for outbound SMS, at most 11 characters.
    #[serde(alias = "sender_id")]
    pub default_sender_id: Option<String>,
    /// Send as flash SMS (shown at once, not stored) by default. Default false.
    #[serde(default)]
    pub flash_sms: bool,
    /// Caller ID for outbound calls, E.164 (defaults to `phone_number`).
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub caller_id: Option<E164>,
    /// The number's own IVR flow: when set, the carrier's inbound call request is passed
    /// to it and its actions are returned; unset, voxgate answers with its agent.
    pub voice_start_url: Option<String>,
    /// Where incoming SMS are also posted (`configure` sets it at the carrier).
    pub sms_url: Option<String>,
    /// SIP user name for the 46elks WebRTC endpoint.
    #[serde(default)]
    pub webrtc_sip_user: Option<String>,
    /// SIP password for the 46elks WebRTC endpoint: sealed at rest, shown masked.
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub webrtc_sip_pass: Option<SealedField>,
    /// The agent that answers and originates calls on this number.
    #[serde(alias = "agent_id")]
    pub telephony_agent: Option<String>,
    /// How inbound calls are handled: `ai` (the telephony agent; the default) or
    /// `forward_to` (bridged to `forward_to_number`).
    pub incoming_handling: String,
    /// Where `forward_to` bridges inbound calls, E.164.
    #[schema(value_type = Option<String>)]
    pub forward_to_number: Option<E164>,
    /// The carrier. Only `46elks`.
    pub carrier: String,
    /// The carrier's REST API base URL; `""` (the default) is the carrier's standard one.
    pub carrier_api_url: String,
    /// The carrier credential: a provider id of `/api/v1/telephony/providers`. Not needed
    /// when `sandbox_managed` is true.
    #[serde(alias = "provider_id")]
    pub credential_ref: Option<String>,
    /// The SIP trunk `make-call`, `agent-dial` and `sip-register-test` use: a provider id
    /// of kind `sip` (voxgate's; the 46elks WebRTC login is used when it is unset).
    pub sip_credential_ref: Option<String>,
    /// Set by `claim_sandbox_number`: the number is leased from the sandbox pool
    /// (outbound only, daily SMS cap). Not settable.
    #[serde(alias = "sandbox")]
    pub sandbox_managed: bool,
    /// Set by `provision`: the carrier's id of the number (`n...`). Not settable.
    #[serde(alias = "carrier_number_id")]
    pub elks_number_id: Option<String>,
    /// Retries of a transient carrier failure, 0-10. Default 3.
    pub max_retries: u32,
    /// First retry delay in milliseconds, doubled per retry, 500-60000. Default 2000.
    pub retry_backoff_ms: u32,
}

/// `capabilities`: what the number does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Capabilities {
    /// SMS send and receive. Default true.
    pub sms: bool,
    /// Voice calls, placed and received. Default false.
    pub voice: bool,
}

impl Default for Capabilities {
    fn default() -> Self {
        Self {
            sms: true,
            voice: false,
        }
    }
}

impl PhoneSpec {
    /// The carrier REST base URL: `carrier_api_url`, or the carrier's standard one.
    pub fn api_url(&self) -> &str {
        if self.carrier_api_url.is_empty() {
            DEFAULT_CARRIER_API_URL
        } else {
            &self.carrier_api_url
        }
    }

    /// Reads a stored spec. Specs stored under voxgate's earlier names are read through
    /// [`validate`], which maps them.
    ///
    /// # Errors
    ///
    /// [`ApiError::Store`] if the stored spec is not a phone spec.
    pub fn from_stored(spec: &Value) -> Result<Self, ApiError> {
        serde_json::from_value(spec.clone()).or_else(|_| {
            // A sealed `webrtc_sip_pass` passes validation as it is.
            let validated = validate(spec)
                .map_err(|e| ApiError::Store(format!("stored phone spec: {e}")))?
                .spec;
            serde_json::from_value(validated)
                .map_err(|e| ApiError::Store(format!("stored phone spec: {e}")))
        })
    }
}

/// What a client may send: everything optional, checked field by field.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    #[serde(alias = "number")]
    phone_number: Option<String>,
    country: Option<String>,
    friendly_name: Option<String>,
    capabilities: Option<CapabilitiesInput>,
    // voxgate's earlier names of the capabilities.
    sms_enabled: Option<bool>,
    voice_enabled: Option<bool>,
    #[serde(alias = "sender_id")]
    default_sender_id: Option<String>,
    flash_sms: Option<bool>,
    caller_id: Option<String>,
    voice_start_url: Option<String>,
    sms_url: Option<String>,
    webrtc_sip_user: Option<String>,
    webrtc_sip_pass: Option<SealedField>,
    #[serde(alias = "agent_id")]
    telephony_agent: Option<String>,
    incoming_handling: Option<String>,
    forward_to_number: Option<String>,
    carrier: Option<String>,
    carrier_api_url: Option<String>,
    #[serde(alias = "provider_id")]
    credential_ref: Option<String>,
    sip_credential_ref: Option<String>,
    #[serde(alias = "sandbox")]
    sandbox_managed: Option<bool>,
    #[serde(alias = "carrier_number_id")]
    elks_number_id: Option<String>,
    max_retries: Option<i64>,
    retry_backoff_ms: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CapabilitiesInput {
    sms: Option<bool>,
    voice: Option<bool>,
}

fn config_error(message: impl Into<String>) -> ApiError {
    ApiError::invalid(ErrorCode::PhoneInvalidConfig, message)
}

/// `None` for null and `""`: the documents let both mean "unset".
fn given(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty())
}

/// Validates `spec` and fills in defaults.
pub fn validate(spec: &Value) -> Result<Validated, ApiError> {
    let input: Input = serde_json::from_value(spec.clone())
        .map_err(|e| config_error(format!("phone-number spec: {e}")))?;
    let phone_number = given(input.phone_number)
        .as_deref()
        .map(E164::parse)
        .transpose()?;
    let country = given(input.country).map(country).transpose()?;
    let default_sender_id = input.default_sender_id.map(sender_id).transpose()?;
    let carrier = input.carrier.unwrap_or_else(|| "46elks".to_owned());
    if carrier != "46elks" {
        return Err(config_error(format!(
            "unknown carrier {:?}: expected 46elks",
            clip(&carrier)
        )));
    }
    let carrier_api_url = url("carrier_api_url", given(input.carrier_api_url))?
        .filter(|u| u != DEFAULT_CARRIER_API_URL)
        .unwrap_or_default();
    let incoming_handling = input.incoming_handling.unwrap_or_else(|| "ai".to_owned());
    if !matches!(incoming_handling.as_str(), "ai" | "forward_to") {
        return Err(config_error(format!(
            "incoming_handling must be ai or forward_to, not {:?}",
            clip(&incoming_handling)
        )));
    }
    let forward_to_number = given(input.forward_to_number)
        .as_deref()
        .map(E164::parse)
        .transpose()?;
    if incoming_handling == "forward_to" && forward_to_number.is_none() {
        return Err(config_error(
            "incoming_handling forward_to needs forward_to_number",
        ));
    }
    if let Some(id) = &input.elks_number_id
        && !crate::carrier::is_carrier_id(id)
    {
        return Err(config_error("elks_number_id is not a carrier id"));
    }
    let caller_id = given(input.caller_id)
        .as_deref()
        .map(E164::parse)
        .transpose()?;
    if let Some(pass) = &input.webrtc_sip_pass {
        pass.check(SIP_PASS, ErrorCode::PhoneInvalidConfig)?;
    }
    let given_caps = input.capabilities.unwrap_or_default();
    let defaults = Capabilities::default();
    let capabilities = Capabilities {
        sms: given_caps.sms.or(input.sms_enabled).unwrap_or(defaults.sms),
        voice: given_caps
            .voice
            .or(input.voice_enabled)
            .unwrap_or(defaults.voice),
    };
    let (max_retries, retry_backoff_ms) = super::retries(
        input.max_retries,
        input.retry_backoff_ms,
        ErrorCode::PhoneInvalidConfig,
    )?;
    let spec = PhoneSpec {
        phone_number,
        country,
        friendly_name: text("friendly_name", input.friendly_name, 200)?,
        capabilities,
        default_sender_id,
        flash_sms: input.flash_sms.unwrap_or(false),
        caller_id,
        voice_start_url: url("voice_start_url", given(input.voice_start_url))?,
        sms_url: url("sms_url", given(input.sms_url))?,
        webrtc_sip_user: text("webrtc_sip_user", input.webrtc_sip_user, 128)?,
        webrtc_sip_pass: input.webrtc_sip_pass,
        telephony_agent: given(input.telephony_agent),
        incoming_handling,
        forward_to_number,
        carrier,
        carrier_api_url,
        credential_ref: given(input.credential_ref),
        sip_credential_ref: given(input.sip_credential_ref),
        sandbox_managed: input.sandbox_managed.unwrap_or(false),
        elks_number_id: input.elks_number_id,
        max_retries,
        retry_backoff_ms,
    };
    let mut warnings = Vec::new();
    if spec.capabilities.voice && spec.voice_start_url.is_none() {
        warnings.push(VOICE_WITHOUT_START_URL.to_owned());
    }
    let spec = serde_json::to_value(&spec).map_err(|e| ApiError::Store(e.to_string()))?;
    Ok(Validated { spec, warnings })
}

/// An optional free-text field of at most `max` characters, without control characters.
fn text(field: &str, value: Option<String>, max: usize) -> Result<Option<String>, ApiError> {
    match given(value) {
        Some(v) if v.chars().count() > max || v.chars().any(char::is_control) => Err(config_error(
            format!("{field} must be at most {max} characters of text"),
        )),
        other => Ok(other),
    }
}

/// voxgate's earlier field names and the documented ones they stand for.
const EARLIER_NAMES: [(&str, &str); 6] = [
    ("number", "phone_number"),
    ("sender_id", "default_sender_id"),
    ("agent_id", "telephony_agent"),
    ("provider_id", "credential_ref"),
    ("sandbox", "sandbox_managed"),
    ("carrier_number_id", "elks_number_id"),
];

/// Rewrites voxgate's earlier field names in a spec or a change to the documented ones
/// (`sms_enabled` / `voice_enabled` into `capabilities`), so that a change in either
/// naming merges onto a stored spec. A documented name given beside its earlier one wins.
pub fn documented_names(spec: &mut Value) {
    let Value::Object(map) = spec else {
        return;
    };
    for (earlier, name) in EARLIER_NAMES {
        if let Some(v) = map.remove(earlier) {
            map.entry(name).or_insert(v);
        }
    }
    for (earlier, name) in [("sms_enabled", "sms"), ("voice_enabled", "voice")] {
        if let Some(v) = map.remove(earlier) {
            let caps = map
                .entry("capabilities")
                .or_insert_with(|| Value::Object(serde_json::Map::new()));
            if let Value::Object(caps) = caps {
                caps.entry(name).or_insert(v);
            }
        }
    }
}

/// Refuses a client's change of what only operations set: `sandbox_managed` and
/// `elks_number_id` (set by `claim_sandbox_number` and `provision`), and `phone_number`
/// while one of them holds it. `old` is `None` on create.
pub fn check_managed(old: Option<&Value>, new: &Value) -> Result<(), ApiError> {
    let field = |spec: &Value, name: &str| spec.get(name).cloned().unwrap_or(Value::Null);
    let managed =
        |spec: &Value| field(spec, SANDBOX) == Value::Bool(true) || !field(spec, ELKS_ID).is_null();
    let changed = |name: &str| match old {
        Some(old) => field(old, name) != field(new, name),
        None => !matches!(field(new, name), Value::Null | Value::Bool(false)),
    };
    let mut fields = vec![SANDBOX, ELKS_ID];
    if old.is_some_and(managed) {
        fields.push(NUMBER);
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

const SANDBOX: &str = "sandbox_managed";
const ELKS_ID: &str = "elks_number_id";
const NUMBER: &str = "phone_number";

/// The fields only the number operations set.
const MANAGED: [&str; 3] = [SANDBOX, ELKS_ID, NUMBER];

/// Copies the managed fields of `current` into `spec` (restore, import).
pub fn carry_managed(spec: &mut Value, current: &Value) {
    // An old version may hold voxgate's earlier names of these fields.
    documented_names(spec);
    if let Value::Object(spec) = spec {
        for field in MANAGED {
            match current.get(field) {
                Some(v) if !v.is_null() => {
                    spec.insert(field.to_owned(), v.clone());
                }
                _ if field != NUMBER || spec.get(SANDBOX) == Some(&Value::Bool(true)) => {
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn defaults_are_filled_in() {
        let v = validate(&json!({"phone_number": "+46766861004"})).expect("valid");
        assert_eq!(v.spec["phone_number"], "+46766861004");
        assert_eq!(v.spec["carrier"], "46elks");
        assert_eq!(v.spec["carrier_api_url"], "");
        assert_eq!(v.spec["max_retries"], 3);
        assert_eq!(v.spec["retry_backoff_ms"], 2000);
        assert_eq!(v.spec["capabilities"], json!({"sms": true, "voice": false}));
        assert_eq!(v.spec["flash_sms"], false);
        assert_eq!(v.spec["incoming_handling"], "ai");
        assert_eq!(v.spec["sandbox_managed"], false);
        assert!(v.warnings.is_empty(), "voice is off by default");
        let voice = validate(&json!({"capabilities": {"voice": true}})).expect("valid");
        assert_eq!(voice.warnings, [VOICE_WITHOUT_START_URL]);
        assert_eq!(voice.spec["capabilities"]["sms"], true);
        let routed = validate(&json!({"capabilities": {"voice": true},
            "voice_start_url": "https://x.example/voice"}))
        .expect("ok");
        assert!(routed.warnings.is_empty());
        let unset = validate(&json!({"phone_number": "", "country": ""})).expect("empty is unset");
        assert_eq!(unset.spec["phone_number"], Value::Null);
    }

    #[test]
    fn validation_table() {
        let table = [
            (
                json!({"phone_number": "0766860000"}),
                "PHONE_INVALID_NUMBER",
            ),
            (
                json!({"phone_number": "+0766860000"}),
                "PHONE_INVALID_NUMBER",
            ),
            (
                json!({"phone_number": "+1234567890123456"}),
                "PHONE_INVALID_NUMBER",
            ),
            (json!({"country": "se"}), "PHONE_INVALID_COUNTRY"),
            (json!({"country": "SWE"}), "PHONE_INVALID_COUNTRY"),
            (
                json!({"default_sender_id": "TwelveChars1"}),
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
            (
                json!({"capabilities": {"fax": true}}),
                "PHONE_INVALID_CONFIG",
            ),
            (
                json!({"capabilities": {"sms": "yes"}}),
                "PHONE_INVALID_CONFIG",
            ),
            (json!({"caller_id": "0701"}), "PHONE_INVALID_NUMBER"),
            (json!({"friendly_name": "a\u{0}b"}), "PHONE_INVALID_CONFIG"),
            (json!({"webrtc_sip_pass": ""}), "PHONE_INVALID_CONFIG"),
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
            json!({"default_sender_id": "ElevenChars", "country": "SE"}),
        ];
        for spec in edges {
            if let Err(e) = validate(&spec) {
                panic!("{spec}: {e}");
            }
        }
    }

    #[test]
    fn a_stored_spec_validates_to_itself() {
        let v = validate(&json!({"phone_number": "+46700000001", "country": "SE"})).expect("valid");
        assert_eq!(validate(&v.spec).expect("again").spec, v.spec);
    }

    #[test]
    fn earlier_names_are_read_as_the_documented_ones() {
        let old = json!({"number": "+46700000001", "sender_id": "Desk", "agent_id": "agt_1",
            "sandbox": true, "sms_enabled": false, "voice_enabled": true,
            "carrier_api_url": DEFAULT_CARRIER_API_URL});
        let spec = PhoneSpec::from_stored(&old).expect("read");
        assert_eq!(
            spec.phone_number.as_ref().map(E164::as_str),
            Some("+46700000001")
        );
        assert_eq!(spec.default_sender_id.as_deref(), Some("Desk"));
        assert_eq!(spec.telephony_agent.as_deref(), Some("agt_1"));
        assert!(spec.sandbox_managed);
        assert_eq!(
            spec.capabilities,
            Capabilities {
                sms: false,
                voice: true
            }
        );
        assert_eq!(spec.api_url(), DEFAULT_CARRIER_API_URL);
        let mut restored = old;
        carry_managed(
            &mut restored,
            &json!({"sandbox_managed": true, "phone_number": "+46700000001"}),
        );
        assert!(validate(&restored).is_ok(), "{restored}");
    }
}
