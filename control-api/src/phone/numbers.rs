//! Numbers: sandbox leases (`claim_sandbox_number`, `release_sandbox_number`), rented
//! numbers (`provision`, `release`, `configure`) and `test-connection`.
//!
//! Every change of the element's number is saved as a new spec version (so the history
//! shows when a number came and went), and a provisioned number is registered in the
//! telephony numbers table so that calls to it route to the element's agent.

use serde::Deserialize;
use serde_json::{Value, json};

use super::hooks::new_token;
use super::sms::not_provisioned;
use super::{check_enabled, client_for, spec_of};
use crate::carrier::{Doing, time};
use crate::e164::clip;
use crate::element::ElementType;
use crate::error::{ApiError, ErrorCode};
use crate::ids::{new_id, now_ms};
use crate::state::AppState;
use crate::store::{Element, NumberRecord};

/// Saves `change` merged into the element's spec as a new version.
async fn save(state: &AppState, element: &Element, change: &Value) -> Result<Element, ApiError> {
    let mut spec = element.spec.clone();
    crate::element::merge::merge(&mut spec, change);
    let validated = ElementType::PhoneNumber.validate(&spec)?;
    state
        .store()
        .save_spec(&element.id, element.version, &validated.spec, now_ms())
        .await
}

/// `claim_sandbox_number`: leases a pool number to the element (idempotent: a second
/// claim returns the same number).
pub async fn claim_sandbox(state: &AppState, element: &Element) -> Result<Value, ApiError> {
    check_enabled(element)?;
    let spec = spec_of(element)?;
    if spec.carrier_number_id.is_some() || (spec.number.is_some() && !spec.sandbox) {
        return Err(ApiError::conflict(
            ErrorCode::PhoneAlreadyProvisioned,
            "the element already has its own number; release it first",
        ));
    }
    let pool = &state.phone().sandbox.pool;
    let number = state
        .store()
        .lease_sandbox(&element.circle_id, &element.id, pool, now_ms())
        .await?
        .ok_or_else(|| ApiError::Unavailable {
            code: ErrorCode::PhoneSandboxExhausted,
            message: format!("all {} sandbox numbers are leased", pool.len()),
        })?;
    if spec.number.as_ref().map(|n| n.as_str()) != Some(number.as_str()) {
        save(state, element, &json!({"number": number, "sandbox": true})).await?;
    }
    Ok(json!({
        "number": number,
        "sandbox": true,
        "outbound_only": true,
        "sms_daily_cap": state.phone().sandbox.sms_daily_cap,
    }))
}

/// `release_sandbox_number` (idempotent).
pub async fn release_sandbox(state: &AppState, element: &Element) -> Result<Value, ApiError> {
    let spec = spec_of(element)?;
    let released = state.store().release_sandbox(&element.id).await?;
    if spec.sandbox {
        save(state, element, &json!({"number": null, "sandbox": false})).await?;
    }
    Ok(json!({"released": released.is_some(), "number": released}))
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

/// `provision`: rents a number at the carrier, saves it, registers it for call routing and
/// configures its webhooks.
pub async fn provision(
    state: &AppState,
    element: &Element,
    input: Provision,
) -> Result<Value, ApiError> {
    check_enabled(element)?;
    let spec = spec_of(element)?;
    if spec.number.is_some() {
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
        &json!({"number": number, "country": input.country, "carrier_number_id": rented.id}),
    )
    .await?;
    state
        .store()
        .insert_number(&NumberRecord {
            id: new_id("num"),
            circle_id: element.circle_id.clone(),
            number: number.clone(),
            provider_id: provider,
            agent_id: spec.agent_id.clone(),
            created_at: now_ms(),
        })
        .await?;
    let hooks = configure(state, &saved).await?;
    state.events().emit(
        "phone.number.provisioned",
        &element.circle_id,
        &element.id,
        json!({"number": number}),
    );
    Ok(json!({
        "number": number,
        "carrier_number_id": rented.id,
        "country": input.country,
        "capabilities": capabilities,
        "webhooks": hooks,
    }))
}

/// `configure`: registers fresh webhook URLs (a new token) at the carrier; the old token
/// stops working once the carrier has the new one.
pub async fn configure(state: &AppState, element: &Element) -> Result<Value, ApiError> {
    check_enabled(element)?;
    let spec = spec_of(element)?;
    if spec.sandbox {
        return Err(ApiError::conflict(
            ErrorCode::PhoneSandboxNumber,
            "sandbox numbers are outbound only and take no webhooks",
        ));
    }
    let id = spec.carrier_number_id.clone().ok_or_else(not_provisioned)?;
    let client = client_for(state, element, &spec).await?;
    let (token, hash) = new_token();
    let base = format!(
        "{}/api/webhooks/46elks",
        state.phone().public_url.trim_end_matches('/')
    );
    let sms_url = format!("{base}/sms?token={token}");
    let voice_start = format!("{base}/voice/start?token={token}");
    let fields = [
        (
            "sms_url",
            if spec.sms_enabled {
                sms_url
            } else {
                "none".to_owned()
            },
        ),
        (
            "voice_start",
            if spec.voice_enabled {
                voice_start
            } else {
                "none".to_owned()
            },
        ),
        ("sms_replies", "no".to_owned()),
    ];
    client
        .configure_number(&id, &fields)
        .await
        .map_err(|f| f.into_api(Doing::Other))?;
    state
        .store()
        .set_hook(&element.id, Some(&hash), now_ms())
        .await?;
    // The spec shows where the carrier calls, never the token.
    let current = state
        .store()
        .element_by_id(&element.id)
        .await?
        .unwrap_or_else(|| element.clone());
    let shown = json!({
        "sms_url": spec.sms_enabled.then(|| format!("{base}/sms")),
        "voice_start_url": spec.voice_enabled.then(|| format!("{base}/voice/start")),
    });
    save(state, &current, &shown).await?;
    Ok(shown)
}

/// `release`: gives the rented number back to the carrier for good, and forgets it.
pub async fn release(state: &AppState, element: &Element) -> Result<Value, ApiError> {
    let spec = spec_of(element)?;
    if spec.sandbox {
        return Err(ApiError::conflict(
            ErrorCode::PhoneSandboxNumber,
            "a sandbox number is given back with release_sandbox_number",
        ));
    }
    let id = spec.carrier_number_id.clone().ok_or_else(not_provisioned)?;
    let number = spec
        .number
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
    state.store().set_hook(&element.id, None, now_ms()).await?;
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
        &json!({"number": null, "carrier_number_id": null, "sms_url": null, "voice_start_url": null}),
    )
    .await?;
    state.events().emit(
        "phone.number.released",
        &element.circle_id,
        &element.id,
        json!({"number": number}),
    );
    Ok(json!({"released": true, "number": number}))
}

/// `test-connection`: the account's status and balance and the number's status at the
/// carrier. Sends nothing and changes nothing.
pub async fn test_connection(state: &AppState, element: &Element) -> Result<Value, ApiError> {
    let spec = spec_of(element)?;
    let client = client_for(state, element, &spec).await?;
    let account = client
        .account()
        .await
        .map_err(|f| f.into_api(Doing::Other))?;
    let number = match &spec.carrier_number_id {
        Some(id) => {
            let n = client
                .get_number(id)
                .await
                .map_err(|f| f.into_api(Doing::Other))?;
            json!({"number": n.number, "active": n.active == "yes",
                   "capabilities": n.capabilities,
                   "deallocated": n.deallocated.as_deref().and_then(time::parse).map(crate::ids::rfc3339)})
        }
        None => json!({"number": spec.number, "sandbox": spec.sandbox}),
    };
    Ok(json!({
        "ok": true,
        "account": {"currency": account.currency, "balance": account.balance},
        "number": number,
    }))
}

/// What a phone-number element needs before it is deleted: no live calls on its number
/// and no rented number (it would go on costing rent with nobody to release it); a
/// sandbox number goes back to the pool and the webhook token is dropped.
pub async fn before_delete(state: &AppState, element: &Element) -> Result<(), ApiError> {
    let spec = spec_of(element)?;
    if let Some(number) = &spec.number {
        let (_, active) = state.store().call_counts(number.as_str()).await?;
        if active > 0 {
            return Err(ApiError::conflict(
                ErrorCode::PhoneCallsActive,
                format!("{active} call(s) on {number} are active; delete after they end"),
            ));
        }
    }
    if spec.carrier_number_id.is_some() {
        return Err(ApiError::conflict(
            ErrorCode::PhoneNumberProvisioned,
            "the element rents a number at the carrier; release it first",
        ));
    }
    state.store().release_sandbox(&element.id).await?;
    state.store().set_hook(&element.id, None, now_ms()).await?;
    Ok(())
}
