//! What happened to an element: every operation run that is not a read is recorded
//! ([`record`], called by the operation dispatcher), `activity` lists them and `stats`
//! counts them.
//!
//! Health follows the interface documents: `error` if more than 5 errors a day or a
//! success rate under 0.8, `warning` if any error a day or a success rate under 0.95,
//! otherwise `healthy`.

use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ErrorCode};
use crate::ids::{Millis, new_id, rfc3339};
use crate::phone::page::{check_limit, cut, decode_token, encode_token};
use crate::state::AppState;
use crate::store::{ActivityRecord, Element};

const DAY_MS: Millis = 24 * 60 * 60 * 1000;

/// Records one run of `operation` on `element` that answered `result` after `duration_ms`.
/// A failure to record is logged: the operation's answer stands.
pub async fn record(
    state: &AppState,
    element: &Element,
    operation: &str,
    key_id: &str,
    outcome: Result<u16, &ApiError>,
    duration_ms: i64,
) {
    let (outcome, status) = match outcome {
        Ok(status) => ("ok".to_owned(), i64::from(status)),
        Err(e) => (e.code().to_owned(), i64::from(e.status().as_u16())),
    };
    let record = ActivityRecord {
        id: new_id("act"),
        element_id: element.id.clone(),
        circle_id: element.circle_id.clone(),
        operation: operation.to_owned(),
        outcome,
        status,
        duration_ms,
        key_id: Some(key_id.to_owned()),
        created_at: state.now_ms(),
    };
    if let Err(e) = state.store().record_activity(&record).await {
        tracing::warn!(code = e.code(), element = %element.id, "recording activity failed");
    }
}

/// `activity` query.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivityQuery {
    /// 1-100, default 50.
    pub limit: Option<i64>,
    /// From a previous page's `next_page_token`.
    pub page_token: Option<String>,
}

/// `activity` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ActivityPage {
    /// Newest first.
    pub activities: Vec<ActivityView>,
    /// The next page, if there is one.
    pub next_page_token: Option<String>,
}

/// One operation run.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ActivityView {
    /// `act_...`.
    pub id: String,
    /// The operation.
    pub operation: String,
    /// `ok` or the error code.
    pub outcome: String,
    /// The HTTP status answered.
    pub status: i64,
    /// How long it ran.
    pub duration_ms: i64,
    /// RFC 3339.
    pub created_at: String,
}

/// `activity`.
pub async fn list(
    state: &AppState,
    element: &Element,
    query: &ActivityQuery,
) -> Result<ActivityPage, ApiError> {
    let limit = check_limit(query.limit)?;
    let cursor = query.page_token.as_deref().map(decode_token).transpose()?;
    let rows = state
        .store()
        .activity_page(
            &element.id,
            cursor.as_ref().map(|(at, id)| (*at, id.as_str())),
            limit + 1,
        )
        .await?;
    let (rows, next_page_token) = cut(rows, limit, |a| encode_token(a.created_at, &a.id));
    Ok(ActivityPage {
        activities: rows
            .into_iter()
            .map(|a| ActivityView {
                id: a.id,
                operation: a.operation,
                outcome: a.outcome,
                status: a.status,
                duration_ms: a.duration_ms,
                created_at: rfc3339(a.created_at),
            })
            .collect(),
        next_page_token,
    })
}

/// `stats` query.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatsQuery {
    /// `day` (default), `week` or `month`.
    pub period: Option<String>,
}

/// `stats` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StatsView {
    /// `day`, `week` or `month`.
    pub period: String,
    /// Operation runs in the period.
    pub runs: i64,
    /// Runs that failed.
    pub errors: i64,
    /// Runs per day over the period.
    pub runs_per_day: f64,
    /// Errors per day over the period.
    pub errors_per_day: f64,
    /// Share of runs that succeeded (1 when nothing ran).
    pub success_rate: f64,
    /// Mean run time.
    pub avg_duration_ms: f64,
    /// `healthy`, `warning` or `error`.
    pub health: &'static str,
    /// The last run, RFC 3339.
    pub last_run_at: Option<String>,
    /// The element's current version.
    pub version: i64,
    /// Versions recorded.
    pub versions: i64,
    /// A phone number's calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calls: Option<CallCounts>,
}

/// Calls on a phone number.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CallCounts {
    /// Every call.
    pub total: i64,
    /// Calls not ended.
    pub active: i64,
}

/// Health from errors per day and success rate.
pub fn health(errors_per_day: f64, success_rate: f64) -> &'static str {
    if errors_per_day > 5.0 || success_rate < 0.8 {
        "error"
    } else if errors_per_day > 0.0 || success_rate < 0.95 {
        "warning"
    } else {
        "healthy"
    }
}

/// `stats`.
pub async fn stats(
    state: &AppState,
    element: &Element,
    query: &StatsQuery,
) -> Result<StatsView, ApiError> {
    let period = query.period.as_deref().unwrap_or("day");
    let days: i32 = match period {
        "day" => 1,
        "week" => 7,
        "month" => 30,
        other => {
            return Err(ApiError::invalid(
                ErrorCode::InvalidQuery,
                format!(
                    "period must be day, week or month, not {:?}",
                    crate::e164::clip(other)
                ),
            ));
        }
    };
    let since = state.now_ms() - DAY_MS * i64::from(days);
    let summary = state.store().activity_summary(&element.id, since).await?;
    let versions = state.store().element_versions(&element.id).await?.len();
    let per_day = |n: i64| n as f64 / f64::from(days);
    let success_rate = if summary.runs == 0 {
        1.0
    } else {
        (summary.runs - summary.errors) as f64 / summary.runs as f64
    };
    let avg_duration_ms = if summary.runs == 0 {
        0.0
    } else {
        summary.total_duration_ms as f64 / summary.runs as f64
    };
    let calls = match element
        .spec
        .get("phone_number")
        .or_else(|| element.spec.get("number"))
        .and_then(|n| n.as_str())
    {
        Some(number) if element.element_type == "phone-number" => {
            let (total, active) = state.store().call_counts(number).await?;
            Some(CallCounts { total, active })
        }
        _ => None,
    };
    Ok(StatsView {
        period: period.to_owned(),
        runs: summary.runs,
        errors: summary.errors,
        runs_per_day: per_day(summary.runs),
        errors_per_day: per_day(summary.errors),
        success_rate,
        avg_duration_ms,
        health: health(per_day(summary.errors), success_rate),
        last_run_at: summary.last_at.map(rfc3339),
        version: element.version,
        versions: i64::try_from(versions).unwrap_or(i64::MAX),
        calls,
    })
}

#[cfg(test)]
mod tests {
    use super::health;

    #[test]
    fn health_follows_the_documented_thresholds() {
        let table = [
            ((0.0, 1.0), "healthy"),
            ((0.0, 0.95), "healthy"),
            ((0.0, 0.949), "warning"),
            ((0.5, 1.0), "warning"),
            ((5.0, 0.99), "warning"),
            ((5.1, 0.99), "error"),
            ((0.0, 0.79), "error"),
        ];
        for ((errors_per_day, success_rate), want) in table {
            assert_eq!(
                health(errors_per_day, success_rate),
                want,
                "{errors_per_day} {success_rate}"
            );
        }
    }
}
