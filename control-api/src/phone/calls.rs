//! Calls on a number: `list-calls`, `get-call`, and the carrier's `whenhangup`, which
//! completes what the voice core could not see.
//!
//! A call that reached voxgate's Realtime leg is recorded by the voice core's recorder
//! (from `hello` to `bye`, with its turns). A call that never did — the caller hung up
//! before the agent answered, it was forwarded, or the Realtime URL could not be reached —
//! is known only from the carrier's hang-up webhook: it is recorded from there, as `missed`
//! when it was never picked up.

use serde::Deserialize;
use serde_json::{Value, json};

use super::page::{PageQuery, cut, encode_token};
use super::{check_enabled, client_for, spec_of};
use crate::carrier::webhook::Hangup;
use crate::carrier::{Doing, ElksClient, NewCall};
use crate::directory;
use crate::e164::E164;
use crate::e164::clip;
use crate::element::phone::PhoneSpec;
use crate::error::{ApiError, ErrorCode};
use crate::ids::{new_id, now_ms};
use crate::routes::calls::CallView;
use crate::state::AppState;
use crate::store::{AgentRecord, CallRecord, Element};

/// The element's number, or `PHONE_NUMBER_NOT_PROVISIONED`.
fn number_of(element: &Element) -> Result<String, ApiError> {
    spec_of(element)?
        .phone_number
        .map(|n| n.to_string())
        .ok_or_else(super::sms::not_provisioned)
}

/// `list-calls`: calls on the number, newest first (`direction` `incoming`|`outgoing`).
pub async fn list(
    state: &AppState,
    element: &Element,
    query: &PageQuery,
) -> Result<Value, ApiError> {
    let number = number_of(element)?;
    let page = query.check()?;
    let direction = page.direction.map(|d| {
        if d == "incoming" {
            "inbound"
        } else {
            "outbound"
        }
    });
    let before = page.cursor.as_ref().map(|(at, id)| (*at, id.as_str()));
    let rows = state
        .store()
        .calls_page(
            &element.circle_id,
            &number,
            direction,
            before,
            page.limit + 1,
        )
        .await?;
    let (rows, next) = cut(rows, page.limit, |c| encode_token(c.started_at, &c.id));
    let items: Vec<CallView> = rows.into_iter().map(|c| CallView::new(c, None)).collect();
    Ok(json!({"items": items, "next_page_token": next}))
}

/// `get-call` query.
#[derive(Debug, Deserialize, utoipa::IntoParams, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GetCall {
    /// `cal_...`.
    pub call_id: String,
}

/// `get-call`: one call on the number, with its turns.
pub(crate) async fn get(
    state: &AppState,
    element: &Element,
    id: &str,
) -> Result<CallView, ApiError> {
    let number = number_of(element)?;
    let call = state
        .store()
        .call(&element.circle_id, id)
        .await?
        .filter(|c| c.number == number)
        .ok_or_else(|| {
            ApiError::not_found(
                ErrorCode::CallNotFound,
                format!("no call {:?} on this number", clip(id)),
            )
        })?;
    let turns = state.store().turns(&call.id).await?;
    Ok(CallView::new(call, Some(turns)))
}

/// The carrier says a call on `element`'s number ended. Calls the voice core recorded are
/// left to it; others are recorded here.
pub async fn hung_up(state: &AppState, element: &Element, hangup: &Hangup) -> Result<(), ApiError> {
    if let Some(mut placed) = state.store().call_by_carrier_id(&hangup.callid).await? {
        // A spoken message ends here, played or not.
        if placed.state == "dialing"
            && let Some(spoken) = state.store().call_audio_of(&placed.id).await?
        {
            return super::message::hung_up(state, placed, &spoken, hangup).await;
        }
        // An agent call the callee never answered is over; one that reached the
        // Realtime leg is the recorder's to finish.
        if placed.state == "dialing" {
            placed.state = if hangup.state == "busy" {
                "busy"
            } else {
                "failed"
            }
            .to_owned();
            placed.ended_at = Some(now_ms());
            placed.end_reason = Some(format!("carrier:{}", clip(&hangup.state)));
            state.store().update_call(&placed).await?;
        }
        return Ok(());
    }
    let number = number_of(element)?;
    let now = now_ms();
    let answered = hangup.start.is_some() && hangup.state == "success";
    let incoming = hangup.direction != "outgoing";
    let record = CallRecord {
        id: new_id("cal"),
        circle_id: element.circle_id.clone(),
        carrier_call_id: hangup.callid.clone(),
        number,
        direction: if incoming { "inbound" } else { "outbound" }.to_owned(),
        from: hangup.from.clone(),
        to: hangup.to.clone(),
        state: match (answered, incoming) {
            (true, _) => "completed",
            (false, true) => "missed",
            (false, false) => "failed",
        }
        .to_owned(),
        agent_id: None,
        thread_id: None,
        started_at: hangup.start.unwrap_or(now),
        answered_at: hangup.start,
        ended_at: Some(
            hangup
                .start
                .zip(hangup.duration)
                .map_or(now, |(start, s)| start + s * 1000),
        ),
        end_reason: Some(format!("carrier:{}", clip(&hangup.state))),
        error: None,
    };
    state.store().insert_call(&record).await?;
    if record.state == "missed" {
        state.events().emit(
            "phone.call.missed",
            &element.circle_id,
            &element.id,
            json!({"call_id": record.id, "from": record.from}),
        );
    }
    Ok(())
}

/// `agent-call` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentCall {
    /// E.164 callee.
    pub to: String,
    /// The agent that talks; default the number's agent, else the circle's first.
    pub agent_id: Option<String>,
    /// Seconds to let it ring, 5-120 (default 60).
    pub timeout_s: Option<u32>,
}

/// `agent-call`: the call record is stored (`dialing`) before the carrier is asked; the
/// carrier connects the answered call to voxgate's Realtime WebSocket, where the voice
/// core finds the record by the carrier's call id and the agent introduces itself.
pub async fn agent_call(
    state: &AppState,
    element: &Element,
    input: AgentCall,
) -> Result<Value, ApiError> {
    check_enabled(element)?;
    let spec = spec_of(element)?;
    let to = E164::parse(&input.to)?;
    let timeout = super::message::ring_timeout(input.timeout_s)?;
    let number = calling_number(&spec)?;
    let ws = state
        .phone()
        .voice_ws_url
        .clone()
        .ok_or_else(|| ApiError::Unavailable {
            code: ErrorCode::PhoneVoiceUnavailable,
            message: "this server has no Realtime WebSocket URL configured".to_owned(),
        })?;
    let agent = talking_agent(state, element, &spec, input.agent_id.as_deref()).await?;
    let client = client_for(state, element, &spec).await?;
    let record = dialing_for(state, element, &number, &to, agent).await?;
    state.store().insert_call(&record).await?;
    let voice_start = json!({"connect": ws});
    let carrier_id = place(
        state,
        element,
        &client,
        record.clone(),
        voice_start,
        timeout,
        "agent",
    )
    .await?;
    Ok(json!({"call_id": record.id, "carrier_call_id": carrier_id, "state": "dialing", "to": to}))
}

/// The number a call is placed from: provisioned (`PHONE_NUMBER_NOT_PROVISIONED`) and
/// taking calls (`PHONE_VOICE_DISABLED`).
pub(crate) fn calling_number(spec: &PhoneSpec) -> Result<String, ApiError> {
    let number = spec
        .phone_number
        .as_ref()
        .map(ToString::to_string)
        .ok_or_else(super::sms::not_provisioned)?;
    if !spec.capabilities.voice {
        return Err(ApiError::conflict(
            ErrorCode::PhoneVoiceDisabled,
            "capabilities.voice is false on this number",
        ));
    }
    Ok(number)
}

/// The agent that talks on a call placed from `element`: `agent_id`, else the number's
/// agent, else the circle's first (`AGENT_NOT_FOUND` when there is none).
pub(crate) async fn talking_agent(
    state: &AppState,
    element: &Element,
    spec: &PhoneSpec,
    agent_id: Option<&str>,
) -> Result<AgentRecord, ApiError> {
    match agent_id.or(spec.telephony_agent.as_deref()) {
        Some(id) => state.store().agent(&element.circle_id, id).await?,
        None => state
            .store()
            .agents(&element.circle_id)
            .await?
            .into_iter()
            .next(),
    }
    .ok_or_else(|| ApiError::invalid(ErrorCode::AgentNotFound, "no such agent in this circle"))
}

/// A new `dialing` record of `agent` calling `to` from `number`, in their thread (not
/// stored yet).
pub(crate) async fn dialing_for(
    state: &AppState,
    element: &Element,
    number: &str,
    to: &E164,
    agent: AgentRecord,
) -> Result<CallRecord, ApiError> {
    let route = directory::Route {
        circle_id: element.circle_id.clone(),
        agent: Some(agent),
    };
    let thread = directory::thread(state.store(), &route, to.as_str()).await?;
    let agent_id = route.agent.map(|a| a.id);
    Ok(dialing(element, number, to, agent_id, thread.map(|t| t.id)))
}

/// A new outbound call record from the element's `number` to `to`, `dialing`, with a
/// placeholder carrier id until the carrier names the call.
pub(crate) fn dialing(
    element: &Element,
    number: &str,
    to: &E164,
    agent_id: Option<String>,
    thread_id: Option<String>,
) -> CallRecord {
    let id = new_id("cal");
    CallRecord {
        carrier_call_id: format!("pending-{id}"),
        id,
        circle_id: element.circle_id.clone(),
        number: number.to_owned(),
        direction: "outbound".to_owned(),
        from: number.to_owned(),
        to: to.to_string(),
        state: "dialing".to_owned(),
        agent_id,
        thread_id,
        started_at: now_ms(),
        answered_at: None,
        ended_at: None,
        end_reason: None,
        error: None,
    }
}

/// Refuses a call from `number` when the telephony REST registers it with
/// `outbound_enabled` off (409 `NUMBER_OUTBOUND_DISABLED`).
///
/// # Errors
///
/// That, or the store's.
pub(crate) async fn check_outbound(state: &AppState, number: &str) -> Result<(), ApiError> {
    match state.store().number_by_e164(number).await? {
        Some(registered) if !registered.outbound_enabled => Err(ApiError::conflict(
            ErrorCode::NumberOutboundDisabled,
            format!(
                "{number} is registered ({}) with outbound_enabled false",
                registered.id
            ),
        )),
        _ => Ok(()),
    }
}

/// Asks the carrier to place the stored `record` with `voice_start`; the carrier's call id.
/// A refused call is kept `failed` with its code.
pub(crate) async fn place(
    state: &AppState,
    element: &Element,
    client: &ElksClient,
    mut record: CallRecord,
    voice_start: Value,
    timeout: u32,
    kind: &str,
) -> Result<String, ApiError> {
    let call = NewCall {
        from: record.from.clone(),
        to: record.to.clone(),
        voice_start: voice_start.to_string(),
        whenhangup: super::hooks::hangup_url(state, &element.id),
        timeout: Some(timeout),
    };
    let placed = match check_outbound(state, &record.from).await {
        Ok(()) => client
            .place_call(&call)
            .await
            .map_err(|f| f.into_api(Doing::Call)),
        Err(e) => Err(e),
    };
    match placed {
        Ok(placed) => {
            state
                .store()
                .set_carrier_call_id(&record.id, &placed.id)
                .await?;
            state.events().emit(
                "phone.call.placed",
                &element.circle_id,
                &element.id,
                json!({"call_id": record.id, "kind": kind, "to": record.to}),
            );
            Ok(placed.id)
        }
        Err(error) => {
            record.state = "failed".to_owned();
            record.ended_at = Some(now_ms());
            record.error = Some(error.code().to_owned());
            state.store().update_call(&record).await?;
            Err(error)
        }
    }
}
