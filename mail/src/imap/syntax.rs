//! IMAP command syntax (RFC 3501 section 9): sequence sets, quoted strings and literals,
//! dates, flags and the search query. Pure functions, no IO: everything a caller's text can
//! reach on the wire passes through here, so that no input can end a command line early and
//! smuggle in another (command injection).

use super::Search;
use crate::{MailError, MailResult};

/// The IMAP system flags a client may set (`\Recent` is the server's own).
const SYSTEM_FLAGS: [&str; 5] = ["\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"];

/// Month names of the IMAP `date` (RFC 3501: `date-month`).
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// UIDs as a compact sequence set (`1:5,7`), sorted and without repeats; `None` when empty.
pub(super) fn sequence_set(uids: &[u32]) -> Option<String> {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut ranges: Vec<(u32, u32)> = Vec::new();
    for uid in sorted {
        match ranges.last_mut() {
            Some((_, end)) if end.checked_add(1) == Some(uid) => *end = uid,
            _ => ranges.push((uid, uid)),
        }
    }
    let parts: Vec<String> = ranges
        .iter()
        .map(|&(start, end)| {
            if start == end {
                start.to_string()
            } else {
                format!("{start}:{end}")
            }
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(","))
}

/// A search string as an IMAP `astring`: a quoted string for printable ASCII, a non-waiting
/// literal (`{n+}`, RFC 7888 LITERAL+) for UTF-8 when the server allows it. Control
/// characters (CR, LF, NUL, ...) are refused: they have no business in a search and are the
/// way to break out of a command.
pub(super) fn search_string(text: &str, literal_plus: bool) -> MailResult<String> {
    if let Some(c) = text.chars().find(|c| c.is_control()) {
        return Err(MailError::InvalidArgument(format!(
            "search text with control character U+{:04X}",
            u32::from(c)
        )));
    }
    if text.is_ascii() {
        return Ok(quoted(text));
    }
    if !literal_plus {
        return Err(MailError::InvalidArgument(
            "non-ASCII search text needs a server with LITERAL+".into(),
        ));
    }
    Ok(format!("{{{}+}}\r\n{text}", text.len()))
}

/// `text` in double quotes, with `\` and `"` escaped. The caller has ruled out CR and LF.
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// `YYYY-MM-DD` as an IMAP date (`1-Nov-2026`).
pub(super) fn imap_date(date: &str) -> MailResult<String> {
    let invalid = || MailError::InvalidArgument(format!("date {date:?} is not YYYY-MM-DD"));
    let mut parts = date.split('-');
    let (Some(year), Some(month), Some(day), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid());
    };
    let digits = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_digit());
    if !(digits(year, 4) && digits(month, 2) && digits(day, 2)) {
        return Err(invalid());
    }
    let month: usize = month.parse().map_err(|_| invalid())?;
    let day: u32 = day.parse().map_err(|_| invalid())?;
    let name = month
        .checked_sub(1)
        .and_then(|i| MONTHS.get(i))
        .ok_or_else(invalid)?;
    if !(1..=31).contains(&day) {
        return Err(invalid());
    }
    Ok(format!("{day}-{name}-{year}"))
}

/// A flag as it goes on the wire: one of the system flags (any case, written canonically),
/// or a keyword that is an IMAP `atom` (RFC 3501: no space, no control character, none of
/// `(){%*"\]`).
pub(super) fn flag(flag: &str) -> MailResult<String> {
    if let Some(system) = SYSTEM_FLAGS.iter().find(|f| f.eq_ignore_ascii_case(flag)) {
        return Ok((*system).to_owned());
    }
    let atom_char = |c: char| c.is_ascii_graphic() && !"(){%*\"\\]".contains(c);
    if flag.is_empty() || !flag.chars().all(atom_char) {
        return Err(MailError::InvalidArgument(format!(
            "{flag:?} is neither a system flag nor a keyword atom"
        )));
    }
    Ok(flag.to_owned())
}

/// The flag list of a STORE: `(\Seen $label)`.
pub(super) fn flag_list<S: AsRef<str>>(flags: &[S]) -> MailResult<String> {
    let flags: Vec<String> = flags
        .iter()
        .map(|f| flag(f.as_ref()))
        .collect::<MailResult<_>>()?;
    Ok(format!("({})", flags.join(" ")))
}

/// A folder name as it goes on the wire: checked (it goes out quoted by `async-imap`,
/// which escapes quotes but does not stop control characters), then in modified UTF-7.
pub(super) fn folder(name: &str) -> MailResult<String> {
    if name.is_empty() || name.chars().any(|c| c.is_control()) {
        return Err(MailError::InvalidArgument(format!(
            "folder name {name:?} is empty or has control characters"
        )));
    }
    Ok(super::folder::encode(name))
}

/// The criteria of a UID SEARCH (`ALL` when none is given). Non-ASCII text goes in a
/// literal and makes the search `CHARSET UTF-8`.
pub(super) fn search_query(search: &Search, literal_plus: bool) -> MailResult<String> {
    let mut keys = Vec::new();
    if let Some(text) = &search.text {
        keys.push(format!("TEXT {}", search_string(text, literal_plus)?));
    }
    if let Some(from) = &search.from {
        keys.push(format!("FROM {}", search_string(from, literal_plus)?));
    }
    if let Some(since) = &search.since {
        keys.push(format!("SINCE {}", imap_date(since)?));
    }
    if let Some(before) = &search.before {
        keys.push(format!("BEFORE {}", imap_date(before)?));
    }
    if keys.is_empty() {
        return Ok("ALL".into());
    }
    let query = keys.join(" ");
    if query.is_ascii() {
        Ok(query)
    } else {
        Ok(format!("CHARSET UTF-8 {query}"))
    }
}

/// The human part of an `async-imap` NO/BAD error, which reads
/// `code: Some(..), info: Some("Mailbox doesn't exist: x")`: the text inside `info`.
pub(super) fn server_text(error: &str) -> String {
    error
        .split_once("info: Some(\"")
        .and_then(|(_, rest)| rest.rsplit_once("\")"))
        .map(|(text, _)| text.replace("\\\"", "\""))
        .unwrap_or_else(|| error.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_sets_are_compact() {
        let table: [(&[u32], Option<&str>); 6] = [
            (&[], None),
            (&[7], Some("7")),
            (&[1, 2, 3, 4, 5, 7], Some("1:5,7")),
            (&[7, 5, 4, 3, 2, 1, 3], Some("1:5,7")),
            (&[1, 3, 5], Some("1,3,5")),
            (
                &[u32::MAX - 1, u32::MAX, 1],
                Some("1,4294967294:4294967295"),
            ),
        ];
        for (uids, expected) in table {
            assert_eq!(sequence_set(uids).as_deref(), expected, "{uids:?}");
        }
    }

    #[test]
    fn dates() {
        let table = [
            ("2026-11-01", Some("1-Nov-2026")),
            ("1999-01-31", Some("31-Jan-1999")),
            ("2026-12-09", Some("9-Dec-2026")),
            ("2026-13-01", None),
            ("2026-00-01", None),
            ("2026-1-01", None),
            ("2026-01-32", None),
            ("2026-01-01 OR ALL", None),
            ("", None),
        ];
        for (input, expected) in table {
            assert_eq!(imap_date(input).ok().as_deref(), expected, "{input:?}");
        }
    }

    #[test]
    fn search_strings_cannot_break_the_line() {
        let table = [
            ("hello", true, Some("\"hello\"")),
            ("a \"b\" \\c", true, Some("\"a \\\"b\\\" \\\\c\"")),
            ("Grüße", true, Some("{7+}\r\nGrüße")),
            ("Grüße", false, None),
            ("x\r\nA1 DELETE INBOX", true, None),
            ("x\nA1 DELETE INBOX", true, None),
            ("nul\0", true, None),
        ];
        for (input, literal_plus, expected) in table {
            let got = search_string(input, literal_plus).ok();
            assert_eq!(got.as_deref(), expected, "{input:?}");
        }
    }

    #[test]
    fn flags_are_system_flags_or_atoms() {
        let table = [
            ("\\seen", Some("\\Seen")),
            ("\\Deleted", Some("\\Deleted")),
            ("$label", Some("$label")),
            ("Work", Some("Work")),
            ("\\Recent", None),
            ("\\Custom", None),
            ("two words", None),
            ("a)b", None),
            ("", None),
            ("x\r\n", None),
        ];
        for (input, expected) in table {
            assert_eq!(flag(input).ok().as_deref(), expected, "{input:?}");
        }
    }

    #[test]
    fn search_queries() {
        let search = |text: Option<&str>, from: Option<&str>, since: Option<&str>| Search {
            text: text.map(str::to_owned),
            from: from.map(str::to_owned),
            since: since.map(str::to_owned),
            before: Some("2026-12-01".into()),
        };
        let q = search_query(&search(Some("hi"), Some("bob@x"), Some("2026-11-01")), true);
        assert_eq!(
            q.ok().as_deref(),
            Some("TEXT \"hi\" FROM \"bob@x\" SINCE 1-Nov-2026 BEFORE 1-Dec-2026")
        );
        let q = search_query(&search(Some("é"), None, None), true);
        assert_eq!(
            q.ok().as_deref(),
            Some("CHARSET UTF-8 TEXT {2+}\r\né BEFORE 1-Dec-2026")
        );
        assert_eq!(
            search_query(&Search::default(), true).ok().as_deref(),
            Some("ALL")
        );
    }

    #[test]
    fn server_text_is_the_info() {
        let raw = r#"code: None, info: Some("Mailbox doesn't exist: Nope")"#;
        assert_eq!(server_text(raw), "Mailbox doesn't exist: Nope");
        assert_eq!(server_text("other"), "other");
    }
}
