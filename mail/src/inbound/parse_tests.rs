//! Hand-written messages, each shaped like what real clients and servers send.

use super::*;
use crate::inbound::BouncedRecipient;

const PLAIN: &str = "From: Alice Example <alice@example.test>\r
To: bob@voxgate.test, Carol <carol@voxgate.test>\r
Cc: dave@voxgate.test\r
Subject: =?UTF-8?Q?Hej_d=C3=A4r?=\r
Date: Tue, 24 Nov 2026 00:52:15 +0000\r
Message-ID: <abc123@example.test>\r
In-Reply-To: <prev@voxgate.test>\r
References: <first@voxgate.test>\r
 <prev@voxgate.test>\r
Content-Type: text/plain; charset=utf-8\r
\r
Hello Bob.\r
";

const ALTERNATIVE: &str = "From: alice@example.test\r
To: bob@voxgate.test\r
Subject: Both\r
MIME-Version: 1.0\r
Content-Type: multipart/alternative; boundary=\"b1\"\r
\r
--b1\r
Content-Type: text/plain; charset=utf-8\r
\r
Plain words\r
--b1\r
Content-Type: text/html; charset=utf-8\r
\r
<p>Rich <b>words</b></p>\r
--b1--\r
";

const HTML_ONLY: &str = "From: news@example.test\r
Subject: Only HTML\r
Content-Type: text/html; charset=utf-8\r
\r
<html><body><p>Hello <b>there</b></p></body></html>\r
";

const ATTACHMENTS: &str = "From: alice@example.test\r
To: bob@voxgate.test\r
Subject: Files\r
MIME-Version: 1.0\r
Content-Type: multipart/mixed; boundary=\"mix\"\r
\r
--mix\r
Content-Type: text/plain; charset=utf-8\r
\r
See attached.\r
--mix\r
Content-Type: application/pdf; name=\"report.pdf\"\r
Content-Disposition: attachment; filename=\"report.pdf\"\r
Content-Transfer-Encoding: base64\r
\r
JVBERi0xLjQgaGVsbG8gYXR0YWNobWVudA==\r
--mix\r
Content-Type: text/csv; charset=utf-8\r
Content-Disposition: attachment; filename=\"numbers.csv\"\r
\r
a,b\r
1,2\r
--mix--\r
";

/// Shaped like Postfix's bounce: explanation, delivery-status, returned headers.
const POSTFIX_DSN: &str = "Return-Path: <>\r
From: MAILER-DAEMON@mx.example.test (Mail Delivery System)\r
Subject: Undelivered Mail Returned to Sender\r
To: agent@voxgate.test\r
Auto-Submitted: auto-replied\r
MIME-Version: 1.0\r
Content-Type: multipart/report; report-type=delivery-status;\r
\tboundary=\"7A1B2C3D.1732409535/mx.example.test\"\r
Message-Id: <20261124005215.7A1B2C3D@mx.example.test>\r
\r
This is a MIME-encapsulated message.\r
\r
--7A1B2C3D.1732409535/mx.example.test\r
Content-Description: Notification\r
Content-Type: text/plain; charset=us-ascii\r
\r
This is the mail system at host mx.example.test.\r
\r
I'm sorry to have to inform you that your message could not\r
be delivered to one or more recipients.\r
\r
<nobody@example.test>: host mx.example.test[192.0.2.1] said: 550 5.1.1\r
    <nobody@example.test>: Recipient address rejected: User unknown\r
\r
--7A1B2C3D.1732409535/mx.example.test\r
Content-Description: Delivery report\r
Content-Type: message/delivery-status\r
\r
Reporting-MTA: dns; mx.example.test\r
X-Postfix-Queue-ID: 7A1B2C3D\r
X-Postfix-Sender: rfc822; agent@voxgate.test\r
Arrival-Date: Tue, 24 Nov 2026 00:52:14 +0000 (UTC)\r
\r
Final-Recipient: rfc822; nobody@example.test\r
Original-Recipient: rfc822;nobody@example.test\r
Action: failed\r
Status: 5.1.1\r
Remote-MTA: dns; mx.example.test\r
Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.test>: Recipient address\r
    rejected: User unknown\r
\r
Final-Recipient: rfc822; later@example.test\r
Action: delayed\r
Status: 4.4.1\r
\r
--7A1B2C3D.1732409535/mx.example.test\r
Content-Description: Undelivered Message Headers\r
Content-Type: text/rfc822-headers\r
\r
From: agent@voxgate.test\r
To: nobody@example.test\r
Subject: Your booking\r
Message-ID: <booking-42@voxgate.test>\r
\r
--7A1B2C3D.1732409535/mx.example.test--\r
";

/// A DSN that returns the whole message as `message/rfc822`.
const DSN_FULL_RETURN: &str = "From: postmaster@example.test\r
To: agent@voxgate.test\r
Subject: Delivery Status Notification (Failure)\r
Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r
\r
--r\r
Content-Type: text/plain\r
\r
Failed.\r
--r\r
Content-Type: message/delivery-status\r
\r
Reporting-MTA: dns; example.test\r
\r
Final-Recipient: rfc822; gone@example.test\r
Action: failed\r
Status: 5.2.1\r
--r\r
Content-Type: message/rfc822\r
\r
From: agent@voxgate.test\r
To: gone@example.test\r
Subject: Hi\r
Message-ID: <hi-1@voxgate.test>\r
\r
Hello.\r
--r--\r
";

const BROKEN_MIME: &str = "From: broken@example.test\r
Subject: Broken\r
Content-Type: multipart/mixed; boundary=\"never-used\"\r
\r
--other\r
Content-Type: text/plain\r
\r
No part here starts with the declared boundary.\r
";

const BAD_PARTS: &str = "From: broken@example.test\r
Subject: Bad parts\r
Content-Type: multipart/mixed; boundary=\"x\"\r
\r
--x\r
Content-Type: text/plain; charset=x-no-such-charset\r
\r
Words in a charset nobody knows.\r
--x\r
Content-Type: application/octet-stream; name=\"a.bin\"\r
Content-Transfer-Encoding: base64\r
\r
!!!! this is not base64 @@@@\r
--x--\r
";

fn parse_ok(raw: &[u8]) -> Inbound {
    parse(raw, &Limits::default()).expect("readable")
}

#[test]
fn plain_mail() {
    let got = parse_ok(PLAIN.as_bytes());
    let expected = Inbound {
        message_id: Some("abc123@example.test".into()),
        in_reply_to: Some("prev@voxgate.test".into()),
        references: vec!["first@voxgate.test".into(), "prev@voxgate.test".into()],
        from: Some("alice@example.test".into()),
        from_name: Some("Alice Example".into()),
        to: vec!["bob@voxgate.test".into(), "carol@voxgate.test".into()],
        cc: vec!["dave@voxgate.test".into()],
        subject: "Hej där".into(),
        date_ms: Some(1_795_481_535_000),
        text: Some("Hello Bob.\r\n".into()),
        ..Inbound::default()
    };
    assert_eq!(got, expected);
}

#[test]
fn bodies() {
    let cases: &[(&str, Option<&str>, Option<&str>)] = &[
        (
            ALTERNATIVE,
            Some("Plain words"),
            Some("<p>Rich <b>words</b></p>"),
        ),
        (
            HTML_ONLY,
            Some("Hello there"),
            Some("<html><body><p>Hello <b>there</b></p></body></html>"),
        ),
        (PLAIN, Some("Hello Bob."), None),
    ];
    for (raw, text, html) in cases {
        let got = parse_ok(raw.as_bytes());
        assert_eq!(got.text.as_deref().map(str::trim), *text, "{raw}");
        assert_eq!(got.html.as_deref().map(str::trim), *html, "{raw}");
        assert!(got.problems.is_empty(), "{:?}", got.problems);
    }
}

#[test]
fn attachments_are_listed_and_fetched() {
    let raw = ATTACHMENTS.as_bytes();
    let got = parse_ok(raw);
    let pdf = AttachmentInfo {
        index: 0,
        filename: Some("report.pdf".into()),
        content_type: "application/pdf".into(),
        size: 25,
    };
    assert_eq!(got.attachments[0], pdf);
    assert_eq!(got.attachments[1].filename.as_deref(), Some("numbers.csv"));
    assert_eq!(got.attachments[1].content_type, "text/csv");
    assert_eq!(got.attachments.len(), 2);
    assert_eq!(got.text.as_deref().map(str::trim), Some("See attached."));

    let (info, bytes) = attachment(raw, 0).expect("readable").expect("attachment 0");
    assert_eq!(
        (info, bytes.as_slice()),
        (pdf, &b"%PDF-1.4 hello attachment"[..])
    );
    let (_, csv) = attachment(raw, 1).expect("readable").expect("attachment 1");
    assert!(csv.starts_with(b"a,b"));
    assert_eq!(attachment(raw, 2).expect("readable"), None);
    assert!(matches!(attachment(b"", 0), Err(MailError::Unreadable(_))));
}

#[test]
fn postfix_dsn() {
    let got = parse_ok(POSTFIX_DSN.as_bytes());
    let bounce = got.bounce.expect("a bounce");
    assert_eq!(
        bounce.original_message_id.as_deref(),
        Some("booking-42@voxgate.test")
    );
    assert_eq!(
        bounce.recipients,
        [
            BouncedRecipient {
                address: "nobody@example.test".into(),
                action: "failed".into(),
                status: "5.1.1".into(),
                permanent: true,
                diagnostic: Some(
                    "550 5.1.1 <nobody@example.test>: Recipient address rejected: User unknown"
                        .into()
                ),
                remote_mta: Some("mx.example.test".into()),
            },
            BouncedRecipient {
                address: "later@example.test".into(),
                action: "delayed".into(),
                status: "4.4.1".into(),
                permanent: false,
                diagnostic: None,
                remote_mta: None,
            },
        ]
    );
    assert!(got.auto_submitted);
    assert_eq!(
        got.message_id.as_deref(),
        Some("20261124005215.7A1B2C3D@mx.example.test")
    );
}

#[test]
fn dsn_with_the_whole_message_returned() {
    let got = parse_ok(DSN_FULL_RETURN.as_bytes());
    let bounce = got.bounce.expect("a bounce");
    assert_eq!(
        bounce.original_message_id.as_deref(),
        Some("hi-1@voxgate.test")
    );
    assert_eq!(bounce.recipients.len(), 1);
    assert!(bounce.recipients[0].permanent);
    assert!(
        got.auto_submitted,
        "a bounce is auto-submitted without the header"
    );
}

#[test]
fn not_bounces() {
    for raw in [PLAIN, ALTERNATIVE, ATTACHMENTS] {
        let got = parse_ok(raw.as_bytes());
        assert_eq!(got.bounce, None);
        assert!(!got.auto_submitted);
    }
}

#[test]
fn auto_submitted_header() {
    let cases = [
        ("auto-replied", true),
        ("auto-generated; owner-email=x@y", true),
        ("no", false),
        ("No ", false),
    ];
    for (value, expected) in cases {
        let raw = format!("From: a@b.test\r\nAuto-Submitted: {value}\r\n\r\nhi\r\n");
        assert_eq!(parse_ok(raw.as_bytes()).auto_submitted, expected, "{value}");
    }
}

#[test]
fn broken_but_readable_mail_has_problems() {
    let got = parse_ok(BROKEN_MIME.as_bytes());
    assert_eq!(got.subject, "Broken");
    assert!(!got.problems.is_empty(), "{got:?}");

    let got = parse_ok(BAD_PARTS.as_bytes());
    assert!(
        got.problems.iter().any(|p| p.contains("x-no-such-charset")),
        "{:?}",
        got.problems
    );
    assert!(
        got.problems
            .iter()
            .any(|p| p.contains("could not be decoded")),
        "{:?}",
        got.problems
    );

    let raw =
        "From: a@b.test\r\nSubject: no boundary\r\nContent-Type: multipart/mixed\r\n\r\nhello\r\n";
    let got = parse_ok(raw.as_bytes());
    assert!(
        got.problems
            .iter()
            .any(|p| p.contains("without a boundary")),
        "{:?}",
        got.problems
    );
}

#[test]
fn eight_bit_garbage_headers() {
    let mut raw = b"From: \xff\xfe <a@b.test>\r\nSubject: caf\xe9 \x80\x81\r\nX-Junk: \x00\x01\x02\r\n\r\nbody\r\n"
        .to_vec();
    raw.extend_from_slice(b"\xc3\x28 more\r\n");
    let got = parse_ok(&raw);
    assert_eq!(got.from.as_deref(), Some("a@b.test"));
    assert!(got.subject.starts_with("caf"));
    assert!(
        got.problems.iter().any(|p| p.contains("not UTF-8")),
        "{:?}",
        got.problems
    );
}

#[test]
fn unreadable() {
    let huge_header = format!(
        "From: a@b.test\r\nX-Big: {}\r\n\r\nbody\r\n",
        "x".repeat(300 * 1024)
    );
    let many_parts = {
        let mut raw =
            String::from("From: a@b.test\r\nContent-Type: multipart/mixed; boundary=p\r\n\r\n");
        for _ in 0..300 {
            raw.push_str("--p\r\nContent-Type: text/plain\r\n\r\nx\r\n");
        }
        raw + "--p--\r\n"
    };
    let small = Limits {
        max_bytes: 100,
        ..Limits::default()
    };
    let cases: &[(&[u8], &Limits, &str)] = &[
        (huge_header.as_bytes(), &Limits::default(), "header section"),
        (many_parts.as_bytes(), &Limits::default(), "MIME parts"),
        (PLAIN.as_bytes(), &small, "more than the limit"),
        (b"", &Limits::default(), ""),
        (b"hello world, this is not mail", &Limits::default(), ""),
        (b"\x00\x01\x02\xff\r\n\r\n\x00", &Limits::default(), ""),
        (
            b"X-Only: one header\r\n\r\nbody",
            &Limits::default(),
            "not a message",
        ),
    ];
    for (raw, limits, why) in cases {
        match parse(raw, limits) {
            Err(MailError::Unreadable(reason)) => assert!(reason.contains(why), "{reason}"),
            other => panic!(
                "{}: {other:?}",
                String::from_utf8_lossy(&raw[..raw.len().min(60)])
            ),
        }
    }
}

#[test]
fn header_length() {
    let cases: &[(&[u8], usize)] = &[
        (b"A: b\r\n\r\nbody", 6),
        (b"A: b\n\nbody", 5),
        (b"A: b\r\n", 6),
        (b"\r\nbody", 0),
    ];
    for (raw, len) in cases {
        assert_eq!(header_len(raw), *len, "{raw:?}");
    }
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(raw in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2000)) {
        let _ = parse(&raw, &Limits::default());
        let _ = attachment(&raw, 0);
    }
}
