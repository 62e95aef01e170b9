//! Where mail goes out from and comes in at: sending domains, extra receiving addresses,
//! the live email elements, and the tracking tokens of sent mail.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row as _};

use super::elements;
use super::flag;
use crate::ids::Millis;
use crate::store::{AddressRecord, DomainRecord, Element, StoreResult, Tracking};

const DOMAIN_COLUMNS: &str =
    "id, circle_id, domain, token, managed, verified_at, created_at, dkim_key, dkim_public";
const ADDRESS_COLUMNS: &str = "address, circle_id, element_id, created_at";

fn domain(row: &AnyRow) -> StoreResult<DomainRecord> {
    Ok(DomainRecord {
        id: row.try_get("id")?,
        circle_id: row.try_get("circle_id")?,
        domain: row.try_get("domain")?,
        token: row.try_get("token")?,
        managed: row.try_get::<i64, _>("managed")? != 0,
        verified_at: row.try_get("verified_at")?,
        created_at: row.try_get("created_at")?,
        dkim_key: row.try_get("dkim_key")?,
        dkim_public: row.try_get("dkim_public")?,
    })
}

fn address(row: &AnyRow) -> StoreResult<AddressRecord> {
    Ok(AddressRecord {
        address: row.try_get("address")?,
        circle_id: row.try_get("circle_id")?,
        element_id: row.try_get("element_id")?,
        created_at: row.try_get("created_at")?,
    })
}

// --- tracking ---

pub(super) async fn insert_tracking(
    pool: &AnyPool,
    token_hash: &str,
    message: &str,
    kind: &str,
    url: Option<&str>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO email_tracking (token_hash, message, kind, url, hits) \
         VALUES ($1, $2, $3, $4, 0)",
    )
    .bind(token_hash)
    .bind(message)
    .bind(kind)
    .bind(url.map(str::to_owned))
    .execute(pool)
    .await?;
    Ok(())
}

/// Counts a hit on a token and gives its target, in one statement: concurrent hits each
/// count.
pub(super) async fn hit_tracking(
    pool: &AnyPool,
    token_hash: &str,
    now: Millis,
) -> StoreResult<Option<Tracking>> {
    let row = sqlx::query(
        "UPDATE email_tracking SET hits = hits + 1, first_at = COALESCE(first_at, $2), \
         last_at = $2 WHERE token_hash = $1 RETURNING message, kind, url, hits",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(pool)
    .await?;
    row.map(|row| {
        Ok(Tracking {
            message: row.try_get("message")?,
            kind: row.try_get("kind")?,
            url: row.try_get("url")?,
            hits: row.try_get("hits")?,
        })
    })
    .transpose()
}

// --- domains ---

/// Adds `d`; false (and the stored one kept) if any circle has the domain.
pub(super) async fn insert_domain(pool: &AnyPool, d: &DomainRecord) -> StoreResult<bool> {
    let inserted = sqlx::query(&format!(
        "INSERT INTO email_domains ({DOMAIN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (domain) DO NOTHING"
    ))
    .bind(&d.id)
    .bind(&d.circle_id)
    .bind(&d.domain)
    .bind(&d.token)
    .bind(flag(d.managed))
    .bind(d.verified_at)
    .bind(d.created_at)
    .bind(d.dkim_key.clone())
    .bind(d.dkim_public.clone())
    .execute(pool)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

pub(super) async fn domain_of(pool: &AnyPool, name: &str) -> StoreResult<Option<DomainRecord>> {
    sqlx::query(&format!(
        "SELECT {DOMAIN_COLUMNS} FROM email_domains WHERE domain = $1"
    ))
    .bind(name)
    .fetch_optional(pool)
    .await?
    .as_ref()
    .map(domain)
    .transpose()
}

pub(super) async fn domains(pool: &AnyPool, circle_id: &str) -> StoreResult<Vec<DomainRecord>> {
    sqlx::query(&format!(
        "SELECT {DOMAIN_COLUMNS} FROM email_domains WHERE circle_id = $1 ORDER BY domain"
    ))
    .bind(circle_id)
    .fetch_all(pool)
    .await?
    .iter()
    .map(domain)
    .collect()
}

pub(super) async fn set_domain_verified(pool: &AnyPool, id: &str, now: Millis) -> StoreResult<()> {
    sqlx::query("UPDATE email_domains SET verified_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(pool)
        .await?;
    Ok(())
}

pub(super) async fn set_domain_dkim(
    pool: &AnyPool,
    id: &str,
    sealed: &[u8],
    public: &str,
) -> StoreResult<bool> {
    let set = sqlx::query(
        "UPDATE email_domains SET dkim_key = $2, dkim_public = $3 \
         WHERE id = $1 AND dkim_public IS NULL",
    )
    .bind(id)
    .bind(sealed.to_vec())
    .bind(public)
    .execute(pool)
    .await?;
    Ok(set.rows_affected() == 1)
}

pub(super) async fn delete_domain(
    pool: &AnyPool,
    circle_id: &str,
    name: &str,
) -> StoreResult<bool> {
    let deleted = sqlx::query("DELETE FROM email_domains WHERE circle_id = $1 AND domain = $2")
        .bind(circle_id)
        .bind(name)
        .execute(pool)
        .await?;
    Ok(deleted.rows_affected() == 1)
}

// --- addresses ---

/// Adds `a`; false (and the stored one kept) if any element has the address.
pub(super) async fn insert_address(pool: &AnyPool, a: &AddressRecord) -> StoreResult<bool> {
    let inserted = sqlx::query(&format!(
        "INSERT INTO email_addresses ({ADDRESS_COLUMNS}) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (address) DO NOTHING"
    ))
    .bind(&a.address)
    .bind(&a.circle_id)
    .bind(&a.element_id)
    .bind(a.created_at)
    .execute(pool)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

pub(super) async fn address_of(pool: &AnyPool, name: &str) -> StoreResult<Option<AddressRecord>> {
    sqlx::query(&format!(
        "SELECT {ADDRESS_COLUMNS} FROM email_addresses WHERE address = $1"
    ))
    .bind(name)
    .fetch_optional(pool)
    .await?
    .as_ref()
    .map(address)
    .transpose()
}

pub(super) async fn addresses(pool: &AnyPool, element_id: &str) -> StoreResult<Vec<AddressRecord>> {
    sqlx::query(&format!(
        "SELECT {ADDRESS_COLUMNS} FROM email_addresses WHERE element_id = $1 ORDER BY address"
    ))
    .bind(element_id)
    .fetch_all(pool)
    .await?
    .iter()
    .map(address)
    .collect()
}

pub(super) async fn delete_address(
    pool: &AnyPool,
    element_id: &str,
    name: &str,
) -> StoreResult<bool> {
    let deleted = sqlx::query("DELETE FROM email_addresses WHERE element_id = $1 AND address = $2")
        .bind(element_id)
        .bind(name)
        .execute(pool)
        .await?;
    Ok(deleted.rows_affected() == 1)
}

/// Every email element not deleted, enabled or not, of every circle, oldest first.
pub(super) async fn email_elements(pool: &AnyPool) -> StoreResult<Vec<Element>> {
    sqlx::query(&format!(
        "SELECT {} FROM elements WHERE element_type = 'email' AND deleted_at IS NULL \
         ORDER BY created_at, id",
        elements::COLUMNS
    ))
    .fetch_all(pool)
    .await?
    .iter()
    .map(elements::element)
    .collect()
}
