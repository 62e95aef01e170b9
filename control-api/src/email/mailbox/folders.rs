//! The folder listings: `list_folders` and `folder_counts` (STATUS of each), as the
//! document's folder objects: `id, name, role, parent_id, total_emails, unread_emails`.
//!
//! IMAP names a folder by its full path and nothing else, so the path is the `id` (what
//! every other operation's `folder` takes), `name` its last segment, `parent_id` the path
//! above it, and `role` comes from `INBOX` and the special-use attributes (RFC 6154).

use serde::{Deserialize, Serialize};
use voxgate_mail::imap::{Folder, ImapSession};

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

/// Folder ids: a list (a JSON body) or a comma-separated string (a query).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum FolderIds {
    /// `["INBOX", "Archive"]`.
    List(Vec<String>),
    /// `INBOX,Archive`.
    Text(String),
}

impl FolderIds {
    fn names(&self) -> Vec<&str> {
        match self {
            Self::List(list) => list.iter().map(String::as_str).collect(),
            Self::Text(text) => text.split(',').collect(),
        }
    }
}

/// `folder_counts` input.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FolderCountsQuery {
    /// The folders' ids (from `list_folders` or `create_folder`); default every selectable
    /// folder.
    #[param(value_type = Option<String>)]
    pub folder_ids: Option<FolderIds>,
    /// Our earlier name: comma-separated folder names.
    pub folders: Option<String>,
}

/// A folder as `list_folders` and `folder_counts` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FolderView {
    /// The full IMAP name (`Archive/2026`): what `folder` takes everywhere.
    pub id: String,
    /// The last segment of the name.
    pub name: String,
    /// `inbox`, `sent`, `drafts`, `trash`, `junk`, `archive`, `all`, `flagged`, or none.
    pub role: Option<&'static str>,
    /// The folder above it, if any.
    pub parent_id: Option<String>,
    /// Messages; absent for a folder that cannot hold any (`\Noselect`).
    pub total_emails: Option<u32>,
    /// Messages without `\Seen`; absent as `total_emails`.
    pub unread_emails: Option<u32>,
    /// The server's hierarchy delimiter.
    pub delimiter: Option<String>,
    /// The server's attributes (`\Sent`, `\HasChildren`, ...).
    pub attributes: Vec<String>,
}

/// What `list_folders` and `folder_counts` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FolderList {
    /// In the server's order.
    pub folders: Vec<FolderView>,
}

/// The role of folder `name` with `attributes` (RFC 6154 special use).
fn role(name: &str, attributes: &[String]) -> Option<&'static str> {
    if name.eq_ignore_ascii_case("INBOX") {
        return Some("inbox");
    }
    attributes.iter().find_map(|a| {
        Some(match a.to_ascii_lowercase().as_str() {
            "\\sent" => "sent",
            "\\drafts" => "drafts",
            "\\trash" => "trash",
            "\\junk" => "junk",
            "\\archive" => "archive",
            "\\all" => "all",
            "\\flagged" => "flagged",
            _ => return None,
        })
    })
}

fn selectable(folder: &Folder) -> bool {
    !folder
        .attributes
        .iter()
        .any(|a| a.eq_ignore_ascii_case("\\Noselect") || a.eq_ignore_ascii_case("\\NonExistent"))
}

fn view(folder: &Folder, counts: Option<(u32, u32)>) -> FolderView {
    let (parent_id, name) = match folder
        .delimiter
        .as_deref()
        .filter(|d| !d.is_empty())
        .and_then(|d| folder.name.rsplit_once(d))
    {
        Some((parent, name)) => (Some(parent.to_owned()), name.to_owned()),
        None => (None, folder.name.clone()),
    };
    FolderView {
        id: folder.name.clone(),
        name,
        role: role(&folder.name, &folder.attributes),
        parent_id,
        total_emails: counts.map(|c| c.0),
        unread_emails: counts.map(|c| c.1),
        delimiter: folder.delimiter.clone(),
        attributes: folder.attributes.clone(),
    }
}

/// `list_folders`: every folder, with its counts.
pub async fn list_folders(state: &AppState, element: &Element) -> Result<FolderList, ApiError> {
    let mut session = connect(state, element).await?;
    let listed = listed(&mut session, None).await;
    let folders = finish(session, listed).await?;
    Ok(FolderList { folders })
}

/// `folder_counts`: the named folders (or every selectable one) with their counts.
pub async fn folder_counts(
    state: &AppState,
    element: &Element,
    query: &FolderCountsQuery,
) -> Result<FolderList, ApiError> {
    let given: Option<Vec<&str>> = match (&query.folder_ids, &query.folders) {
        (Some(ids), _) => Some(ids.names()),
        (None, Some(text)) => Some(text.split(',').collect()),
        (None, None) => None,
    };
    let named = given
        .map(|names| {
            if names.len() > MAX_COUNTED_FOLDERS {
                return Err(ApiError::invalid(
                    ErrorCode::InvalidQuery,
                    format!("at most {MAX_COUNTED_FOLDERS} folders"),
                ));
            }
            names
                .into_iter()
                .map(|name| FolderName::parse("folder_ids", Some(name)).map(|n| n.0))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    let mut session = connect(state, element).await?;
    let listed = listed(&mut session, Some(named)).await;
    let folders = finish(session, listed).await?;
    Ok(FolderList { folders })
}

/// The folders with counts: all of them (`None`), every selectable one (`Some(None)`), or
/// the named ones, in the order given.
async fn listed(
    session: &mut ImapSession,
    wanted: Option<Option<Vec<String>>>,
) -> Result<Vec<FolderView>, ApiError> {
    let all = session.folders().await.map_err(|e| imap_error(&e))?;
    let chosen: Vec<Folder> = match wanted {
        None => all,
        Some(None) => all.into_iter().filter(selectable).collect(),
        Some(Some(names)) => names
            .into_iter()
            .map(|name| {
                all.iter()
                    .find(|f| f.name == name)
                    .cloned()
                    .unwrap_or(Folder {
                        name,
                        delimiter: None,
                        attributes: Vec::new(),
                    })
            })
            .collect(),
    };
    let mut out = Vec::with_capacity(chosen.len());
    for folder in &chosen {
        let counts = if selectable(folder) {
            let c = session
                .counts(&folder.name)
                .await
                .map_err(|e| imap_error(&e))?;
            Some((c.messages, c.unseen))
        } else {
            None
        };
        out.push(view(folder, counts));
    }
    Ok(out)
}
