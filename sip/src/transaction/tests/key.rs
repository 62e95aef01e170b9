//! Transaction keys (§17.1.3, §17.2.3) and the timer table.

use std::time::Duration;

use super::super::TransactionErrorKind::{
    self, BadCSeq, MissingBranch, MissingCSeq, MissingVia, NoMagicCookie,
};
use super::super::{Timers, TransactionKey};
use super::{BRANCH, SENT_BY, answer, invite, kind, request, request_from, response_on};

/// A request with only `via` as its Via field (empty: none).
fn with_via(via: &str) -> rsip::Request {
    let via = if via.is_empty() {
        String::new()
    } else {
        format!("Via: {via}\n")
    };
    request(&format!(
        "OPTIONS sip:bob@biloxi.example.com SIP/2.0
{via}From: <sip:alice@atlanta.example.com>;tag=1
To: <sip:bob@biloxi.example.com>
Call-ID: k@atlanta
CSeq: 7 OPTIONS
Content-Length: 0

"
    ))
}

/// What a top Via gives: `(branch, sent-by)`, or why there is no key.
type Expected = Result<(&'static str, &'static str), TransactionErrorKind>;

#[test]
fn server_keys_are_branch_sent_by_and_method() {
    // (top Via, expected)
    let table: [(&str, Expected); 7] = [
        (
            "SIP/2.0/UDP a.example.com:5060;branch=z9hG4bKx1",
            Ok(("z9hG4bKx1", "a.example.com:5060")),
        ),
        (
            "SIP/2.0/UDP A.Example.COM;branch=z9hG4bKx1",
            Ok(("z9hG4bKx1", "a.example.com")),
        ),
        (
            "SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bKfirst, SIP/2.0/UDP b;branch=z9hG4bKsecond",
            Ok(("z9hG4bKfirst", "192.0.2.1:5070")),
        ),
        (
            "SIP/2.0/UDP a.example.com;received=192.0.2.9",
            Err(MissingBranch),
        ),
        (
            "SIP/2.0/UDP a.example.com;branch=1234abcd",
            Err(NoMagicCookie),
        ),
        (
            "SIP/2.0/UDP a.example.com;branch=Z9HG4BKx1",
            Err(NoMagicCookie),
        ),
        ("", Err(MissingVia)),
    ];
    for (via, expected) in table {
        let got = TransactionKey::for_request(&with_via(via));
        match expected {
            Ok((branch, sent_by)) => {
                let key = got.expect("a key");
                assert_eq!(key.branch(), branch, "{via}");
                assert_eq!(key.sent_by(), Some(sent_by), "{via}");
                assert_eq!(key.method(), rsip::Method::Options, "{via}");
                assert!(key.is_server());
            }
            Err(error) => assert_eq!(kind(got), error, "{via}"),
        }
    }
}

#[test]
fn ack_keys_the_invite_and_cancel_its_own_transaction() {
    let invite = TransactionKey::for_request(&invite()).expect("key");
    let ack = TransactionKey::for_request(&request_from("ACK", BRANCH, SENT_BY)).expect("key");
    let cancel =
        TransactionKey::for_request(&request_from("CANCEL", BRANCH, SENT_BY)).expect("key");
    assert_eq!(
        ack, invite,
        "an ACK to a non-2xx matches the INVITE (§17.2.3)"
    );
    assert_ne!(cancel, invite, "a CANCEL is its own transaction (§9.2)");
    assert_eq!(cancel.method(), rsip::Method::Cancel);
    assert_eq!(cancel.with_method(rsip::Method::Invite), invite);
}

#[test]
fn keys_differ_in_branch_sent_by_or_method() {
    let base = TransactionKey::for_request(&invite()).expect("key");
    let others = [
        request_from("INVITE", "z9hG4bK74bfa", SENT_BY),
        request_from("INVITE", BRANCH, "client.atlanta.example.com:5061"),
        request_from("INVITE", BRANCH, "client.atlanta.example.com"),
        request_from("INVITE", "z9hG4bK74BF9", SENT_BY),
        request_from("BYE", BRANCH, SENT_BY),
    ];
    for other in &others {
        let key = TransactionKey::for_request(other).expect("key");
        assert_ne!(key, base, "{key:?}");
    }
    let same_host_other_case = request_from("INVITE", BRANCH, "CLIENT.atlanta.example.com:5060");
    assert_eq!(
        TransactionKey::for_request(&same_host_other_case).expect("key"),
        base
    );
}

#[test]
fn client_keys_are_branch_and_cseq_method() {
    let sent = TransactionKey::for_outgoing(&invite()).expect("key");
    assert!(!sent.is_server());
    assert_eq!(sent.sent_by(), None);
    assert_eq!(
        TransactionKey::for_response(&answer("180 Ringing")).expect("key"),
        sent
    );
    let to_cancel = response_on("200 OK", "CANCEL", BRANCH, "x");
    let cancel = TransactionKey::for_response(&to_cancel).expect("key");
    assert_ne!(
        cancel, sent,
        "a 200 to the CANCEL does not reach the INVITE"
    );
    assert_eq!(cancel, sent.with_method(rsip::Method::Cancel));
    let server = TransactionKey::for_request(&invite()).expect("key");
    assert_ne!(server, sent, "client and server keys never collide");
}

#[test]
fn responses_without_a_usable_cseq_or_branch_are_refused() {
    let mut no_cseq = answer("200 OK");
    no_cseq
        .headers
        .retain(|h| !matches!(h, rsip::Header::CSeq(_)));
    assert_eq!(kind(TransactionKey::for_response(&no_cseq)), MissingCSeq);

    let mut bad_cseq = answer("200 OK");
    bad_cseq
        .headers
        .retain(|h| !matches!(h, rsip::Header::CSeq(_)));
    bad_cseq
        .headers
        .push(rsip::headers::CSeq::from("one INVITE").into());
    assert_eq!(kind(TransactionKey::for_response(&bad_cseq)), BadCSeq);

    let rfc2543 = response_on("200 OK", "INVITE", "1234", "x");
    assert_eq!(kind(TransactionKey::for_response(&rfc2543)), NoMagicCookie);
    assert_eq!(
        TransactionErrorKind::NoMagicCookie.code(),
        "SIP_TRANSACTION_NO_MAGIC_COOKIE"
    );
}

#[test]
fn default_timers_are_the_rfc_values() {
    let t = Timers::default();
    let s = Duration::from_secs;
    let table = [
        ("A", t.a(), Duration::from_millis(500)),
        ("B", t.b(), s(32)),
        ("D", t.d(), s(32)),
        ("E", t.e(), Duration::from_millis(500)),
        ("F", t.f(), s(32)),
        ("G", t.g(), Duration::from_millis(500)),
        ("H", t.h(), s(32)),
        ("I", t.i(), s(5)),
        ("J", t.j(), s(32)),
        ("K", t.k(), s(5)),
        ("L", t.l(), s(32)),
        ("M", t.m(), s(32)),
    ];
    for (name, got, expected) in table {
        assert_eq!(got, expected, "timer {name}");
    }
    let lan = Timers {
        t1: Duration::from_millis(50),
        ..Timers::default()
    };
    assert_eq!(
        lan.b(),
        Duration::from_millis(3200),
        "derived timers follow T1"
    );
    let absurd = Timers {
        t1: Duration::MAX,
        ..Timers::default()
    };
    assert_eq!(
        absurd.b(),
        Duration::MAX,
        "saturates instead of overflowing"
    );
}
