//! Elements and their versions.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row as _};

use super::{flag, is_unique_violation, json};
use crate::error::{ApiError, ErrorCode};
use crate::ids::Millis;
use crate::store::{Element, ElementVersion, StoreResult};

/// An element row's columns (for [`element`]).
pub(super) const COLUMNS: &str =
    "id, circle_id, element_type, slug, spec, enabled, version, created_at, updated_at";

/// An element from a row of [`COLUMNS`].
pub(super) fn element(row: &AnyRow) -> StoreResult<Element> {
    let spec: String = row.try_get("spec")?;
    let enabled: i64 = row.try_get("enabled")?;
    Ok(Element {
        id: row.try_get("id")?,
        circle_id: row.try_get("circle_id")?,
        element_type: row.try_get("element_type")?,
        slug: row.try_get("slug")?,
        spec: json(&spec)?,
        enabled: enabled != 0,
        version: row.try_get("version")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(super) async fn insert(pool: &AnyPool, e: &Element) -> StoreResult<()> {
    let spec = e.spec.to_string();
    let mut tx = pool.begin().await?;
    let inserted = sqlx::query(&format!(
        "INSERT INTO elements ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    ))
    .bind(&e.id)
    .bind(&e.circle_id)
    .bind(&e.element_type)
    .bind(&e.slug)
    .bind(&spec)
    .bind(flag(e.enabled))
    .bind(e.version)
    .bind(e.created_at)
    .bind(e.updated_at)
    .execute(&mut *tx)
    .await;
    match inserted {
        Ok(_) => {}
        Err(err) if is_unique_violation(&err) => {
            return Err(ApiError::conflict(
                ErrorCode::ElementSlugTaken,
                format!("an element with slug {:?} exists in this circle", e.slug),
            ));
        }
        Err(err) => return Err(err.into()),
    }
    insert_version(&mut tx, &e.id, e.version, &spec, e.created_at).await?;
    tx.commit().await?;
    Ok(())
}

async fn insert_version(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &str,
    version: i64,
    spec: &str,
    at: Millis,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO element_versions (element_id, version, spec, created_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(id)
    .bind(version)
    .bind(spec)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(super) async fn live(
    pool: &AnyPool,
    circle_id: &str,
    slug: &str,
) -> StoreResult<Option<Element>> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM elements \
         WHERE circle_id = $1 AND slug = $2 AND deleted_at IS NULL"
    ))
    .bind(circle_id)
    .bind(slug)
    .fetch_optional(pool)
    .await?
    .as_ref()
    .map(element)
    .transpose()
}

/// The live element `id`, in whichever circle.
pub(super) async fn live_by_id(pool: &AnyPool, id: &str) -> StoreResult<Option<Element>> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM elements WHERE id = $1 AND deleted_at IS NULL"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?
    .as_ref()
    .map(element)
    .transpose()
}

async fn by_id(pool: &AnyPool, id: &str) -> StoreResult<Element> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM elements WHERE id = $1"))
        .bind(id)
        .fetch_one(pool)
        .await?;
    element(&row)
}

pub(super) async fn save_spec(
    pool: &AnyPool,
    id: &str,
    expected: i64,
    spec: &serde_json::Value,
    now: Millis,
) -> StoreResult<Element> {
    let spec = spec.to_string();
    let mut tx = pool.begin().await?;
    let updated = sqlx::query(
        "UPDATE elements SET spec = $1, version = version + 1, updated_at = $2 \
         WHERE id = $3 AND version = $4 AND deleted_at IS NULL",
    )
    .bind(&spec)
    .bind(now)
    .bind(id)
    .bind(expected)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() != 1 {
        return Err(ApiError::conflict(
            ErrorCode::ElementVersionConflict,
            format!("the element changed since version {expected}; read it and try again"),
        ));
    }
    insert_version(&mut tx, id, expected + 1, &spec, now).await?;
    tx.commit().await?;
    by_id(pool, id).await
}

pub(super) async fn versions(pool: &AnyPool, id: &str) -> StoreResult<Vec<ElementVersion>> {
    let rows = sqlx::query(
        "SELECT version, spec, created_at FROM element_versions \
         WHERE element_id = $1 ORDER BY version",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let spec: String = row.try_get("spec")?;
            Ok(ElementVersion {
                version: row.try_get("version")?,
                spec: json(&spec)?,
                created_at: row.try_get("created_at")?,
            })
        })
        .collect()
}

pub(super) async fn set_enabled(
    pool: &AnyPool,
    id: &str,
    enabled: bool,
    now: Millis,
) -> StoreResult<()> {
    sqlx::query("UPDATE elements SET enabled = $1, updated_at = $2 WHERE id = $3")
        .bind(flag(enabled))
        .bind(now)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

pub(super) async fn delete(pool: &AnyPool, id: &str, now: Millis) -> StoreResult<()> {
    sqlx::query("UPDATE elements SET deleted_at = $1, updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}
