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

use super::{
    FolderName, MessageId, Uids, connect, finish, imap_error, is_seen, named_uids, summary_view,
};
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

/// `get-message` query: the document's `message_id` (the IMAP UID, with `folder`), our
/// `uid`, or a stored message's id (`eml_...`) as `message_id`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageQuery {
    /// The message's UID in `folder` (list-inbox's `message_id`), or a stored message's id.
    pub message_id: Option<MessageId>,
    /// The message's UID in `folder` (our earlier name).
    pub uid: Option<u32>,
    /// The folder; default `INBOX`.
    pub folder: Option<String>,
}

/// `get-attachment` query: the message (`message_id` or `uid`) and the attachment
/// (`part_id` or `index`, as get-message lists them).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachmentQuery {
    /// The message's UID in `folder`.
    pub message_id: Option<MessageId>,
    /// The message's UID (our earlier name).
    pub uid: Option<u32>,
    /// The attachment's `part_id` from get-message.
    pub part_id: Option<String>,
    /// The attachment's index (our earlier name; the same number as `part_id`).
    pub index: Option<usize>,
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
    let uid = match (&query.message_id, query.uid) {
        (Some(MessageId::Text(id)), None) if query.folder.is_none() && !is_uid(id) => {
            return stored(state, element, id).await;
        }
        (Some(id), None) => id.uid().ok_or_else(|| {
            ApiError::invalid(
                ErrorCode::InvalidQuery,
                "message_id in a folder is the message's IMAP UID",
            )
        })?,
        (None, Some(uid)) => uid,
        _ => {
            return Err(ApiError::invalid(
                ErrorCode::InvalidQuery,
                "give message_id (or uid)",
            ));
        }
    };
    let uid = Uids::one(ErrorCode::InvalidQuery, "message_id", uid)?;
    let folder = FolderName::parse("folder", query.folder.as_deref())?;
    let fetched = fetch(state, element, &folder, uid).await?;
    Ok(message_view(&folder, &fetched))
}

/// Whether `text` is a UID's digits.
fn is_uid(text: &str) -> bool {
    MessageId::Text(text.to_owned()).uid().is_some()
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
        "id": s.uid.to_string(),
        "message_id": s.uid.to_string(),
        "uid": s.uid,
        "folder": folder.as_str(),
        "rfc_message_id": s.message_id,
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
                    json!({"part_id": a.index.to_string(), "index": a.index,
                           "filename": a.filename, "content_type": a.content_type,
                           "size": a.size})
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
    let uid = named_uids(
        ErrorCode::InvalidQuery,
        query.message_id.as_ref(),
        None,
        query.uid,
    )?
    .as_slice()[0];
    let index = match (query.part_id.as_deref(), query.index) {
        (Some(part), None) => part.parse::<usize>().map_err(|_| {
            ApiError::invalid(
                ErrorCode::InvalidQuery,
                "part_id is an attachment's part_id from get-message",
            )
        })?,
        (None, Some(index)) => index,
        _ => {
            return Err(ApiError::invalid(
                ErrorCode::InvalidQuery,
                "give part_id (or index)",
            ));
        }
    };
    let folder = FolderName::parse("folder", query.folder.as_deref())?;
    let fetched = fetch(state, element, &folder, uid).await?;
    let missing = || {
        ApiError::not_found(
            ErrorCode::EmailAttachmentNotFound,
            format!("message {uid} has no attachment {index}"),
        )
    };
    let (info, bytes) = match inbound::attachment(&fetched.raw, index) {
        Ok(Some(found)) => found,
        Ok(None) | Err(MailError::Unreadable(_)) => return Err(missing()),
        Err(e) => return Err(imap_error(&e)),
    };
    let data = base64::engine::general_purpose::STANDARD.encode(&bytes);
    Ok(json!({
        "message_id": uid.to_string(),
        "uid": uid,
        "folder": folder.as_str(),
        "part_id": index.to_string(),
        "index": index,
        "filename": info.filename,
        "content_type": info.content_type,
        "size": bytes.len(),
        "data_base64": data,
        "content_base64": data,
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
