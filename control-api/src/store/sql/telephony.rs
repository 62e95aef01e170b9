//! Carrier credentials (providers) and registered numbers.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row as _};

use super::is_unique_violation;
use crate::error::ErrorCode;
use crate::store::StoreError;
use crate::store::{NumberPatch, NumberRecord, ProviderRecord, StoreResult};

fn provider(row: &AnyRow) -> StoreResult<ProviderRecord> {
    Ok(ProviderRecord {
        id: row.try_get("id")?,
        circle_id: row.try_get("circle_id")?,
        kind: row.try_get("kind")?,
        name: row.try_get("name")?,
        username: row.try_get("username")?,
        sealed_secret: row.try_get("sealed_secret")?,
        registrar: row.try_get("registrar")?,
        created_at: row.try_get("created_at")?,
    })
}

fn number(row: &AnyRow) -> StoreResult<NumberRecord> {
    Ok(NumberRecord {
        id: row.try_get("id")?,
        circle_id: row.try_get("circle_id")?,
        number: row.try_get("number")?,
        provider_id: row.try_get("provider_id")?,
        agent_id: row.try_get("agent_id")?,
        inbound_enabled: row.try_get::<i64, _>("inbound_enabled")? != 0,
        outbound_enabled: row.try_get::<i64, _>("outbound_enabled")? != 0,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(super) async fn insert_provider(pool: &AnyPool, p: &ProviderRecord) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO providers \
         (id, circle_id, kind, name, username, sealed_secret, created_at, registrar) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&p.id)
    .bind(&p.circle_id)
    .bind(&p.kind)
    .bind(&p.name)
    .bind(&p.username)
    .bind(p.sealed_secret.clone())
    .bind(p.created_at)
    .bind(p.registrar.clone())
    .execute(pool)
    .await?;
    Ok(())
}

/// A circle's providers, or only provider `id`.
pub(super) async fn providers(
    pool: &AnyPool,
    circle_id: &str,
    id: Option<&str>,
) -> StoreResult<Vec<ProviderRecord>> {
    sqlx::query(
        "SELECT id, circle_id, kind, name, username, sealed_secret, created_at, registrar \
         FROM providers WHERE circle_id = $1 AND ($2 = '' OR id = $2) ORDER BY created_at, id",
    )
    .bind(circle_id)
    .bind(id.unwrap_or(""))
    .fetch_all(pool)
    .await?
    .iter()
    .map(provider)
    .collect()
}

pub(super) async fn delete_provider(
    pool: &AnyPool,
    circle_id: &str,
    id: &str,
) -> StoreResult<bool> {
    let mut tx = pool.begin().await?;
    let users: i64 = sqlx::query("SELECT COUNT(*) AS n FROM numbers WHERE provider_id = $1")
        .bind(id)
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
    if users > 0 {
        return Err(StoreError::conflict(
            ErrorCode::ProviderInUse,
            format!("{users} number(s) use this provider; delete or move them first"),
        ));
    }
    let done = sqlx::query("DELETE FROM providers WHERE circle_id = $1 AND id = $2")
        .bind(circle_id)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(|e| match &e {
            // A number registered between the count and the delete.
            sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
                StoreError::conflict(ErrorCode::ProviderInUse, "a number uses this provider")
            }
            _ => e.into(),
        })?;
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn insert_number(pool: &AnyPool, n: &NumberRecord) -> StoreResult<()> {
    let inserted = sqlx::query(
        "INSERT INTO numbers (id, circle_id, number, provider_id, agent_id, created_at, \
         inbound_enabled, outbound_enabled, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&n.id)
    .bind(&n.circle_id)
    .bind(&n.number)
    .bind(&n.provider_id)
    .bind(n.agent_id.clone())
    .bind(n.created_at)
    .bind(i64::from(n.inbound_enabled))
    .bind(i64::from(n.outbound_enabled))
    .bind(n.updated_at)
    .execute(pool)
    .await;
    match inserted {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => Err(StoreError::invalid(
            ErrorCode::NumberExists,
            format!("{} is registered already", n.number),
        )),
        Err(e) => Err(e.into()),
    }
}

const NUMBER_COLUMNS: &str = "id, circle_id, number, provider_id, agent_id, created_at, \
     inbound_enabled, outbound_enabled, COALESCE(updated_at, created_at) AS updated_at";

pub(super) async fn numbers(
    pool: &AnyPool,
    circle_id: &str,
    agent_id: Option<&str>,
) -> StoreResult<Vec<NumberRecord>> {
    sqlx::query(&format!(
        "SELECT {NUMBER_COLUMNS} FROM numbers \
         WHERE circle_id = $1 AND ($2 = '' OR agent_id = $2) ORDER BY created_at, id"
    ))
    .bind(circle_id)
    .bind(agent_id.unwrap_or(""))
    .fetch_all(pool)
    .await?
    .iter()
    .map(number)
    .collect()
}

pub(super) async fn number_by_e164(
    pool: &AnyPool,
    e164: &str,
) -> StoreResult<Option<NumberRecord>> {
    sqlx::query(&format!(
        "SELECT {NUMBER_COLUMNS} FROM numbers WHERE number = $1"
    ))
    .bind(e164)
    .fetch_optional(pool)
    .await?
    .as_ref()
    .map(number)
    .transpose()
}

pub(super) async fn update_number(
    pool: &AnyPool,
    circle_id: &str,
    id: &str,
    patch: &NumberPatch,
) -> StoreResult<bool> {
    // -1: leave the switch as it is.
    let switch = |on: Option<bool>| on.map_or(-1, i64::from);
    let done = sqlx::query(
        "UPDATE numbers SET agent_id = $1, \
         inbound_enabled = CASE WHEN $2 < 0 THEN inbound_enabled ELSE $2 END, \
         outbound_enabled = CASE WHEN $3 < 0 THEN outbound_enabled ELSE $3 END, \
         updated_at = $4 WHERE circle_id = $5 AND id = $6",
    )
    .bind(patch.agent_id.clone())
    .bind(switch(patch.inbound_enabled))
    .bind(switch(patch.outbound_enabled))
    .bind(patch.updated_at)
    .bind(circle_id)
    .bind(id)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn delete_number(pool: &AnyPool, circle_id: &str, id: &str) -> StoreResult<bool> {
    let done = sqlx::query("DELETE FROM numbers WHERE circle_id = $1 AND id = $2")
        .bind(circle_id)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// SIP trunks (providers of kind `sip`) that carry at least one number pinned to an agent,
/// in every circle: the registrations voxgate keeps alive.
pub(super) async fn bound_sip_providers(pool: &AnyPool) -> StoreResult<Vec<ProviderRecord>> {
    sqlx::query(
        "SELECT id, circle_id, kind, name, username, sealed_secret, created_at, registrar \
         FROM providers p WHERE kind = 'sip' AND EXISTS \
         (SELECT 1 FROM numbers n WHERE n.provider_id = p.id AND n.agent_id IS NOT NULL) \
         ORDER BY created_at, id",
    )
    .fetch_all(pool)
    .await?
    .iter()
    .map(provider)
    .collect()
}

/// Whether the numbers table holds any row.
pub(super) async fn any_number(pool: &AnyPool) -> StoreResult<bool> {
    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM (SELECT 1 FROM numbers LIMIT 1) t")
        .fetch_one(pool)
        .await?
        .try_get("n")?;
    Ok(n > 0)
}
