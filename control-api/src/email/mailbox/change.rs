//! The changing operations: `mark-read`, `delete-message`, `create_folder`,
//! `move_to_folder`, `apply_label` and `remove_label`. Each is one `UID STORE`, `UID MOVE`
//! or `UID EXPUNGE` over all the UIDs it names.

use serde::Deserialize;
use serde_json::{Value, json};
use voxgate_mail::imap::FlagChange;

use super::{FolderName, Label, Uids, connect, finish, imap_error};
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use crate::store::Element;

/// `\Seen`, as IMAP writes it.
pub(super) const SEEN: &str = "\\Seen";

/// `mark-read` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkRead {
    /// UIDs in `folder`, 1-1000.
    pub uids: Vec<u32>,
    /// The folder; default `INBOX`.
    pub folder: Option<String>,
    /// `true` (default) sets `\Seen`, `false` clears it.
    pub read: Option<bool>,
}

/// `delete-message` body: `uids` or `uid`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteMessages {
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
    /// The full name, with the server's hierarchy delimiter (`Archive/2026`).
    pub name: String,
}

/// `move_to_folder` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveMessages {
    /// UIDs in `folder`, 1-1000.
    pub uids: Vec<u32>,
    /// The folder; default `INBOX`.
    pub folder: Option<String>,
    /// Where they go.
    pub target: String,
}

/// `apply_label` and `remove_label` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelChange {
    /// UIDs in `folder`, 1-1000.
    pub uids: Vec<u32>,
    /// The folder; default `INBOX`.
    pub folder: Option<String>,
    /// An IMAP keyword: ASCII letters, digits and `$_-.`, 1-64.
    pub label: String,
}

/// `mark-read`.
pub async fn mark_read(
    state: &AppState,
    element: &Element,
    body: &MarkRead,
) -> Result<Value, ApiError> {
    let uids = Uids::parse(ErrorCode::InvalidBody, "uids", &body.uids)?;
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
    let uids = Uids::parse(ErrorCode::InvalidBody, "uids", &body.uids)?;
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
    let uids = match (&body.uids, body.uid) {
        (Some(uids), None) => Uids::parse(ErrorCode::InvalidBody, "uids", uids)?,
        (None, Some(uid)) => Uids::parse(ErrorCode::InvalidBody, "uid", &[uid])?,
        _ => {
            return Err(ApiError::invalid(
                ErrorCode::InvalidBody,
                "give either uids or uid",
            ));
        }
    };
    let folder = FolderName::parse("folder", body.folder.as_deref())?;
    let mut session = connect(state, element).await?;
    let deleted = session
        .delete(folder.as_str(), uids.as_slice())
        .await
        .map_err(|e| imap_error(&e));
    finish(session, deleted).await?;
    Ok(json!({"folder": folder.as_str(), "deleted": uids.as_slice()}))
}

/// `create_folder`: idempotent; `created` says whether it was new.
pub async fn create_folder(
    state: &AppState,
    element: &Element,
    body: &CreateFolder,
) -> Result<Value, ApiError> {
    let name = FolderName::parse("name", Some(&body.name))?;
    let mut session = connect(state, element).await?;
    let created = async {
        let existed = session
            .folders()
            .await
            .map_err(|e| imap_error(&e))?
            .iter()
            .any(|f| f.name == name.as_str());
        // A refusal here is the server's word on the name or rights, not a missing folder.
        session
            .create_folder(name.as_str())
            .await
            .map_err(|e| crate::email::connection::mail_error("imap", &e))?;
        Ok::<bool, ApiError>(!existed)
    }
    .await;
    let created = finish(session, created).await?;
    Ok(json!({"name": name.as_str(), "created": created}))
}

/// `move_to_folder`.
pub async fn move_to_folder(
    state: &AppState,
    element: &Element,
    body: &MoveMessages,
) -> Result<Value, ApiError> {
    let uids = Uids::parse(ErrorCode::InvalidBody, "uids", &body.uids)?;
    let folder = FolderName::parse("folder", body.folder.as_deref())?;
    let target = FolderName::parse("target", Some(&body.target))?;
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
    Ok(json!({"folder": folder.as_str(), "target": target.as_str(), "moved": uids.as_slice()}))
}
