//! The RFC 4475-style torture set in `testdata/sip-torture`: one datagram per file, each with
//! the outcome `MANIFEST.tsv` gives it. `ok` must parse; a status must be refused with a kind
//! whose status it is, and answered with a response that itself parses and carries the
//! request's Call-ID and CSeq; `drop` must be refused with no answer possible. Nothing may
//! panic, not even on any prefix of any file.
//!
//! A row whose `today` column names a kind is a known gap: the outcome is what RFC 3261
//! wants, the kind is how voxgate refuses the message today because of `rsip` 0.4 (IPv6
//! hosts, some quoted strings). The test pins that, so the day it parses the row must change.

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use rsip::SipMessage;
use voxgate_sip::message::{self, MessageErrorKind};

/// What `MANIFEST.tsv` says must happen to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Parses.
    Ok,
    /// Refused, and answered with this status.
    Answered(u16),
    /// Refused, and no response can be built.
    Drop,
}

/// One manifest row.
#[derive(Debug)]
struct Case {
    file: String,
    outcome: Outcome,
    /// The refusal's `MessageErrorKind::code`; `None` for `ok`.
    kind: Option<String>,
    /// For a known gap, the code of the refusal voxgate gives today instead of `outcome`.
    today: Option<String>,
    reason: String,
}

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/sip-torture")
}

/// The manifest's rows: `file<TAB>outcome<TAB>kind<TAB>today<TAB>reason` (`-` for an empty
/// field), `#` starts a comment.
fn manifest() -> Vec<Case> {
    let text = std::fs::read_to_string(dir().join("MANIFEST.tsv")).expect("MANIFEST.tsv");
    let rows = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'));
    rows.map(|line| {
        let fields: Vec<&str> = line.split('\t').collect();
        let [file, outcome, kind, today, reason] = fields[..] else {
            panic!("a manifest row has five tab-separated fields: {line:?}");
        };
        let outcome = match outcome {
            "ok" => Outcome::Ok,
            "drop" => Outcome::Drop,
            status => Outcome::Answered(status.parse().expect("ok, drop or a status")),
        };
        let kind = (kind != "-").then(|| kind.to_owned());
        assert_eq!(
            kind.is_none(),
            outcome == Outcome::Ok,
            "kind is - exactly for ok: {line:?}"
        );
        Case {
            file: file.to_owned(),
            outcome,
            kind,
            today: (today != "-").then(|| today.to_owned()),
            reason: reason.to_owned(),
        }
    })
    .collect()
}

/// The message files in the directory (everything but the manifest and dotfiles).
fn files_on_disk() -> BTreeSet<String> {
    std::fs::read_dir(dir())
        .expect("testdata/sip-torture")
        .map(|entry| {
            let name = entry.expect("a directory entry").file_name();
            name.into_string().expect("a UTF-8 file name")
        })
        .filter(|name| name != "MANIFEST.tsv" && !name.starts_with('.'))
        .collect()
}

#[test]
fn the_manifest_lists_every_file_exactly_once() {
    let cases = manifest();
    let listed: BTreeSet<String> = cases.iter().map(|c| c.file.clone()).collect();
    assert_eq!(listed.len(), cases.len(), "a file is listed twice");
    let on_disk = files_on_disk();
    let unlisted: Vec<_> = on_disk.difference(&listed).collect();
    let missing: Vec<_> = listed.difference(&on_disk).collect();
    assert!(
        unlisted.is_empty() && missing.is_empty(),
        "files without a manifest row: {unlisted:?}; rows without a file: {missing:?}"
    );
    for case in &cases {
        assert!(case.file.ends_with(".sip"), "{}", case.file);
        assert!(!case.reason.is_empty(), "{} has no reason", case.file);
    }
}

#[test]
fn every_message_gets_the_outcome_its_manifest_row_names() {
    let mut failures = Vec::new();
    for case in manifest() {
        let datagram = std::fs::read(dir().join(&case.file)).expect("a listed file");
        let checked = catch_unwind(AssertUnwindSafe(|| check(&case, &datagram)));
        match checked {
            Ok(Ok(())) => {}
            Ok(Err(why)) => failures.push(format!("{} ({}): {why}", case.file, case.reason)),
            Err(_) => failures.push(format!("{}: PANICKED", case.file)),
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn no_prefix_of_any_message_panics() {
    for file in files_on_disk() {
        let datagram = std::fs::read(dir().join(&file)).expect("a file");
        for end in 0..=datagram.len() {
            let prefix = datagram.get(..end).unwrap_or_default();
            let survived = catch_unwind(|| {
                if let Err(kind) = message::parse(prefix) {
                    let _ = message::refusal(prefix, kind.status());
                }
            });
            assert!(survived.is_ok(), "{file} cut at {end} panics");
        }
    }
}

/// Checks one datagram against its row.
fn check(case: &Case, datagram: &[u8]) -> Result<(), String> {
    let parsed = message::parse(datagram);
    if let Some(today) = &case.today {
        return match parsed {
            Err(kind) if kind.code() == today => Ok(()),
            Err(kind) => Err(format!(
                "known gap: refused with {kind}, the row says {today}"
            )),
            Ok(_) => Err("known gap closed: it parses now; set today to -".to_owned()),
        };
    }
    let kind = match (case.outcome, parsed) {
        (Outcome::Ok, Ok(message)) => return check_parsed(&message),
        (Outcome::Ok, Err(kind)) => return Err(format!("refused with {kind}, wanted ok")),
        (_, Ok(_)) => return Err(format!("parsed, wanted {:?}", case.outcome)),
        (_, Err(kind)) => kind,
    };
    if Some(kind.code()) != case.kind.as_deref() {
        return Err(format!("refused with {kind}, wanted {:?}", case.kind));
    }
    let answer = message::refusal(datagram, kind.status());
    match (case.outcome, answer) {
        (Outcome::Drop, None) => Ok(()),
        (Outcome::Drop, Some(answer)) => Err(format!(
            "answered, wanted drop: {}",
            String::from_utf8_lossy(&answer)
        )),
        (Outcome::Answered(status), _) if status != kind.status() => {
            Err(format!("{kind} answers {}, wanted {status}", kind.status()))
        }
        (Outcome::Answered(_), None) => Err("no answer built".to_owned()),
        (Outcome::Answered(status), Some(answer)) => check_answer(datagram, kind, status, &answer),
        (Outcome::Ok, _) => unreachable!("handled above"),
    }
}

/// A message that parsed can be summarized, and a request can be answered with a response
/// that parses again and keeps its Call-ID.
fn check_parsed(message: &SipMessage) -> Result<(), String> {
    let summary = message::summarize(message).ok_or("parsed but no summary")?;
    let SipMessage::Request(request) = message else {
        return Ok(());
    };
    let response = message::response_to(request, 200).to_string();
    let reparsed = message::parse(response.as_bytes())
        .map_err(|kind| format!("our 200 does not parse ({kind}): {response}"))?;
    let again = message::summarize(&reparsed).ok_or("our 200 has no summary")?;
    if again.call_id != summary.call_id || again.cseq != summary.cseq {
        return Err(format!("our 200 lost the Call-ID or CSeq: {response}"));
    }
    Ok(())
}

/// The refusal has the status, carries the request's Call-ID and CSeq as sent, and parses
/// as a response with that status, except where it must not: see [`refused_again`].
fn check_answer(
    datagram: &[u8],
    kind: MessageErrorKind,
    status: u16,
    answer: &[u8],
) -> Result<(), String> {
    let text = String::from_utf8_lossy(answer);
    if !text.starts_with(&format!("SIP/2.0 {status} ")) {
        return Err(format!("the answer's status line is wrong: {text}"));
    }
    for names in [&["call-id", "i"][..], &["cseq"]] {
        let sent = raw_header(datagram, names).map(|v| squeeze(&v));
        let answered = raw_header(answer, names).map(|v| squeeze(&v));
        if sent.is_some() && sent != answered {
            return Err(format!("{} {sent:?} not kept: {text}", names[0]));
        }
    }
    match message::parse(answer) {
        Ok(SipMessage::Response(response)) if response.status_code.code() == status => Ok(()),
        Ok(_) => Err(format!("the answer parses to something else: {text}")),
        Err(again) if refused_again(kind, again) => Ok(()),
        Err(again) => Err(format!("the answer does not parse ({again}): {text}")),
    }
}

/// Whether a refusal of a request refused with `kind` may itself be refused with `again`.
/// It copies Via, From, To and CSeq as sent (RFC 3261 §8.2.6.2), so it is as broken as
/// the request's were; and the CSeq of a 501 names the request's extension method, which
/// `rsip` (whose methods are an enum) cannot type.
fn refused_again(kind: MessageErrorKind, again: MessageErrorKind) -> bool {
    use MessageErrorKind as K;
    (again == kind && copies_unreadable_header(kind))
        || (kind == K::UnknownMethod && again == K::BadCSeq)
}

/// Kinds whose refusal copies the offending header as sent (RFC 3261 §8.2.6.2 copies Via,
/// From, To, Call-ID and CSeq), so the answer is as broken as the request was.
fn copies_unreadable_header(kind: MessageErrorKind) -> bool {
    use MessageErrorKind as K;
    matches!(kind, K::BadVia | K::BadFrom | K::BadTo | K::BadCSeq)
}

/// The first value of a header in the raw head, by any of `names` (case-insensitive), with
/// folded lines joined: read here without the parser under test.
fn raw_header(datagram: &[u8], names: &[&str]) -> Option<String> {
    let text = String::from_utf8_lossy(datagram);
    let mut logical: Vec<String> = Vec::new();
    for line in text.split('\n').map(|l| l.trim_end_matches('\r')).skip(1) {
        if line.is_empty() {
            break;
        }
        match logical.last_mut() {
            Some(last) if line.starts_with([' ', '\t']) => {
                last.push(' ');
                last.push_str(line.trim());
            }
            _ => logical.push(line.to_owned()),
        }
    }
    logical.iter().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        let name = name.trim();
        names
            .iter()
            .any(|n| n.eq_ignore_ascii_case(name))
            .then(|| value.trim().to_owned())
    })
}

/// `value` with every run of whitespace made one space.
fn squeeze(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}
