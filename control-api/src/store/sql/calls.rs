//! Call records, their turns, and conversation threads.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row as _};

use super::{flag, json, unless_duplicate};
use crate::ids::{Millis, new_id};
use crate::store::StoreError;
use crate::store::{CallRecord, CallTurn, StoreResult, Thread, ThreadMessage};

const CALL_COLUMNS: &str = "id, circle_id, carrier_call_id, number, direction, from_number, \
     to_number, state, agent_id, thread_id, started_at, answered_at, ended_at, end_reason, error, cost, whenhangup_url";

fn call(row: &AnyRow) -> StoreResult<CallRecord> {
    Ok(CallRecord {
        id: row.try_get("id")?,
        circle_id: row.try_get("circle_id")?,
        carrier_call_id: row.try_get("carrier_call_id")?,
        number: row.try_get("number")?,
        direction: row.try_get("direction")?,
        from: row.try_get("from_number")?,
        to: row.try_get("to_number")?,
        state: row.try_get("state")?,
        agent_id: row.try_get("agent_id")?,
        thread_id: row.try_get("thread_id")?,
        started_at: row.try_get("started_at")?,
        answered_at: row.try_get("answered_at")?,
        ended_at: row.try_get("ended_at")?,
        end_reason: row.try_get("end_reason")?,
        error: row.try_get("error")?,
        cost: row.try_get("cost")?,
        whenhangup_url: row.try_get("whenhangup_url")?,
    })
}

pub(super) async fn insert(pool: &AnyPool, c: &CallRecord) -> StoreResult<()> {
    sqlx::query(&format!(
        "INSERT INTO calls ({CALL_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
    ))
    .bind(&c.id)
    .bind(&c.circle_id)
    .bind(&c.carrier_call_id)
    .bind(&c.number)
    .bind(&c.direction)
    .bind(&c.from)
    .bind(&c.to)
    .bind(&c.state)
    .bind(c.agent_id.clone())
    .bind(c.thread_id.clone())
    .bind(c.started_at)
    .bind(c.answered_at)
    .bind(c.ended_at)
    .bind(c.end_reason.clone())
    .bind(c.error.clone())
    .bind(c.cost)
    .bind(c.whenhangup_url.clone())
    .execute(pool)
    .await?;
    Ok(())
}

/// Records what the carrier charged for call `id`; apart from [`update`], so the voice
/// core's last write of a call it recorded cannot undo it.
pub(super) async fn set_cost(pool: &AnyPool, id: &str, cost: i64) -> StoreResult<()> {
    sqlx::query("UPDATE calls SET cost = $2 WHERE id = $1")
        .bind(id)
        .bind(cost)
        .execute(pool)
        .await?;
    Ok(())
}

pub(super) async fn update(pool: &AnyPool, c: &CallRecord) -> StoreResult<()> {
    sqlx::query(
        "UPDATE calls SET state = $1, agent_id = $2, thread_id = $3, answered_at = $4, \
         ended_at = $5, end_reason = $6, error = $7 WHERE id = $8",
    )
    .bind(&c.state)
    .bind(c.agent_id.clone())
    .bind(c.thread_id.clone())
    .bind(c.answered_at)
    .bind(c.ended_at)
    .bind(c.end_reason.clone())
    .bind(c.error.clone())
    .bind(&c.id)
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) async fn insert_turn(pool: &AnyPool, call_id: &str, t: &CallTurn) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO call_turns (call_id, turn, user_text, agent_text, interrupted, metrics) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (call_id, turn) DO NOTHING",
    )
    .bind(call_id)
    .bind(t.turn)
    .bind(&t.user)
    .bind(&t.agent)
    .bind(flag(t.interrupted))
    .bind(t.metrics.to_string())
    .execute(pool)
    .await?;
    Ok(())
}

/// A circle's calls, newest first, or only call `id`.
pub(super) async fn list(
    pool: &AnyPool,
    circle_id: &str,
    id: Option<&str>,
    limit: i64,
) -> StoreResult<Vec<CallRecord>> {
    sqlx::query(&format!(
        "SELECT {CALL_COLUMNS} FROM calls WHERE circle_id = $1 AND ($2 = '' OR id = $2) \
         ORDER BY started_at DESC, id DESC LIMIT $3"
    ))
    .bind(circle_id)
    .bind(id.unwrap_or(""))
    .bind(limit)
    .fetch_all(pool)
    .await?
    .iter()
    .map(call)
    .collect()
}

/// Calls on `number` of a circle, newest first, strictly before `before`
/// (started_at, id), optionally of one `direction`.
pub(super) async fn page(
    pool: &AnyPool,
    circle_id: &str,
    number: &str,
    direction: Option<&str>,
    before: Option<(Millis, &str)>,
    limit: i64,
) -> StoreResult<Vec<CallRecord>> {
    let (at, id) = before.unwrap_or((i64::MAX, ""));
    sqlx::query(&format!(
        "SELECT {CALL_COLUMNS} FROM calls WHERE circle_id = $1 AND number = $2 \
         AND ($3 = '' OR direction = $3) \
         AND (started_at < $4 OR (started_at = $4 AND id < $5)) \
         ORDER BY started_at DESC, id DESC LIMIT $6"
    ))
    .bind(circle_id)
    .bind(number)
    .bind(direction.unwrap_or(""))
    .bind(at)
    .bind(id)
    .bind(limit)
    .fetch_all(pool)
    .await?
    .iter()
    .map(call)
    .collect()
}

/// How many calls on our `number` (in `direction`, if given).
pub(super) async fn page_total(
    pool: &AnyPool,
    circle_id: &str,
    number: &str,
    direction: Option<&str>,
) -> StoreResult<i64> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM calls WHERE circle_id = $1 AND number = $2 \
         AND ($3 = '' OR direction = $3)",
    )
    .bind(circle_id)
    .bind(number)
    .bind(direction.unwrap_or(""))
    .fetch_one(pool)
    .await?;
    Ok(n)
}

/// Records the carrier's id of call `id` (placed by voxgate, known once the carrier answers).
pub(super) async fn set_carrier_id(
    pool: &AnyPool,
    id: &str,
    carrier_call_id: &str,
) -> StoreResult<()> {
    sqlx::query("UPDATE calls SET carrier_call_id = $2 WHERE id = $1")
        .bind(id)
        .bind(carrier_call_id)
        .execute(pool)
        .await?;
    Ok(())
}

/// The call with the carrier's id `carrier_call_id`.
pub(super) async fn by_carrier_id(
    pool: &AnyPool,
    carrier_call_id: &str,
) -> StoreResult<Option<CallRecord>> {
    sqlx::query(&format!(
        "SELECT {CALL_COLUMNS} FROM calls WHERE carrier_call_id = $1 \
         ORDER BY started_at DESC LIMIT 1"
    ))
    .bind(carrier_call_id)
    .fetch_optional(pool)
    .await?
    .as_ref()
    .map(call)
    .transpose()
}

pub(super) async fn turns(pool: &AnyPool, call_id: &str) -> StoreResult<Vec<CallTurn>> {
    sqlx::query(
        "SELECT turn, user_text, agent_text, interrupted, metrics FROM call_turns \
         WHERE call_id = $1 ORDER BY turn",
    )
    .bind(call_id)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|row| {
        let metrics: String = row.try_get("metrics")?;
        let interrupted: i64 = row.try_get("interrupted")?;
        Ok(CallTurn {
            turn: row.try_get("turn")?,
            user: row.try_get("user_text")?,
            agent: row.try_get("agent_text")?,
            interrupted: interrupted != 0,
            metrics: json(&metrics)?,
        })
    })
    .collect()
}

pub(super) async fn counts(pool: &AnyPool, number: &str) -> StoreResult<(i64, i64)> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS total, \
         COALESCE(SUM(CASE WHEN ended_at IS NULL THEN 1 ELSE 0 END), 0) AS active \
         FROM calls WHERE number = $1",
    )
    .bind(number)
    .fetch_one(pool)
    .await?;
    Ok((row.try_get("total")?, row.try_get("active")?))
}

fn thread_row(row: &AnyRow) -> StoreResult<Thread> {
    Ok(Thread {
        id: row.try_get("id")?,
        circle_id: row.try_get("circle_id")?,
        contact: row.try_get("contact")?,
        agent_id: row.try_get("agent_id")?,
        created_at: row.try_get("created_at")?,
    })
}

const THREAD_COLUMNS: &str = "id, circle_id, contact, agent_id, created_at";

pub(super) async fn thread(
    pool: &AnyPool,
    circle_id: &str,
    contact: &str,
    agent_id: &str,
    now: Millis,
) -> StoreResult<Thread> {
    let find = || async {
        sqlx::query(&format!(
            "SELECT {THREAD_COLUMNS} FROM threads \
             WHERE circle_id = $1 AND contact = $2 AND agent_id = $3"
        ))
        .bind(circle_id)
        .bind(contact)
        .bind(agent_id)
        .fetch_optional(pool)
        .await
    };
    if let Some(row) = find().await? {
        return thread_row(&row);
    }
    let inserted = sqlx::query(&format!(
        "INSERT INTO threads ({THREAD_COLUMNS}) VALUES ($1, $2, $3, $4, $5)"
    ))
    .bind(new_id("thr"))
    .bind(circle_id)
    .bind(contact)
    .bind(agent_id)
    .bind(now)
    .execute(pool)
    .await;
    // A concurrent call from the same contact may have created it first.
    unless_duplicate(inserted)?;
    let row = find()
        .await?
        .ok_or_else(|| StoreError::Backend("thread vanished after insert".to_owned()))?;
    thread_row(&row)
}

pub(super) async fn append_message(
    pool: &AnyPool,
    thread_id: &str,
    m: &ThreadMessage,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO thread_messages (thread_id, role, content, channel, call_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(thread_id)
    .bind(&m.role)
    .bind(&m.content)
    .bind(&m.channel)
    .bind(m.call_id.clone())
    .bind(m.created_at)
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) async fn recent_messages(
    pool: &AnyPool,
    thread_id: &str,
    limit: i64,
) -> StoreResult<Vec<ThreadMessage>> {
    let mut messages = sqlx::query(
        "SELECT role, content, channel, call_id, created_at FROM thread_messages \
         WHERE thread_id = $1 ORDER BY seq DESC LIMIT $2",
    )
    .bind(thread_id)
    .bind(limit)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|row| {
        Ok(ThreadMessage {
            role: row.try_get("role")?,
            content: row.try_get("content")?,
            channel: row.try_get("channel")?,
            call_id: row.try_get("call_id")?,
            created_at: row.try_get("created_at")?,
        })
    })
    .collect::<StoreResult<Vec<_>>>()?;
    messages.reverse();
    Ok(messages)
}

pub(super) async fn threads_by_contact(
    pool: &AnyPool,
    circle_id: &str,
    contact: &str,
) -> StoreResult<Vec<Thread>> {
    sqlx::query(&format!(
        "SELECT {THREAD_COLUMNS} FROM threads WHERE circle_id = $1 AND contact = $2 \
         ORDER BY created_at, id"
    ))
    .bind(circle_id)
    .bind(contact)
    .fetch_all(pool)
    .await?
    .iter()
    .map(thread_row)
    .collect()
}
