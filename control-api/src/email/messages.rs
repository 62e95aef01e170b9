//! `list-messages`: the element's stored messages both ways (what it sent, what the
//! listener received), newest first, with a page token.

use serde::Deserialize;

use super::deliver::MessageView;
use crate::error::{ApiError, ErrorCode};
use crate::phone::page::{check_limit, cut, decode_token, encode_token};
use crate::state::AppState;
use crate::store::{Element, MessageFilter};

/// `list-messages` query.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessagesQuery {
    /// `inbound` or `outbound`; both when absent.
    pub direction: Option<String>,
    /// Only this status (`sent`, `failed`, `received`, ...).
    pub status: Option<String>,
    /// 1-100, default 50.
    pub limit: Option<i64>,
    /// From a previous answer's `next_page_token`.
    pub page_token: Option<String>,
}

/// `list-messages`.
pub async fn list(
    state: &AppState,
    element: &Element,
    query: &MessagesQuery,
) -> Result<MessagePage, ApiError> {
    let limit = check_limit(query.limit)?;
    let direction = match query.direction.as_deref() {
        None => None,
        Some(d @ ("inbound" | "outbound")) => Some(d.to_owned()),
        Some(other) => {
            return Err(ApiError::invalid(
                ErrorCode::InvalidQuery,
                format!(
                    "direction must be inbound or outbound, not {:?}",
                    crate::e164::clip(other)
                ),
            ));
        }
    };
    if let Some(status) = &query.status {
        crate::validate::plain_text(ErrorCode::InvalidQuery, "status", status, 32)?;
    }
    let filter = MessageFilter {
        direction,
        status: query.status.clone(),
        before: query.page_token.as_deref().map(decode_token).transpose()?,
    };
    let rows = state
        .store()
        .email()
        .messages(&element.id, &filter, limit + 1)
        .await?;
    let (rows, next) = cut(rows, limit, |m| encode_token(m.created_at, &m.id));
    Ok(MessagePage {
        messages: rows.iter().map(MessageView::of).collect(),
        next_page_token: next,
    })
}

/// A page of `list-messages`, newest first.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct MessagePage {
    /// The messages.
    pub messages: Vec<MessageView>,
    /// The next (older) page's `page_token`; absent on the last page.
    pub next_page_token: Option<String>,
}
