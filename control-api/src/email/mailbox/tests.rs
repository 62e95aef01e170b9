//! Tables for the checks that run before any IMAP IO.

use serde_json::json;

use super::batch::plan_for_tests;
use super::search::{is_date, runs};
use super::*;

fn code<T>(result: Result<T, ApiError>) -> &'static str {
    result.err().map_or("ok", |e| e.code())
}

#[test]
fn folder_names() {
    let long = "x".repeat(MAX_FOLDER_CHARS);
    let too_long = "x".repeat(MAX_FOLDER_CHARS + 1);
    let table: [(Option<&str>, &str); 7] = [
        (None, "ok"),
        (Some("Archive/2026"), "ok"),
        (Some("Räkningar"), "ok"),
        (Some(long.as_str()), "ok"),
        (Some(""), "EMAIL_INVALID_FOLDER"),
        (Some(too_long.as_str()), "EMAIL_INVALID_FOLDER"),
        (Some("In\r\nbox"), "EMAIL_INVALID_FOLDER"),
    ];
    for (name, expected) in table {
        assert_eq!(
            code(FolderName::parse("folder", name)),
            expected,
            "{name:?}"
        );
    }
    assert_eq!(
        FolderName::parse("folder", None)
            .map(|f| f.as_str().to_owned())
            .ok(),
        Some("INBOX".to_owned())
    );
}

#[test]
fn labels() {
    let (longest, too_long) = ("a".repeat(64), "a".repeat(65));
    let table = [
        ("$Important", "ok"),
        ("follow-up_2.0", "ok"),
        (longest.as_str(), "ok"),
        (too_long.as_str(), "EMAIL_INVALID_LABEL"),
        ("", "EMAIL_INVALID_LABEL"),
        ("\\Seen", "EMAIL_INVALID_LABEL"),
        ("two words", "EMAIL_INVALID_LABEL"),
        ("brå", "EMAIL_INVALID_LABEL"),
        ("a(b)", "EMAIL_INVALID_LABEL"),
    ];
    for (label, expected) in table {
        assert_eq!(code(Label::parse(label)), expected, "{label:?}");
    }
}

#[test]
fn uids() {
    assert_eq!(
        code(Uids::parse(ErrorCode::InvalidBody, "uids", &[])),
        "INVALID_BODY"
    );
    assert_eq!(
        code(Uids::parse(ErrorCode::InvalidQuery, "uid", &[0])),
        "INVALID_QUERY"
    );
    let many: Vec<u32> = (1..=1001).collect();
    assert_eq!(
        code(Uids::parse(ErrorCode::InvalidBody, "uids", &many)),
        "INVALID_BODY"
    );
    assert_eq!(
        code(Uids::parse(ErrorCode::InvalidBody, "uids", &many[..1000])),
        "ok"
    );
    let uids = Uids::parse(ErrorCode::InvalidBody, "uids", &[3, 1, 3, u32::MAX]).expect("valid");
    assert_eq!(uids.as_slice(), [3, 1, u32::MAX]);
}

#[test]
fn dates() {
    let table = [
        ("2026-11-24", true),
        ("2024-02-29", true),
        ("2000-02-29", true),
        ("1900-02-29", false),
        ("2026-02-29", false),
        ("2026-13-01", false),
        ("2026-04-31", false),
        ("2026-00-10", false),
        ("2026-1-01", false),
        ("26-01-01xx", false),
        ("2026/01/01", false),
        ("", false),
    ];
    for (text, expected) in table {
        assert_eq!(is_date(text), expected, "{text:?}");
    }
}

#[test]
fn runs_of_consecutive_uids() {
    let table: [(&[u32], Vec<&[u32]>); 4] = [
        (&[], vec![]),
        (&[9, 8, 5], vec![&[9, 8][..], &[5][..]]),
        (&[u32::MAX, 1], vec![&[u32::MAX][..], &[1][..]]),
        (&[4, 3, 2, 1], vec![&[4, 3, 2, 1][..]]),
    ];
    for (uids, expected) in table {
        assert_eq!(runs(uids), expected, "{uids:?}");
    }
}

fn batch(actions: &serde_json::Value) -> BatchApply {
    serde_json::from_value(json!({ "actions": actions })).expect("batch")
}

#[test]
fn batches_group_per_folder_action_and_argument_flags_first() {
    let body = batch(&json!([
        {"action": "move", "uids": [1], "target": "Archive"},
        {"action": "mark_read", "uids": [1, 2]},
        {"action": "move", "uids": [3, 1], "target": "Archive"},
        {"action": "apply_label", "uids": [5], "label": "a"},
        {"action": "apply_label", "uids": [6], "label": "b"},
        {"action": "mark_read", "uids": [2, 4], "folder": "INBOX"},
        {"action": "mark_read", "uids": [7], "folder": "Other"},
        {"action": "delete", "uids": [9]},
    ]));
    let plan = plan_for_tests(&body).expect("valid");
    let expected = [
        ("mark_read", "INBOX", vec![1, 2, 4]),
        ("apply_label", "INBOX", vec![5]),
        ("apply_label", "INBOX", vec![6]),
        ("mark_read", "Other", vec![7]),
        ("move", "INBOX", vec![1, 3]),
        ("delete", "INBOX", vec![9]),
    ];
    let expected: Vec<(String, String, Vec<u32>)> = expected
        .into_iter()
        .map(|(a, f, u)| (a.to_owned(), f.to_owned(), u))
        .collect();
    assert_eq!(plan, expected);
}

#[test]
fn bad_batches_are_refused_whole() {
    let fifty_one: Vec<_> = (0..51)
        .map(|_| json!({"action": "mark_read", "uids": [1]}))
        .collect();
    let table = [
        (json!([]), "INVALID_BODY"),
        (json!(fifty_one), "INVALID_BODY"),
        (
            json!([{"action": "apply_label", "uids": [1]}]),
            "INVALID_BODY",
        ),
        (
            json!([{"action": "apply_label", "uids": [1], "label": "\\Seen"}]),
            "EMAIL_INVALID_LABEL",
        ),
        (json!([{"action": "move", "uids": [1]}]), "INVALID_BODY"),
        (
            json!([{"action": "move", "uids": [1], "target": "INBOX"}]),
            "EMAIL_INVALID_FOLDER",
        ),
        (
            json!([{"action": "mark_read", "uids": [1], "label": "x"}]),
            "INVALID_BODY",
        ),
        (json!([{"action": "delete", "uids": [0]}]), "INVALID_BODY"),
        (
            json!([{"action": "delete", "uids": [1], "folder": ""}]),
            "EMAIL_INVALID_FOLDER",
        ),
        (
            json!([{"action": "mark_read", "uids": [1]}, {"action": "delete", "uids": []}]),
            "INVALID_BODY",
        ),
    ];
    for (actions, expected) in table {
        assert_eq!(
            code(plan_for_tests(&batch(&actions))),
            expected,
            "{actions}"
        );
    }
}
