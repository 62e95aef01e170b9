//! Element activity: one row per operation run (`activity`, `stats`).

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row as _};

use crate::ids::Millis;
use crate::store::{ActivityRecord, ActivitySummary, StoreResult};

const COLUMNS: &str =
    "id, element_id, circle_id, operation, outcome, status, duration_ms, key_id, created_at";

fn record(row: &AnyRow) -> StoreResult<ActivityRecord> {
    Ok(ActivityRecord {
        id: row.try_get("id")?,
        element_id: row.try_get("element_id")?,
        circle_id: row.try_get("circle_id")?,
        operation: row.try_get("operation")?,
        outcome: row.try_get("outcome")?,
        status: row.try_get("status")?,
        duration_ms: row.try_get("duration_ms")?,
        key_id: row.try_get("key_id")?,
        created_at: row.try_get("created_at")?,
    })
}

pub(super) async fn insert(pool: &AnyPool, a: &ActivityRecord) -> StoreResult<()> {
    sqlx::query(&format!(
        "INSERT INTO element_activity ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    ))
    .bind(&a.id)
    .bind(&a.element_id)
    .bind(&a.circle_id)
    .bind(&a.operation)
    .bind(&a.outcome)
    .bind(a.status)
    .bind(a.duration_ms)
    .bind(a.key_id.as_deref())
    .bind(a.created_at)
    .execute(pool)
    .await?;
    Ok(())
}

// PostgreSQL's SUM of BIGINT is NUMERIC: the casts keep both dialects' answers i64.

/// Newest first, strictly before `before` (created_at, id).
pub(super) async fn page(
    pool: &AnyPool,
    element_id: &str,
    before: Option<(Millis, &str)>,
    limit: i64,
) -> StoreResult<Vec<ActivityRecord>> {
    let (at, id) = before.unwrap_or((i64::MAX, ""));
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM element_activity WHERE element_id = $1 \
         AND (created_at < $2 OR (created_at = $2 AND id < $3)) \
         ORDER BY created_at DESC, id DESC LIMIT $4"
    ))
    .bind(element_id)
    .bind(at)
    .bind(id)
    .bind(limit)
    .fetch_all(pool)
    .await?
    .iter()
    .map(record)
    .collect()
}

pub(super) async fn summary(
    pool: &AnyPool,
    element_id: &str,
    since: Millis,
) -> StoreResult<ActivitySummary> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS runs, \
         CAST(COALESCE(SUM(CASE WHEN outcome = 'ok' THEN 0 ELSE 1 END), 0) AS BIGINT) AS errors, \
         CAST(COALESCE(SUM(duration_ms), 0) AS BIGINT) AS total, MAX(created_at) AS last_at \
         FROM element_activity WHERE element_id = $1 AND created_at >= $2",
    )
    .bind(element_id)
    .bind(since)
    .fetch_one(pool)
    .await?;
    Ok(ActivitySummary {
        runs: row.try_get("runs")?,
        errors: row.try_get("errors")?,
        total_duration_ms: row.try_get("total")?,
        last_at: row.try_get("last_at")?,
    })
}
