//! The reading operations: `list-inbox`, `get-message`, `unread-count` and
//! `get-attachment` (`search` and the folder listings have their own files). Folders are
//! opened read-only and messages fetched with `BODY.PEEK[]`, so reading never marks
//! anything read.

use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Value, json};
use voxgate_mail::MailError;
use voxgate_mail::imap::Fetched;
use voxgate_mail::inbound::{self, Limits};

use super::{FolderName, Uids, connect, finish, imap_error, is_seen, summary_view};
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use crate::store::Element;

/// The page size of `list-inbox` and `search` when none is given.
const DEFAULT_LIMIT: i64 = 25;
/// The largest page.
const MAX_LIMIT: i64 = 100;

/// `unread-count` query (and any operation with only a folder).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FolderQuery {
    /// The folder; default `INBOX`.
    pub folder: Option<String>,
}

/// `list-inbox` query.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InboxQuery {
    /// The folder; default `INBOX`.
    pub folder: Option<String>,
    /// 1-100, default 25.
    pub limit: Option<i64>,
    /// A previous answer's `next_page_token`: the next (older) page.
    pub page_token: Option<String>,
    /// Our earlier name: a previous answer's `next_cursor` (UIDs below it).
    pub cursor: Option<u32>,
}

/// The UID a `page_token` stands for (`INVALID_PAGE_TOKEN` otherwise): the token is the
/// page's lower UID bound, as this API wrote it.
fn page_uid(token: &str) -> Result<u32, ApiError> {
    token
        .strip_prefix("uid-")
        .and_then(|uid| uid.parse::<u32>().ok())
        .filter(|uid| *uid > 0)
        .ok_or_else(|| {
            ApiError::invalid(
                ErrorCode::InvalidPageToken,
                "page_token is not one this API gave",
            )
        })
}

/// `get-message` query: `uid` (with `folder`) over IMAP, or `message_id` from the store.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageQuery {
    /// The message's UID in `folder`.
    pub uid: Option<u32>,
    /// The folder; default `INBOX`.
    pub folder: Option<String>,
    /// A stored message (`eml_...`) instead of one over IMAP.
    pub message_id: Option<String>,
}

/// `get-attachment` query.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachmentQuery {
    /// The message's UID.
    pub uid: u32,
    /// The attachment's index (as `get-message` lists them).
    pub index: usize,
    /// The folder; default `INBOX`.
    pub folder: Option<String>,
}

/// `list-inbox`: a page of a folder, newest first.
pub async fn list_inbox(
    state: &AppState,
    element: &Element,
    query: &InboxQuery,
) -> Result<Value, ApiError> {
    let folder = FolderName::parse("folder", query.folder.as_deref())?;
    let limit = limit(query.limit)?;
    let from_token = query.page_token.as_deref().map(page_uid).transpose()?;
    let cursor = from_token
        .or(query.cursor)
        .map(|c| Uids::one(ErrorCode::InvalidQuery, "cursor", c))
        .transpose()?;
    let mut session = connect(state, element).await?;
    let page = session
        .page(folder.as_str(), cursor, limit)
        .await
        .map_err(|e| imap_error(&e));
    let page = finish(session, page).await?;
    Ok(json!({
        "folder": folder.as_str(),
        "messages": page.messages.iter().map(summary_view).collect::<Vec<_>>(),
        "next_page_token": page.next_before_uid.map(|uid| format!("uid-{uid}")),
        "next_cursor": page.next_before_uid,
    }))
}

/// `get-message`: one message over IMAP (it stays unread), or a stored one.
pub async fn get_message(
    state: &AppState,
    element: &Element,
    query: &MessageQuery,
) -> Result<Value, ApiError> {
    let (uid, folder) = match (&query.message_id, query.uid) {
        (Some(id), None) if query.folder.is_none() => return stored(state, element, id).await,
        (None, Some(uid)) => (
            Uids::one(ErrorCode::InvalidQuery, "uid", uid)?,
            FolderName::parse("folder", query.folder.as_deref())?,
        ),
        _ => {
            return Err(ApiError::invalid(
                ErrorCode::InvalidQuery,
                "give either uid (and folder) or message_id",
            ));
        }
    };
    let fetched = fetch(state, element, &folder, uid).await?;
    Ok(message_view(&folder, &fetched))
}

/// A stored message of the element.
async fn stored(state: &AppState, element: &Element, id: &str) -> Result<Value, ApiError> {
    crate::routes::plain_text(ErrorCode::InvalidQuery, "message_id", id, 64)?;
    let message = state.store().email().message(&element.id, id).await?;
    message
        .map(|m| crate::email::deliver::view(&m))
        .ok_or_else(|| not_found_message(id))
}

/// Message `uid` of `folder` with its raw text; 404 `EMAIL_MESSAGE_NOT_FOUND`.
async fn fetch(
    state: &AppState,
    element: &Element,
    folder: &FolderName,
    uid: u32,
) -> Result<Fetched, ApiError> {
    let mut session = connect(state, element).await?;
    let fetched = session
        .fetch(folder.as_str(), uid)
        .await
        .map_err(|e| imap_error(&e));
    finish(session, fetched)
        .await?
        .ok_or_else(|| not_found_message(&uid.to_string()))
}

fn not_found_message(id: &str) -> ApiError {
    ApiError::not_found(
        ErrorCode::EmailMessageNotFound,
        format!("no message {:?} in this mailbox", crate::e164::clip(id)),
    )
}

/// The JSON of a fetched message, read with `inbound::parse`. A message that cannot be
/// read at all still answers, with its envelope and the reason in `problems`.
fn message_view(folder: &FolderName, fetched: &Fetched) -> Value {
    let s = &fetched.summary;
    let mut out = json!({
        "uid": s.uid,
        "folder": folder.as_str(),
        "message_id": s.message_id,
        "from": s.from,
        "to": s.to,
        "cc": [],
        "subject": s.subject,
        "date": s.date,
        "text": null,
        "html": null,
        "attachments": [],
        "flags": s.flags,
        "seen": is_seen(&s.flags),
        "size": s.size,
        "in_reply_to": null,
        "references": [],
        "problems": [],
    });
    match inbound::parse(&fetched.raw, &Limits::default()) {
        Ok(m) => {
            let attachments: Vec<Value> = m
                .attachments
                .iter()
                .map(|a| {
                    json!({"index": a.index, "filename": a.filename,
                           "content_type": a.content_type, "size": a.size})
                })
                .collect();
            out["from"] = json!(m.from.or_else(|| s.from.clone()));
            out["from_name"] = json!(m.from_name);
            out["to"] = json!(m.to);
            out["cc"] = json!(m.cc);
            out["subject"] = json!(m.subject);
            out["date_ms"] = json!(m.date_ms);
            out["text"] = json!(m.text);
            out["html"] = json!(m.html);
            out["attachments"] = json!(attachments);
            out["in_reply_to"] = json!(m.in_reply_to);
            out["references"] = json!(m.references);
            out["problems"] = json!(m.problems);
        }
        Err(e) => out["problems"] = json!([e.to_string()]),
    }
    out
}

/// `unread-count`.
pub async fn unread_count(
    state: &AppState,
    element: &Element,
    query: &FolderQuery,
) -> Result<Value, ApiError> {
    let folder = FolderName::parse("folder", query.folder.as_deref())?;
    let mut session = connect(state, element).await?;
    let counts = session
        .counts(folder.as_str())
        .await
        .map_err(|e| imap_error(&e));
    let counts = finish(session, counts).await?;
    Ok(json!({"folder": folder.as_str(), "unread": counts.unseen, "total": counts.messages}))
}

/// `get-attachment`: one attachment's bytes, base64.
pub async fn get_attachment(
    state: &AppState,
    element: &Element,
    query: &AttachmentQuery,
) -> Result<Value, ApiError> {
    let uid = Uids::one(ErrorCode::InvalidQuery, "uid", query.uid)?;
    let folder = FolderName::parse("folder", query.folder.as_deref())?;
    let fetched = fetch(state, element, &folder, uid).await?;
    let missing = || {
        ApiError::not_found(
            ErrorCode::EmailAttachmentNotFound,
            format!("message {uid} has no attachment {}", query.index),
        )
    };
    let (info, bytes) = match inbound::attachment(&fetched.raw, query.index) {
        Ok(Some(found)) => found,
        Ok(None) | Err(MailError::Unreadable(_)) => return Err(missing()),
        Err(e) => return Err(imap_error(&e)),
    };
    Ok(json!({
        "uid": uid,
        "folder": folder.as_str(),
        "index": query.index,
        "filename": info.filename,
        "content_type": info.content_type,
        "size": bytes.len(),
        "content_base64": base64::engine::general_purpose::STANDARD.encode(&bytes),
    }))
}

/// A page size: 1-100, default 25; 400 `INVALID_QUERY`.
pub(super) fn limit(limit: Option<i64>) -> Result<usize, ApiError> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if (1..=MAX_LIMIT).contains(&limit) {
        Ok(usize::try_from(limit).unwrap_or(1))
    } else {
        Err(ApiError::invalid(
            ErrorCode::InvalidQuery,
            format!("limit must be 1 to {MAX_LIMIT}, not {limit}"),
        ))
    }
}
