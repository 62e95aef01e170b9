//! The carrier's webhooks: inbound SMS, delivery reports, and inbound calls asking what to
//! do (reference §3).
//!
//! Element webhooks (`sms`, `voice/start`, `voice/hangup`) carry the random token that
//! `configure` registered; its SHA-256 finds the element. Delivery reports go to a URL per
//! message, `dlr?sms={id}&tag={t}`, where `t` is an HMAC of the message id under a key
//! derived from the secrets key ([`Sealer::tag`](crate::secrets::Sealer::tag)), so nothing
//! needs storing per message and a forged or replayed URL for another message is refused.
//! A report for a message whose carrier id is not stored yet is answered 404: the carrier
//! retries (for hours), by which time the send has been recorded.

use rand::RngCore as _;
use serde_json::{Value, json};

use super::spec_of;
use crate::auth::hash_key;
use crate::carrier::webhook::{DeliveryReport, DeliveryStatus, Hangup, InboundSms, VoiceStart};
use crate::directory;
use crate::error::{ApiError, ErrorCode};
use crate::ids::new_id;
use crate::state::AppState;
use crate::store::{Element, SmsRecord, ThreadMessage};

/// The purpose string of delivery-report tags.
const DLR_TAG: &str = "dlr";

/// A new webhook token and its stored hash.
pub(crate) fn new_token() -> (String, String) {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let hash = hash_key(&token);
    (token, hash)
}

/// The element whose webhook token is `token`; 401 `WEBHOOK_TOKEN_INVALID` otherwise.
async fn element_for(state: &AppState, token: Option<&str>) -> Result<Element, ApiError> {
    let refused = || {
        state.events().count("phone.webhook.rejected");
        ApiError::Unauthorized {
            code: ErrorCode::WebhookTokenInvalid,
            message: "missing or unknown webhook token".to_owned(),
        }
    };
    let token = token.filter(|t| t.len() <= 128).ok_or_else(refused)?;
    let id = state
        .store()
        .hook_element(&hash_key(token))
        .await?
        .ok_or_else(refused)?;
    state.store().element_by_id(&id).await?.ok_or_else(refused)
}

/// The purpose string of hang-up tags.
const HANGUP_TAG: &str = "hangup";

/// The `whenhangup` URL of calls voxgate places from element `element_id`, or `None`
/// without a secrets key.
pub(crate) fn hangup_url(state: &AppState, element_id: &str) -> Option<String> {
    let sealer = state.sealer().ok()?;
    Some(format!(
        "{}/api/webhooks/46elks/voice/hangup?element={element_id}&tag={}",
        state.phone().public_url.trim_end_matches('/'),
        sealer.tag(HANGUP_TAG, element_id)
    ))
}

/// The delivery-report URL for message `sms_id`, or `None` without a secrets key.
pub(crate) fn dlr_url(state: &AppState, sms_id: &str) -> Option<String> {
    let sealer = state.sealer().ok()?;
    Some(format!(
        "{}/api/webhooks/46elks/dlr?sms={sms_id}&tag={}",
        state.phone().public_url.trim_end_matches('/'),
        sealer.tag(DLR_TAG, sms_id)
    ))
}

/// An inbound SMS: stored once (the carrier may deliver a webhook twice), put into the
/// contact's thread with the number's agent, announced.
pub async fn inbound_sms(
    state: &AppState,
    token: Option<&str>,
    body: &[u8],
) -> Result<(), ApiError> {
    let element = element_for(state, token).await?;
    let sms = InboundSms::parse(body)?;
    let spec = spec_of(&element)?;
    if spec.phone_number.as_ref() != Some(&sms.to) {
        return Err(ApiError::invalid(
            ErrorCode::WebhookInvalid,
            "the SMS is not addressed to this token's number",
        ));
    }
    let now = state.now_ms();
    let parts = super::segments::count(&sms.message);
    let record = SmsRecord {
        id: new_id("sms"),
        circle_id: element.circle_id.clone(),
        element_id: element.id.clone(),
        direction: "incoming".to_owned(),
        sender: sms.from.clone(),
        recipient: sms.to.to_string(),
        body: sms.message.clone(),
        segments: i64::from(parts.parts),
        encoding: if parts.encoding == super::segments::Encoding::Gsm7 {
            "gsm7"
        } else {
            "ucs2"
        }
        .to_owned(),
        flash: false,
        sandbox: false,
        status: "received".to_owned(),
        carrier_id: Some(sms.id.clone()),
        cost: None,
        error_code: None,
        attempts: 0,
        created_at: sms.created.unwrap_or(now),
        updated_at: now,
        delivered_at: None,
    };
    if !state.store().insert_sms(&record).await? {
        return Ok(()); // a retried webhook: stored already
    }
    if let Some(url) = &spec.sms_url {
        super::flow::pass_on(url, body, "sms_url");
    }
    if let Some(route) = directory::route(state.store(), sms.to.as_str()).await?
        && let Some(thread) = directory::thread(state.store(), &route, &sms.from).await?
    {
        let message = ThreadMessage {
            role: "user".to_owned(),
            content: sms.message.clone(),
            channel: "sms".to_owned(),
            call_id: None,
            created_at: record.created_at,
        };
        state.store().append_message(&thread.id, &message).await?;
    }
    state.events().emit(
        "phone.sms.received",
        &element.circle_id,
        &element.id,
        json!({"message_id": record.id, "from": sms.from, "to": sms.to, "body": sms.message}),
    );
    Ok(())
}

/// A delivery report for message `sms_id`, proven by `tag`.
pub async fn delivery_report(
    state: &AppState,
    sms_id: Option<&str>,
    tag: Option<&str>,
    body: &[u8],
) -> Result<(), ApiError> {
    let (Some(sms_id), Some(tag)) = (sms_id, tag) else {
        state.events().count("phone.webhook.rejected");
        return Err(ApiError::Unauthorized {
            code: ErrorCode::WebhookTokenInvalid,
            message: "missing sms or tag".to_owned(),
        });
    };
    if !state.sealer()?.verify_tag(DLR_TAG, sms_id, tag) {
        state.events().count("phone.webhook.rejected");
        return Err(ApiError::Unauthorized {
            code: ErrorCode::WebhookTokenInvalid,
            message: "the tag does not match the message".to_owned(),
        });
    }
    let report = DeliveryReport::parse(body)?;
    let record = state
        .store()
        .sms_by_carrier_id(&report.id)
        .await?
        .filter(|r| r.id == sms_id)
        .ok_or_else(|| {
            ApiError::not_found(
                ErrorCode::PhoneMessageNotFound,
                "no such message yet; retry later",
            )
        })?;
    state
        .store()
        .sms_delivery(
            &record.element_id,
            &report.id,
            report.status.as_str(),
            report.delivered,
            state.now_ms(),
        )
        .await?;
    let name = match report.status {
        DeliveryStatus::Sent => return Ok(()),
        DeliveryStatus::Delivered => "phone.sms.delivered",
        DeliveryStatus::Failed => "phone.sms.undelivered",
    };
    state.events().emit(
        name,
        &record.circle_id,
        &record.element_id,
        json!({"message_id": record.id, "status": report.status.as_str()}),
    );
    Ok(())
}

/// An incoming call asks what to do: the action of the number's own flow
/// (`voice_start_url`, see the `flow` module), else the JSON action for its
/// `incoming_handling` (`ai`: connect to voxgate's Realtime WebSocket; `forward_to`:
/// connect to `forward_to_number`), with `whenhangup` back to us under the same token.
pub async fn voice_start(
    state: &AppState,
    token: Option<&str>,
    body: &[u8],
) -> Result<Value, ApiError> {
    let element = element_for(state, token).await?;
    let call = VoiceStart::parse(body)?;
    let spec = spec_of(&element)?;
    if !element.enabled
        || !spec.capabilities.voice
        || !directory::takes_calls(state.store(), &call.to).await?
    {
        return Ok(json!({"hangup": "reject"}));
    }
    let whenhangup = format!(
        "{}/api/webhooks/46elks/voice/hangup?token={}",
        state.phone().public_url.trim_end_matches('/'),
        token.unwrap_or_default()
    );
    // The number's own flow, unless it is voxgate's own webhook (which configure wrote
    // into the spec before the flow was honoured).
    let own = format!(
        "{}/api/webhooks/46elks/",
        state.phone().public_url.trim_end_matches('/')
    );
    if let Some(flow) = spec
        .voice_start_url
        .as_deref()
        .filter(|url| !url.starts_with(&own))
        && let Some(action) = super::flow::ask(flow, body, &whenhangup).await
    {
        tracing::info!(callid = %call.callid, "the number's flow answered the call");
        return Ok(action);
    }
    if spec.incoming_handling == "forward_to"
        && let Some(target) = &spec.forward_to_number
    {
        tracing::info!(callid = %call.callid, "forwarding a call");
        return Ok(json!({"connect": target.as_str(), "whenhangup": whenhangup}));
    }
    let url = state
        .phone()
        .voice_ws_url
        .clone()
        .ok_or_else(|| ApiError::Unavailable {
            code: ErrorCode::PhoneVoiceUnavailable,
            message: "this server has no Realtime WebSocket URL configured".to_owned(),
        })?;
    Ok(json!({"connect": url, "whenhangup": whenhangup}))
}

/// A call ended (`whenhangup`), proven by the number's token or, for calls voxgate
/// placed, by the element's tag: calls the voice core never saw are recorded (see
/// [`super::calls::hung_up`]).
pub async fn hangup(
    state: &AppState,
    token: Option<&str>,
    tagged: Option<(&str, &str)>,
    body: &[u8],
) -> Result<Hangup, ApiError> {
    let element = match tagged {
        Some((element_id, tag)) if token.is_none() => {
            let proven = state.sealer()?.verify_tag(HANGUP_TAG, element_id, tag);
            let element = if proven {
                state.store().element_by_id(element_id).await?
            } else {
                None
            };
            element.ok_or_else(|| {
                state.events().count("phone.webhook.rejected");
                ApiError::Unauthorized {
                    code: ErrorCode::WebhookTokenInvalid,
                    message: "the tag does not match the element".to_owned(),
                }
            })?
        }
        _ => element_for(state, token).await?,
    };
    let hangup = Hangup::parse(body)?;
    super::calls::hung_up(state, &element, &hangup, body).await?;
    Ok(hangup)
}
