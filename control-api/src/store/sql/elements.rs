//! Elements and their versions.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row as _};

use super::{flag, is_unique_violation, json};
use crate::error::ErrorCode;
use crate::ids::Millis;
use crate::store::StoreError;
use crate::store::{Element, ElementChange, ElementVersion, StoreResult};

/// An element row's columns (for [`element`]).
pub(super) const COLUMNS: &str = "id, circle_id, element_type, slug, spec, enabled, version, \
     created_at, updated_at, name, intention, meta, disabled_reason";

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
        name: row
            .try_get::<Option<String>, _>("name")?
            .unwrap_or_else(|| slug_of(row)),
        intention: row.try_get("intention")?,
        meta: json(&row.try_get::<String, _>("meta")?)?,
        disabled_reason: row.try_get("disabled_reason")?,
    })
}

fn slug_of(row: &AnyRow) -> String {
    row.try_get("slug").unwrap_or_default()
}

pub(super) async fn insert(pool: &AnyPool, e: &Element) -> StoreResult<()> {
    let spec = e.spec.to_string();
    let mut tx = pool.begin().await?;
    let inserted = sqlx::query(&format!(
        "INSERT INTO elements ({COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
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
    .bind(&e.name)
    .bind(e.intention.as_deref())
    .bind(e.meta.to_string())
    .bind(e.disabled_reason.as_deref())
    .execute(&mut *tx)
    .await;
    match inserted {
        Ok(_) => {}
        Err(err) if is_unique_violation(&err) => {
            return Err(StoreError::conflict(
                ErrorCode::ElementSlugTaken,
                format!("an element with slug {:?} exists in this circle", e.slug),
            ));
        }
        Err(err) => return Err(err.into()),
    }
    insert_version(&mut tx, &e.id, e.version, &spec, e.created_at, None).await?;
    tx.commit().await?;
    Ok(())
}

async fn insert_version(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &str,
    version: i64,
    spec: &str,
    at: Millis,
    note: Option<&str>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO element_versions (element_id, version, spec, created_at, note) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(version)
    .bind(spec)
    .bind(at)
    .bind(note)
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

pub(super) async fn update(
    pool: &AnyPool,
    id: &str,
    expected: i64,
    change: ElementChange<'_>,
    now: Millis,
) -> StoreResult<Element> {
    let spec = change.spec.to_string();
    let mut tx = pool.begin().await?;
    let updated = sqlx::query(
        "UPDATE elements SET spec = $1, version = version + 1, updated_at = $2, \
         name = CASE WHEN $5 = 1 THEN $6 ELSE name END, \
         intention = CASE WHEN $7 = 1 THEN $8 ELSE intention END \
         WHERE id = $3 AND version = $4 AND deleted_at IS NULL",
    )
    .bind(&spec)
    .bind(now)
    .bind(id)
    .bind(expected)
    .bind(flag(change.name.is_some()))
    .bind(change.name)
    .bind(flag(change.intention.is_some()))
    .bind(change.intention.flatten())
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() != 1 {
        return Err(StoreError::conflict(
            ErrorCode::ElementVersionConflict,
            format!("the element changed since version {expected}; read it and try again"),
        ));
    }
    insert_version(&mut tx, id, expected + 1, &spec, now, change.note).await?;
    tx.commit().await?;
    by_id(pool, id).await
}

pub(super) async fn versions(pool: &AnyPool, id: &str) -> StoreResult<Vec<ElementVersion>> {
    let rows = sqlx::query(
        "SELECT version, spec, created_at, note FROM element_versions \
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
                note: row.try_get("note")?,
            })
        })
        .collect()
}

pub(super) async fn set_state(
    pool: &AnyPool,
    id: &str,
    enabled: bool,
    reason: Option<&str>,
    now: Millis,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE elements SET enabled = $1, disabled_reason = $2, updated_at = $3 WHERE id = $4",
    )
    .bind(flag(enabled))
    .bind(if enabled { None } else { reason })
    .bind(now)
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) async fn set_meta(
    pool: &AnyPool,
    id: &str,
    meta: &serde_json::Value,
    now: Millis,
) -> StoreResult<()> {
    sqlx::query("UPDATE elements SET meta = $1, updated_at = $2 WHERE id = $3")
        .bind(meta.to_string())
        .bind(now)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

pub(super) async fn readme(pool: &AnyPool, id: &str) -> StoreResult<String> {
    let readme: Option<String> = sqlx::query_scalar("SELECT readme FROM elements WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok(readme.unwrap_or_default())
}

pub(super) async fn set_readme(
    pool: &AnyPool,
    id: &str,
    readme: &str,
    now: Millis,
) -> StoreResult<()> {
    sqlx::query("UPDATE elements SET readme = $1, updated_at = $2 WHERE id = $3")
        .bind(readme)
        .bind(now)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

/// A circle's live elements, oldest first.
pub(super) async fn live_in(pool: &AnyPool, circle_id: &str) -> StoreResult<Vec<Element>> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM elements WHERE circle_id = $1 AND deleted_at IS NULL \
         ORDER BY created_at, id"
    ))
    .bind(circle_id)
    .fetch_all(pool)
    .await?
    .iter()
    .map(element)
    .collect()
}

pub(super) async fn delete(pool: &AnyPool, id: &str, now: Millis) -> StoreResult<()> {
    sqlx::query("UPDATE elements SET deleted_at = $1, updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}
