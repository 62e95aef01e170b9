//! The folder listings: `list_folders` and `folder_counts` (STATUS of each).

use serde::Deserialize;
use serde_json::{Value, json};
use voxgate_mail::imap::ImapSession;

use super::{FolderName, connect, finish, imap_error};
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use crate::store::Element;

/// Folders one `folder_counts` may name.
const MAX_COUNTED_FOLDERS: usize = 100;

/// `list_folders` query: none (but an unknown parameter is refused like everywhere).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListFoldersQuery {}

/// `folder_counts` query.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FolderCountsQuery {
    /// Comma-separated folder names; default every selectable folder.
    pub folders: Option<String>,
}

/// `list_folders`.
pub async fn list_folders(state: &AppState, element: &Element) -> Result<Value, ApiError> {
    let mut session = connect(state, element).await?;
    let folders = session.folders().await.map_err(|e| imap_error(&e));
    let folders = finish(session, folders).await?;
    let folders: Vec<Value> = folders
        .iter()
        .map(|f| json!({"name": f.name, "delimiter": f.delimiter, "attributes": f.attributes}))
        .collect();
    Ok(json!({ "folders": folders }))
}

/// `folder_counts`: messages and unread of the named folders, or of every selectable one.
pub async fn folder_counts(
    state: &AppState,
    element: &Element,
    query: &FolderCountsQuery,
) -> Result<Value, ApiError> {
    let named = query
        .folders
        .as_deref()
        .map(|list| {
            let names: Vec<FolderName> = list
                .split(',')
                .map(|name| FolderName::parse("folders", Some(name)))
                .collect::<Result<_, _>>()?;
            if names.len() > MAX_COUNTED_FOLDERS {
                return Err(ApiError::invalid(
                    ErrorCode::InvalidQuery,
                    format!("at most {MAX_COUNTED_FOLDERS} folders"),
                ));
            }
            Ok(names)
        })
        .transpose()?;
    let mut session = connect(state, element).await?;
    let counted = count_folders(&mut session, named).await;
    let counted = finish(session, counted).await?;
    Ok(json!({ "folders": counted }))
}

async fn count_folders(
    session: &mut ImapSession,
    named: Option<Vec<FolderName>>,
) -> Result<Vec<Value>, ApiError> {
    let names: Vec<String> = match named {
        Some(names) => names.into_iter().map(|n| n.0).collect(),
        None => session
            .folders()
            .await
            .map_err(|e| imap_error(&e))?
            .into_iter()
            .filter(|f| {
                !f.attributes.iter().any(|a| {
                    a.eq_ignore_ascii_case("\\Noselect") || a.eq_ignore_ascii_case("\\NonExistent")
                })
            })
            .map(|f| f.name)
            .collect(),
    };
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let counts = session.counts(&name).await.map_err(|e| imap_error(&e))?;
        out.push(json!({"name": name, "messages": counts.messages, "unseen": counts.unseen}));
    }
    Ok(out)
}
