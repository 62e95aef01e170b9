//! The email audit log: every send, failure, bounce, open, click, suppression change and
//! consent change is stored (`email_events`), announced on the event channel under the
//! documented event names (`email.message.sent`, ...; `email.<kind>` for our own kinds)
//! and counted in `/metrics` (`email_sent_count`, `email_open_count`, ...).
//! `list-events` reads it back, newest first.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::e164::clip;
use crate::error::{ApiError, ErrorCode};
use crate::ids::{new_id, rfc3339};
use crate::phone::page::{check_limit, cut, decode_token, encode_token};
use crate::state::AppState;
use crate::store::EmailEvent;

/// The kinds of audit entries (and, as `email.<kind>`, event names).
pub const KINDS: [&str; 16] = [
    "queued",
    "sent",
    "failed",
    "retrying",
    "opened",
    "clicked",
    "bounced",
    "suppressed",
    "unsuppressed",
    "consent_changed",
    "received",
    "approved",
    "rejected",
    "blocked",
    "domain_verified",
    "unsubscribed",
];

/// What an entry is about.
#[derive(Debug, Clone, Copy, Default)]
pub struct Subject<'a> {
    /// The element.
    pub element_id: Option<&'a str>,
    /// The message (`eml_...`).
    pub message: Option<&'a str>,
    /// The address.
    pub address: Option<&'a str>,
}

/// Writes an audit entry, then announces and counts it. A failed write is logged and
/// returned: the caller decides whether the operation fails with it.
pub async fn record(
    state: &AppState,
    circle_id: &str,
    kind: &'static str,
    subject: Subject<'_>,
    detail: Value,
) -> Result<(), ApiError> {
    debug_assert!(KINDS.contains(&kind), "unknown audit kind {kind}");
    let event = EmailEvent {
        id: new_id("eev"),
        circle_id: circle_id.to_owned(),
        element_id: subject.element_id.map(str::to_owned),
        kind: kind.to_owned(),
        message: subject.message.map(str::to_owned),
        address: subject.address.map(str::to_owned),
        detail,
        created_at: state.now_ms(),
    };
    state.store().email().insert_event(&event).await?;
    let data = view(&event);
    state.events().emit(
        event_name(kind),
        circle_id,
        subject.element_id.unwrap_or(""),
        data,
    );
    Ok(())
}

/// The event name of an entry: the interface document's names for the five it lists
/// (`email.message.sent`, `email.message.received`, `email.send.failed`,
/// `email.message.opened`, `email.link.clicked`), `email.<kind>` for the others.
fn event_name(kind: &str) -> &'static str {
    match kind {
        "queued" => "email.queued",
        "sent" => "email.message.sent",
        "failed" => "email.send.failed",
        "retrying" => "email.retrying",
        "opened" => "email.message.opened",
        "clicked" => "email.link.clicked",
        "bounced" => "email.bounced",
        "suppressed" => "email.suppressed",
        "unsuppressed" => "email.unsuppressed",
        "consent_changed" => "email.consent_changed",
        "received" => "email.message.received",
        "approved" => "email.approved",
        "rejected" => "email.rejected",
        "blocked" => "email.blocked",
        "domain_verified" => "email.domain_verified",
        _ => "email.unsubscribed",
    }
}

/// The JSON of an entry.
pub fn view(event: &EmailEvent) -> Value {
    json!({
        "id": event.id,
        "kind": event.kind,
        "element_id": event.element_id,
        "message_id": event.message,
        "address": event.address,
        "detail": event.detail,
        "created_at": rfc3339(event.created_at),
    })
}

/// `list-events` query.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Only this kind (`sent`, `bounced`, ...).
    pub kind: Option<String>,
    /// 1-100, default 50.
    pub limit: Option<i64>,
    /// From a previous answer's `next_page_token`.
    pub page_token: Option<String>,
    /// The whole circle's log instead of this element's (admin keys).
    #[serde(default)]
    pub circle_wide: bool,
}

/// `list-events`: the element's (or the circle's) audit entries, newest first.
pub async fn list(
    state: &AppState,
    circle_id: &str,
    element_id: Option<&str>,
    query: &EventsQuery,
) -> Result<Value, ApiError> {
    let limit = check_limit(query.limit)?;
    if let Some(kind) = query.kind.as_deref()
        && !KINDS.contains(&kind)
    {
        return Err(ApiError::invalid(
            ErrorCode::InvalidQuery,
            format!("kind {:?} is not one of {}", clip(kind), KINDS.join(", ")),
        ));
    }
    let cursor = query.page_token.as_deref().map(decode_token).transpose()?;
    let events = state
        .store()
        .email()
        .events(
            circle_id,
            element_id,
            query.kind.as_deref(),
            cursor,
            limit + 1,
        )
        .await?;
    let (page, next) = cut(events, limit, |e| encode_token(e.created_at, &e.id));
    Ok(json!({
        "events": page.iter().map(view).collect::<Vec<_>>(),
        "next_page_token": next,
    }))
}
