//! The outbox of `send_policy = outbox` elements: drafts wait as `pending` until an
//! operator approves (`approve_dispatch`: pending -> approved -> sent | failed) or rejects
//! them (`reject_dispatch`: pending -> rejected). A draft in any other state gives 409
//! `EMAIL_OUTBOX_INVALID_STATE`, so a repeat approval never sends twice. Approval counts the
//! message against the daily cap; at the cap the draft stays pending (429).

use serde::Deserialize;
use serde_json::{Value, json};

use super::audit::{self, Subject};
use super::deliver;
use crate::error::{ApiError, ErrorCode};
use crate::phone::check_enabled;
use crate::phone::page::{check_limit, cut, decode_token, encode_token};
use crate::state::AppState;
use crate::store::{Element, EmailMessage, MessageFilter};

/// `list_outbox` query.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutboxQuery {
    /// `pending` (default), `approved`, `rejected`, `sent`, `failed`, or `all`.
    pub status: Option<String>,
    /// 1-100, default 50.
    pub limit: Option<i64>,
    /// From a previous answer's `next_page_token`.
    pub page_token: Option<String>,
}

/// `approve_dispatch` / `reject_dispatch`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Review {
    /// The draft (`eml_...`), documented as `dispatch_id` (`message_id` is our earlier
    /// name, still accepted).
    #[serde(rename = "dispatch_id", alias = "message_id")]
    pub message_id: String,
    /// Why (kept in the audit log); optional.
    pub reason: Option<String>,
}

/// `list_outbox`.
pub async fn list(
    state: &AppState,
    element: &Element,
    query: &OutboxQuery,
) -> Result<Value, ApiError> {
    let limit = check_limit(query.limit)?;
    let status = match query.status.as_deref().unwrap_or("pending") {
        "all" => None,
        s @ ("pending" | "approved" | "rejected" | "sent" | "failed" | "queued" | "sending") => {
            Some(s.to_owned())
        }
        other => {
            return Err(ApiError::invalid(
                ErrorCode::InvalidQuery,
                format!(
                    "status must be pending, approved, rejected, sent, failed or all, not {:?}",
                    crate::e164::clip(other)
                ),
            ));
        }
    };
    let filter = MessageFilter {
        direction: Some("outbound".to_owned()),
        status,
        before: query.page_token.as_deref().map(decode_token).transpose()?,
    };
    let rows = state
        .store()
        .email()
        .messages(&element.id, &filter, limit + 1)
        .await?;
    let (rows, next) = cut(rows, limit, |m| encode_token(m.created_at, &m.id));
    Ok(json!({
        "messages": rows.iter().map(row_view).collect::<Vec<_>>(),
        "next_page_token": next,
    }))
}

/// An outbox row: the message with its documented `dispatch_id`, `draft_payload` (what
/// would be sent) and `error_message`.
fn row_view(message: &EmailMessage) -> Value {
    let mut view = deliver::view(message);
    view["dispatch_id"] = Value::String(message.id.clone());
    view["error_message"] = json!(message.error);
    view["draft_payload"] = json!({
        "to": message.recipients.to,
        "cc": message.recipients.cc,
        "bcc": message.recipients.bcc,
        "subject": message.subject,
        "body": message.body_text,
        "html": message.body_html,
        "in_reply_to": message.in_reply_to,
    });
    view
}

async fn draft(state: &AppState, element: &Element, id: &str) -> Result<EmailMessage, ApiError> {
    state
        .store()
        .email()
        .message(&element.id, id)
        .await?
        .filter(|m| m.direction == "outbound")
        .ok_or_else(|| {
            ApiError::not_found(
                ErrorCode::EmailMessageNotFound,
                format!(
                    "no outgoing message {:?} on this element",
                    crate::e164::clip(id)
                ),
            )
        })
}

fn invalid_state(message: &EmailMessage, wanted: &str) -> ApiError {
    ApiError::conflict(
        ErrorCode::EmailOutboxInvalidState,
        format!(
            "message {} is {}, not {wanted}: nothing changed",
            message.id, message.status
        ),
    )
}

/// Moves a pending draft to `to` for the reviewer `key_id`; 409 when it is not pending
/// (so a repeated approval never sends twice).
async fn take_pending(
    state: &AppState,
    element: &Element,
    key_id: &str,
    review: &Review,
    to: &str,
) -> Result<EmailMessage, ApiError> {
    if let Some(reason) = &review.reason {
        crate::validate::plain_text(ErrorCode::InvalidBody, "reason", reason, 500)?;
    }
    let message = draft(state, element, &review.message_id).await?;
    let moved = state
        .store()
        .email()
        .transition(&message.id, &["pending"], to, Some(key_id), state.now_ms())
        .await?;
    if moved {
        return Ok(message);
    }
    let now = draft(state, element, &review.message_id).await?;
    Err(invalid_state(&now, "pending"))
}

/// The audit entry of a review (`approved` or `rejected`).
async fn audit_review(
    state: &AppState,
    element: &Element,
    message: &EmailMessage,
    kind: &'static str,
    key_id: &str,
    review: &Review,
) -> Result<(), ApiError> {
    audit::record(
        state,
        &element.circle_id,
        kind,
        Subject {
            element_id: Some(&element.id),
            message: Some(&message.id),
            address: None,
        },
        json!({"by": key_id, "reason": review.reason}),
    )
    .await
}

/// `approve_dispatch`: pending -> approved, counted against the cap, then submitted.
pub async fn approve(
    state: &AppState,
    element: &Element,
    key_id: &str,
    review: &Review,
) -> Result<deliver::MessageView, ApiError> {
    check_enabled(element)?;
    let message = take_pending(state, element, key_id, review, "approved").await?;
    if let Err(e) = deliver::count(state, element).await {
        // Over the cap: back to pending, to be approved another day.
        state
            .store()
            .email()
            .transition(&message.id, &["approved"], "pending", None, state.now_ms())
            .await?;
        return Err(e);
    }
    audit_review(state, element, &message, "approved", key_id, review).await?;
    let approved = draft(state, element, &message.id).await?;
    let sent = deliver::dispatch(state, approved).await?;
    Ok(deliver::MessageView::of(&sent))
}

/// `reject_dispatch`: pending -> rejected.
pub async fn reject(
    state: &AppState,
    element: &Element,
    key_id: &str,
    review: &Review,
) -> Result<deliver::MessageView, ApiError> {
    let message = take_pending(state, element, key_id, review, "rejected").await?;
    audit_review(state, element, &message, "rejected", key_id, review).await?;
    let rejected = draft(state, element, &message.id).await?;
    Ok(deliver::MessageView::of(&rejected))
}
