//! Circles and API keys.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row as _};

use super::unless_duplicate;
use crate::ids::{new_id, now_ms};
use crate::store::StoreError;
use crate::store::{Circle, KeyRecord, NewKey, StoreResult};

fn circle(row: &AnyRow) -> StoreResult<Circle> {
    Ok(Circle {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
    })
}

pub(super) async fn by_name(pool: &AnyPool, name: &str) -> StoreResult<Option<Circle>> {
    sqlx::query("SELECT id, name, created_at FROM circles WHERE name = $1")
        .bind(name)
        .fetch_optional(pool)
        .await?
        .as_ref()
        .map(circle)
        .transpose()
}

pub(super) async fn ensure(pool: &AnyPool, name: &str) -> StoreResult<Circle> {
    if let Some(found) = by_name(pool, name).await? {
        return Ok(found);
    }
    // Another process may create it between the two statements: then use theirs.
    let inserted = sqlx::query("INSERT INTO circles (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(new_id("cir"))
        .bind(name)
        .bind(now_ms())
        .execute(pool)
        .await;
    unless_duplicate(inserted)?;
    by_name(pool, name)
        .await?
        .ok_or_else(|| StoreError::Backend(format!("circle {name:?} vanished after insert")))
}

pub(super) async fn insert_key(pool: &AnyPool, key: &NewKey) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO api_keys (id, circle_id, role, hash, shown, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&key.id)
    .bind(&key.circle_id)
    .bind(key.role.as_str())
    .bind(&key.hash)
    .bind(&key.shown)
    .bind(now_ms())
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) async fn key_by_hash(pool: &AnyPool, hash: &str) -> StoreResult<Option<KeyRecord>> {
    let Some(row) = sqlx::query(
        "SELECT k.id AS key_id, k.role, c.id, c.name, c.created_at \
         FROM api_keys k JOIN circles c ON c.id = k.circle_id WHERE k.hash = $1",
    )
    .bind(hash)
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    let role: String = row.try_get("role")?;
    Ok(Some(KeyRecord {
        id: row.try_get("key_id")?,
        circle: circle(&row)?,
        role: role
            .parse()
            .map_err(|_| StoreError::Backend(format!("stored role {role:?}")))?,
    }))
}

pub(super) async fn key_count(pool: &AnyPool) -> StoreResult<i64> {
    Ok(sqlx::query("SELECT COUNT(*) AS n FROM api_keys")
        .fetch_one(pool)
        .await?
        .try_get("n")?)
}
