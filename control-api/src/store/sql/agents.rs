//! Agents.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row as _};

use super::json;
use crate::store::{AgentRecord, StoreResult};

fn agent(row: &AnyRow) -> StoreResult<AgentRecord> {
    let body: String = row.try_get("body")?;
    Ok(AgentRecord {
        id: row.try_get("id")?,
        circle_id: row.try_get("circle_id")?,
        body: json(&body)?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(super) async fn insert(pool: &AnyPool, a: &AgentRecord) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO agents (id, circle_id, body, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&a.id)
    .bind(&a.circle_id)
    .bind(a.body.to_string())
    .bind(a.created_at)
    .bind(a.updated_at)
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) async fn list(pool: &AnyPool, circle_id: &str) -> StoreResult<Vec<AgentRecord>> {
    sqlx::query(
        "SELECT id, circle_id, body, created_at, updated_at FROM agents \
         WHERE circle_id = $1 ORDER BY created_at, id",
    )
    .bind(circle_id)
    .fetch_all(pool)
    .await?
    .iter()
    .map(agent)
    .collect()
}

pub(super) async fn get(
    pool: &AnyPool,
    circle_id: &str,
    id: &str,
) -> StoreResult<Option<AgentRecord>> {
    sqlx::query(
        "SELECT id, circle_id, body, created_at, updated_at FROM agents \
         WHERE circle_id = $1 AND id = $2",
    )
    .bind(circle_id)
    .bind(id)
    .fetch_optional(pool)
    .await?
    .as_ref()
    .map(agent)
    .transpose()
}

pub(super) async fn update(pool: &AnyPool, a: &AgentRecord) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE agents SET body = $1, updated_at = $2 WHERE circle_id = $3 AND id = $4",
    )
    .bind(a.body.to_string())
    .bind(a.updated_at)
    .bind(&a.circle_id)
    .bind(&a.id)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn delete(pool: &AnyPool, circle_id: &str, id: &str) -> StoreResult<bool> {
    let mut tx = pool.begin().await?;
    sqlx::query("UPDATE numbers SET agent_id = NULL WHERE circle_id = $1 AND agent_id = $2")
        .bind(circle_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let done = sqlx::query("DELETE FROM agents WHERE circle_id = $1 AND id = $2")
        .bind(circle_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}
