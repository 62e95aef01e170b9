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

use super::page::{PageQuery, encode_token};
use super::spec_of;
use crate::carrier::webhook::Hangup;
use crate::e164::clip;
use crate::error::ApiError;
use crate::ids::{new_id, now_ms};
use crate::routes::calls::CallView;
use crate::state::AppState;
use crate::store::{CallRecord, Element};

/// The element's number, or `PHONE_NUMBER_NOT_PROVISIONED`.
fn number_of(element: &Element) -> Result<String, ApiError> {
    spec_of(element)?
        .number
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
    let limit = usize::try_from(page.limit).unwrap_or(50);
    let mut rows = state
        .store()
        .calls_page(
            &element.circle_id,
            &number,
            direction,
            before,
            page.limit + 1,
        )
        .await?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = more
        .then(|| rows.last().map(|c| encode_token(c.started_at, &c.id)))
        .flatten();
    let items: Vec<CallView> = rows.into_iter().map(|c| CallView::new(c, None)).collect();
    Ok(json!({"items": items, "next_page_token": next}))
}

/// `get-call` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
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
                "CALL_NOT_FOUND",
                format!("no call {:?} on this number", clip(id)),
            )
        })?;
    let turns = state.store().turns(&call.id).await?;
    Ok(CallView::new(call, Some(turns)))
}

/// The carrier says a call on `element`'s number ended. Calls the voice core recorded are
/// left to it; others are recorded here.
pub async fn hung_up(state: &AppState, element: &Element, hangup: &Hangup) -> Result<(), ApiError> {
    if state
        .store()
        .call_by_carrier_id(&hangup.callid)
        .await?
        .is_some()
    {
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
