//! The phone operations that go over the SIP leg: `make-call`, `agent-dial` and
//! `sip-register-test`, and the live registrations of SIP trunks.
//!
//! # Design
//!
//! - **A SIP trunk is a provider of kind `sip`**: its registrar (`sip:host[:port]`), a user
//!   name and a sealed password, like any carrier credential. A phone-number element names
//!   one in `sip_credential_ref`; a telephony number names one in `provider_id`. (46elks:
//!   registrar `sip:voip.46elks.com`, user name the number without `+`, password the
//!   number's `secret`.) Without one, the spec's `webrtc_sip_user` / `webrtc_sip_pass`
//!   register at the carrier's registrar ([`PhoneSettings::sip_registrar`](super::PhoneSettings)).
//! - **The control API does not speak SIP.** The server's SIP leg implements [`SipLine`]
//!   and installs it with [`AppState::set_sip`]; without it these operations answer 503
//!   `PHONE_SIP_UNAVAILABLE`.
//! - **Store first.** A call is stored `dialing` under the SIP Call-ID voxgate will use
//!   before the INVITE leaves, so the voice core finds its agent the moment the callee
//!   answers; a call that is never answered is settled `busy`, `no_answer` or `failed` by
//!   the task that waits for the outcome.
//! - **A number pinned to an agent keeps its trunk registered.** After every change to
//!   numbers or providers, and at start, [`sync_registrations`] hands the SIP leg the set
//!   of trunks to keep registered; the leg refreshes them before expiry and re-registers
//!   with backoff on failure.

use std::fmt::Debug;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{check_enabled, spec_of};
use crate::e164::{E164, clip};
use crate::error::{ApiError, ErrorCode};
use crate::ids::new_id;
use crate::secrets::Secret;
use crate::state::AppState;
use crate::store::{Element, ProviderRecord};

/// How long `sip-register-test` waits for the registrar.
pub const REGISTER_TEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A registration the SIP leg makes: `sip:{username}@{registrar host}` at the registrar.
#[derive(Clone)]
pub struct SipRegistration {
    /// Stable key (the provider id): the same key is the same registration.
    pub key: String,
    /// The registrar, `sip:host[:port]`.
    pub registrar: String,
    /// The user name (also the address of record's user part).
    pub username: String,
    /// The password.
    pub password: Secret,
}

impl Debug for SipRegistration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SipRegistration")
            .field("key", &self.key)
            .field("registrar", &self.registrar)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// A call the SIP leg places through a trunk.
#[derive(Debug, Clone)]
pub struct SipDial {
    /// The SIP Call-ID to use (the call is stored under it already).
    pub call_id: String,
    /// The callee, E.164 (dialled as `sip:{to}@{registrar host}`).
    pub to: String,
    /// The trunk: where the INVITE goes and the credentials for its challenge.
    pub trunk: SipRegistration,
    /// Seconds to let it ring.
    pub ring_timeout_s: u32,
}

/// Why the SIP leg could not do what it was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SipFailure {
    /// The registrar's host did not resolve, or nothing answered.
    #[error("the SIP peer could not be reached: {0}")]
    Unreachable(String),
    /// The peer answered with this final status.
    #[error("the SIP peer answered {0}")]
    Status(u16),
    /// No final answer in time.
    #[error("the SIP peer did not answer in time")]
    Timeout,
    /// voxgate has no room for another call (slots or RTP ports).
    #[error("no free call slot or RTP port")]
    Busy,
}

/// The server's SIP leg, as the control API sees it.
pub trait SipLine: Send + Sync + Debug + 'static {
    /// Places `dial`; resolves when the callee answers (the voice core runs the call from
    /// there) or the call fails.
    fn dial(&self, dial: SipDial) -> BoxFuture<'static, Result<(), SipFailure>>;
    /// One REGISTER round trip with digest authentication, then an unregister: the granted
    /// expiry in seconds.
    fn register_once(
        &self,
        registration: SipRegistration,
    ) -> BoxFuture<'static, Result<u32, SipFailure>>;
    /// Keeps exactly `registrations` registered (by key): new ones start, dropped ones are
    /// unregistered, changed ones restart.
    fn keep_registered(&self, registrations: Vec<SipRegistration>);
}

/// The installed SIP leg, or 503 `PHONE_SIP_UNAVAILABLE`.
fn line(state: &AppState) -> Result<&dyn SipLine, ApiError> {
    state.sip().ok_or_else(|| ApiError::Unavailable {
        code: ErrorCode::PhoneSipUnavailable,
        message: "the SIP leg is not running on this server (sip.enabled)".to_owned(),
    })
}

/// The host (and port) of a `sip:host[:port]` registrar, checked: what `registrar` must look
/// like in a provider.
///
/// # Errors
///
/// `PROVIDER_INVALID` naming what is wrong.
pub fn registrar_host(registrar: &str) -> Result<&str, ApiError> {
    let bad = || {
        ApiError::invalid(
            ErrorCode::ProviderInvalid,
            format!(
                "registrar must be sip:host or sip:host:port, not {:?}",
                clip(registrar)
            ),
        )
    };
    let host = registrar.strip_prefix("sip:").ok_or_else(bad)?;
    let (name, port) = if host.starts_with('[') {
        match host.split_once("]:") {
            Some((name, port)) => (name.trim_start_matches('['), Some(port)),
            None => (
                host.trim_start_matches('[')
                    .strip_suffix(']')
                    .ok_or_else(bad)?,
                None,
            ),
        }
    } else {
        match host.split_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (host, None),
        }
    };
    let name_ok = !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:".contains(&b));
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p > 0));
    if name_ok && port_ok {
        Ok(host)
    } else {
        Err(bad())
    }
}

/// A trunk's registration from its provider record (the password unsealed).
fn registration_of(
    state: &AppState,
    provider: &ProviderRecord,
) -> Result<SipRegistration, ApiError> {
    let registrar = provider.registrar.clone().ok_or_else(|| {
        ApiError::invalid(
            ErrorCode::PhoneSipNotConfigured,
            "the provider is not a SIP trunk (kind sip with a registrar)",
        )
    })?;
    let password = state
        .sealer()?
        .open(&provider.id, &provider.sealed_secret)?;
    Ok(SipRegistration {
        key: provider.id.clone(),
        registrar,
        username: provider.username.clone(),
        password,
    })
}

/// The element's SIP registration: its trunk (`sip_credential_ref`), else its
/// `webrtc_sip_user` / `webrtc_sip_pass` at the carrier's registrar, else
/// `PHONE_SIP_NOT_CONFIGURED`.
async fn trunk_of(state: &AppState, element: &Element) -> Result<SipRegistration, ApiError> {
    trunk_or_webrtc(state, element)
        .await?
        .ok_or_else(no_sip_credentials)
}

/// `PHONE_SIP_NOT_CONFIGURED`: the element has no SIP credentials.
fn no_sip_credentials() -> ApiError {
    ApiError::invalid(
        ErrorCode::PhoneSipNotConfigured,
        "set sip_credential_ref to a SIP trunk (a provider of kind sip), \
         or webrtc_sip_user and webrtc_sip_pass",
    )
}

/// [`trunk_of`], `None` when the element has neither.
async fn trunk_or_webrtc(
    state: &AppState,
    element: &Element,
) -> Result<Option<SipRegistration>, ApiError> {
    let spec = spec_of(element)?;
    if let Some(id) = spec.sip_credential_ref {
        let provider = state
            .store()
            .provider(&element.circle_id, &id)
            .await?
            .filter(|p| p.kind == "sip")
            .ok_or_else(|| {
                ApiError::invalid(
                    ErrorCode::PhoneSipNotConfigured,
                    format!(
                        "sip_credential_ref {:?} is not a SIP trunk of this circle",
                        clip(&id)
                    ),
                )
            })?;
        return registration_of(state, &provider).map(Some);
    }
    match (spec.webrtc_sip_user, spec.webrtc_sip_pass) {
        (Some(username), Some(sealed)) => Ok(Some(SipRegistration {
            key: element.id.clone(),
            registrar: state.phone().sip_registrar.clone(),
            username,
            password: sealed.open(state.sealer()?, &element.id)?,
        })),
        _ => Ok(None),
    }
}

/// An error of the SIP leg as the API answers it.
fn sip_error(failure: &SipFailure) -> ApiError {
    let (status, code, retryable) = match failure {
        SipFailure::Status(401 | 403 | 407) => (
            axum::http::StatusCode::BAD_GATEWAY,
            ErrorCode::PhoneSipAuthFailed,
            false,
        ),
        SipFailure::Status(_) => (
            axum::http::StatusCode::BAD_GATEWAY,
            ErrorCode::PhoneSipRefused,
            false,
        ),
        SipFailure::Unreachable(_) => (
            axum::http::StatusCode::BAD_GATEWAY,
            ErrorCode::PhoneSipUnreachable,
            true,
        ),
        SipFailure::Timeout => (
            axum::http::StatusCode::GATEWAY_TIMEOUT,
            ErrorCode::PhoneSipTimeout,
            true,
        ),
        SipFailure::Busy => (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::PhoneSipBusy,
            true,
        ),
    };
    ApiError::Carrier {
        status,
        code,
        message: failure.to_string(),
        retryable,
    }
}

/// `sip-register-test` body: credentials to try instead of the stored ones (first-run
/// testing; nothing is saved).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterTest {
    /// SIP user name to try.
    pub sip_user: Option<String>,
    /// SIP password to try.
    pub sip_pass: Option<String>,
}

/// What `sip-register-test` answers. A registrar that refuses, or does not answer, is a
/// result (`success` false), not an error: that is what the test is for.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegisterTested {
    /// The registrar accepted the credentials.
    pub success: bool,
    /// The registrar's final SIP status (200 on success); absent when it never answered.
    pub status: Option<u16>,
    /// The expiry it granted, in seconds.
    pub expires: Option<u32>,
    /// Why it failed, in words.
    pub error: Option<String>,
    /// The typed code of the failure (`PHONE_SIP_AUTH_FAILED`, `PHONE_SIP_TIMEOUT`, ...).
    pub error_code: Option<&'static str>,
    /// The registrar asked, `sip:host[:port]`.
    pub registrar: String,
    /// How long the round trip took.
    pub elapsed_ms: u64,
}

/// `sip-register-test`: one REGISTER round trip with the element's SIP credentials (or
/// the given overrides), then an unregister.
pub async fn register_test(
    state: &AppState,
    element: &Element,
    input: RegisterTest,
) -> Result<RegisterTested, ApiError> {
    check_enabled(element)?;
    let given = |v: Option<String>, field: &str| -> Result<Option<String>, ApiError> {
        match v.filter(|v| !v.is_empty()) {
            Some(v) if v.len() > 128 || v.chars().any(char::is_control) => Err(ApiError::invalid(
                ErrorCode::InvalidBody,
                format!("{field} must be at most 128 characters, without control characters"),
            )),
            other => Ok(other),
        }
    };
    let user = given(input.sip_user, "sip_user")?;
    let pass = given(input.sip_pass, "sip_pass")?;
    let line = line(state)?;
    let trunk = match (trunk_or_webrtc(state, element).await?, user, pass) {
        (Some(mut trunk), user, pass) => {
            if let Some(user) = user {
                trunk.username = user;
            }
            if let Some(pass) = pass {
                trunk.password = Secret::new(pass);
            }
            trunk
        }
        (None, Some(username), Some(pass)) => SipRegistration {
            key: element.id.clone(),
            registrar: state.phone().sip_registrar.clone(),
            username,
            password: Secret::new(pass),
        },
        (None, _, _) => return Err(no_sip_credentials()),
    };
    let registrar = trunk.registrar.clone();
    let started = std::time::Instant::now();
    let outcome = tokio::time::timeout(REGISTER_TEST_TIMEOUT, line.register_once(trunk))
        .await
        .unwrap_or(Err(SipFailure::Timeout));
    let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(match outcome {
        Ok(expires) => RegisterTested {
            success: true,
            status: Some(200),
            expires: Some(expires),
            error: None,
            error_code: None,
            registrar,
            elapsed_ms,
        },
        Err(failure) => RegisterTested {
            success: false,
            status: match failure {
                SipFailure::Status(status) => Some(status),
                _ => None,
            },
            expires: None,
            error: Some(failure.to_string()),
            error_code: Some(sip_error(&failure).code()),
            registrar,
            elapsed_ms,
        },
    })
}

/// `make-call` / `agent-dial` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SipCall {
    /// E.164 callee.
    pub to: String,
    /// The agent that talks: default the number's `telephony_agent`; without one,
    /// `make-call` takes the circle's first agent and `agent-dial` answers `AGENT_REQUIRED`.
    pub agent_id: Option<String>,
    /// Seconds to let it ring, 5-120 (default 60).
    pub timeout_s: Option<u32>,
}

/// What `make-call` and `agent-dial` answer: the INVITE has left; the call's record
/// (`get-call`) tells whether it is answered.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SipDialed {
    /// `make-call`'s word: the call is on its way.
    pub initiated: bool,
    /// `agent-dial`'s word for the same.
    pub success: bool,
    /// voxgate's id, `cal_...`.
    pub call_id: String,
    /// The SIP Call-ID of the INVITE.
    pub sip_call_id: String,
    /// `dialing`.
    pub state: &'static str,
    /// The callee.
    pub to: String,
    /// Always absent here: a call that cannot be placed is an error answer.
    pub error: Option<String>,
}

/// `make-call` (`agent_required` false) and `agent-dial` (true): the call is stored
/// `dialing` under its SIP Call-ID, the INVITE leaves through the element's trunk, and the
/// agent talks when the callee answers. Answers at once; the call's record tells the rest.
pub async fn dial(
    state: &AppState,
    element: &Element,
    input: SipCall,
    agent_required: bool,
) -> Result<SipDialed, ApiError> {
    check_enabled(element)?;
    let spec = spec_of(element)?;
    // The input first: a bad request is 400 whether or not this server has a SIP leg.
    let to = E164::parse(&input.to)?;
    let timeout = super::message::ring_timeout(input.timeout_s)?;
    let line = line(state)?;
    let number = super::calls::calling_number(&spec)?;
    super::calls::check_outbound(state, number.as_str()).await?;
    if agent_required && input.agent_id.is_none() && spec.telephony_agent.is_none() {
        return Err(ApiError::invalid(
            ErrorCode::AgentRequired,
            "agent-dial needs an agent: set telephony_agent or give agent_id",
        ));
    }
    let agent =
        super::calls::talking_agent(state, element, &spec, input.agent_id.as_deref()).await?;
    let trunk = trunk_of(state, element).await?;
    let mut record = super::calls::dialing_for(state, element, &number, &to, agent).await?;
    // The SIP Call-ID: unique, and known before the INVITE leaves.
    record.carrier_call_id = format!("{}@voxgate", new_id("sip"));
    state.store().insert_call(&record).await?;
    state.events().emit(
        "phone.call.placed",
        &element.circle_id,
        &element.id,
        json!({"call_id": record.id, "kind": "sip", "to": record.to}),
    );
    let outcome = line.dial(SipDial {
        call_id: record.carrier_call_id.clone(),
        to: to.to_string(),
        trunk,
        ring_timeout_s: timeout,
    });
    let (state, store) = (state.clone(), state.store_arc());
    let (call_id, sip_call_id) = (record.id.clone(), record.carrier_call_id.clone());
    tokio::spawn(async move {
        let Err(failure) = outcome.await else {
            return;
        };
        tracing::info!(call = %call_id, %failure, "SIP call not answered");
        // Settle the record unless the voice core took it meanwhile.
        let Ok(Some(mut placed)) = store.call_by_carrier_id(&sip_call_id).await else {
            return;
        };
        if placed.state != "dialing" {
            return;
        }
        placed.state = match failure {
            SipFailure::Status(486 | 600) => "busy",
            SipFailure::Status(408 | 480 | 487) | SipFailure::Timeout => "no_answer",
            _ => "failed",
        }
        .to_owned();
        placed.ended_at = Some(state.now_ms());
        placed.end_reason = Some(match failure {
            SipFailure::Status(status) => format!("sip:{status}"),
            SipFailure::Timeout => "sip:timeout".to_owned(),
            SipFailure::Unreachable(_) => "sip:unreachable".to_owned(),
            SipFailure::Busy => "sip:no_capacity".to_owned(),
        });
        placed.error = Some(sip_error(&failure).code().to_owned());
        if let Err(e) = store.update_call(&placed).await {
            tracing::error!(call = %placed.id, error = %e, "settling an unanswered SIP call failed");
        }
    });
    Ok(SipDialed {
        initiated: true,
        success: true,
        call_id: record.id,
        sip_call_id: record.carrier_call_id,
        state: "dialing",
        to: to.to_string(),
        error: None,
    })
}

/// Hands the SIP leg the trunks to keep registered: every SIP trunk that carries a number
/// pinned to an agent. Called at start and after every change to numbers or providers;
/// does nothing without a SIP leg. A trunk whose password cannot be unsealed is skipped
/// (and logged).
///
/// # Errors
///
/// The store's.
pub async fn sync_registrations(state: &AppState) -> Result<usize, ApiError> {
    let Some(line) = state.sip() else {
        return Ok(0);
    };
    let mut registrations = Vec::new();
    for provider in state.store().bound_sip_providers().await? {
        match registration_of(state, &provider) {
            Ok(registration) => registrations.push(registration),
            Err(e) => {
                tracing::error!(provider = %provider.id, code = e.code(), "SIP trunk not registered");
            }
        }
    }
    let n = registrations.len();
    line.keep_registered(registrations);
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrars_are_sip_host_and_optional_port() {
        for (good, host) in [
            ("sip:voip.46elks.com", "voip.46elks.com"),
            ("sip:127.0.0.1:5062", "127.0.0.1:5062"),
            ("sip:[::1]:5060", "[::1]:5060"),
            ("sip:[::1]", "[::1]"),
            ("sip:pbx", "pbx"),
        ] {
            assert_eq!(registrar_host(good).expect(good), host);
        }
        for bad in [
            "",
            "voip.46elks.com",
            "sips:voip.46elks.com",
            "sip:",
            "sip:host:0",
            "sip:host:99999",
            "sip:host:port",
            "sip:a b",
            "sip:user@host",
            "sip:host;transport=tcp",
        ] {
            let e = registrar_host(bad).expect_err(bad);
            assert_eq!(e.code(), "PROVIDER_INVALID", "{bad}");
        }
    }

    #[test]
    fn sip_failures_have_stable_codes() {
        assert_eq!(
            sip_error(&SipFailure::Status(401)).code(),
            "PHONE_SIP_AUTH_FAILED"
        );
        assert_eq!(
            sip_error(&SipFailure::Status(403)).code(),
            "PHONE_SIP_AUTH_FAILED"
        );
        assert_eq!(
            sip_error(&SipFailure::Status(404)).code(),
            "PHONE_SIP_REFUSED"
        );
        assert_eq!(sip_error(&SipFailure::Timeout).code(), "PHONE_SIP_TIMEOUT");
        assert_eq!(
            sip_error(&SipFailure::Unreachable("x".into())).code(),
            "PHONE_SIP_UNREACHABLE"
        );
        assert_eq!(sip_error(&SipFailure::Busy).code(), "PHONE_SIP_BUSY");
    }

    #[test]
    fn registrations_never_show_their_password() {
        let r = SipRegistration {
            key: "prv_1".to_owned(),
            registrar: "sip:pbx".to_owned(),
            username: "4670".to_owned(),
            password: Secret::new("hunter2".to_owned()),
        };
        assert!(!format!("{r:?}").contains("hunter2"));
    }
}
