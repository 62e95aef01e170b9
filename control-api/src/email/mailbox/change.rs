//! The changing operations: `mark-read`, `delete-message`, `create_folder`,
//! `move_to_folder`, `apply_label` and `remove_label`. Each is one `UID STORE`, `UID MOVE`
//! or `UID EXPUNGE` over all the UIDs it names.

use serde::Deserialize;
use serde_json::{Value, json};
use voxgate_mail::imap::FlagChange;

use super::{FolderName, Label, MessageId, Uids, connect, finish, imap_error, named_uids};
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use crate::store::Element;

/// `\Seen`, as IMAP writes it.
pub(super) const SEEN: &str = "\\Seen";

/// `mark-read` body: `message_id` (or `uids`).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkRead {
    /// The message: its IMAP UID in `folder` (list-inbox's `message_id`).
    pub message_id: Option<MessageId>,
    /// UIDs in `folder`, 1-1000 (several at once).
    pub uids: Option<Vec<u32>>,
    /// The folder; default `INBOX`.
    pub folder: Option<String>,
    /// `true` (default) sets `\Seen`, `false` clears it.
    pub read: Option<bool>,
}

/// `delete-message` body: `message_id` (or `uids`, `uid`).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteMessages {
    /// The message: its IMAP UID in `folder`.
    pub message_id: Option<MessageId>,
    /// UIDs in `folder`, 1-1000.
    pub uids: Option<Vec<u32>>,
    /// One UID.
    pub uid: Option<u32>,
    /// The folder; default `INBOX`.
    pub folder: Option<String>,
}

/// `create_folder` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateFolder {
    /// The name: the whole path (`Archive/2026`), or the child's own name with `parent_id`.
    pub name: String,
    /// The parent folder's `id` (list_folders, create_folder): the new folder goes under it.
    pub parent_id: Option<String>,
}

/// `move_to_folder` body: `message_id` (or `uids`) and `folder_id` (or `target`).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveMessages {
    /// The message: its IMAP UID in `folder`.
    pub message_id: Option<MessageId>,
    /// UIDs in `folder`, 1-1000.
    pub uids: Option<Vec<u32>>,
    /// The folder; default `INBOX`.
    pub folder: Option<String>,
    /// Where it goes: a folder `id` (list_folders).
    pub folder_id: Option<String>,
    /// The document's multi-folder form: over IMAP a message lives in one folder, so this
    /// must name one (labels give a message more names: apply_label).
    pub folder_ids: Option<Vec<String>>,
    /// Our earlier name for `folder_id`.
    pub target: Option<String>,
}

/// `apply_label` and `remove_label` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelChange {
    /// The message: its IMAP UID in `folder`.
    pub message_id: Option<MessageId>,
    /// UIDs in `folder`, 1-1000.
    pub uids: Option<Vec<u32>>,
    /// The folder; default `INBOX`.
    pub folder: Option<String>,
    /// An IMAP keyword: ASCII letters, digits and `$_-.`, 1-64.
    pub label: String,
}

/// The UIDs a change's body names (`message_id` or `uids`).
fn body_uids(message_id: Option<&MessageId>, uids: Option<&[u32]>) -> Result<Uids, ApiError> {
    named_uids(ErrorCode::InvalidBody, message_id, uids, None)
}

/// The one target folder of a move, from `folder_id`, `folder_ids` (one) or `target`.
pub(super) fn move_target(
    field: &str,
    folder_id: Option<&str>,
    folder_ids: Option<&[String]>,
    target: Option<&str>,
) -> Result<Option<FolderName>, ApiError> {
    let named = match (folder_id, folder_ids, target) {
        (None, None, None) => return Ok(None),
        (Some(one), None, None) | (None, None, Some(one)) => one,
        (None, Some([one]), None) => one.as_str(),
        (None, Some(_), None) => {
            return Err(ApiError::invalid(
                ErrorCode::EmailInvalidFolder,
                format!(
                    "{field}: over IMAP a message lives in one folder: give one folder_id (apply_label files it under more names)"
                ),
            ));
        }
        _ => {
            return Err(ApiError::invalid(
                ErrorCode::InvalidBody,
                format!("{field}: give one of folder_id, folder_ids and target"),
            ));
        }
    };
    FolderName::parse(field, Some(named)).map(Some)
}

/// `mark-read`.
pub async fn mark_read(
    state: &AppState,
    element: &Element,
    body: &MarkRead,
) -> Result<Value, ApiError> {
    let uids = body_uids(body.message_id.as_ref(), body.uids.as_deref())?;
    let folder = FolderName::parse("folder", body.folder.as_deref())?;
    let read = body.read.unwrap_or(true);
    let change = if read {
        FlagChange::Add
    } else {
        FlagChange::Remove
    };
    flags(state, element, &folder, &uids, change, SEEN).await?;
    Ok(json!({"folder": folder.as_str(), "uids": uids.as_slice(), "read": read}))
}

/// `apply_label`.
pub async fn apply_label(
    state: &AppState,
    element: &Element,
    body: &LabelChange,
) -> Result<Value, ApiError> {
    label(state, element, body, FlagChange::Add).await
}

/// `remove_label`.
pub async fn remove_label(
    state: &AppState,
    element: &Element,
    body: &LabelChange,
) -> Result<Value, ApiError> {
    label(state, element, body, FlagChange::Remove).await
}

async fn label(
    state: &AppState,
    element: &Element,
    body: &LabelChange,
    change: FlagChange,
) -> Result<Value, ApiError> {
    let uids = body_uids(body.message_id.as_ref(), body.uids.as_deref())?;
    let folder = FolderName::parse("folder", body.folder.as_deref())?;
    let label = Label::parse(&body.label)?;
    flags(state, element, &folder, &uids, change, label.as_str()).await?;
    Ok(json!({
        "folder": folder.as_str(),
        "uids": uids.as_slice(),
        "label": label.as_str(),
        "applied": change == FlagChange::Add,
    }))
}

/// One `UID STORE` of `flag` on `uids`.
async fn flags(
    state: &AppState,
    element: &Element,
    folder: &FolderName,
    uids: &Uids,
    change: FlagChange,
    flag: &str,
) -> Result<(), ApiError> {
    let mut session = connect(state, element).await?;
    let stored = session
        .set_flags(folder.as_str(), uids.as_slice(), change, &[flag])
        .await
        .map_err(|e| imap_error(&e));
    finish(session, stored).await
}

/// `delete-message`: the messages are expunged (gone, not moved to a trash folder).
pub async fn delete_message(
    state: &AppState,
    element: &Element,
    body: &DeleteMessages,
) -> Result<Value, ApiError> {
    let uids = named_uids(
        ErrorCode::InvalidBody,
        body.message_id.as_ref(),
        body.uids.as_deref(),
        body.uid,
    )?;
    let folder = FolderName::parse("folder", body.folder.as_deref())?;
    let mut session = connect(state, element).await?;
    let deleted = session
        .delete(folder.as_str(), uids.as_slice())
        .await
        .map_err(|e| imap_error(&e));
    finish(session, deleted).await?;
    Ok(json!({"folder": folder.as_str(), "deleted": uids.as_slice()}))
}

/// `create_folder`: idempotent; `created` says whether it was new. With `parent_id`, the
/// folder is made under that one (its name joined with the server's delimiter); the
/// answer's `id` is what `folder_id` and `parent_id` take.
pub async fn create_folder(
    state: &AppState,
    element: &Element,
    body: &CreateFolder,
) -> Result<Value, ApiError> {
    let leaf = FolderName::parse("name", Some(&body.name))?;
    let parent = body
        .parent_id
        .as_deref()
        .map(|p| FolderName::parse("parent_id", Some(p)))
        .transpose()?;
    let mut session = connect(state, element).await?;
    let created = async {
        let folders = session.folders().await.map_err(|e| imap_error(&e))?;
        let name = match &parent {
            None => leaf.as_str().to_owned(),
            Some(parent) => {
                let found = folders
                    .iter()
                    .find(|f| f.name == parent.as_str())
                    .ok_or_else(|| {
                        ApiError::not_found(
                            ErrorCode::EmailFolderNotFound,
                            format!("parent_id: no folder {:?}", parent.as_str()),
                        )
                    })?;
                let delimiter = found.delimiter.as_deref().unwrap_or("/");
                format!("{}{delimiter}{}", parent.as_str(), leaf.as_str())
            }
        };
        let name = FolderName::parse("name", Some(&name))?;
        let existed = folders.iter().any(|f| f.name == name.as_str());
        // A refusal here is the server's word on the name or rights, not a missing folder.
        session
            .create_folder(name.as_str())
            .await
            .map_err(|e| crate::email::connection::mail_error("imap", &e))?;
        Ok::<(FolderName, bool), ApiError>((name, !existed))
    }
    .await;
    let (name, created) = finish(session, created).await?;
    Ok(json!({
        "id": name.as_str(),
        "name": name.as_str(),
        "parent_id": parent.as_ref().map(FolderName::as_str),
        "created": created,
    }))
}

/// `move_to_folder`.
pub async fn move_to_folder(
    state: &AppState,
    element: &Element,
    body: &MoveMessages,
) -> Result<Value, ApiError> {
    let uids = body_uids(body.message_id.as_ref(), body.uids.as_deref())?;
    let folder = FolderName::parse("folder", body.folder.as_deref())?;
    let target = move_target(
        "folder_id",
        body.folder_id.as_deref(),
        body.folder_ids.as_deref(),
        body.target.as_deref(),
    )?
    .ok_or_else(|| ApiError::invalid(ErrorCode::InvalidBody, "folder_id is required"))?;
    if target == folder {
        return Err(ApiError::invalid(
            ErrorCode::EmailInvalidFolder,
            "target is the folder the messages are in",
        ));
    }
    let mut session = connect(state, element).await?;
    let moved = session
        .move_to(folder.as_str(), uids.as_slice(), target.as_str())
        .await
        .map_err(|e| imap_error(&e));
    finish(session, moved).await?;
    Ok(
        json!({"folder": folder.as_str(), "folder_id": target.as_str(), "target": target.as_str(), "moved": uids.as_slice()}),
    )
}
