//! SMS, webhook tokens and sandbox leases.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row as _};

use super::{flag, is_unique_violation};
use crate::ids::Millis;
use crate::store::{SandboxLease, SmsRecord, StoreResult};

const SMS_COLUMNS: &str = "id, circle_id, element_id, direction, sender, recipient, body, \
     segments, encoding, flash, sandbox, status, carrier_id, cost, error_code, attempts, \
     created_at, updated_at, delivered_at";

fn sms(row: &AnyRow) -> StoreResult<SmsRecord> {
    Ok(SmsRecord {
        id: row.try_get("id")?,
        circle_id: row.try_get("circle_id")?,
        element_id: row.try_get("element_id")?,
        direction: row.try_get("direction")?,
        sender: row.try_get("sender")?,
        recipient: row.try_get("recipient")?,
        body: row.try_get("body")?,
        segments: row.try_get("segments")?,
        encoding: row.try_get("encoding")?,
        flash: row.try_get::<i64, _>("flash")? != 0,
        sandbox: row.try_get::<i64, _>("sandbox")? != 0,
        status: row.try_get("status")?,
        carrier_id: row.try_get("carrier_id")?,
        cost: row.try_get("cost")?,
        error_code: row.try_get("error_code")?,
        attempts: row.try_get("attempts")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        delivered_at: row.try_get("delivered_at")?,
    })
}

/// Stores `s`; false if its carrier id is stored already (a webhook delivered twice).
pub(super) async fn insert_sms(pool: &AnyPool, s: &SmsRecord) -> StoreResult<bool> {
    let inserted = sqlx::query(&format!(
        "INSERT INTO sms ({SMS_COLUMNS}) VALUES \
         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
    ))
    .bind(&s.id)
    .bind(&s.circle_id)
    .bind(&s.element_id)
    .bind(&s.direction)
    .bind(&s.sender)
    .bind(&s.recipient)
    .bind(&s.body)
    .bind(s.segments)
    .bind(&s.encoding)
    .bind(flag(s.flash))
    .bind(flag(s.sandbox))
    .bind(&s.status)
    .bind(&s.carrier_id)
    .bind(s.cost)
    .bind(&s.error_code)
    .bind(s.attempts)
    .bind(s.created_at)
    .bind(s.updated_at)
    .bind(s.delivered_at)
    .execute(pool)
    .await;
    match inserted {
        Ok(_) => Ok(true),
        Err(e) if is_unique_violation(&e) && s.carrier_id.is_some() => Ok(false),
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn sms_by_id(
    pool: &AnyPool,
    element_id: &str,
    id: &str,
) -> StoreResult<Option<SmsRecord>> {
    sqlx::query(&format!(
        "SELECT {SMS_COLUMNS} FROM sms WHERE element_id = $1 AND id = $2"
    ))
    .bind(element_id)
    .bind(id)
    .fetch_optional(pool)
    .await?
    .as_ref()
    .map(sms)
    .transpose()
}

pub(super) async fn sms_by_carrier_id(
    pool: &AnyPool,
    carrier_id: &str,
) -> StoreResult<Option<SmsRecord>> {
    sqlx::query(&format!(
        "SELECT {SMS_COLUMNS} FROM sms WHERE carrier_id = $1"
    ))
    .bind(carrier_id)
    .fetch_optional(pool)
    .await?
    .as_ref()
    .map(sms)
    .transpose()
}

/// An element's SMS, newest first, strictly before `before` (created_at, id).
pub(super) async fn sms_page(
    pool: &AnyPool,
    element_id: &str,
    direction: Option<&str>,
    before: Option<(Millis, &str)>,
    limit: i64,
) -> StoreResult<Vec<SmsRecord>> {
    let (at, id) = before.unwrap_or((i64::MAX, ""));
    sqlx::query(&format!(
        "SELECT {SMS_COLUMNS} FROM sms WHERE element_id = $1 AND ($2 = '' OR direction = $2) \
         AND (created_at < $3 OR (created_at = $3 AND id < $4)) \
         ORDER BY created_at DESC, id DESC LIMIT $5"
    ))
    .bind(element_id)
    .bind(direction.unwrap_or(""))
    .bind(at)
    .bind(id)
    .bind(limit)
    .fetch_all(pool)
    .await?
    .iter()
    .map(sms)
    .collect()
}

/// How many SMS an element has (in `direction`, if given).
pub(super) async fn sms_total(
    pool: &AnyPool,
    element_id: &str,
    direction: Option<&str>,
) -> StoreResult<i64> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM sms WHERE element_id = $1 AND ($2 = '' OR direction = $2)",
    )
    .bind(element_id)
    .bind(direction.unwrap_or(""))
    .fetch_one(pool)
    .await?;
    Ok(n)
}

/// Every outgoing SMS whose carrier request may be in flight.
pub(super) async fn pending_sms(pool: &AnyPool) -> StoreResult<Vec<SmsRecord>> {
    sqlx::query(&format!(
        "SELECT {SMS_COLUMNS} FROM sms WHERE status = 'pending' ORDER BY created_at, id"
    ))
    .fetch_all(pool)
    .await?
    .iter()
    .map(sms)
    .collect()
}

/// Records the carrier's acceptance of SMS `id`; false if `carrier_id` already belongs to
/// another SMS.
pub(super) async fn sms_accepted(
    pool: &AnyPool,
    id: &str,
    carrier_id: &str,
    status: &str,
    cost: Option<i64>,
    attempts: i64,
    now: Millis,
) -> StoreResult<bool> {
    let updated = sqlx::query(
        "UPDATE sms SET carrier_id = $2, status = CASE WHEN status = 'pending' THEN $3 \
         ELSE status END, cost = $4, attempts = $5, error_code = NULL, updated_at = $6 \
         WHERE id = $1",
    )
    .bind(id)
    .bind(carrier_id)
    .bind(status)
    .bind(cost)
    .bind(attempts)
    .bind(now)
    .execute(pool)
    .await;
    match updated {
        Ok(_) => Ok(true),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Records that SMS `id` failed for good (or, with `final_ = false`, that an attempt was
/// made and it stays pending).
pub(super) async fn sms_attempted(
    pool: &AnyPool,
    id: &str,
    error_code: &str,
    attempts: i64,
    final_: bool,
    now: Millis,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE sms SET error_code = $2, attempts = $3, updated_at = $4, \
         status = CASE WHEN $5 = 1 AND status = 'pending' THEN 'failed' ELSE status END \
         WHERE id = $1",
    )
    .bind(id)
    .bind(error_code)
    .bind(attempts)
    .bind(now)
    .bind(flag(final_))
    .execute(pool)
    .await?;
    Ok(())
}

/// Applies a delivery report to the SMS with `carrier_id` on element `element_id`;
/// `delivered` and `failed` are final, so a late `sent` never undoes them. False if no such
/// SMS is known (yet).
pub(super) async fn sms_delivery(
    pool: &AnyPool,
    element_id: &str,
    carrier_id: &str,
    status: &str,
    delivered_at: Option<Millis>,
    now: Millis,
) -> StoreResult<bool> {
    let found = sqlx::query("SELECT status FROM sms WHERE element_id = $1 AND carrier_id = $2")
        .bind(element_id)
        .bind(carrier_id)
        .fetch_optional(pool)
        .await?;
    if found.is_none() {
        return Ok(false);
    }
    sqlx::query(
        "UPDATE sms SET status = $3, delivered_at = COALESCE($4, delivered_at), updated_at = $5 \
         WHERE element_id = $1 AND carrier_id = $2 AND status NOT IN ('delivered', 'failed')",
    )
    .bind(element_id)
    .bind(carrier_id)
    .bind(status)
    .bind(delivered_at)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(true)
}

/// Replaces element `element_id`'s webhook tokens with `token_hash`.
pub(super) async fn set_hook(
    pool: &AnyPool,
    element_id: &str,
    token_hash: Option<&str>,
    now: Millis,
) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM phone_hooks WHERE element_id = $1")
        .bind(element_id)
        .execute(&mut *tx)
        .await?;
    if let Some(hash) = token_hash {
        sqlx::query(
            "INSERT INTO phone_hooks (token_hash, element_id, created_at) VALUES ($1, $2, $3)",
        )
        .bind(hash)
        .bind(element_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The element whose webhook token hashes to `token_hash`.
pub(super) async fn hook_element(pool: &AnyPool, token_hash: &str) -> StoreResult<Option<String>> {
    Ok(
        sqlx::query("SELECT element_id FROM phone_hooks WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(pool)
            .await?
            .map(|row| row.try_get("element_id"))
            .transpose()?,
    )
}

/// The element's sandbox number: its lease if it has one, else the first free number of
/// `pool` (`None` when all are leased).
pub(super) async fn lease_sandbox(
    db: &AnyPool,
    circle_id: &str,
    element_id: &str,
    pool: &[String],
    now: Millis,
) -> StoreResult<Option<SandboxLease>> {
    if let Some(lease) = leased(db, element_id).await? {
        return Ok(Some(lease));
    }
    for number in pool {
        let id = crate::ids::new_id("lse");
        let inserted = sqlx::query(
            "INSERT INTO sandbox_leases (number, circle_id, element_id, leased_at, id) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(number)
        .bind(circle_id)
        .bind(element_id)
        .bind(now)
        .bind(&id)
        .execute(db)
        .await;
        match inserted {
            Ok(_) => {
                return Ok(Some(SandboxLease {
                    id,
                    number: number.clone(),
                    leased_at: now,
                    new: true,
                }));
            }
            // Taken, or this element won a concurrent claim: look again.
            Err(e) if is_unique_violation(&e) => {
                if let Some(lease) = leased(db, element_id).await? {
                    return Ok(Some(lease));
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(None)
}

async fn leased(db: &AnyPool, element_id: &str) -> StoreResult<Option<SandboxLease>> {
    let Some(row) =
        sqlx::query("SELECT number, leased_at, id FROM sandbox_leases WHERE element_id = $1")
            .bind(element_id)
            .fetch_optional(db)
            .await?
    else {
        return Ok(None);
    };
    let number: String = row.try_get("number")?;
    let id: Option<String> = row.try_get("id")?;
    Ok(Some(SandboxLease {
        id: id.unwrap_or_else(|| format!("lease_{}", number.trim_start_matches('+'))),
        leased_at: row.try_get("leased_at")?,
        number,
        new: false,
    }))
}

/// Ends the element's lease; the number it held, if any.
pub(super) async fn release_sandbox(db: &AnyPool, element_id: &str) -> StoreResult<Option<String>> {
    let number = leased(db, element_id).await?.map(|lease| lease.number);
    sqlx::query("DELETE FROM sandbox_leases WHERE element_id = $1")
        .bind(element_id)
        .execute(db)
        .await?;
    Ok(number)
}
