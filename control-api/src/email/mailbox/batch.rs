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

use super::change::SEEN;
use super::{FolderName, Label, Uids, connect, finish, imap_error};
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use crate::store::Element;

/// Actions one batch may hold.
const MAX_ACTIONS: usize = 50;

/// `batch_apply` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchApply {
    /// 1-50 actions.
    pub actions: Vec<BatchAction>,
}

/// One action of a batch.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchAction {
    /// `mark_read`, `mark_unread`, `apply_label`, `remove_label`, `move` or `delete`.
    pub action: ActionKind,
    /// UIDs in `folder`, 1-1000.
    pub uids: Vec<u32>,
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
    if body.actions.is_empty() || body.actions.len() > MAX_ACTIONS {
        return Err(ApiError::invalid(
            ErrorCode::InvalidBody,
            format!(
                "actions must hold 1 to {MAX_ACTIONS} actions, not {}",
                body.actions.len()
            ),
        ));
    }
    let mut groups: Vec<Group> = Vec::new();
    for (i, action) in body.actions.iter().enumerate() {
        let group = check(i, action)?;
        let same = groups.iter_mut().find(|g| {
            g.kind == group.kind && g.folder == group.folder && g.argument == group.argument
        });
        match same {
            Some(same) => same.uids.extend(&group.uids),
            None => groups.push(group),
        }
    }
    // Stable: groups of one stage keep the order they were first named in.
    groups.sort_by_key(|g| g.kind.stage());
    Ok(groups)
}

/// One action, checked, as a group of its own.
fn check(i: usize, action: &BatchAction) -> Result<Group, ApiError> {
    let field = |name: &str| format!("actions[{i}].{name}");
    let uids = Uids::parse(ErrorCode::InvalidBody, &field("uids"), &action.uids)?;
    let folder = FolderName::parse(&field("folder"), action.folder.as_deref())?;
    let kind = action.action;
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
            if action.target.is_some() {
                return Err(unexpected("target"));
            }
            let label = action.label.as_deref().ok_or_else(|| required("label"))?;
            Argument::Label(Label::parse(label)?)
        }
        ActionKind::Move => {
            if action.label.is_some() {
                return Err(unexpected("label"));
            }
            let target = action.target.as_deref().ok_or_else(|| required("target"))?;
            let target = FolderName::parse(&field("target"), Some(target))?;
            if target == folder {
                return Err(ApiError::invalid(
                    ErrorCode::EmailInvalidFolder,
                    format!("{} is the folder the messages are in", field("target")),
                ));
            }
            Argument::Target(target)
        }
        ActionKind::MarkRead | ActionKind::MarkUnread | ActionKind::Delete => {
            if action.label.is_some() {
                return Err(unexpected("label"));
            }
            if action.target.is_some() {
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
