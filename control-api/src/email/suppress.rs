//! The suppression list and consent: `list-suppressions`, `add-suppression`,
//! `remove-suppression` (admin keys, a reason required, both audited), `set-consent`, and
//! the automatic entries: hard bounces ([`bounced`]) and unsubscribes ([`unsubscribed`]).
//! Every send checks the list first (see [`super::send`]).

use serde::Deserialize;
use serde_json::{Value, json};

use super::address::Address;
use super::audit::{self, Subject};
use crate::e164::clip;
use crate::error::{ApiError, ErrorCode};
use crate::phone::page::{check_limit, cut};
use crate::state::AppState;
use crate::store::{Contact, Element, Suppression};
use crate::validate::plain_text;

/// `add-suppression` / `remove-suppression`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuppressionChange {
    /// The address.
    pub address: String,
    /// Why (1-500 characters): kept in the audit log. Optional for `add-suppression`
    /// (default `manual`), required for `remove-suppression` (`EMAIL_REASON_REQUIRED`).
    pub reason: Option<String>,
}

/// The documented `source` of an operator's suppression.
pub const MANUAL_SOURCE: &str = "manual_user";

/// `list-suppressions` query.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuppressionsQuery {
    /// 1-100, default 50.
    pub limit: Option<i64>,
    /// The last address of the previous page.
    pub after: Option<String>,
}

/// `set-consent`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentChange {
    /// The contact's address.
    pub address: String,
    /// `none`, `soft_optin` or `double_optin`.
    pub consent: String,
    /// Where the consent came from (a form, a call), 1-200 characters; default `api`.
    pub source: Option<String>,
}

fn reason_of(reason: &str) -> Result<&str, ApiError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ApiError::invalid(
            ErrorCode::EmailReasonRequired,
            "reason is required (1-500 characters)",
        ));
    }
    plain_text(ErrorCode::EmailReasonRequired, "reason", reason, 500)?;
    Ok(reason)
}

/// `list-suppressions`.
pub async fn list(
    state: &AppState,
    element: &Element,
    query: &SuppressionsQuery,
) -> Result<Value, ApiError> {
    let limit = check_limit(query.limit)?;
    let after = query.after.as_deref().map(str::to_lowercase);
    let rows = state
        .store()
        .email()
        .suppressions(&element.circle_id, after.as_deref(), limit + 1)
        .await?;
    let (rows, next) = cut(rows, limit, |s| s.address.clone());
    let rows: Vec<Value> = rows
        .iter()
        .map(|s| {
            // The documented entry (address, reason, source, notes, created_at), with
            // our `detail` as `notes`.
            json!({
                "address": s.address,
                "reason": s.reason,
                "source": s.source,
                "notes": s.detail,
                "detail": s.detail,
                "created_by": s.created_by,
                "created_at": crate::ids::rfc3339(s.created_at),
            })
        })
        .collect();
    Ok(json!({"suppressions": rows, "next_after": next}))
}

/// `add-suppression` (admin): idempotent; the first entry's reason is kept.
pub async fn add(
    state: &AppState,
    element: &Element,
    key_id: &str,
    change: &SuppressionChange,
) -> Result<Value, ApiError> {
    let address = Address::parse("address", &change.address)?;
    let reason = match change.reason.as_deref() {
        None => "manual",
        Some(reason) => reason_of(reason)?,
    };
    let entry = Suppression {
        circle_id: element.circle_id.clone(),
        address: address.to_string(),
        reason: reason.to_owned(),
        source: MANUAL_SOURCE.to_owned(),
        detail: None,
        created_by: Some(key_id.to_owned()),
        created_at: state.now_ms(),
    };
    let added = state.store().email().insert_suppression(&entry).await?;
    if added {
        audit::record(
            state,
            &element.circle_id,
            "suppressed",
            Subject {
                element_id: Some(&element.id),
                message: None,
                address: Some(address.as_str()),
            },
            json!({"source": MANUAL_SOURCE, "reason": reason, "by": key_id}),
        )
        .await?;
    }
    Ok(json!({"address": address.as_str(), "suppressed": true, "added": added}))
}

/// `remove-suppression` (admin).
pub async fn remove(
    state: &AppState,
    element: &Element,
    key_id: &str,
    change: &SuppressionChange,
) -> Result<Value, ApiError> {
    let address = Address::parse("address", &change.address)?;
    let reason = reason_of(change.reason.as_deref().unwrap_or(""))?;
    let removed = state
        .store()
        .email()
        .delete_suppression(&element.circle_id, address.as_str())
        .await?;
    if !removed {
        return Err(ApiError::not_found(
            ErrorCode::EmailNotSuppressed,
            format!("{address} is not on the suppression list"),
        ));
    }
    audit::record(
        state,
        &element.circle_id,
        "unsuppressed",
        Subject {
            element_id: Some(&element.id),
            message: None,
            address: Some(address.as_str()),
        },
        json!({"reason": reason, "by": key_id}),
    )
    .await?;
    Ok(json!({"address": address.as_str(), "suppressed": false}))
}

/// `set-consent`: records what the contact agreed to (audited `consent_changed`).
pub async fn set_consent(
    state: &AppState,
    element: &Element,
    key_id: &str,
    change: &ConsentChange,
) -> Result<Value, ApiError> {
    let address = Address::parse("address", &change.address)?;
    if !matches!(
        change.consent.as_str(),
        "none" | "soft_optin" | "double_optin"
    ) {
        return Err(ApiError::invalid(
            ErrorCode::EmailInvalidConsent,
            format!(
                "consent must be none, soft_optin or double_optin, not {:?}",
                clip(&change.consent)
            ),
        ));
    }
    let source = change.source.as_deref().unwrap_or("api");
    plain_text(ErrorCode::EmailInvalidConsent, "source", source, 200)?;
    let contact = Contact {
        address: address.to_string(),
        consent: change.consent.clone(),
        source: source.to_owned(),
        updated_at: state.now_ms(),
    };
    let previous = state
        .store()
        .email()
        .set_consent(&element.circle_id, &contact)
        .await?;
    let before = previous.map(|c| c.consent);
    if before.as_deref() != Some(contact.consent.as_str()) {
        audit::record(
            state,
            &element.circle_id,
            "consent_changed",
            Subject {
                element_id: Some(&element.id),
                message: None,
                address: Some(address.as_str()),
            },
            json!({"from": before, "to": contact.consent, "source": source, "by": key_id}),
        )
        .await?;
    }
    Ok(json!({"address": address.as_str(), "consent": contact.consent, "previous": before}))
}

/// A hard bounce: suppresses `address` (source `bounce`, the diagnostics as detail) and
/// audits `bounced` and, when new, `suppressed`.
pub async fn bounced(
    state: &AppState,
    circle_id: &str,
    element_id: Option<&str>,
    message: Option<&str>,
    address: &str,
    diagnostic: &str,
) -> Result<(), ApiError> {
    let address = address.to_lowercase();
    let subject = Subject {
        element_id,
        message,
        address: Some(&address),
    };
    audit::record(
        state,
        circle_id,
        "bounced",
        subject,
        json!({"diagnostic": diagnostic}),
    )
    .await?;
    let entry = Suppression {
        circle_id: circle_id.to_owned(),
        address: address.clone(),
        reason: "hard bounce".to_owned(),
        source: "bounce".to_owned(),
        detail: Some(diagnostic.chars().take(1000).collect()),
        created_by: None,
        created_at: state.now_ms(),
    };
    if state.store().email().insert_suppression(&entry).await? {
        audit::record(
            state,
            circle_id,
            "suppressed",
            subject,
            json!({"source": "bounce", "diagnostic": diagnostic}),
        )
        .await?;
    }
    Ok(())
}

/// An unsubscribe link was followed: suppresses `address` (source `unsubscribe`).
pub async fn unsubscribed(
    state: &AppState,
    circle_id: &str,
    element_id: &str,
    message: &str,
    address: &str,
) -> Result<(), ApiError> {
    let subject = Subject {
        element_id: Some(element_id),
        message: Some(message),
        address: Some(address),
    };
    let entry = Suppression {
        circle_id: circle_id.to_owned(),
        address: address.to_owned(),
        reason: "unsubscribed".to_owned(),
        source: "unsubscribe".to_owned(),
        detail: None,
        created_by: None,
        created_at: state.now_ms(),
    };
    if state.store().email().insert_suppression(&entry).await? {
        audit::record(state, circle_id, "unsubscribed", subject, json!({})).await?;
        audit::record(
            state,
            circle_id,
            "suppressed",
            subject,
            json!({"source": "unsubscribe"}),
        )
        .await?;
    }
    Ok(())
}
