//! Per-circle, per-UTC-day counters under a cap (sandbox SMS, email sends). Counting is one
//! statement (`INSERT ... ON CONFLICT DO UPDATE ... WHERE sent < cap RETURNING`), atomic on
//! SQLite and PostgreSQL alike, so concurrent senders can never pass the cap.

use sqlx::AnyPool;

use crate::store::StoreResult;

/// Which counter: each is a table `(circle_id, day, sent)`.
#[derive(Debug, Clone, Copy)]
pub(super) enum DayCap {
    /// SMS from sandbox numbers.
    SandboxSms,
    /// Email messages sent.
    EmailSends,
}

impl DayCap {
    /// The table (a constant of ours, never input).
    fn table(self) -> &'static str {
        match self {
            Self::SandboxSms => "sandbox_sms_days",
            Self::EmailSends => "email_days",
        }
    }
}

/// Counts one for `circle_id` on `day` unless `cap` are counted already; false at the cap.
pub(super) async fn count(
    pool: &AnyPool,
    counter: DayCap,
    circle_id: &str,
    day: &str,
    cap: i64,
) -> StoreResult<bool> {
    if cap <= 0 {
        return Ok(false);
    }
    let table = counter.table();
    let row = sqlx::query(&format!(
        "INSERT INTO {table} (circle_id, day, sent) VALUES ($1, $2, 1) \
         ON CONFLICT (circle_id, day) DO UPDATE SET sent = {table}.sent + 1 \
         WHERE {table}.sent < $3 RETURNING sent"
    ))
    .bind(circle_id)
    .bind(day)
    .bind(cap)
    .fetch_optional(pool)
    .await?;
    Ok(row.is_some())
}

/// Gives one back (it surely never went out); never below zero.
pub(super) async fn refund(
    pool: &AnyPool,
    counter: DayCap,
    circle_id: &str,
    day: &str,
) -> StoreResult<()> {
    sqlx::query(&format!(
        "UPDATE {} SET sent = sent - 1 WHERE circle_id = $1 AND day = $2 AND sent > 0",
        counter.table()
    ))
    .bind(circle_id)
    .bind(day)
    .execute(pool)
    .await?;
    Ok(())
}
