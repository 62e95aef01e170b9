//! Numbers: sandbox leases (`claim_sandbox_number`, `release_sandbox_number`), rented
//! numbers (`provision`, `release`, `configure`) and `test-connection`.
//!
//! Every change of the element's number is saved as a new spec version (so the history
//! shows when a number came and went), and a provisioned number is registered in the
//! telephony numbers table so that calls to it route to the element's agent.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::hooks::new_token;
use super::sms::not_provisioned;
use super::{check_enabled, client_for, spec_of};
use crate::carrier::Doing;
use crate::e164::clip;
use crate::element::ElementType;
use crate::error::{ApiError, ErrorCode};
use crate::ids::{new_id, rfc3339};
use crate::state::AppState;
use crate::store::{Element, NumberRecord};

/// Saves `change` merged into the element's spec as a new version.
async fn save(state: &AppState, element: &Element, change: &Value) -> Result<Element, ApiError> {
    let mut spec = ElementType::PhoneNumber.unfill(&element.spec);
    crate::element::merge::merge(&mut spec, change);
    let validated = ElementType::PhoneNumber.validate(&spec)?;
    state
        .store()
        .save_spec(
            &element.id,
            element.version,
            &validated.spec,
            state.now_ms(),
        )
        .await
        .map_err(ApiError::from)
}

/// `claim_sandbox_number` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Claimed {
    /// True: the element holds a sandbox number (idempotent: a second claim answers the
    /// same lease).
    pub claimed: bool,
    /// True.
    pub sandbox_managed: bool,
    /// The leased number, E.164.
    pub phone_number: String,
    /// The lease.
    pub lease_id: String,
    /// When the lease began (RFC 3339).
    pub claimed_at: String,
    /// Whether this call took the lease (false: the element had it already).
    pub newly_claimed: bool,
    /// The sandbox pool.
    pub pool: SandboxPool,
    /// What a sandbox number may do.
    pub limits: SandboxLimits,
    /// What to do next.
    pub next_step: String,
}

/// The sandbox pool.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SandboxPool {
    /// How many numbers it holds.
    pub size: usize,
}

/// A sandbox number's limits.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SandboxLimits {
    /// SMS per circle per UTC day.
    pub sms_daily_cap: i64,
    /// True: inbound SMS and calls are not routed (v1).
    pub outbound_only: bool,
}

/// `claim_sandbox_number`: leases a pool number to the element (idempotent: a second
/// claim returns the same number).
pub async fn claim_sandbox(state: &AppState, element: &Element) -> Result<Claimed, ApiError> {
    check_enabled(element)?;
    let spec = spec_of(element)?;
    if spec.elks_number_id.is_some() || (spec.phone_number.is_some() && !spec.sandbox_managed) {
        return Err(ApiError::conflict(
            ErrorCode::PhoneAlreadyProvisioned,
            "the element already has its own number; release it first",
        ));
    }
    let pool = &state.phone().sandbox.pool;
    let lease = state
        .store()
        .lease_sandbox(&element.circle_id, &element.id, pool, state.now_ms())
        .await?
        .ok_or_else(|| ApiError::Unavailable {
            code: ErrorCode::PhoneSandboxExhausted,
            message: format!("all {} sandbox numbers are leased", pool.len()),
        })?;
    if spec.phone_number.as_ref().map(|n| n.as_str()) != Some(lease.number.as_str())
        || !spec.sandbox_managed
    {
        save(
            state,
            element,
            &json!({"phone_number": lease.number, "sandbox_managed": true}),
        )
        .await?;
    }
    Ok(Claimed {
        claimed: true,
        sandbox_managed: true,
        phone_number: lease.number,
        lease_id: lease.id,
        claimed_at: rfc3339(lease.leased_at),
        newly_claimed: lease.new,
        pool: SandboxPool { size: pool.len() },
        limits: SandboxLimits {
            sms_daily_cap: state.phone().sandbox.sms_daily_cap,
            outbound_only: true,
        },
        next_step: "send-sms works now: POST ops/send-sms {\"to\": \"+46...\", \"body\": \"...\"}"
            .to_owned(),
    })
}

/// `release_sandbox_number` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SandboxReleased {
    /// Whether a lease was ended.
    pub released: bool,
    /// How many leases were ended (0 or 1).
    pub leases_released: u32,
    /// The number given back.
    pub phone_number: Option<String>,
}

/// `release_sandbox_number` (idempotent).
pub async fn release_sandbox(
    state: &AppState,
    element: &Element,
) -> Result<SandboxReleased, ApiError> {
    let spec = spec_of(element)?;
    let released = state.store().release_sandbox(&element.id).await?;
    if spec.sandbox_managed {
        save(
            state,
            element,
            &json!({"phone_number": null, "sandbox_managed": false}),
        )
        .await?;
    }
    Ok(SandboxReleased {
        released: released.is_some(),
        leases_released: u32::from(released.is_some()),
        phone_number: released,
    })
}

/// `provision` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Provision {
    /// ISO 3166-1 alpha-2, upper case.
    pub country: String,
    /// `sms`, `mms`, `voice`; default sms and voice.
    #[serde(default)]
    pub capabilities: Option<Vec<String>>,
}

/// `provision` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Provisioned {
    /// True.
    pub provisioned: bool,
    /// The rented number, E.164.
    pub phone_number: String,
    /// The carrier's id of it.
    pub elks_number_id: String,
    /// Its country.
    pub country: String,
    /// What it was rented for.
    pub capabilities: Vec<String>,
    /// The webhooks registered at the carrier.
    pub webhooks: Webhooks,
}

/// `provision`: rents a number at the carrier, saves it, registers it for call routing and
/// configures its webhooks.
pub async fn provision(
    state: &AppState,
    element: &Element,
    input: Provision,
) -> Result<Provisioned, ApiError> {
    check_enabled(element)?;
    let spec = spec_of(element)?;
    if spec.phone_number.is_some() {
        return Err(ApiError::conflict(
            ErrorCode::PhoneAlreadyProvisioned,
            "the element has a number already; release it first",
        ));
    }
    if input.country.len() != 2 || !input.country.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(ApiError::invalid(
            ErrorCode::PhoneInvalidCountry,
            format!(
                "{:?} is not an ISO 3166-1 alpha-2 code in upper case",
                clip(&input.country)
            ),
        ));
    }
    let capabilities = input
        .capabilities
        .unwrap_or_else(|| vec!["sms".to_owned(), "voice".to_owned()]);
    if capabilities.is_empty()
        || capabilities
            .iter()
            .any(|c| !matches!(c.as_str(), "sms" | "mms" | "voice"))
    {
        return Err(ApiError::invalid(
            ErrorCode::PhoneInvalidConfig,
            "capabilities must be a non-empty list of sms, mms and voice",
        ));
    }
    let provider = spec.credential_ref.clone().ok_or_else(|| {
        ApiError::invalid(
            ErrorCode::PhoneCredentialMissing,
            "provision needs credential_ref",
        )
    })?;
    let client = client_for(state, element, &spec).await?;
    let caps: Vec<&str> = capabilities.iter().map(String::as_str).collect();
    let rented = client
        .allocate_number(&input.country, &caps)
        .await
        .map_err(|f| f.into_api(Doing::Other))?;
    let number = rented.number.clone().ok_or_else(|| ApiError::Carrier {
        status: axum::http::StatusCode::BAD_GATEWAY,
        code: ErrorCode::PhoneCarrierUnavailable,
        message: "the carrier allocated a number without saying which".to_owned(),
        retryable: false,
    })?;
    tracing::info!(element = %element.id, carrier_number_id = %rented.id, "number rented");
    let saved = save(
        state,
        element,
        &json!({"phone_number": number, "country": input.country, "elks_number_id": rented.id}),
    )
    .await?;
    state
        .store()
        .insert_number(&NumberRecord {
            id: new_id("num"),
            circle_id: element.circle_id.clone(),
            number: number.clone(),
            provider_id: provider,
            agent_id: spec.telephony_agent.clone(),
            inbound_enabled: true,
            outbound_enabled: true,
            created_at: state.now_ms(),
            updated_at: state.now_ms(),
        })
        .await?;
    let hooks = register_hooks(state, &saved).await?;
    state.events().emit(
        "phone.number.provisioned",
        &element.circle_id,
        &element.id,
        json!({"number": number}),
    );
    Ok(Provisioned {
        provisioned: true,
        phone_number: number,
        elks_number_id: rented.id,
        country: input.country,
        capabilities,
        webhooks: hooks,
    })
}

/// `configure` body: the number's own flows, both optional. Given, they are saved in the
/// spec: `voice_start_url` is then asked what to do with each inbound call (voxgate passes
/// the carrier's request on and returns its actions) and `sms_url` gets every inbound SMS.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Configure {
    /// Where inbound SMS are also posted; `""` clears it.
    pub sms_url: Option<String>,
    /// The number's IVR flow; `""` clears it (voxgate's agent answers).
    pub voice_start_url: Option<String>,
}

/// `configure` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Configured {
    /// True: the carrier has the webhooks.
    pub configured: bool,
    /// The webhooks registered at the carrier (voxgate's; the token is not shown).
    pub webhooks: Webhooks,
    /// The number's own flows, as saved in the spec.
    pub sms_url: Option<String>,
    /// The IVR flow inbound calls are passed to, if any.
    pub voice_start_url: Option<String>,
}

/// The webhook URLs registered at the carrier, without their token.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Webhooks {
    /// Inbound SMS (unset without the sms capability).
    pub sms_url: Option<String>,
    /// Inbound calls (unset without the voice capability).
    pub voice_start: Option<String>,
}

/// `configure`: saves the number's own flows, if given, and registers fresh webhook URLs
/// (a new token) at the carrier; the old token stops working once the carrier has the new
/// one.
pub async fn configure(
    state: &AppState,
    element: &Element,
    input: Configure,
) -> Result<Configured, ApiError> {
    check_enabled(element)?;
    let mut change = serde_json::Map::new();
    for (name, value) in [
        ("sms_url", &input.sms_url),
        ("voice_start_url", &input.voice_start_url),
    ] {
        if let Some(value) = value {
            let value = if value.is_empty() {
                Value::Null
            } else {
                Value::String(value.clone())
            };
            change.insert(name.to_owned(), value);
        }
    }
    let spec = spec_of(element)?;
    // Checked before anything is saved or sent.
    if spec.sandbox_managed {
        return Err(sandbox_takes_no_hooks());
    }
    spec.elks_number_id.clone().ok_or_else(not_provisioned)?;
    let element = if change.is_empty() {
        element.clone()
    } else {
        save(state, element, &Value::Object(change)).await?
    };
    let webhooks = register_hooks(state, &element).await?;
    let spec = spec_of(&element)?;
    Ok(Configured {
        configured: true,
        webhooks,
        sms_url: spec.sms_url,
        voice_start_url: spec.voice_start_url,
    })
}

fn sandbox_takes_no_hooks() -> ApiError {
    ApiError::conflict(
        ErrorCode::PhoneSandboxNumber,
        "sandbox numbers are outbound only and take no webhooks",
    )
}

/// Registers voxgate's webhook URLs with a fresh token at the carrier.
async fn register_hooks(state: &AppState, element: &Element) -> Result<Webhooks, ApiError> {
    let spec = spec_of(element)?;
    if spec.sandbox_managed {
        return Err(sandbox_takes_no_hooks());
    }
    let id = spec.elks_number_id.clone().ok_or_else(not_provisioned)?;
    let client = client_for(state, element, &spec).await?;
    let (token, hash) = new_token();
    let base = format!(
        "{}/api/webhooks/46elks",
        state.phone().public_url.trim_end_matches('/')
    );
    let on = |enabled: bool, path: &str| enabled.then(|| format!("{base}/{path}"));
    let shown = Webhooks {
        sms_url: on(spec.capabilities.sms, "sms"),
        voice_start: on(spec.capabilities.voice, "voice/start"),
    };
    let with_token = |url: &Option<String>| {
        url.as_ref()
            .map_or_else(|| "none".to_owned(), |u| format!("{u}?token={token}"))
    };
    let fields = [
        ("sms_url", with_token(&shown.sms_url)),
        ("voice_start", with_token(&shown.voice_start)),
        ("sms_replies", "no".to_owned()),
    ];
    client
        .configure_number(&id, &fields)
        .await
        .map_err(|f| f.into_api(Doing::Other))?;
    state
        .store()
        .set_hook(&element.id, Some(&hash), state.now_ms())
        .await?;
    Ok(shown)
}

/// `release` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Released {
    /// True.
    pub released: bool,
    /// The number given back.
    pub phone_number: String,
}

/// `release`: gives the rented number back to the carrier for good, and forgets it. The
/// number's own flows (`sms_url`, `voice_start_url`) stay in the spec.
pub async fn release(state: &AppState, element: &Element) -> Result<Released, ApiError> {
    let spec = spec_of(element)?;
    if spec.sandbox_managed {
        return Err(ApiError::conflict(
            ErrorCode::PhoneSandboxNumber,
            "a sandbox number is given back with release_sandbox_number",
        ));
    }
    let id = spec.elks_number_id.clone().ok_or_else(not_provisioned)?;
    let number = spec
        .phone_number
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    let (_, active) = state.store().call_counts(&number).await?;
    if active > 0 {
        return Err(ApiError::conflict(
            ErrorCode::PhoneCallsActive,
            format!("{active} call(s) on {number} are active; release after they end"),
        ));
    }
    let client = client_for(state, element, &spec).await?;
    client
        .deallocate_number(&id)
        .await
        .map_err(|f| f.into_api(Doing::Other))?;
    state
        .store()
        .set_hook(&element.id, None, state.now_ms())
        .await?;
    if let Some(registered) = state.store().number_by_e164(&number).await?
        && registered.circle_id == element.circle_id
    {
        state
            .store()
            .delete_number(&element.circle_id, &registered.id)
            .await?;
    }
    save(
        state,
        element,
        &json!({"phone_number": null, "elks_number_id": null}),
    )
    .await?;
    state.events().emit(
        "phone.number.released",
        &element.circle_id,
        &element.id,
        json!({"number": number}),
    );
    Ok(Released {
        released: true,
        phone_number: number,
    })
}

/// `test-connection` answer. A carrier that cannot be reached or refuses the login is an
/// answer here, not an error: `connected` / `authenticated` false and `error` say which.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConnectionTest {
    /// The carrier's API answered.
    pub connected: bool,
    /// It accepted the credentials.
    pub authenticated: bool,
    /// The account's balance in `currency` (the carrier counts 1/10000 units).
    pub account_balance: Option<f64>,
    /// The balance's currency (`SEK`, `EUR`).
    pub currency: Option<String>,
    /// The number at the carrier: `active`, `inactive`, `deallocated`, or `sandbox` /
    /// `not_provisioned` when the element rents none.
    pub number_status: String,
    /// The number, E.164.
    pub phone_number: Option<String>,
    /// What failed: `{code, message}` with the error code.
    pub error: Option<TestError>,
}

/// What a connection test found wrong.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TestError {
    /// The error code (`PHONE_AUTH_FAILED`, `PHONE_CARRIER_UNAVAILABLE`, ...).
    pub code: String,
    /// What happened.
    pub message: String,
}

/// `test-connection`: the account's status and balance and the number's status at the
/// carrier. Sends nothing and changes nothing.
pub async fn test_connection(
    state: &AppState,
    element: &Element,
) -> Result<ConnectionTest, ApiError> {
    let spec = spec_of(element)?;
    let phone_number = spec.phone_number.as_ref().map(ToString::to_string);
    let client = client_for(state, element, &spec).await?;
    let failed = |e: ApiError, phone_number: Option<String>| {
        let connected = e.code() != ErrorCode::PhoneCarrierUnavailable.as_str();
        ConnectionTest {
            connected,
            authenticated: connected && e.code() != ErrorCode::PhoneAuthFailed.as_str(),
            account_balance: None,
            currency: None,
            number_status: "unknown".to_owned(),
            phone_number,
            error: Some(TestError {
                code: e.code().to_owned(),
                message: e.to_string(),
            }),
        }
    };
    let account = match client.account().await {
        Ok(account) => account,
        Err(f) => return Ok(failed(f.into_api(Doing::Other), phone_number)),
    };
    #[allow(clippy::cast_precision_loss)] // balances are far below 2^52
    let balance = account.balance as f64 / 10_000.0;
    let (number_status, phone_number) = match &spec.elks_number_id {
        Some(id) => match client.get_number(id).await {
            Ok(n) => {
                let status = if n.deallocated.is_some() {
                    "deallocated"
                } else if n.active == "yes" {
                    "active"
                } else {
                    "inactive"
                };
                (status.to_owned(), n.number.or(phone_number))
            }
            Err(f) => {
                let mut answer = failed(f.into_api(Doing::Other), phone_number);
                answer.account_balance = Some(balance);
                answer.currency = Some(account.currency);
                return Ok(answer);
            }
        },
        None if spec.sandbox_managed => ("sandbox".to_owned(), phone_number),
        None => ("not_provisioned".to_owned(), phone_number),
    };
    Ok(ConnectionTest {
        connected: true,
        authenticated: true,
        account_balance: Some(balance),
        currency: Some(account.currency),
        number_status,
        phone_number,
        error: None,
    })
}

/// What a phone-number element needs before it is deleted: no live calls on its number
/// and no rented number (it would go on costing rent with nobody to release it); a
/// sandbox number goes back to the pool and the webhook token is dropped.
pub async fn before_delete(state: &AppState, element: &Element) -> Result<(), ApiError> {
    let spec = spec_of(element)?;
    if let Some(number) = &spec.phone_number {
        let (_, active) = state.store().call_counts(number.as_str()).await?;
        if active > 0 {
            return Err(ApiError::conflict(
                ErrorCode::PhoneCallsActive,
                format!("{active} call(s) on {number} are active; delete after they end"),
            ));
        }
    }
    if spec.elks_number_id.is_some() {
        return Err(ApiError::conflict(
            ErrorCode::PhoneNumberProvisioned,
            "the element rents a number at the carrier; release it first",
        ));
    }
    state.store().release_sandbox(&element.id).await?;
    state
        .store()
        .set_hook(&element.id, None, state.now_ms())
        .await?;
    Ok(())
}
