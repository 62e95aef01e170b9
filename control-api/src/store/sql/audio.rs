//! Spoken messages of `call-message` calls and their audio.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row as _};

use crate::ids::Millis;
use crate::store::{CallAudio, StoreResult};

const COLUMNS: &str =
    "id, circle_id, call_id, text, token_hash, duration_ms, created_at, expires_at";

fn row_to_audio(row: &AnyRow) -> StoreResult<CallAudio> {
    Ok(CallAudio {
        id: row.try_get("id")?,
        circle_id: row.try_get("circle_id")?,
        call_id: row.try_get("call_id")?,
        text: row.try_get("text")?,
        token_hash: row.try_get("token_hash")?,
        duration_ms: row.try_get("duration_ms")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
    })
}

pub(super) async fn insert(pool: &AnyPool, a: &CallAudio, wav: &[u8]) -> StoreResult<()> {
    sqlx::query(&format!(
        "INSERT INTO call_audio ({COLUMNS}, audio) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    ))
    .bind(&a.id)
    .bind(&a.circle_id)
    .bind(&a.call_id)
    .bind(&a.text)
    .bind(&a.token_hash)
    .bind(a.duration_ms)
    .bind(a.created_at)
    .bind(a.expires_at)
    .bind(wav)
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) async fn bytes(
    pool: &AnyPool,
    id: &str,
    token_hash: &str,
    now: Millis,
) -> StoreResult<Option<Vec<u8>>> {
    let row = sqlx::query(
        "SELECT audio FROM call_audio WHERE id = $1 AND token_hash = $2 AND expires_at > $3 \
         AND audio IS NOT NULL",
    )
    .bind(id)
    .bind(token_hash)
    .bind(now)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| r.try_get("audio")).transpose()?)
}

pub(super) async fn of_call(pool: &AnyPool, call_id: &str) -> StoreResult<Option<CallAudio>> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM call_audio WHERE call_id = $1"
    ))
    .bind(call_id)
    .fetch_optional(pool)
    .await?
    .as_ref()
    .map(row_to_audio)
    .transpose()
}

pub(super) async fn expire(pool: &AnyPool, id: &str, now: Millis) -> StoreResult<()> {
    sqlx::query("UPDATE call_audio SET expires_at = $2, audio = NULL WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(pool)
        .await?;
    Ok(())
}

pub(super) async fn purge(pool: &AnyPool, now: Millis) -> StoreResult<u64> {
    let done = sqlx::query(
        "UPDATE call_audio SET audio = NULL WHERE expires_at <= $1 AND audio IS NOT NULL",
    )
    .bind(now)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}
