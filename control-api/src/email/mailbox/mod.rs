//! The mailbox operations over IMAP: reading a folder (`list-inbox`, `get-message`,
//! `search`, `unread-count`, `get-attachment`), folders (`list_folders`, `create_folder`,
//! `folder_counts`), and changes (`mark-read`, `delete-message`, `move_to_folder`,
//! `apply_label`, `remove_label`, `batch_apply`).
//!
//! This is an IO edge: each request opens one IMAP connection with the element's server
//! and login ([`super::account`]), runs its commands and logs out. The protocol lives in
//! `voxgate_mail::imap`; what this module adds is the API's rules. Every caller value
//! (folder names, UIDs, labels, search text, dates) is checked here, into the types below,
//! before anything is sent, so a bad request costs no connection.
//!
//! Errors: a `NO` from the server to a command on a folder is 404 `EMAIL_FOLDER_NOT_FOUND`
//! (the folder, or the move target, does not exist), a value the client library refuses
//! is 400 `INVALID_QUERY`, everything else [`super::connection::mail_error`].

mod batch;
mod change;
mod folders;
mod read;
mod search;

pub use batch::{ActionKind, BatchAction, BatchApply, batch_apply};
pub use change::{
    CreateFolder, DeleteMessages, LabelChange, MarkRead, MoveMessages, apply_label, create_folder,
    delete_message, mark_read, move_to_folder, remove_label,
};
pub use folders::{FolderCountsQuery, ListFoldersQuery, folder_counts, list_folders};
pub use read::{
    AttachmentQuery, FolderQuery, InboxQuery, MessageQuery, get_attachment, get_message,
    list_inbox, unread_count,
};
pub use search::{SearchQuery, search};

use voxgate_mail::MailError;
use voxgate_mail::imap::{ImapSession, Summary};

use super::{account, connection};
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use crate::store::Element;

/// The folder used when a request names none.
pub const DEFAULT_FOLDER: &str = "INBOX";
/// The longest folder name, in characters.
pub const MAX_FOLDER_CHARS: usize = 255;
/// The longest label (IMAP keyword), in characters.
pub const MAX_LABEL_CHARS: usize = 64;
/// UIDs one request (or one batch action) may name.
pub const MAX_UIDS: usize = 1000;

/// A folder name as checked: 1-255 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FolderName(String);

impl FolderName {
    /// `name`, or [`DEFAULT_FOLDER`] when absent; 400 `EMAIL_INVALID_FOLDER` otherwise.
    pub fn parse(field: &str, name: Option<&str>) -> Result<Self, ApiError> {
        let Some(name) = name else {
            return Ok(Self(DEFAULT_FOLDER.to_owned()));
        };
        let chars = name.chars().count();
        if (1..=MAX_FOLDER_CHARS).contains(&chars) && !name.chars().any(char::is_control) {
            Ok(Self(name.to_owned()))
        } else {
            Err(ApiError::invalid(
                ErrorCode::EmailInvalidFolder,
                format!(
                    "{field} must be 1 to {MAX_FOLDER_CHARS} characters without control characters"
                ),
            ))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A label as checked: an IMAP keyword of ASCII letters, digits and `$_-.`, 1-64 long (so
/// never a system flag such as `\Seen`, which starts with a backslash).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Label(String);

impl Label {
    /// 400 `EMAIL_INVALID_LABEL` for anything else.
    pub fn parse(label: &str) -> Result<Self, ApiError> {
        let allowed = |c: char| c.is_ascii_alphanumeric() || "$_-.".contains(c);
        if (1..=MAX_LABEL_CHARS).contains(&label.len()) && label.chars().all(allowed) {
            Ok(Self(label.to_owned()))
        } else {
            Err(ApiError::invalid(
                ErrorCode::EmailInvalidLabel,
                format!(
                    "a label is 1 to {MAX_LABEL_CHARS} ASCII letters, digits or $_-. (an IMAP keyword)"
                ),
            ))
        }
    }

    /// The keyword.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A message as the interface document names it: `message_id`, which "is the IMAP UID on
/// the IMAP backend" (a number, or its digits in a string, as list-inbox answers it).
/// Other text is a stored message's id (`eml_...`) where an operation reads those.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum MessageId {
    /// The UID.
    Uid(u32),
    /// The UID's digits, or a stored message's id.
    Text(String),
}

impl MessageId {
    /// The UID it names, if it is one.
    pub fn uid(&self) -> Option<u32> {
        match self {
            Self::Uid(uid) => Some(*uid),
            Self::Text(text) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => {
                text.parse().ok()
            }
            Self::Text(_) => None,
        }
    }
}

/// The UIDs a change names, by exactly one of the document's `message_id` or our `uids`
/// (or `uid`); `code` otherwise.
pub(super) fn named_uids(
    code: ErrorCode,
    message_id: Option<&MessageId>,
    uids: Option<&[u32]>,
    uid: Option<u32>,
) -> Result<Uids, ApiError> {
    match (message_id, uids, uid) {
        (Some(id), None, None) => {
            let uid = id.uid().ok_or_else(|| {
                ApiError::invalid(code, "message_id is the message's IMAP UID (list-inbox)")
            })?;
            Uids::parse(code, "message_id", &[uid])
        }
        (None, Some(uids), None) => Uids::parse(code, "uids", uids),
        (None, None, Some(uid)) => Uids::parse(code, "uid", &[uid]),
        _ => Err(ApiError::invalid(
            code,
            "name the message with message_id (or uids)",
        )),
    }
}

/// Message UIDs as checked: 1 to [`MAX_UIDS`] of them, each 1..=u32::MAX, without
/// repeats (first occurrence kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uids(Vec<u32>);

impl Uids {
    /// `code` (`INVALID_BODY` or `INVALID_QUERY`) for an empty list, too many, or UID 0.
    pub fn parse(code: ErrorCode, field: &str, uids: &[u32]) -> Result<Self, ApiError> {
        if uids.is_empty() || uids.len() > MAX_UIDS {
            return Err(ApiError::invalid(
                code,
                format!("{field} must hold 1 to {MAX_UIDS} UIDs, not {}", uids.len()),
            ));
        }
        if uids.contains(&0) {
            return Err(ApiError::invalid(
                code,
                format!("{field}: a UID is 1 to {}", u32::MAX),
            ));
        }
        let mut out: Vec<u32> = Vec::with_capacity(uids.len());
        for &uid in uids {
            if !out.contains(&uid) {
                out.push(uid);
            }
        }
        Ok(Self(out))
    }

    /// One UID (a query's `uid=`).
    pub fn one(code: ErrorCode, field: &str, uid: u32) -> Result<u32, ApiError> {
        Self::parse(code, field, &[uid]).map(|_| uid)
    }

    /// The UIDs, in the order given.
    pub fn as_slice(&self) -> &[u32] {
        &self.0
    }

    /// Adds `more`, skipping those already held.
    pub(super) fn extend(&mut self, more: &Self) {
        for &uid in &more.0 {
            if !self.0.contains(&uid) {
                self.0.push(uid);
            }
        }
    }
}

/// Opens the element's mailbox: 400 `EMAIL_MAILBOX_UNAVAILABLE` when it has none.
async fn connect(state: &AppState, element: &Element) -> Result<ImapSession, ApiError> {
    let spec = crate::element::email::spec_of(element)?;
    let account = account::resolve(state, element, &spec).await?;
    let server = account.imap_or_error()?;
    let settings = state.email();
    ImapSession::connect(
        &server.endpoint,
        &server.login,
        &settings.tls,
        settings.timeout,
    )
    .await
    .map_err(|e| imap_error(&e))
}

/// Logs out and hands back `result`. The answer is already decided: a failed LOGOUT
/// (the connection is closed either way) changes nothing the caller asked for.
async fn finish<T>(session: ImapSession, result: Result<T, ApiError>) -> Result<T, ApiError> {
    if let Err(e) = session.logout().await {
        tracing::debug!(error = %e, "IMAP logout failed");
    }
    result
}

/// The API error of an IMAP command on a folder.
fn imap_error(e: &MailError) -> ApiError {
    match e {
        MailError::Refused(reason) => ApiError::not_found(
            ErrorCode::EmailFolderNotFound,
            format!("the mailbox has no such folder: {reason}"),
        ),
        MailError::InvalidArgument(reason) => {
            ApiError::invalid(ErrorCode::InvalidQuery, reason.clone())
        }
        other => connection::mail_error("imap", other),
    }
}

/// A message of a folder as list-inbox and search list it (no body).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct MailSummary {
    /// The UID's digits: what get-message and the changes take as `message_id`.
    pub id: String,
    /// The same as `id` (the document's name).
    pub message_id: String,
    /// The IMAP UID in its folder.
    pub uid: u32,
    /// Its `Message-ID` header, without angle brackets.
    pub rfc_message_id: Option<String>,
    /// The sender's address.
    pub from: Option<String>,
    /// `To` addresses.
    pub to: Vec<String>,
    /// `Subject`.
    pub subject: Option<String>,
    /// `Date`, as the header gave it.
    pub date: Option<String>,
    /// Flags and keywords (`\\Seen`, labels).
    pub flags: Vec<String>,
    /// Whether it is read.
    pub seen: bool,
    /// Its size in bytes.
    pub size: u32,
}

/// The summary of a message.
fn summary_view(summary: &Summary) -> MailSummary {
    MailSummary {
        id: summary.uid.to_string(),
        message_id: summary.uid.to_string(),
        uid: summary.uid,
        rfc_message_id: summary.message_id.clone(),
        from: summary.from.clone(),
        to: summary.to.clone(),
        subject: summary.subject.clone(),
        date: summary.date.clone(),
        flags: summary.flags.clone(),
        seen: is_seen(&summary.flags),
        size: summary.size,
    }
}

fn is_seen(flags: &[String]) -> bool {
    flags.iter().any(|f| f.eq_ignore_ascii_case("\\Seen"))
}

#[cfg(test)]
mod tests;
