//! `search`: `UID SEARCH` by text, sender and dates, checked before anything is sent, and
//! the summaries of the newest matches.

use serde::Deserialize;

use voxgate_mail::imap::{ImapSession, Search, Summary};

use super::read::limit;
use super::{FolderName, MailSummary, connect, finish, imap_error, summary_view};
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use crate::store::Element;

/// The longest search text (`text`, `from`), in characters.
const MAX_SEARCH_CHARS: usize = 500;

/// `search` query: at least one of `text`, `from`, `since`, `before`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// The folder; default `INBOX`.
    pub folder: Option<String>,
    /// Text anywhere in the message.
    pub text: Option<String>,
    /// Text in `From`.
    pub from: Option<String>,
    /// Received on or after this day, `YYYY-MM-DD`.
    pub since: Option<String>,
    /// Received before this day, `YYYY-MM-DD`.
    pub before: Option<String>,
    /// Summaries of the newest this many matches: 1-100, default 25.
    pub limit: Option<i64>,
}

/// `search`: the UIDs of a folder's matches, newest first, and the newest `limit`
/// summaries.
pub async fn search(
    state: &AppState,
    element: &Element,
    query: &SearchQuery,
) -> Result<SearchResult, ApiError> {
    let folder = FolderName::parse("folder", query.folder.as_deref())?;
    let limit = limit(query.limit)?;
    let criteria = criteria(query)?;
    let mut session = connect(state, element).await?;
    let found = matches(&mut session, &folder, &criteria, limit).await;
    let (uids, messages) = finish(session, found).await?;
    Ok(SearchResult {
        folder: folder.as_str().to_owned(),
        uids,
        messages: messages.iter().map(summary_view).collect(),
    })
}

/// `search`'s answer.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct SearchResult {
    /// The folder searched.
    pub folder: String,
    /// Every match's UID, newest first.
    pub uids: Vec<u32>,
    /// The newest `limit` matches.
    pub messages: Vec<MailSummary>,
}

/// The search's criteria, checked: at least one, plain text, real dates.
fn criteria(query: &SearchQuery) -> Result<Search, ApiError> {
    for (field, value) in [("text", &query.text), ("from", &query.from)] {
        if let Some(value) = value {
            crate::validate::plain_text(ErrorCode::InvalidQuery, field, value, MAX_SEARCH_CHARS)?;
            if value.is_empty() {
                return Err(ApiError::invalid(
                    ErrorCode::InvalidQuery,
                    format!("{field} is empty"),
                ));
            }
        }
    }
    for (field, value) in [("since", &query.since), ("before", &query.before)] {
        if let Some(value) = value
            && !is_date(value)
        {
            return Err(ApiError::invalid(
                ErrorCode::InvalidQuery,
                format!("{field} must be a date, YYYY-MM-DD"),
            ));
        }
    }
    let search = Search {
        text: query.text.clone(),
        from: query.from.clone(),
        since: query.since.clone(),
        before: query.before.clone(),
    };
    if search == Search::default() {
        return Err(ApiError::invalid(
            ErrorCode::InvalidQuery,
            "give at least one of text, from, since, before",
        ));
    }
    Ok(search)
}

/// Whether `text` is a real calendar day written `YYYY-MM-DD`.
pub(super) fn is_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    let shape = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
    if !shape {
        return false;
    }
    let number = |range: std::ops::Range<usize>| text[range].parse::<u32>().unwrap_or(0);
    let (year, month, day) = (number(0..4), number(5..7), number(8..10));
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    year >= 1 && (1..=days).contains(&day)
}

/// The matching UIDs (newest first) and summaries of the newest `limit` of them.
///
/// The session reads summaries a page at a time below a cursor, not by UID, so each run
/// of consecutive UIDs among the wanted ones is one page: every UID in such a run matched,
/// so the page holds exactly those messages.
async fn matches(
    session: &mut ImapSession,
    folder: &FolderName,
    criteria: &Search,
    limit: usize,
) -> Result<(Vec<u32>, Vec<Summary>), ApiError> {
    let uids = session
        .search(folder.as_str(), criteria)
        .await
        .map_err(|e| imap_error(&e))?;
    let mut messages = Vec::new();
    for run in runs(&uids[..uids.len().min(limit)]) {
        let (newest, len) = (run[0], run.len());
        let page = session
            .page(folder.as_str(), newest.checked_add(1), len)
            .await
            .map_err(|e| imap_error(&e))?;
        messages.extend(page.messages.into_iter().filter(|m| run.contains(&m.uid)));
    }
    Ok((uids, messages))
}

/// Runs of consecutive UIDs of a descending list (`[9, 8, 5]` is `[9, 8]`, `[5]`).
pub(super) fn runs(uids: &[u32]) -> Vec<&[u32]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=uids.len() {
        if i == uids.len() || uids[i - 1].checked_sub(1) != Some(uids[i]) {
            out.push(&uids[start..i]);
            start = i;
        }
    }
    out
}
