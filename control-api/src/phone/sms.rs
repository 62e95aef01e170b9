//! SMS: `send-sms`, `list-sms`, `get-sms`, and recovery of sends a crash interrupted.
//!
//! A send is stored (`pending`) before the carrier is asked. Then `dispatch` asks; when
//! the answer is lost (a timeout, a 5xx: the carrier may have the message), it first looks
//! for the message in the carrier's history (`find_at_carrier`) and adopts it if there,
//! and only otherwise asks again, at most `max_retries` more times with backoff. On start,
//! [`recover`] runs the same reconciliation over every message still `pending`.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::page::{PageQuery, cut, encode_token};
use super::segments::{self, Encoding};
use super::{check_enabled, client_for, spec_of};
use crate::carrier::{Doing, ElksClient, Failure, ListQuery, NewSms, time};
use crate::e164::{E164, clip};
use crate::element::phone::PhoneSpec;
use crate::error::{ApiError, ErrorCode};
use crate::ids::{Millis, new_id, rfc3339};
use crate::state::AppState;
use crate::store::{Element, SmsRecord};

/// Longest text accepted: 10 concatenated GSM-7 parts.
pub const MAX_BODY_CHARS: usize = 1530;
/// How far back (before our record) a carrier's copy of a message may be dated: clocks
/// differ.
const CLOCK_SKEW_MS: Millis = 5 * 60 * 1000;
/// Carrier history pages read when looking for a message.
const HISTORY_PAGES: usize = 5;

/// `send-sms` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendSms {
    /// E.164 recipient.
    pub to: String,
    /// The text, 1-1530 characters.
    pub body: String,
    /// Overrides the element's sender ID: 1-11 letters, digits or spaces, or E.164.
    pub sender_id: Option<String>,
    /// Send as a flash SMS.
    #[serde(default)]
    pub flash_sms: bool,
}

/// `send` body: the element's generic send, an SMS in `payload`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendPayload {
    /// What `send-sms` takes.
    pub payload: SendSms,
}

/// What `send-sms` answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Sent {
    /// Whether the carrier has it.
    pub sent: bool,
    /// voxgate's id, `sms_...`.
    pub message_id: String,
    /// Parts it takes.
    pub segments: i64,
    /// `gsm7` or `ucs2`.
    pub encoding: &'static str,
    /// 1/10000 of the carrier account's currency.
    pub cost: Option<i64>,
    /// `created`, `sent`, `delivered`, ...
    pub status: String,
}

/// An SMS as `get-sms` shows it: the documented fields, then the carrier's metadata.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SmsView {
    /// `sms_...`.
    pub id: String,
    /// Sender.
    pub from: String,
    /// Recipient.
    pub to: String,
    /// The text.
    pub body: String,
    /// `outgoing` or `incoming`.
    pub direction: String,
    /// `created`, `pending`, `sent`, `delivered`, `failed`, `received`.
    pub status: String,
    /// RFC 3339.
    pub created_at: String,
    /// Parts.
    pub segments: i64,
    /// 1/10000 of the carrier account's currency.
    pub cost: Option<i64>,
    /// The carrier's id.
    pub carrier_id: Option<String>,
    /// Why it failed.
    pub error_code: Option<String>,
    /// RFC 3339.
    pub delivered_at: Option<String>,
}

impl From<SmsRecord> for SmsView {
    fn from(s: SmsRecord) -> Self {
        Self {
            id: s.id,
            from: s.sender,
            to: s.recipient,
            body: s.body,
            direction: s.direction,
            status: s.status,
            created_at: rfc3339(s.created_at),
            segments: s.segments,
            cost: s.cost,
            carrier_id: s.carrier_id,
            error_code: s.error_code,
            delivered_at: s.delivered_at.map(rfc3339),
        }
    }
}

/// An SMS as `list-sms` shows it: metadata without the body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SmsSummary {
    /// `sms_...`.
    pub id: String,
    /// Sender.
    pub from: String,
    /// Recipient.
    pub to: String,
    /// `outgoing` or `incoming`.
    pub direction: String,
    /// As in [`SmsView`].
    pub status: String,
    /// When it was stored, RFC 3339.
    pub date: String,
    /// Parts.
    pub segments: i64,
}

impl From<SmsRecord> for SmsSummary {
    fn from(s: SmsRecord) -> Self {
        Self {
            id: s.id,
            from: s.sender,
            to: s.recipient,
            direction: s.direction,
            status: s.status,
            date: rfc3339(s.created_at),
            segments: s.segments,
        }
    }
}

/// What `list-sms` answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SmsList {
    /// Newest first.
    pub messages: Vec<SmsSummary>,
    /// How many SMS match the `direction`, over all pages.
    pub total: i64,
    /// The next page's `page_token`; absent on the last page.
    pub next_page_token: Option<String>,
}

/// `send-sms`.
pub async fn send(state: &AppState, element: &Element, input: SendSms) -> Result<Sent, ApiError> {
    check_enabled(element)?;
    let spec = spec_of(element)?;
    let to = E164::parse(&input.to)?;
    let chars = input.body.chars().count();
    if chars == 0 || chars > MAX_BODY_CHARS {
        return Err(ApiError::invalid(
            ErrorCode::PhoneInvalidMessage,
            format!("body must be 1 to {MAX_BODY_CHARS} characters, not {chars}"),
        ));
    }
    let from = sender(&spec, input.sender_id.as_deref())?;
    if !spec.capabilities.sms {
        return Err(ApiError::conflict(
            ErrorCode::PhoneSmsDisabled,
            "sms_enabled is false on this number",
        ));
    }
    let client = client_for(state, element, &spec).await?;
    let parts = segments::count(&input.body);
    let now = state.now_ms();
    let day = utc_day(now);
    if spec.sandbox_managed {
        let cap = state.phone().sandbox.sms_daily_cap;
        if !state
            .store()
            .count_sandbox_sms(&element.circle_id, &day, cap)
            .await?
        {
            return Err(ApiError::Carrier {
                status: axum::http::StatusCode::TOO_MANY_REQUESTS,
                code: ErrorCode::PhoneSandboxLimit,
                message: format!("sandbox numbers send at most {cap} SMS per circle per day"),
                retryable: false,
            });
        }
    }
    let record = SmsRecord {
        id: new_id("sms"),
        circle_id: element.circle_id.clone(),
        element_id: element.id.clone(),
        direction: "outgoing".to_owned(),
        sender: from,
        recipient: to.to_string(),
        body: input.body,
        segments: i64::from(parts.parts),
        encoding: encoding_name(parts.encoding).to_owned(),
        flash: input.flash_sms,
        sandbox: spec.sandbox_managed,
        status: "pending".to_owned(),
        carrier_id: None,
        cost: None,
        error_code: None,
        attempts: 0,
        created_at: now,
        updated_at: now,
        delivered_at: None,
    };
    state.store().insert_sms(&record).await?;
    let hook = super::hooks::dlr_url(state, &record.id);
    let outcome = dispatch(state, &client, &spec, &record, hook, false).await;
    if let Err(failure) = &outcome
        && spec.sandbox_managed
        && !failure.maybe_reached()
    {
        state
            .store()
            .refund_sandbox_sms(&element.circle_id, &day)
            .await?;
    }
    let stored = outcome.map_err(|f| f.into_api(Doing::Sms))?;
    Ok(Sent {
        sent: true,
        message_id: stored.id,
        segments: stored.segments,
        encoding: encoding_name(parts.encoding),
        cost: stored.cost,
        status: stored.status,
    })
}

impl Failure {
    /// Whether the carrier may have the request despite the failure.
    fn maybe_reached(&self) -> bool {
        matches!(
            self,
            Self::Unavailable {
                maybe_done: true,
                ..
            } | Self::Protocol { .. }
        )
    }
}

/// The sender: the override, else the element's `sender_id`, else its number.
fn sender(spec: &PhoneSpec, override_: Option<&str>) -> Result<String, ApiError> {
    if let Some(id) = override_ {
        if id.starts_with('+') {
            return Ok(E164::parse(id)?.to_string());
        }
        return crate::element::phone::sender_id(id.to_owned());
    }
    spec.default_sender_id
        .clone()
        .or_else(|| spec.phone_number.as_ref().map(ToString::to_string))
        .ok_or_else(not_provisioned)
}

pub(crate) fn not_provisioned() -> ApiError {
    ApiError::conflict(
        ErrorCode::PhoneNumberNotProvisioned,
        "the element has no number yet: provision one or claim a sandbox number",
    )
}

fn encoding_name(e: Encoding) -> &'static str {
    match e {
        Encoding::Gsm7 => "gsm7",
        Encoding::Ucs2 => "ucs2",
    }
}

/// `YYYY-MM-DD` (UTC) of `ms`.
pub(crate) fn utc_day(ms: Millis) -> String {
    time::format(ms)[..10].to_owned()
}

/// Gets `record` to the carrier exactly once: asks, and when an answer is lost, looks in
/// the carrier's history before asking again. `recovering` starts with the history.
pub(crate) async fn dispatch(
    state: &AppState,
    client: &ElksClient,
    spec: &PhoneSpec,
    record: &SmsRecord,
    whendelivered: Option<String>,
    recovering: bool,
) -> Result<SmsRecord, Failure> {
    let store = state.store();
    let request = NewSms {
        from: record.sender.clone(),
        to: record.recipient.clone(),
        message: record.body.clone(),
        whendelivered,
        flash: record.flash,
    };
    let mut attempts = record.attempts;
    let mut look_first = recovering;
    let mut retry = 0u32;
    loop {
        if look_first {
            match find_at_carrier(client, record).await {
                Ok(Some(found)) => return settle(state, record, &found, attempts).await,
                Ok(None) => {}
                Err(f) => return Err(fail(state, record, f, attempts, false).await),
            }
        }
        attempts += 1;
        match client.send_sms(&request).await {
            Ok(answer) => return settle(state, record, &answer, attempts).await,
            Err(f) => {
                let more = retry < spec.max_retries && f.transient();
                if !more {
                    if f.maybe_reached() {
                        // One last look: the carrier may have it after all. If the look
                        // itself fails, the message stays pending for `recover`.
                        match find_at_carrier(client, record).await {
                            Ok(Some(found)) => {
                                return settle(state, record, &found, attempts).await;
                            }
                            Ok(None) => return Err(fail(state, record, f, attempts, true).await),
                            Err(_) => return Err(fail(state, record, f, attempts, false).await),
                        }
                    }
                    return Err(fail(state, record, f, attempts, true).await);
                }
                let _ = store
                    .sms_attempted(
                        &record.id,
                        failure_code(&f),
                        attempts,
                        false,
                        state.now_ms(),
                    )
                    .await;
                look_first = f.maybe_reached();
                tokio::time::sleep(backoff(spec, retry)).await;
                retry += 1;
            }
        }
    }
}

fn backoff(spec: &PhoneSpec, retry: u32) -> Duration {
    crate::carrier::RetryPolicy {
        max_retries: spec.max_retries,
        backoff: Duration::from_millis(u64::from(spec.retry_backoff_ms)),
    }
    .delay(retry)
}

/// Records the carrier's copy of `record` and announces it.
async fn settle(
    state: &AppState,
    record: &SmsRecord,
    answer: &crate::carrier::wire::Sms,
    attempts: i64,
) -> Result<SmsRecord, Failure> {
    let status = answer
        .status
        .clone()
        .unwrap_or_else(|| "created".to_owned());
    let stored = state
        .store()
        .sms_accepted(
            &record.id,
            &answer.id,
            &status,
            answer.cost,
            attempts,
            state.now_ms(),
        )
        .await
        .map_err(|e| Failure::Protocol {
            reason: format!("storing the carrier's answer: {}", e.code()),
        })?;
    if !stored {
        return Err(Failure::Protocol {
            reason: "the carrier's id belongs to another message".to_owned(),
        });
    }
    let mut settled = record.clone();
    settled.carrier_id = Some(answer.id.clone());
    settled.status = status;
    settled.cost = answer.cost;
    settled.attempts = attempts;
    state.events().emit(
        "phone.sms.sent",
        &record.circle_id,
        &record.element_id,
        json!({"message_id": record.id, "to": record.recipient, "segments": record.segments}),
    );
    Ok(settled)
}

/// Records a failed attempt (final unless the carrier may have the message, in which case
/// it stays `pending` for [`recover`]) and announces a final one.
async fn fail(
    state: &AppState,
    record: &SmsRecord,
    f: Failure,
    attempts: i64,
    final_: bool,
) -> Failure {
    let code = failure_code(&f);
    if let Err(e) = state
        .store()
        .sms_attempted(&record.id, code, attempts, final_, state.now_ms())
        .await
    {
        tracing::error!(sms = %record.id, code = e.code(), "recording a failed SMS attempt");
    }
    if final_ {
        state.events().emit(
            "phone.sms.failed",
            &record.circle_id,
            &record.element_id,
            json!({"message_id": record.id, "error_code": code}),
        );
    }
    f
}

fn failure_code(f: &Failure) -> &'static str {
    f.clone().into_api(Doing::Sms).code()
}

/// The carrier's copy of `record`, if it has one: an outgoing SMS with the same sender,
/// recipient and text, dated no earlier than our record (less clock skew), that no other
/// stored message has claimed.
pub(crate) async fn find_at_carrier(
    client: &ElksClient,
    record: &SmsRecord,
) -> Result<Option<crate::carrier::wire::Sms>, Failure> {
    let mut query = ListQuery {
        end: Some(time::format(record.created_at - CLOCK_SKEW_MS)),
        limit: Some(100),
        to: Some(record.recipient.clone()),
        ..ListQuery::default()
    };
    for _ in 0..HISTORY_PAGES {
        let page = client.list_sms(&query).await?;
        let found = page.data.into_iter().find(|s| {
            s.direction.starts_with("outgoing")
                && s.to == record.recipient
                && s.from == record.sender
                && s.message.as_deref() == Some(record.body.as_str())
                && time::parse(&s.created).is_some_and(|at| at >= record.created_at - CLOCK_SKEW_MS)
        });
        if found.is_some() {
            return Ok(found);
        }
        match page.next {
            Some(next) => query.start = Some(next),
            None => break,
        }
    }
    Ok(None)
}

/// Settles every SMS a crash left `pending`: adopts the carrier's copy if it has one,
/// sends it otherwise. Returns how many were settled.
pub async fn recover(state: &AppState) -> Result<usize, ApiError> {
    let pending = state.store().pending_sms().await?;
    let mut settled = 0;
    for record in pending {
        let Some(element) = state.store().element_by_id(&record.element_id).await? else {
            continue;
        };
        let spec = spec_of(&element)?;
        let client = match client_for(state, &element, &spec).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(sms = %record.id, code = e.code(), "cannot recover an SMS");
                continue;
            }
        };
        let hook = super::hooks::dlr_url(state, &record.id);
        match dispatch(state, &client, &spec, &record, hook, true).await {
            Ok(_) => settled += 1,
            Err(f) => tracing::warn!(sms = %record.id, failure = ?f, "an SMS stays unsettled"),
        }
    }
    Ok(settled)
}

/// `list-sms`.
pub async fn list(
    state: &AppState,
    element: &Element,
    query: &PageQuery,
) -> Result<SmsList, ApiError> {
    spec_of(element)?;
    let page = query.check()?;
    let limit = page.limit;
    let direction = page.direction.map(|d| d.sms());
    let before = page.cursor.as_ref().map(|(at, id)| (*at, id.as_str()));
    let store = state.store();
    let rows = store
        .sms_page(&element.id, direction, before, limit + 1)
        .await?;
    let total = store.sms_total(&element.id, direction).await?;
    let (rows, next) = cut(rows, limit, |r| encode_token(r.created_at, &r.id));
    Ok(SmsList {
        messages: rows.into_iter().map(SmsSummary::from).collect(),
        total,
        next_page_token: next,
    })
}

/// `get-sms` query.
#[derive(Debug, Deserialize, utoipa::IntoParams, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GetSms {
    /// `sms_...`.
    pub message_id: String,
}

/// `get-sms`.
pub async fn get(state: &AppState, element: &Element, id: &str) -> Result<SmsView, ApiError> {
    spec_of(element)?;
    state
        .store()
        .sms(&element.id, id)
        .await?
        .map(SmsView::from)
        .ok_or_else(|| {
            ApiError::not_found(
                ErrorCode::PhoneMessageNotFound,
                format!("no SMS {:?} on this number", clip(id)),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_utc() {
        assert_eq!(utc_day(1_795_412_998_123), "2026-11-23");
        assert_eq!(utc_day(0), "1970-01-01");
    }
}
