//! Calls on a number: `list-calls`, `get-call`, and the carrier's `whenhangup`, which
//! completes what the voice core could not see.
//!
//! A call that reached voxgate's Realtime leg is recorded by the voice core's recorder
//! (from `hello` to `bye`, with its turns). A call that never did — the caller hung up
//! before the agent answered, it was forwarded, or the Realtime URL could not be reached —
//! is known only from the carrier's hang-up webhook: it is recorded from there, as `missed`
//! when it was never picked up.

use serde::{Deserialize, Serialize};
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
use crate::ids::{new_id, rfc3339};
use crate::state::AppState;
use crate::store::{AgentRecord, CallRecord, CallTurn, Element};

/// The element's number, or `PHONE_NUMBER_NOT_PROVISIONED`.
fn number_of(element: &Element) -> Result<String, ApiError> {
    spec_of(element)?
        .phone_number
        .map(|n| n.to_string())
        .ok_or_else(super::sms::not_provisioned)
}

/// A call as `list-calls` shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CallSummary {
    /// `cal_...`.
    pub id: String,
    /// Caller.
    pub from: String,
    /// Callee.
    pub to: String,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// `dialing`, `active`, `completed`, `missed`, `busy`, `failed`, `refused`.
    pub status: String,
    /// Whole seconds from answer (or start) to end; absent while it lasts.
    pub duration: Option<i64>,
    /// When it started, RFC 3339.
    pub date: String,
}

/// A call as `get-call` shows it: the documented fields, then voxgate's own.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CallDetail {
    /// `cal_...`.
    pub id: String,
    /// Caller.
    pub from: String,
    /// Callee.
    pub to: String,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// As in [`CallSummary`].
    pub status: String,
    /// Whole seconds from answer (or start) to end.
    pub duration: Option<i64>,
    /// RFC 3339.
    pub started_at: String,
    /// RFC 3339.
    pub ended_at: Option<String>,
    /// Always absent: voxgate keeps a call's transcript (`turns`), not its audio.
    pub recording_url: Option<String>,
    /// What the carrier charged, 1/10000 of the account's currency.
    pub cost: Option<i64>,
    /// The carrier's call id.
    pub carrier_call_id: String,
    /// When the agent answered, RFC 3339.
    pub answered_at: Option<String>,
    /// The agent that talked.
    pub agent_id: Option<String>,
    /// The conversation thread.
    pub thread_id: Option<String>,
    /// How it ended.
    pub end_reason: Option<String>,
    /// The typed error code when it ended in error.
    pub error: Option<String>,
    /// The exchanges, in order.
    #[schema(value_type = Vec<Object>)]
    pub turns: Vec<CallTurn>,
}

/// Whole seconds from answer (or start) to end.
fn seconds(c: &CallRecord) -> Option<i64> {
    c.ended_at
        .map(|end| (end - c.answered_at.unwrap_or(c.started_at)).max(0) / 1000)
}

impl From<CallRecord> for CallSummary {
    fn from(c: CallRecord) -> Self {
        Self {
            duration: seconds(&c),
            date: rfc3339(c.started_at),
            id: c.id,
            from: c.from,
            to: c.to,
            direction: c.direction,
            status: c.state,
        }
    }
}

/// What `list-calls` answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CallList {
    /// Newest first.
    pub calls: Vec<CallSummary>,
    /// How many calls match the `direction`, over all pages.
    pub total: i64,
    /// The next page's `page_token`; absent on the last page.
    pub next_page_token: Option<String>,
}

/// `list-calls`: calls on the number, newest first.
pub async fn list(
    state: &AppState,
    element: &Element,
    query: &PageQuery,
) -> Result<CallList, ApiError> {
    let number = number_of(element)?;
    let page = query.check()?;
    let direction = page.direction.map(|d| d.call());
    let before = page.cursor.as_ref().map(|(at, id)| (*at, id.as_str()));
    let store = state.store();
    let rows = store
        .calls_page(
            &element.circle_id,
            &number,
            direction,
            before,
            page.limit + 1,
        )
        .await?;
    let total = store
        .calls_total(&element.circle_id, &number, direction)
        .await?;
    let (rows, next) = cut(rows, page.limit, |c| encode_token(c.started_at, &c.id));
    Ok(CallList {
        calls: rows.into_iter().map(CallSummary::from).collect(),
        total,
        next_page_token: next,
    })
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
) -> Result<CallDetail, ApiError> {
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
    Ok(CallDetail {
        duration: seconds(&call),
        started_at: rfc3339(call.started_at),
        ended_at: call.ended_at.map(rfc3339),
        answered_at: call.answered_at.map(rfc3339),
        recording_url: None,
        id: call.id,
        from: call.from,
        to: call.to,
        direction: call.direction,
        status: call.state,
        cost: call.cost,
        carrier_call_id: call.carrier_call_id,
        agent_id: call.agent_id,
        thread_id: call.thread_id,
        end_reason: call.end_reason,
        error: call.error,
        turns,
    })
}

/// The carrier says a call on `element`'s number ended. Calls the voice core recorded are
/// left to it; others are recorded here.
/// The carrier's cost is kept, and the report (`body`) is passed on to the call's own
/// `whenhangup_url`, if it was placed with one.
pub async fn hung_up(
    state: &AppState,
    element: &Element,
    hangup: &Hangup,
    body: &[u8],
) -> Result<(), ApiError> {
    if let Some(mut placed) = state.store().call_by_carrier_id(&hangup.callid).await? {
        if let Some(cost) = hangup.cost {
            state.store().set_call_cost(&placed.id, cost).await?;
            placed.cost = Some(cost);
        }
        if let Some(url) = &placed.whenhangup_url {
            super::flow::pass_on(url, body, "whenhangup_url");
        }
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
            placed.ended_at = Some(state.now_ms());
            placed.end_reason = Some(format!("carrier:{}", clip(&hangup.state)));
            state.store().update_call(&placed).await?;
        }
        return Ok(());
    }
    let number = number_of(element)?;
    let now = state.now_ms();
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
        cost: hangup.cost,
        whenhangup_url: None,
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
    /// The number the callee sees, E.164; default the spec's `caller_id`, else
    /// `phone_number`. The carrier accepts only numbers of the account.
    pub caller_id: Option<String>,
    /// An http(s) URL the carrier's hang-up report is passed on to.
    pub whenhangup_url: Option<String>,
    /// The agent that talks; default the number's agent, else the circle's first.
    pub agent_id: Option<String>,
    /// Seconds to let it ring, 5-120 (default 60).
    pub timeout_s: Option<u32>,
}

/// What `agent-call` answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AgentCallPlaced {
    /// voxgate's id, `cal_...`: `get-call` follows it.
    pub call_id: String,
    /// `dialing` until the callee answers.
    pub state: &'static str,
    /// The Realtime WebSocket the carrier connects the answered call to.
    pub ws_url: String,
    /// The carrier's call id.
    pub carrier_call_id: String,
    /// The callee.
    pub to: String,
}

/// The caller's own `whenhangup_url`, checked: an http(s) URL of at most 2048 bytes.
pub(crate) fn hangup_hook(url: Option<String>) -> Result<Option<String>, ApiError> {
    match url.filter(|u| !u.is_empty()) {
        Some(u) if !(u.starts_with("https://") || u.starts_with("http://")) || u.len() > 2048 => {
            Err(ApiError::invalid(
                ErrorCode::InvalidBody,
                "whenhangup_url must be an http:// or https:// URL",
            ))
        }
        other => Ok(other),
    }
}

/// The number the callee sees: `caller_id` (E.164), else the spec's, else `number`.
pub(crate) fn caller_id(
    spec: &PhoneSpec,
    given: Option<&str>,
    number: &str,
) -> Result<String, ApiError> {
    match given.filter(|c| !c.is_empty()) {
        Some(c) => Ok(E164::parse(c)?.to_string()),
        None => Ok(spec
            .caller_id
            .as_ref()
            .map_or_else(|| number.to_owned(), ToString::to_string)),
    }
}

/// `agent-call`: the call record is stored (`dialing`) before the carrier is asked; the
/// carrier connects the answered call to voxgate's Realtime WebSocket, where the voice
/// core finds the record by the carrier's call id and the agent introduces itself.
pub async fn agent_call(
    state: &AppState,
    element: &Element,
    input: AgentCall,
) -> Result<AgentCallPlaced, ApiError> {
    check_enabled(element)?;
    let spec = spec_of(element)?;
    let to = E164::parse(&input.to)?;
    let timeout = super::message::ring_timeout(input.timeout_s)?;
    let number = calling_number(&spec)?;
    let from = caller_id(&spec, input.caller_id.as_deref(), &number)?;
    let whenhangup_url = hangup_hook(input.whenhangup_url)?;
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
    let mut record = dialing_for(state, element, &number, &to, agent).await?;
    record.from = from;
    record.whenhangup_url = whenhangup_url;
    state.store().insert_call(&record).await?;
    let voice_start = json!({"connect": ws});
    let carrier_call_id = place(
        state,
        element,
        &client,
        record.clone(),
        voice_start,
        timeout,
        "agent",
    )
    .await?;
    Ok(AgentCallPlaced {
        call_id: record.id,
        state: "dialing",
        ws_url: ws,
        carrier_call_id,
        to: to.to_string(),
    })
}

/// The number a call is placed from: provisioned (`PHONE_NUMBER_NOT_PROVISIONED`) and
/// taking calls (`PHONE_VOICE_DISABLED`).
pub(crate) fn calling_number(spec: &PhoneSpec) -> Result<String, ApiError> {
    calling_number_or(spec, None)
}

/// [`calling_number`], where a `caller_id` (E.164) stands in for a missing `phone_number`.
pub(crate) fn calling_number_or(
    spec: &PhoneSpec,
    caller_id: Option<&str>,
) -> Result<String, ApiError> {
    let number = match (&spec.phone_number, caller_id.filter(|c| !c.is_empty())) {
        (Some(number), _) => number.to_string(),
        (None, Some(given)) => E164::parse(given)?.to_string(),
        (None, None) => return Err(super::sms::not_provisioned()),
    };
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
    Ok(dialing(
        element,
        number,
        to,
        agent_id,
        thread.map(|t| t.id),
        state.now_ms(),
    ))
}

/// A new outbound call record from the element's `number` to `to`, `dialing`, with a
/// placeholder carrier id until the carrier names the call.
pub(crate) fn dialing(
    element: &Element,
    number: &str,
    to: &E164,
    agent_id: Option<String>,
    thread_id: Option<String>,
    now: crate::ids::Millis,
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
        started_at: now,
        answered_at: None,
        ended_at: None,
        end_reason: None,
        error: None,
        cost: None,
        whenhangup_url: None,
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
    let placed = match check_outbound(state, &record.number).await {
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
            record.ended_at = Some(state.now_ms());
            record.error = Some(error.code().to_owned());
            state.store().update_call(&record).await?;
            Err(error)
        }
    }
}
