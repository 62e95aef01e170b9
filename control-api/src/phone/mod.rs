//! The phone-number element's operations against the carrier: SMS ([`sms`]), numbers and
//! sandbox leases ([`numbers`]), calls ([`calls`], and spoken messages in [`message`]), the
//! carrier's webhooks ([`hooks`]), and what they count and announce ([`events`]).
//!
//! # Design
//!
//! - **Store first.** An outgoing SMS is stored (`pending`) before the carrier is asked;
//!   the carrier's answer, or the carrier's history when the answer was lost, settles it.
//!   On start, [`sms::recover`] settles whatever a crash left pending: a message is never
//!   silently dropped and never sent twice.
//! - **Webhooks carry a per-number token.** `configure` registers
//!   `{public_url}/api/webhooks/46elks/{sms,voice/start}?token=T` with a fresh random `T`
//!   whose SHA-256 is stored; delivery reports use `.../dlr?token=T`. A webhook is answered
//!   within milliseconds: it is parsed, written, and answered.
//! - **Sandbox numbers** come from a configured pool (`SANDBOX_PHONE_POOL`), are outbound
//!   only, send through the operator's own carrier account, and count against a per-circle
//!   daily SMS cap (`SANDBOX_PHONE_SMS_DAILY_CAP`, default 10) in one SQL statement, so
//!   concurrent sends cannot overshoot it.

pub mod calls;
pub mod events;
mod flow;
pub mod hooks;
pub mod message;
pub mod numbers;
pub mod page;
pub mod segments;
pub mod sip;
pub mod sms;

use std::time::Duration;

use crate::carrier::{Credentials, ElksClient, RetryPolicy};
use crate::element::phone::PhoneSpec;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use crate::store::Element;

/// The sandbox daily SMS cap when none is configured.
pub const DEFAULT_SANDBOX_SMS_DAILY_CAP: i64 = 10;

/// What the phone operations need to know about this server.
#[derive(Debug, Clone)]
pub struct PhoneSettings {
    /// voxgate's public base URL, told to the carrier (`public_url`).
    pub public_url: String,
    /// The Realtime WebSocket URL (with its token) that `connect` actions name.
    pub voice_ws_url: Option<String>,
    /// The sandbox pool.
    pub sandbox: SandboxSettings,
    /// Where `webrtc_sip_user` / `webrtc_sip_pass` register, `sip:host[:port]`
    /// (default [`ELKS_SIP_REGISTRAR`]).
    pub sip_registrar: String,
}

/// The carrier's SIP registrar (reference §4).
pub const ELKS_SIP_REGISTRAR: &str = "sip:voip.46elks.com";

impl Default for PhoneSettings {
    fn default() -> Self {
        Self {
            public_url: "http://127.0.0.1:8080".to_owned(),
            voice_ws_url: None,
            sandbox: SandboxSettings::default(),
            sip_registrar: ELKS_SIP_REGISTRAR.to_owned(),
        }
    }
}

/// Sandbox numbers: a pool leased to elements, sending through the operator's account.
#[derive(Debug, Clone)]
pub struct SandboxSettings {
    /// E.164 numbers (`SANDBOX_PHONE_POOL`, comma-separated).
    pub pool: Vec<String>,
    /// SMS per circle per UTC day (`SANDBOX_PHONE_SMS_DAILY_CAP`).
    pub sms_daily_cap: i64,
    /// The operator's carrier account the pool belongs to.
    pub carrier: Option<SandboxCarrier>,
}

impl Default for SandboxSettings {
    fn default() -> Self {
        Self {
            pool: Vec::new(),
            sms_daily_cap: DEFAULT_SANDBOX_SMS_DAILY_CAP,
            carrier: None,
        }
    }
}

/// The carrier account behind the sandbox pool.
#[derive(Debug, Clone)]
pub struct SandboxCarrier {
    /// REST base URL.
    pub api_url: String,
    /// API user and password.
    pub credentials: Credentials,
}

/// The spec of a phone-number element (the store holds only valid specs).
pub(crate) fn spec_of(element: &Element) -> Result<PhoneSpec, ApiError> {
    if element.element_type != "phone-number" {
        return Err(ApiError::not_found(
            ErrorCode::OperationNotFound,
            format!("{} elements have no phone operations", element.element_type),
        ));
    }
    PhoneSpec::from_stored(&element.spec)
}

/// Operations run only on enabled elements.
pub(crate) fn check_enabled(element: &Element) -> Result<(), ApiError> {
    if element.enabled {
        Ok(())
    } else {
        Err(ApiError::conflict(
            ErrorCode::ElementDisabled,
            "the element is disabled; enable it first",
        ))
    }
}

/// The element's retry policy.
fn retry_of(spec: &PhoneSpec) -> RetryPolicy {
    RetryPolicy {
        max_retries: spec.max_retries,
        backoff: Duration::from_millis(u64::from(spec.retry_backoff_ms)),
    }
}

/// A carrier client for the element: the sandbox account for sandbox numbers, else the
/// credential `credential_ref` names (`PHONE_CREDENTIAL_MISSING` without one).
pub(crate) async fn client_for(
    state: &AppState,
    element: &Element,
    spec: &PhoneSpec,
) -> Result<ElksClient, ApiError> {
    if spec.sandbox_managed {
        let carrier =
            state
                .phone()
                .sandbox
                .carrier
                .as_ref()
                .ok_or_else(|| ApiError::Unavailable {
                    code: ErrorCode::PhoneSandboxUnavailable,
                    message: "this server has no sandbox carrier account configured".to_owned(),
                })?;
        return Ok(ElksClient::new(
            &carrier.api_url,
            carrier.credentials.clone(),
            retry_of(spec),
        ));
    }
    let missing = || {
        ApiError::invalid(
            ErrorCode::PhoneCredentialMissing,
            "set credential_ref to a provider of /api/v1/telephony/providers (or claim a \
             sandbox number)",
        )
    };
    let id = spec.credential_ref.as_deref().ok_or_else(missing)?;
    let (username, password) = state
        .provider_login(&element.circle_id, id)
        .await?
        .ok_or_else(missing)?;
    Ok(ElksClient::new(
        spec.api_url(),
        Credentials { username, password },
        retry_of(spec),
    ))
}
