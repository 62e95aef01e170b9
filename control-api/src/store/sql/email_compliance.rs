//! What keeps sending lawful and bounded: suppressions, contacts' consent, the audit log and
//! the daily send counts.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row as _};

use super::json;
use crate::ids::Millis;
use crate::store::{Contact, EmailEvent, StoreResult, Suppression};

const SUPPRESSION_COLUMNS: &str =
    "circle_id, address, reason, source, detail, created_by, created_at";
const EVENT_COLUMNS: &str = "id, circle_id, element_id, kind, message, address, detail, created_at";

fn suppression(row: &AnyRow) -> StoreResult<Suppression> {
    Ok(Suppression {
        circle_id: row.try_get("circle_id")?,
        address: row.try_get("address")?,
        reason: row.try_get("reason")?,
        source: row.try_get("source")?,
        detail: row.try_get("detail")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
    })
}

fn contact(row: &AnyRow) -> StoreResult<Contact> {
    Ok(Contact {
        address: row.try_get("address")?,
        consent: row.try_get("consent")?,
        source: row.try_get("source")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn event(row: &AnyRow) -> StoreResult<EmailEvent> {
    let detail: String = row.try_get("detail")?;
    Ok(EmailEvent {
        id: row.try_get("id")?,
        circle_id: row.try_get("circle_id")?,
        element_id: row.try_get("element_id")?,
        kind: row.try_get("kind")?,
        message: row.try_get("message")?,
        address: row.try_get("address")?,
        detail: json(&detail)?,
        created_at: row.try_get("created_at")?,
    })
}

// --- suppressions ---

pub(super) async fn suppression_of(
    pool: &AnyPool,
    circle_id: &str,
    address: &str,
) -> StoreResult<Option<Suppression>> {
    sqlx::query(&format!(
        "SELECT {SUPPRESSION_COLUMNS} FROM email_suppressions \
         WHERE circle_id = $1 AND address = $2"
    ))
    .bind(circle_id)
    .bind(address)
    .fetch_optional(pool)
    .await?
    .as_ref()
    .map(suppression)
    .transpose()
}

/// A circle's suppressions by address, strictly after `after`.
pub(super) async fn suppressions(
    pool: &AnyPool,
    circle_id: &str,
    after: Option<&str>,
    limit: i64,
) -> StoreResult<Vec<Suppression>> {
    sqlx::query(&format!(
        "SELECT {SUPPRESSION_COLUMNS} FROM email_suppressions \
         WHERE circle_id = $1 AND address > $2 ORDER BY address LIMIT $3"
    ))
    .bind(circle_id)
    .bind(after.unwrap_or(""))
    .bind(limit)
    .fetch_all(pool)
    .await?
    .iter()
    .map(suppression)
    .collect()
}

/// Adds `s`; false (and the stored one kept) if the address is suppressed already.
pub(super) async fn insert_suppression(pool: &AnyPool, s: &Suppression) -> StoreResult<bool> {
    let inserted = sqlx::query(&format!(
        "INSERT INTO email_suppressions ({SUPPRESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (circle_id, address) DO NOTHING"
    ))
    .bind(&s.circle_id)
    .bind(&s.address)
    .bind(&s.reason)
    .bind(&s.source)
    .bind(s.detail.clone())
    .bind(s.created_by.clone())
    .bind(s.created_at)
    .execute(pool)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

pub(super) async fn delete_suppression(
    pool: &AnyPool,
    circle_id: &str,
    address: &str,
) -> StoreResult<bool> {
    let deleted =
        sqlx::query("DELETE FROM email_suppressions WHERE circle_id = $1 AND address = $2")
            .bind(circle_id)
            .bind(address)
            .execute(pool)
            .await?;
    Ok(deleted.rows_affected() == 1)
}

// --- contacts ---

pub(super) async fn contact_of(
    pool: &AnyPool,
    circle_id: &str,
    address: &str,
) -> StoreResult<Option<Contact>> {
    sqlx::query(
        "SELECT address, consent, source, updated_at FROM email_contacts \
         WHERE circle_id = $1 AND address = $2",
    )
    .bind(circle_id)
    .bind(address)
    .fetch_optional(pool)
    .await?
    .as_ref()
    .map(contact)
    .transpose()
}

/// Sets a contact's consent and gives the previous one. The transaction writes first (a
/// no-op update), so SQLite takes its write lock and PostgreSQL its row lock before the read:
/// two changes to one contact are serialized and each sees the other's result.
pub(super) async fn set_consent(
    pool: &AnyPool,
    circle_id: &str,
    c: &Contact,
) -> StoreResult<Option<Contact>> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "UPDATE email_contacts SET consent = consent WHERE circle_id = $1 AND address = $2",
    )
    .bind(circle_id)
    .bind(&c.address)
    .execute(&mut *tx)
    .await?;
    let previous = sqlx::query(
        "SELECT address, consent, source, updated_at FROM email_contacts \
         WHERE circle_id = $1 AND address = $2",
    )
    .bind(circle_id)
    .bind(&c.address)
    .fetch_optional(&mut *tx)
    .await?
    .as_ref()
    .map(contact)
    .transpose()?;
    sqlx::query(
        "INSERT INTO email_contacts (circle_id, address, consent, source, updated_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (circle_id, address) DO UPDATE SET \
         consent = excluded.consent, source = excluded.source, updated_at = excluded.updated_at",
    )
    .bind(circle_id)
    .bind(&c.address)
    .bind(&c.consent)
    .bind(&c.source)
    .bind(c.updated_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(previous)
}

/// Records a contact with consent `none`; an existing contact (and its consent) is kept.
pub(super) async fn know_contact(
    pool: &AnyPool,
    circle_id: &str,
    address: &str,
    source: &str,
    now: Millis,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO email_contacts (circle_id, address, consent, source, updated_at) \
         VALUES ($1, $2, 'none', $3, $4) ON CONFLICT (circle_id, address) DO NOTHING",
    )
    .bind(circle_id)
    .bind(address)
    .bind(source)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

// --- audit ---

pub(super) async fn insert_event(pool: &AnyPool, e: &EmailEvent) -> StoreResult<()> {
    sqlx::query(&format!(
        "INSERT INTO email_events ({EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    ))
    .bind(&e.id)
    .bind(&e.circle_id)
    .bind(e.element_id.clone())
    .bind(&e.kind)
    .bind(e.message.clone())
    .bind(e.address.clone())
    .bind(e.detail.to_string())
    .bind(e.created_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// A circle's audit entries, newest first, strictly before `before` (created_at, id),
/// optionally of one element and one kind.
pub(super) async fn events(
    pool: &AnyPool,
    circle_id: &str,
    element_id: Option<&str>,
    kind: Option<&str>,
    before: Option<(Millis, String)>,
    limit: i64,
) -> StoreResult<Vec<EmailEvent>> {
    let (at, id) = before.unwrap_or((i64::MAX, String::new()));
    sqlx::query(&format!(
        "SELECT {EVENT_COLUMNS} FROM email_events WHERE circle_id = $1 \
         AND ($2 = '' OR element_id = $2) AND ($3 = '' OR kind = $3) \
         AND (created_at < $4 OR (created_at = $4 AND id < $5)) \
         ORDER BY created_at DESC, id DESC LIMIT $6"
    ))
    .bind(circle_id)
    .bind(element_id.unwrap_or(""))
    .bind(kind.unwrap_or(""))
    .bind(at)
    .bind(id)
    .bind(limit)
    .fetch_all(pool)
    .await?
    .iter()
    .map(event)
    .collect()
}

// --- daily counts ---

pub(super) async fn sends_on(pool: &AnyPool, circle_id: &str, day: &str) -> StoreResult<i64> {
    Ok(
        sqlx::query("SELECT sent FROM email_days WHERE circle_id = $1 AND day = $2")
            .bind(circle_id)
            .bind(day)
            .fetch_optional(pool)
            .await?
            .map(|row| row.try_get("sent"))
            .transpose()?
            .unwrap_or(0),
    )
}
