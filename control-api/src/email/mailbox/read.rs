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
    FolderName, MailSummary, MessageId, Uids, connect, finish, imap_error, is_seen, named_uids,
    summary_view,
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
) -> Result<InboxPage, ApiError> {
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
    Ok(InboxPage {
        folder: folder.as_str().to_owned(),
        messages: page.messages.iter().map(summary_view).collect(),
        next_page_token: page.next_before_uid.map(|uid| format!("uid-{uid}")),
        next_cursor: page.next_before_uid,
    })
}

/// A page of `list-inbox`, newest first.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct InboxPage {
    /// The folder.
    pub folder: String,
    /// The envelopes.
    pub messages: Vec<MailSummary>,
    /// The next (older) page's `page_token`; absent on the last page.
    pub next_page_token: Option<String>,
    /// Our earlier form of the same: the UID below which the next page starts.
    pub next_cursor: Option<u32>,
}

/// `get-message`: one message over IMAP (it stays unread), or a stored one.
pub async fn get_message(
    state: &AppState,
    element: &Element,
    query: &MessageQuery,
) -> Result<GotMessage, ApiError> {
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
    Ok(GotMessage::Mailbox(Box::new(message_view(
        &folder, &fetched,
    ))))
}

/// Whether `text` is a UID's digits.
fn is_uid(text: &str) -> bool {
    MessageId::Text(text.to_owned()).uid().is_some()
}

/// A stored message of the element.
async fn stored(state: &AppState, element: &Element, id: &str) -> Result<GotMessage, ApiError> {
    crate::validate::plain_text(ErrorCode::InvalidQuery, "message_id", id, 64)?;
    let message = state.store().email().message(&element.id, id).await?;
    message
        .map(|m| GotMessage::Stored(Box::new(crate::email::deliver::MessageView::of(&m))))
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

/// A message of a folder with its body, as get-message answers it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct MailboxMessage {
    /// The UID's digits (the document's `message_id`).
    pub id: String,
    /// The same as `id`.
    pub message_id: String,
    /// The IMAP UID in `folder`.
    pub uid: u32,
    /// The folder.
    pub folder: String,
    /// Its `Message-ID` header, without angle brackets.
    pub rfc_message_id: Option<String>,
    /// The sender's address.
    pub from: Option<String>,
    /// The sender's display name.
    pub from_name: Option<String>,
    /// `To`.
    pub to: Vec<String>,
    /// `Cc`.
    pub cc: Vec<String>,
    /// `Subject`.
    pub subject: Option<String>,
    /// `Date`, as the header gave it.
    pub date: Option<String>,
    /// `Date`, in ms since 1970.
    pub date_ms: Option<i64>,
    /// The plain-text body.
    pub text: Option<String>,
    /// The HTML body.
    pub html: Option<String>,
    /// The attachments (get-attachment takes `part_id`).
    pub attachments: Vec<AttachmentMeta>,
    /// Flags and keywords.
    pub flags: Vec<String>,
    /// Whether it is read (get-message never marks it).
    pub seen: bool,
    /// Its size in bytes.
    pub size: u32,
    /// `In-Reply-To`.
    pub in_reply_to: Option<String>,
    /// `References`, oldest first.
    pub references: Vec<String>,
    /// What could not be read (the message still answers with its envelope).
    pub problems: Vec<String>,
}

/// One attachment of a message.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AttachmentMeta {
    /// What get-attachment takes.
    pub part_id: String,
    /// The same number (our earlier `index`).
    pub index: usize,
    /// The file name.
    pub filename: Option<String>,
    /// The MIME type.
    pub content_type: String,
    /// Its size in bytes.
    pub size: usize,
}

/// get-message's answer: a message of the mailbox, or a stored one (`eml_...`).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum GotMessage {
    /// Over IMAP.
    Mailbox(Box<MailboxMessage>),
    /// From the store.
    Stored(Box<crate::email::deliver::MessageView>),
}

/// A fetched message, read with `inbound::parse`. A message that cannot be read at all
/// still answers, with its envelope and the reason in `problems`.
fn message_view(folder: &FolderName, fetched: &Fetched) -> MailboxMessage {
    let s = &fetched.summary;
    let mut out = MailboxMessage {
        id: s.uid.to_string(),
        message_id: s.uid.to_string(),
        uid: s.uid,
        folder: folder.as_str().to_owned(),
        rfc_message_id: s.message_id.clone(),
        from: s.from.clone(),
        from_name: None,
        to: s.to.clone(),
        cc: Vec::new(),
        subject: s.subject.clone(),
        date: s.date.clone(),
        date_ms: None,
        text: None,
        html: None,
        attachments: Vec::new(),
        flags: s.flags.clone(),
        seen: is_seen(&s.flags),
        size: s.size,
        in_reply_to: None,
        references: Vec::new(),
        problems: Vec::new(),
    };
    match inbound::parse(&fetched.raw, &Limits::default()) {
        Ok(m) => {
            out.attachments = m
                .attachments
                .iter()
                .map(|a| AttachmentMeta {
                    part_id: a.index.to_string(),
                    index: a.index,
                    filename: a.filename.clone(),
                    content_type: a.content_type.clone(),
                    size: a.size,
                })
                .collect();
            out.from = m.from.or_else(|| s.from.clone());
            out.from_name = m.from_name;
            out.to = m.to;
            out.cc = m.cc;
            out.subject = Some(m.subject);
            out.date_ms = m.date_ms;
            out.text = m.text;
            out.html = m.html;
            out.in_reply_to = m.in_reply_to;
            out.references = m.references;
            out.problems = m.problems;
        }
        Err(e) => out.problems = vec![e.to_string()],
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
