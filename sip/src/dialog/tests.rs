//! Dialogs made from RFC 3665-style flows, and the requests they build.

use rsip::prelude::{HeadersExt as _, UntypedHeader as _};
use rsip::{Method, Request, Response, SipMessage};

use super::*;
use crate::message::parse;

fn lines(lines: &[&str]) -> Vec<u8> {
    let mut out = lines.join("\r\n");
    out.push_str("\r\n\r\n");
    out.into_bytes()
}

fn request(text: &[&str]) -> Request {
    match parse(&lines(text)).expect("parses") {
        SipMessage::Request(r) => r,
        SipMessage::Response(_) => panic!("a request"),
    }
}

fn response(text: &[&str]) -> Response {
    match parse(&lines(text)).expect("parses") {
        SipMessage::Response(r) => r,
        SipMessage::Request(_) => panic!("a response"),
    }
}

const INVITE: &[&str] = &[
    "INVITE sip:agent@voxgate.test SIP/2.0",
    "Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1",
    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa1",
    "Record-Route: <sip:p2.example.com;lr>, <sip:p1.example.com;lr>",
    "Max-Forwards: 69",
    "To: \"Agent\" <sip:agent@voxgate.test>",
    "From: \"Alice\" <sip:alice@example.com>;tag=alice1",
    "Call-ID: call-1",
    "CSeq: 10 INVITE",
    "Contact: <sip:alice@192.0.2.1:5060>",
];

fn via() -> ViaSpec {
    ViaSpec {
        sent_by: "203.0.113.5:5060".to_owned(),
        branch: "z9hG4bKvg1".to_owned(),
    }
}

#[test]
fn a_uas_dialog_routes_in_order_and_counts_from_its_own_cseq() {
    let invite = request(INVITE);
    let mut dialog = Dialog::uas(&invite, "vg1", "<sip:agent@203.0.113.5:5060>").expect("dialog");
    assert_eq!(dialog.state(), DialogState::Early);
    assert_eq!(
        dialog.id(),
        &DialogId {
            call_id: "call-1".into(),
            local_tag: "vg1".into(),
            remote_tag: "alice1".into()
        }
    );
    assert_eq!(
        dialog.route_set(),
        ["<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>"]
    );
    dialog.confirm();
    let bye = dialog.request(Method::Bye, &via());
    let text = bye.to_string();
    assert!(
        text.starts_with("BYE sip:alice@192.0.2.1:5060 SIP/2.0\r\n"),
        "{text}"
    );
    let reparsed = parse(text.as_bytes()).expect("our BYE parses");
    let summary = summarize(&reparsed).expect("summary");
    assert_eq!(summary.cseq, 1);
    assert_eq!(summary.from_tag.as_deref(), Some("vg1"));
    assert_eq!(summary.to_tag.as_deref(), Some("alice1"));
    assert_eq!(summary.branch.as_deref(), Some("z9hG4bKvg1"));
    let routes: Vec<String> = bye
        .headers
        .iter()
        .filter_map(|h| match h {
            rsip::Header::Route(r) => Some(r.value().to_owned()),
            _ => None,
        })
        .collect();
    assert_eq!(
        routes,
        ["<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>"]
    );
    assert!(
        text.contains("From: \"Agent\" <sip:agent@voxgate.test>;tag=vg1"),
        "{text}"
    );
    assert!(
        text.contains("To: \"Alice\" <sip:alice@example.com>;tag=alice1"),
        "{text}"
    );
    assert_eq!(
        dialog
            .request(Method::Info, &via())
            .cseq_header()
            .expect("cseq")
            .value(),
        "2 INFO"
    );
}

#[test]
fn peer_requests_must_climb_in_cseq_and_re_invites_move_the_target() {
    let mut dialog = Dialog::uas(&request(INVITE), "vg1", "<sip:agent@h>").expect("dialog");
    let in_dialog = |cseq: &str, method: &str, contact: &str| {
        let start = format!("{method} sip:agent@203.0.113.5 SIP/2.0");
        let cseq = format!("CSeq: {cseq} {method}");
        let mut text = vec![
            start.as_str(),
            "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKx",
            "To: <sip:agent@voxgate.test>;tag=vg1",
            "From: <sip:alice@example.com>;tag=alice1",
            "Call-ID: call-1",
            cseq.as_str(),
        ];
        if !contact.is_empty() {
            text.push(contact);
        }
        request(&text)
    };
    assert_eq!(dialog.handle_request(&in_dialog("10", "ACK", "")), Ok(()));
    assert_eq!(
        dialog.handle_request(&in_dialog("10", "INFO", "")),
        Err(DialogErrorKind::CSeqOutOfOrder)
    );
    assert_eq!(DialogErrorKind::CSeqOutOfOrder.status(), 500);
    let reinvite = in_dialog("11", "INVITE", "Contact: <sip:alice@198.51.100.7:5070>");
    assert_eq!(dialog.handle_request(&reinvite), Ok(()));
    assert_eq!(
        dialog.remote_target().to_string(),
        "sip:alice@198.51.100.7:5070"
    );
    let mut other = in_dialog("12", "BYE", "");
    other
        .headers
        .retain(|h| !matches!(h, rsip::Header::CallId(_)));
    other
        .headers
        .push(rsip::headers::CallId::new("call-2").into());
    assert_eq!(
        dialog.handle_request(&other),
        Err(DialogErrorKind::NotThisDialog)
    );
}

#[test]
fn a_uac_dialog_reverses_the_route_set_and_acks_with_the_invite_cseq() {
    let invite = request(&[
        "INVITE sip:bob@pbx.example.com SIP/2.0",
        "Via: SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bKout1",
        "To: <sip:bob@pbx.example.com>",
        "From: <sip:agent@voxgate.test>;tag=vg9",
        "Call-ID: out-1",
        "CSeq: 7 INVITE",
        "Contact: <sip:agent@203.0.113.5:5060>",
    ]);
    let ok = response(&[
        "SIP/2.0 200 OK",
        "Via: SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bKout1",
        "Record-Route: <sip:p1.example.com;lr>",
        "Record-Route: <sip:p2.example.com;lr>",
        "To: <sip:bob@pbx.example.com>;tag=bob5",
        "From: <sip:agent@voxgate.test>;tag=vg9",
        "Call-ID: out-1",
        "CSeq: 7 INVITE",
        "Contact: <sip:bob@192.0.2.50:5062>",
    ]);
    let mut dialog = Dialog::uac(&invite, &ok, "<sip:agent@203.0.113.5:5060>").expect("dialog");
    assert_eq!(dialog.state(), DialogState::Confirmed);
    assert_eq!(
        dialog.route_set(),
        ["<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>"]
    );
    let ack = dialog.ack(7, &via());
    assert_eq!(ack.cseq_header().expect("cseq").value(), "7 ACK");
    assert_eq!(ack.uri.to_string(), "sip:bob@192.0.2.50:5062");
    assert_eq!(
        dialog
            .request(Method::Bye, &via())
            .cseq_header()
            .expect("cseq")
            .value(),
        "8 BYE"
    );
    let summary = summarize(&SipMessage::Response(ok)).expect("summary");
    assert!(
        dialog.matches(&summary),
        "its own 2xx retransmission belongs to it"
    );
    dialog.terminate();
    assert_eq!(dialog.state(), DialogState::Terminated);
}

#[test]
fn dialogs_refuse_what_they_cannot_route() {
    let no_tag: Vec<&str> = INVITE
        .iter()
        .map(|l| {
            if l.starts_with("From") {
                "From: <sip:alice@example.com>"
            } else {
                l
            }
        })
        .collect();
    let strict: Vec<&str> = INVITE
        .iter()
        .map(|l| {
            if l.starts_with("Record-Route") {
                "Record-Route: <sip:strict.example.com>"
            } else {
                l
            }
        })
        .collect();
    let no_contact: Vec<&str> = INVITE
        .iter()
        .copied()
        .filter(|l| !l.starts_with("Contact"))
        .collect();
    for (text, kind) in [
        (no_tag, DialogErrorKind::MissingHeader),
        (strict, DialogErrorKind::StrictRoute),
        (no_contact, DialogErrorKind::MissingHeader),
    ] {
        assert_eq!(
            Dialog::uas(&request(&text), "vg1", "<sip:a@h>").err(),
            Some(kind)
        );
    }
}

#[test]
fn tags_are_stripped_from_header_parameters_only() {
    for (value, want) in [
        ("<sip:a@h>;tag=1", "<sip:a@h>"),
        (
            "\"A\" <sip:a@h;tag=inside>;x=1;tag=2",
            "\"A\" <sip:a@h;tag=inside>;x=1",
        ),
        ("<sip:a@h>;TAG=3;y", "<sip:a@h>;y"),
        ("sip:a@h", "sip:a@h"),
    ] {
        assert_eq!(strip_tag(value), want, "{value}");
    }
}
