//! Torture tables in the manner of RFC 4475: messages that are valid but unusual must
//! parse to the right values; broken ones must be refused with the right kind and status,
//! and answered where a response is possible.

use rsip::SipMessage;

use super::*;

/// Lines joined with CRLF, then the empty line, then `body`.
fn msg(lines: &[&str], body: &str) -> Vec<u8> {
    let mut out = lines.join("\r\n");
    out.push_str("\r\n\r\n");
    out.push_str(body);
    out.into_bytes()
}

const INVITE: &[&str] = &[
    "INVITE sip:agent@voxgate.test SIP/2.0",
    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds",
    "Max-Forwards: 70",
    "To: <sip:agent@voxgate.test>",
    "From: \"Alice\" <sip:alice@example.com>;tag=1928301774",
    "Call-ID: a84b4c76e66710@pc33.example.com",
    "CSeq: 314159 INVITE",
    "Contact: <sip:alice@192.0.2.1>",
];

fn with(lines: &[&str], replace: &str, by: &str) -> Vec<String> {
    lines
        .iter()
        .map(|l| {
            if l.starts_with(replace) {
                by.to_owned()
            } else {
                (*l).to_owned()
            }
        })
        .filter(|l| !l.is_empty())
        .collect()
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn valid_but_unusual_messages_parse() {
    let folded = [
        "INVITE sip:agent@voxgate.test SIP/2.0",
        "v: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa, SIP/2.0/UDP proxy.example.com;branch=z9hG4bKb",
        "t: <sip:agent@voxgate.test>",
        "f: Alice",
        "  <sip:alice@example.com>;tag=9",
        "i: folded-call",
        "CSeq: 1 INVITE",
        "X-Unknown-Header: ;;,,;;",
        "m: <sip:alice@192.0.2.1>",
        "l: 4",
    ];
    let bare_lf = "OPTIONS sip:agent@voxgate.test SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\n\
                   To: <sip:a@b>\nFrom: <sip:c@d>;tag=1\nCall-ID: lf\nCSeq: 2 OPTIONS\n\n";
    // RFC 3261 §7.1: the SIP-Version is case-insensitive; §25.1: SWS around SLASH and SEMI.
    let lower_version = [
        "OPTIONS sip:agent@voxgate.test sip/2.0",
        "Via: sip / 2.0 / udp 192.0.2.1 ; branch = z9hG4bKlv",
        "To: <sip:agent@voxgate.test>",
        "From: \"Alice\"   <sip:alice@example.com> ; tag = 7",
        "Call-ID: lower-version",
        "CSeq: 3\tOPTIONS",
        "Max-Forwards: 255",
    ];
    let table: Vec<(Vec<u8>, &str, u32, &str)> = vec![
        (
            msg(INVITE, ""),
            "a84b4c76e66710@pc33.example.com",
            314_159,
            "INVITE",
        ),
        (
            msg(&folded, "v=0\r\nextra ignored"),
            "folded-call",
            1,
            "INVITE",
        ),
        (bare_lf.as_bytes().to_vec(), "lf", 2, "OPTIONS"),
        (msg(&lower_version, ""), "lower-version", 3, "OPTIONS"),
        (
            msg(&strs(&with(INVITE, "Max-Forwards", "")), ""),
            "a84b4c76e66710@pc33.example.com",
            314_159,
            "INVITE",
        ),
        (
            msg(
                &strs(&with(
                    INVITE,
                    "Via",
                    "VIA: SIP/2.0/UDP 192.0.2.1:5060 ; branch=z9hG4bK776asdhds",
                )),
                "",
            ),
            "a84b4c76e66710@pc33.example.com",
            314_159,
            "INVITE",
        ),
    ];
    for (datagram, call_id, cseq, method) in table {
        let parsed = parse(&datagram)
            .unwrap_or_else(|e| panic!("{e:?}: {}", String::from_utf8_lossy(&datagram)));
        let summary = summarize(&parsed).expect("summary");
        assert_eq!(summary.call_id, call_id);
        assert_eq!(summary.cseq, cseq);
        assert_eq!(summary.method.to_string(), method);
    }
}

#[test]
fn folded_and_compact_headers_keep_their_values() {
    let lines = [
        "INVITE sip:agent@voxgate.test SIP/2.0",
        "v: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa, SIP/2.0/UDP proxy;branch=z9hG4bKb",
        "t: <sip:agent@voxgate.test>",
        "f: Alice",
        "  <sip:alice@example.com>;tag=9",
        "i: c",
        "CSeq: 1 INVITE",
        "l: 4",
    ];
    let SipMessage::Request(request) = parse(&msg(&lines, "abcdEXTRA")).expect("parses") else {
        panic!("a request");
    };
    assert_eq!(request.body, b"abcd", "the body is cut to Content-Length");
    let summary = summarize(&SipMessage::Request(request.clone())).expect("summary");
    assert_eq!(summary.branch.as_deref(), Some("z9hG4bKa"), "the top Via");
    assert_eq!(summary.from_tag.as_deref(), Some("9"));
    let vias = request
        .headers
        .iter()
        .filter(|h| matches!(h, rsip::Header::Via(_)))
        .count();
    assert_eq!(vias, 2, "a comma list becomes one header each");
}

#[test]
fn broken_messages_are_refused_with_kind_and_status() {
    use MessageErrorKind as K;
    let huge = vec![b'a'; MAX_DATAGRAM + 1];
    let cases: Vec<(Vec<u8>, K, u16)> = vec![
        (huge, K::TooLarge, 513),
        (
            b"INVITE sip:a SIP/2.0\r\nVia: x".to_vec(),
            K::NoHeaderEnd,
            400,
        ),
        (
            msg(
                &strs(&with(
                    INVITE,
                    "INVITE",
                    "INVITE sip:agent@voxgate.test SIP/7.0",
                )),
                "",
            ),
            K::VersionNotSupported,
            505,
        ),
        (
            msg(
                &strs(&with(
                    INVITE,
                    "INVITE",
                    "NEWMETHOD sip:agent@voxgate.test SIP/2.0",
                )),
                "",
            ),
            K::UnknownMethod,
            501,
        ),
        (
            msg(
                &strs(&with(
                    INVITE,
                    "INVITE",
                    "invite sip:agent@voxgate.test SIP/2.0",
                )),
                "",
            ),
            K::UnknownMethod,
            501,
        ),
        (
            msg(
                &strs(&with(INVITE, "INVITE", "INVITE isbn:2983792873 SIP/2.0")),
                "",
            ),
            K::UnsupportedUriScheme,
            416,
        ),
        (
            msg(
                &strs(&with(
                    INVITE,
                    "INVITE",
                    "INVITE  sip:agent@voxgate.test SIP/2.0",
                )),
                "",
            ),
            K::BadStartLine,
            400,
        ),
        (
            msg(
                &strs(&with(
                    INVITE,
                    "INVITE",
                    "INVITE sip:agent@voxgate.test SIP/2.0 extra",
                )),
                "",
            ),
            K::BadStartLine,
            400,
        ),
        (msg(&strs(&with(INVITE, "Via", "")), ""), K::MissingVia, 400),
        (
            msg(&strs(&with(INVITE, "From", "")), ""),
            K::MissingFrom,
            400,
        ),
        (msg(&strs(&with(INVITE, "To", "")), ""), K::MissingTo, 400),
        (
            msg(&strs(&with(INVITE, "Call-ID", "")), ""),
            K::MissingCallId,
            400,
        ),
        (
            msg(&strs(&with(INVITE, "CSeq", "")), ""),
            K::MissingCSeq,
            400,
        ),
        (
            msg(&strs(&with(INVITE, "CSeq", "CSeq: 1 BYE")), ""),
            K::CSeqMethodMismatch,
            400,
        ),
        (
            msg(&strs(&with(INVITE, "CSeq", "CSeq: 2147483648 INVITE")), ""),
            K::BadCSeq,
            400,
        ),
        (
            msg(&strs(&with(INVITE, "CSeq", "CSeq: -1 INVITE")), ""),
            K::BadCSeq,
            400,
        ),
        (
            msg(
                &strs(&with(INVITE, "Max-Forwards", "Max-Forwards: seventy")),
                "",
            ),
            K::BadMaxForwards,
            400,
        ),
        (
            msg(
                &strs(&with(INVITE, "Contact", "Content-Length: 9999")),
                "v=0",
            ),
            K::BodyTruncated,
            400,
        ),
        (
            msg(&strs(&with(INVITE, "Contact", "Content-Length: four")), ""),
            K::BadContentLength,
            400,
        ),
        (
            msg(&strs(&with(INVITE, "Contact", "Bad Header: x")), ""),
            K::BadHeaderName,
            400,
        ),
        (
            msg(&strs(&with(INVITE, "Contact", "no colon")), ""),
            K::BadHeaderLine,
            400,
        ),
        (b"\xff\xfe INVITE\r\n\r\n".to_vec(), K::NotUtf8, 400),
        (
            msg(&strs(&with(INVITE, "Contact", "Content-Length: +0")), ""),
            K::BadContentLength,
            400,
        ),
        (
            msg(&strs(&with(INVITE, "CSeq", "CSeq: 314159 invite")), ""),
            K::CSeqMethodMismatch,
            400,
        ),
        (
            msg(&strs(&with(INVITE, "CSeq", "CSeq: +1 INVITE")), ""),
            K::BadCSeq,
            400,
        ),
        (
            msg(
                &strs(&with(INVITE, "Max-Forwards", "Max-Forwards: 256")),
                "",
            ),
            K::BadMaxForwards,
            400,
        ),
        (
            msg(
                &strs(&with(INVITE, "Max-Forwards", "Max-Forwards: +70")),
                "",
            ),
            K::BadMaxForwards,
            400,
        ),
        (
            msg(&strs(&with(INVITE, "Contact", "Call-ID: another")), ""),
            K::RepeatedHeader,
            400,
        ),
        (
            msg(
                &strs(&with(INVITE, "Contact", "f: <sip:eve@example.com>")),
                "",
            ),
            K::RepeatedHeader,
            400,
        ),
        (
            msg(
                &strs(&with(
                    INVITE,
                    "From",
                    "From: \"Alice <sip:a@example.com>;tag=1",
                )),
                "",
            ),
            K::BadFrom,
            400,
        ),
        (
            msg(&strs(&with(INVITE, "Contact", "Subject: a\u{0}b")), ""),
            K::BadHeaderLine,
            400,
        ),
        (
            msg(
                &strs(&with(INVITE, "INVITE", "INVITE tel:+46701234567 SIP/2.0")),
                "",
            ),
            K::UnsupportedUriScheme,
            416,
        ),
        (
            b"GET / HTTP/1.1\r\nHost: voxgate.test\r\n\r\n".to_vec(),
            K::BadStartLine,
            400,
        ),
        (
            b"SIP/2.0 999999 Way Too Big\r\n\r\n".to_vec(),
            K::BadStartLine,
            400,
        ),
    ];
    for (datagram, kind, status) in cases {
        let got = parse(&datagram).err();
        assert_eq!(
            got,
            Some(kind),
            "{}",
            String::from_utf8_lossy(datagram.get(..200.min(datagram.len())).unwrap_or_default())
        );
        assert_eq!(kind.status(), status);
        assert!(kind.code().starts_with("SIP_MESSAGE_"));
    }
}

#[test]
fn refusals_copy_the_identifying_headers_and_skip_what_cannot_be_answered() {
    let broken = msg(&strs(&with(INVITE, "CSeq", "CSeq: 1 BYE")), "");
    let answer = refusal(&broken, 400).expect("answerable");
    let text = String::from_utf8(answer.clone()).expect("utf-8");
    assert!(text.starts_with("SIP/2.0 400 Bad Request\r\n"), "{text}");
    for line in [
        "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds",
        "From: \"Alice\" <sip:alice@example.com>;tag=1928301774",
        "Call-ID: a84b4c76e66710@pc33.example.com",
        "CSeq: 1 BYE",
    ] {
        assert!(text.contains(line), "{line} in {text}");
    }
    assert!(parse(&answer).is_ok(), "the refusal itself parses: {text}");
    // Lines that do not lex are passed over; a repeated Call-ID is copied once.
    for (replace, by) in [
        ("Contact", "no colon here"),
        ("Contact", "Subject: a\u{0}b"),
        ("Contact", "Call-ID: another"),
    ] {
        let broken = msg(&strs(&with(INVITE, replace, by)), "");
        let answer = refusal(&broken, 400).unwrap_or_else(|| panic!("answerable: {by}"));
        let SipMessage::Response(response) = parse(&answer).expect("the refusal parses") else {
            panic!("a response");
        };
        let summary = summarize(&SipMessage::Response(response)).expect("summary");
        assert_eq!(summary.call_id, "a84b4c76e66710@pc33.example.com", "{by}");
    }
    assert_eq!(refusal(b"sip/2.0 200 OK\r\nVia: x\r\n\r\n", 400), None);
    assert_eq!(
        refusal(&msg(&strs(&with(INVITE, "Call-ID", "Call-ID:")), ""), 400),
        None,
        "an empty Call-ID identifies nothing"
    );
    // A response, or a head without Call-ID, gets nothing.
    assert_eq!(refusal(b"SIP/2.0 200 OK\r\nVia: x\r\n\r\n", 400), None);
    assert_eq!(
        refusal(&msg(&strs(&with(INVITE, "Call-ID", "")), ""), 400),
        None
    );
}

#[test]
fn responses_copy_the_request_and_take_a_tag() {
    let SipMessage::Request(request) = parse(&msg(INVITE, "")).expect("parses") else {
        panic!("a request");
    };
    let response = with_to_tag(response_to(&request, 486), "vg1");
    let text = response.to_string();
    assert!(text.starts_with("SIP/2.0 486 Busy Here\r\n"), "{text}");
    let reparsed = parse(text.as_bytes()).expect("our response parses");
    let summary = summarize(&reparsed).expect("summary");
    assert_eq!(summary.status, Some(486));
    assert_eq!(summary.to_tag.as_deref(), Some("vg1"));
    assert_eq!(summary.method, rsip::Method::Invite);
    assert_eq!(summary.branch.as_deref(), Some("z9hG4bK776asdhds"));
    // A second tag is never added.
    let again = with_to_tag(response, "other");
    assert_eq!(
        summarize(&SipMessage::Response(again))
            .expect("summary")
            .to_tag
            .as_deref(),
        Some("vg1")
    );
}

#[test]
fn keepalives_are_told_apart() {
    for (datagram, want) in [
        (&b"\r\n\r\n"[..], true),
        (b"\r\n", true),
        (b"", false),
        (b"\r\nX", false),
    ] {
        assert_eq!(is_keepalive(datagram), want, "{datagram:?}");
    }
}

proptest::proptest! {
    #[test]
    fn parse_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
        let _ = parse(&bytes);
        let _ = refusal(&bytes, 400);
    }

    #[test]
    fn mutated_invites_never_panic(cut in 0usize..400, byte in proptest::num::u8::ANY, at in 0usize..400) {
        let mut datagram = msg(INVITE, "v=0\r\n");
        if let Some(b) = datagram.get_mut(at) { *b = byte; }
        datagram.truncate(cut.max(1));
        let _ = parse(&datagram);
        let _ = refusal(&datagram, 400);
    }
}
