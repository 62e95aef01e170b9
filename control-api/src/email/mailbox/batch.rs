//! `batch_apply`: many flag, label, move and delete actions in one connection.
//!
//! Every action is checked before anything is sent. Actions that do the same thing in the
//! same folder (same label, same target) are merged into one group, so each group is one
//! `UID STORE`, `UID MOVE` or expunge over all its UIDs. Flag and label groups run first,
//! then moves, then deletes, so that "label these, then archive them" works whatever order
//! the actions came in. A failing group is reported and the others still run.

use serde::Deserialize;
use serde_json::{Value, json};
use voxgate_mail::imap::{FlagChange, ImapSession};

use super::change::{SEEN, move_target};
use super::{FolderName, Label, MessageId, Uids, connect, finish, imap_error, named_uids};
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use crate::store::Element;

/// Actions one batch may hold.
const MAX_ACTIONS: usize = 50;

/// `batch_apply` body: the document's `items` (each a message and its mutations) or our
/// `actions` (each an action over UIDs); one of the two.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchApply {
    /// 1-50 items: `message_id` with `seen`, `folder_id` (or one `folder_ids`), or both.
    pub items: Option<Vec<BatchAction>>,
    /// 1-50 actions (our earlier form).
    pub actions: Option<Vec<BatchAction>>,
}

/// One item or action of a batch. The document's form names the message
/// (`message_id`) and its mutations (`seen`: mark read or unread; `folder_id` or one
/// `folder_ids`: move); ours names an `action` over `uids`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchAction {
    /// The message: its IMAP UID in `folder`.
    pub message_id: Option<MessageId>,
    /// `true` marks it read, `false` unread.
    pub seen: Option<bool>,
    /// Move it to this folder (`id` from list_folders).
    pub folder_id: Option<String>,
    /// The multi-folder form; over IMAP it must name one folder.
    pub folder_ids: Option<Vec<String>>,
    /// `mark_read`, `mark_unread`, `apply_label`, `remove_label`, `move` or `delete`.
    pub action: Option<ActionKind>,
    /// UIDs in `folder`, 1-1000.
    pub uids: Option<Vec<u32>>,
    /// The folder; default `INBOX`.
    pub folder: Option<String>,
    /// The label of `apply_label` and `remove_label`.
    pub label: Option<String>,
    /// The target folder of `move`.
    pub target: Option<String>,
}

/// What a batch action does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// Set `\Seen`.
    MarkRead,
    /// Clear `\Seen`.
    MarkUnread,
    /// Add a keyword.
    ApplyLabel,
    /// Remove a keyword.
    RemoveLabel,
    /// Move to `target`.
    Move,
    /// Expunge.
    Delete,
}

impl ActionKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::MarkRead => "mark_read",
            Self::MarkUnread => "mark_unread",
            Self::ApplyLabel => "apply_label",
            Self::RemoveLabel => "remove_label",
            Self::Move => "move",
            Self::Delete => "delete",
        }
    }

    /// Flags first, then moves, then deletes.
    fn stage(self) -> u8 {
        match self {
            Self::Move => 1,
            Self::Delete => 2,
            _ => 0,
        }
    }
}

/// What a group's command needs besides its folder and UIDs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Argument {
    None,
    Label(Label),
    Target(FolderName),
}

/// Actions merged: one IMAP command.
#[derive(Debug, Clone)]
struct Group {
    kind: ActionKind,
    folder: FolderName,
    argument: Argument,
    uids: Uids,
}

/// `batch_apply`.
pub async fn batch_apply(
    state: &AppState,
    element: &Element,
    body: &BatchApply,
) -> Result<Value, ApiError> {
    let groups = plan(body)?;
    let mut session = connect(state, element).await?;
    let mut applied = Vec::with_capacity(groups.len());
    for group in &groups {
        let outcome = run(&mut session, group).await;
        applied.push(report(group, outcome.err()));
    }
    let applied = finish(session, Ok(applied)).await?;
    Ok(json!({ "applied": applied }))
}

/// The batch checked and grouped, in running order; 400 for the first bad action.
fn plan(body: &BatchApply) -> Result<Vec<Group>, ApiError> {
    let (list, entries) = match (&body.items, &body.actions) {
        (Some(items), None) => ("items", items),
        (None, Some(actions)) => ("actions", actions),
        _ => {
            return Err(ApiError::invalid(
                ErrorCode::InvalidBody,
                "give items (or actions)",
            ));
        }
    };
    if entries.is_empty() || entries.len() > MAX_ACTIONS {
        return Err(ApiError::invalid(
            ErrorCode::InvalidBody,
            format!(
                "{list} must hold 1 to {MAX_ACTIONS} entries, not {}",
                entries.len()
            ),
        ));
    }
    let mut groups: Vec<Group> = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let field = |name: &str| format!("{list}[{i}].{name}");
        for group in expand(entry, &field)? {
            let same = groups.iter_mut().find(|g| {
                g.kind == group.kind && g.folder == group.folder && g.argument == group.argument
            });
            match same {
                Some(same) => same.uids.extend(&group.uids),
                None => groups.push(group),
            }
        }
    }
    // Stable: groups of one stage keep the order they were first named in.
    groups.sort_by_key(|g| g.kind.stage());
    Ok(groups)
}

/// One entry as the groups it asks for: its `action`, or the document's mutations
/// (`seen`, then a move).
fn expand(entry: &BatchAction, field: &dyn Fn(&str) -> String) -> Result<Vec<Group>, ApiError> {
    let uids = named_uids(
        ErrorCode::InvalidBody,
        entry.message_id.as_ref(),
        entry.uids.as_deref(),
        None,
    )
    .map_err(|e| {
        ApiError::invalid(
            ErrorCode::InvalidBody,
            format!("{}: {e}", field("message_id")),
        )
    })?;
    let folder = FolderName::parse(&field("folder"), entry.folder.as_deref())?;
    let target = move_target(
        &field("folder_id"),
        entry.folder_id.as_deref(),
        entry.folder_ids.as_deref(),
        entry.target.as_deref(),
    )?;
    if let Some(kind) = entry.action {
        if entry.seen.is_some() {
            return Err(ApiError::invalid(
                ErrorCode::InvalidBody,
                format!("{} does not take seen ({})", field("action"), kind.as_str()),
            ));
        }
        return check(field, kind, uids, folder, entry.label.as_deref(), target).map(|g| vec![g]);
    }
    if entry.label.is_some() {
        return Err(ApiError::invalid(
            ErrorCode::InvalidBody,
            format!("{}: a label needs an action (apply_label)", field("label")),
        ));
    }
    let mut out = Vec::new();
    if let Some(seen) = entry.seen {
        let kind = if seen {
            ActionKind::MarkRead
        } else {
            ActionKind::MarkUnread
        };
        out.push(check(
            field,
            kind,
            uids.clone(),
            folder.clone(),
            None,
            None,
        )?);
    }
    if target.is_some() {
        out.push(check(field, ActionKind::Move, uids, folder, None, target)?);
    }
    if out.is_empty() {
        return Err(ApiError::invalid(
            ErrorCode::InvalidBody,
            format!(
                "{}: give at least one mutation: seen, folder_id or folder_ids",
                field("message_id")
            ),
        ));
    }
    Ok(out)
}

/// One action, checked, as a group of its own.
fn check(
    field: &dyn Fn(&str) -> String,
    kind: ActionKind,
    uids: Uids,
    folder: FolderName,
    label: Option<&str>,
    target: Option<FolderName>,
) -> Result<Group, ApiError> {
    let unexpected = |name: &str| {
        ApiError::invalid(
            ErrorCode::InvalidBody,
            format!(
                "{} does not take {name} ({})",
                field("action"),
                kind.as_str()
            ),
        )
    };
    let required = |name: &str| {
        ApiError::invalid(
            ErrorCode::InvalidBody,
            format!("{} {} needs {name}", field("action"), kind.as_str()),
        )
    };
    let argument = match kind {
        ActionKind::ApplyLabel | ActionKind::RemoveLabel => {
            if target.is_some() {
                return Err(unexpected("target"));
            }
            let label = label.ok_or_else(|| required("label"))?;
            Argument::Label(Label::parse(label)?)
        }
        ActionKind::Move => {
            if label.is_some() {
                return Err(unexpected("label"));
            }
            let target = target.ok_or_else(|| required("target"))?;
            if target == folder {
                return Err(ApiError::invalid(
                    ErrorCode::EmailInvalidFolder,
                    format!("{} is the folder the messages are in", field("target")),
                ));
            }
            Argument::Target(target)
        }
        ActionKind::MarkRead | ActionKind::MarkUnread | ActionKind::Delete => {
            if label.is_some() {
                return Err(unexpected("label"));
            }
            if target.is_some() {
                return Err(unexpected("target"));
            }
            Argument::None
        }
    };
    Ok(Group {
        kind,
        folder,
        argument,
        uids,
    })
}

/// One group's command.
async fn run(session: &mut ImapSession, group: &Group) -> Result<(), ApiError> {
    let (folder, uids) = (group.folder.as_str(), group.uids.as_slice());
    let done = match (&group.kind, &group.argument) {
        (ActionKind::MarkRead, _) => {
            session
                .set_flags(folder, uids, FlagChange::Add, &[SEEN])
                .await
        }
        (ActionKind::MarkUnread, _) => {
            session
                .set_flags(folder, uids, FlagChange::Remove, &[SEEN])
                .await
        }
        (ActionKind::ApplyLabel, Argument::Label(label)) => {
            session
                .set_flags(folder, uids, FlagChange::Add, &[label.as_str()])
                .await
        }
        (ActionKind::RemoveLabel, Argument::Label(label)) => {
            session
                .set_flags(folder, uids, FlagChange::Remove, &[label.as_str()])
                .await
        }
        (ActionKind::Move, Argument::Target(target)) => {
            session.move_to(folder, uids, target.as_str()).await
        }
        (ActionKind::Delete, _) => session.delete(folder, uids).await,
        // `check` pairs every kind with its argument.
        (kind, _) => {
            return Err(ApiError::invalid(
                ErrorCode::InvalidBody,
                format!("{} without its argument", kind.as_str()),
            ));
        }
    };
    done.map_err(|e| imap_error(&e))
}

/// A group's line of the answer.
fn report(group: &Group, error: Option<ApiError>) -> Value {
    let mut out = json!({
        "action": group.kind.as_str(),
        "folder": group.folder.as_str(),
        "uids": group.uids.as_slice(),
        "ok": error.is_none(),
    });
    match &group.argument {
        Argument::None => {}
        Argument::Label(label) => out["label"] = json!(label.as_str()),
        Argument::Target(target) => out["target"] = json!(target.as_str()),
    }
    if let Some(error) = error {
        out["error"] = json!({"code": error.code(), "message": error.to_string()});
    }
    out
}

#[cfg(test)]
pub(super) fn plan_for_tests(
    body: &BatchApply,
) -> Result<Vec<(String, String, Vec<u32>)>, ApiError> {
    Ok(plan(body)?
        .into_iter()
        .map(|g| {
            (
                g.kind.as_str().to_owned(),
                g.folder.as_str().to_owned(),
                g.uids.as_slice().to_vec(),
            )
        })
        .collect())
}
