//! Email messages both ways: the outbox state machine, attempts and the send queue.
//!
//! `refs`, `recipients` and `attachments` are JSON text; `raw` (the RFC 5322 bytes) is a
//! blob read only by [`raw`], so listing messages never drags whole mails along.

use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row as _};

use super::{flag, json};
use crate::ids::Millis;
use crate::store::StoreError;
use crate::store::{EmailMessage, MessageFilter, Outcome, StoreResult};

/// Every column but `raw`.
const COLUMNS: &str = "id, circle_id, element_id, direction, kind, status, message_id, \
     in_reply_to, refs, thread_id, sender, recipients, subject, body_text, body_html, \
     attachments, tracked, attempts, next_attempt_at, error_code, error, reviewed_by, \
     created_at, updated_at, sent_at";

/// `value` as stored JSON text.
fn to_json<T: Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Backend(format!("JSON to store: {e}")))
}

/// Stored JSON text as a `T`.
fn from_json<T: DeserializeOwned>(text: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Backend(format!("stored JSON: {e}")))
}

fn message(row: &AnyRow) -> StoreResult<EmailMessage> {
    let refs: String = row.try_get("refs")?;
    let recipients: String = row.try_get("recipients")?;
    let attachments: String = row.try_get("attachments")?;
    Ok(EmailMessage {
        id: row.try_get("id")?,
        circle_id: row.try_get("circle_id")?,
        element_id: row.try_get("element_id")?,
        direction: row.try_get("direction")?,
        kind: row.try_get("kind")?,
        status: row.try_get("status")?,
        message_id: row.try_get("message_id")?,
        in_reply_to: row.try_get("in_reply_to")?,
        refs: from_json(&refs)?,
        thread_id: row.try_get("thread_id")?,
        sender: row.try_get("sender")?,
        recipients: from_json(&recipients)?,
        subject: row.try_get("subject")?,
        body_text: row.try_get("body_text")?,
        body_html: row.try_get("body_html")?,
        attachments: json(&attachments)?,
        tracked: row.try_get::<i64, _>("tracked")? != 0,
        attempts: row.try_get("attempts")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
        error_code: row.try_get("error_code")?,
        error: row.try_get("error")?,
        reviewed_by: row.try_get("reviewed_by")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        sent_at: row.try_get("sent_at")?,
    })
}

pub(super) async fn insert(pool: &AnyPool, m: &EmailMessage, raw: &[u8]) -> StoreResult<()> {
    sqlx::query(&format!(
        "INSERT INTO email_messages ({COLUMNS}, raw) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
         $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26)"
    ))
    .bind(&m.id)
    .bind(&m.circle_id)
    .bind(&m.element_id)
    .bind(&m.direction)
    .bind(&m.kind)
    .bind(&m.status)
    .bind(&m.message_id)
    .bind(m.in_reply_to.clone())
    .bind(to_json(&m.refs)?)
    .bind(m.thread_id.clone())
    .bind(&m.sender)
    .bind(to_json(&m.recipients)?)
    .bind(&m.subject)
    .bind(m.body_text.clone())
    .bind(m.body_html.clone())
    .bind(m.attachments.to_string())
    .bind(flag(m.tracked))
    .bind(m.attempts)
    .bind(m.next_attempt_at)
    .bind(m.error_code.clone())
    .bind(m.error.clone())
    .bind(m.reviewed_by.clone())
    .bind(m.created_at)
    .bind(m.updated_at)
    .bind(m.sent_at)
    .bind(raw)
    .execute(pool)
    .await?;
    Ok(())
}

/// Message `id`, only if it belongs to `element_id` (when given).
pub(super) async fn get(
    pool: &AnyPool,
    element_id: Option<&str>,
    id: &str,
) -> StoreResult<Option<EmailMessage>> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM email_messages WHERE id = $1 AND ($2 = '' OR element_id = $2)"
    ))
    .bind(id)
    .bind(element_id.unwrap_or(""))
    .fetch_optional(pool)
    .await?
    .as_ref()
    .map(message)
    .transpose()
}

pub(super) async fn raw(pool: &AnyPool, id: &str) -> StoreResult<Option<Vec<u8>>> {
    Ok(sqlx::query("SELECT raw FROM email_messages WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?
        .map(|row| row.try_get("raw"))
        .transpose()?)
}

pub(super) async fn by_message_id(
    pool: &AnyPool,
    circle_id: &str,
    message_id: &str,
) -> StoreResult<Vec<EmailMessage>> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM email_messages WHERE circle_id = $1 AND message_id = $2 \
         ORDER BY created_at, id"
    ))
    .bind(circle_id)
    .bind(message_id)
    .fetch_all(pool)
    .await?
    .iter()
    .map(message)
    .collect()
}

/// An element's messages, newest first, strictly before the filter's (created_at, id).
pub(super) async fn page(
    pool: &AnyPool,
    element_id: &str,
    filter: &MessageFilter,
    limit: i64,
) -> StoreResult<Vec<EmailMessage>> {
    let (at, id) = filter
        .before
        .as_ref()
        .map_or((i64::MAX, ""), |(at, id)| (*at, id.as_str()));
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM email_messages WHERE element_id = $1 \
         AND ($2 = '' OR direction = $2) AND ($3 = '' OR status = $3) \
         AND (created_at < $4 OR (created_at = $4 AND id < $5)) \
         ORDER BY created_at DESC, id DESC LIMIT $6"
    ))
    .bind(element_id)
    .bind(filter.direction.as_deref().unwrap_or(""))
    .bind(filter.status.as_deref().unwrap_or(""))
    .bind(at)
    .bind(id)
    .bind(limit)
    .fetch_all(pool)
    .await?
    .iter()
    .map(message)
    .collect()
}

/// Moves message `id` from one of `from` to `to` in one statement, so two reviewers (or a
/// reviewer and the sender) racing on one draft cannot both win.
pub(super) async fn transition(
    pool: &AnyPool,
    id: &str,
    from: &[&str],
    to: &str,
    reviewed_by: Option<&str>,
    now: Millis,
) -> StoreResult<bool> {
    if from.is_empty() {
        return Ok(false);
    }
    // Placeholders only: the states are bound like every other value.
    let states = (5..5 + from.len())
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "UPDATE email_messages SET status = $1, reviewed_by = COALESCE($2, reviewed_by), \
         updated_at = $3 WHERE id = $4 AND status IN ({states})"
    );
    let mut query = sqlx::query(&sql)
        .bind(to)
        .bind(reviewed_by.map(str::to_owned))
        .bind(now)
        .bind(id);
    for state in from {
        query = query.bind(*state);
    }
    Ok(query.execute(pool).await?.rows_affected() == 1)
}

pub(super) async fn set_outcome(
    pool: &AnyPool,
    id: &str,
    o: &Outcome,
    now: Millis,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE email_messages SET status = $2, attempts = $3, next_attempt_at = $4, \
         error_code = $5, error = $6, sent_at = $7, updated_at = $8 WHERE id = $1",
    )
    .bind(id)
    .bind(&o.status)
    .bind(o.attempts)
    .bind(o.next_attempt_at)
    .bind(o.error_code.clone())
    .bind(o.error.clone())
    .bind(o.sent_at)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

/// Queued messages whose `next_attempt_at` has come (none set: due at once), oldest first.
pub(super) async fn due(pool: &AnyPool, now: Millis, limit: i64) -> StoreResult<Vec<EmailMessage>> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM email_messages WHERE status = 'queued' \
         AND (next_attempt_at IS NULL OR next_attempt_at <= $1) \
         ORDER BY created_at, id LIMIT $2"
    ))
    .bind(now)
    .bind(limit)
    .fetch_all(pool)
    .await?
    .iter()
    .map(message)
    .collect()
}

/// Messages left in flight (`sending`, `approved`) since before `before`, queued again.
pub(super) async fn requeue_stale(pool: &AnyPool, before: Millis) -> StoreResult<u64> {
    let done = sqlx::query(
        "UPDATE email_messages SET status = 'queued', next_attempt_at = NULL \
         WHERE status IN ('sending', 'approved') AND updated_at < $1",
    )
    .bind(before)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

pub(super) async fn set_thread(pool: &AnyPool, id: &str, thread_id: &str) -> StoreResult<()> {
    sqlx::query("UPDATE email_messages SET thread_id = $2 WHERE id = $1")
        .bind(id)
        .bind(thread_id)
        .execute(pool)
        .await?;
    Ok(())
}
