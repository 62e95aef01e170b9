//! Two user agents on a virtual network and clock, and a scripted peer speaking raw SIP:
//! the call flows of RFC 3665 §3 (successful call, CANCEL, busy, re-INVITE, BYE) plus
//! registration with digest authentication.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::*;
use crate::message::{parse, summarize};

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("address")
}

fn ua(public: &str, seed: u64) -> UserAgent {
    UserAgent::new(UaConfig {
        public_addr: addr(public),
        contact_user: "voxgate".to_owned(),
        user_agent: "voxgate-test".to_owned(),
        timers: crate::transaction::Timers::default(),
        seed,
    })
}

/// Two user agents and what each has said to its driver.
struct Net {
    now: Instant,
    a: UserAgent,
    b: UserAgent,
    a_events: Vec<UaEvent>,
    b_events: Vec<UaEvent>,
    /// Datagrams dropped on purpose: (from a?, index of that side's datagram).
    drop_from_a: Vec<usize>,
    sent_by_a: usize,
    /// Every datagram that crossed, as text, in order.
    wire: Vec<String>,
}

const A: &str = "192.0.2.10:5060";
const B: &str = "192.0.2.20:5060";

impl Net {
    fn new() -> Self {
        Self {
            now: Instant::now(),
            a: ua(A, 1),
            b: ua(B, 2),
            a_events: Vec::new(),
            b_events: Vec::new(),
            drop_from_a: Vec::new(),
            sent_by_a: 0,
            wire: Vec::new(),
        }
    }

    /// Delivers everything both sides want to send until both are quiet.
    fn settle(&mut self) {
        loop {
            let mut moved = false;
            while let Some(out) = self.a.poll_output() {
                moved = true;
                match out {
                    UaOutput::Transmit { to, bytes } => {
                        assert_eq!(to, addr(B));
                        self.sent_by_a += 1;
                        self.wire.push(String::from_utf8_lossy(&bytes).into_owned());
                        if !self.drop_from_a.contains(&self.sent_by_a) {
                            self.b.handle_datagram(self.now, addr(A), &bytes);
                        }
                    }
                    UaOutput::Event(e) => self.a_events.push(e),
                }
            }
            while let Some(out) = self.b.poll_output() {
                moved = true;
                match out {
                    UaOutput::Transmit { to, bytes } => {
                        assert_eq!(to, addr(A));
                        self.wire.push(String::from_utf8_lossy(&bytes).into_owned());
                        self.a.handle_datagram(self.now, addr(B), &bytes);
                    }
                    UaOutput::Event(e) => self.b_events.push(e),
                }
            }
            if !moved {
                return;
            }
        }
    }

    /// Runs both clocks forward to `until`, firing timers on the way.
    fn run_until(&mut self, until: Instant) {
        loop {
            self.settle();
            let next = [self.a.poll_timeout(), self.b.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            match next {
                Some(at) if at <= until => {
                    self.now = self.now.max(at);
                    self.a.handle_timeout(self.now);
                    self.b.handle_timeout(self.now);
                }
                _ => break,
            }
        }
        self.now = until;
        self.settle();
    }

    fn incoming_on_a(&self) -> CallRef {
        self.a_events
            .iter()
            .find_map(|e| match e {
                UaEvent::Incoming { call, .. } => Some(*call),
                _ => None,
            })
            .expect("a call reached A")
    }

    fn starts(&self, prefix: &str) -> usize {
        self.wire.iter().filter(|m| m.starts_with(prefix)).count()
    }
}

const OFFER: &[u8] = b"v=0\r\no=- 1 1 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
const ANSWER: &[u8] = b"v=0\r\no=- 2 2 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n";

fn call_b_to_a(net: &mut Net) -> CallRef {
    let now = net.now;
    let call = net
        .b
        .invite(
            now,
            addr(A),
            "sip:+46700000001@192.0.2.10",
            "sip:alice@192.0.2.20",
            OFFER,
            None,
        )
        .expect("invite");
    net.settle();
    call
}

#[test]
fn a_call_is_answered_acknowledged_and_hung_up_by_the_caller() {
    let mut net = Net::new();
    let b_call = call_b_to_a(&mut net);
    let a_call = net.incoming_on_a();
    match net.a_events.first() {
        Some(UaEvent::Incoming {
            call_id,
            to_user,
            offer,
            from,
            peer,
            ..
        }) => {
            assert!(call_id.ends_with("@voxgate"), "{call_id}");
            assert_eq!(to_user, "+46700000001");
            assert_eq!(offer, OFFER);
            assert_eq!(from, "sip:alice@192.0.2.20");
            assert_eq!(*peer, addr(B));
        }
        other => panic!("{other:?}"),
    }
    net.a.ringing(net.now, a_call);
    net.settle();
    assert!(net.b_events.contains(&UaEvent::Progress {
        call: b_call,
        status: 180
    }));
    net.a.answer(net.now, a_call, ANSWER).expect("answer");
    net.settle();
    assert!(net.b_events.contains(&UaEvent::Answered {
        call: b_call,
        answer: ANSWER.to_vec()
    }));
    assert!(net.a_events.contains(&UaEvent::Confirmed { call: a_call }));
    // No 2xx retransmission once the ACK has arrived.
    let oks = net.starts("SIP/2.0 200 OK");
    net.run_until(net.now + Duration::from_secs(10));
    assert_eq!(net.starts("SIP/2.0 200 OK"), oks);
    net.b.hangup(net.now, b_call);
    net.settle();
    assert!(net.a_events.contains(&UaEvent::Ended {
        call: a_call,
        reason: EndReason::RemoteBye
    }));
    assert!(net.b_events.contains(&UaEvent::Ended {
        call: b_call,
        reason: EndReason::LocalBye
    }));
    assert_eq!(net.a.calls(), 0);
    assert_eq!(net.b.calls(), 0);
}

#[test]
fn a_lost_ack_means_retransmitted_2xx_and_a_lost_2xx_is_recovered() {
    let mut net = Net::new();
    let _ = call_b_to_a(&mut net);
    let a_call = net.incoming_on_a();
    // A's first datagram after the answer is its 200 OK: lose it.
    net.drop_from_a.push(net.sent_by_a + 1);
    net.a.answer(net.now, a_call, ANSWER).expect("answer");
    net.settle();
    assert!(!net.a_events.contains(&UaEvent::Confirmed { call: a_call }));
    // T1 later the 2xx goes again, B answers it with an ACK, and the call is up.
    net.run_until(net.now + Duration::from_millis(600));
    assert!(net.a_events.contains(&UaEvent::Confirmed { call: a_call }));
    assert_eq!(net.starts("SIP/2.0 200 OK"), 2);
}

#[test]
fn a_2xx_never_acknowledged_ends_with_bye_after_64_t1() {
    let mut net = Net::new();
    let _ = call_b_to_a(&mut net);
    let a_call = net.incoming_on_a();
    // Lose every 200 OK A sends: the next 20 datagrams.
    net.drop_from_a
        .extend(net.sent_by_a + 1..net.sent_by_a + 20);
    net.a.answer(net.now, a_call, ANSWER).expect("answer");
    let start = net.now;
    net.run_until(start + Duration::from_secs(31));
    assert!(
        !net.a_events
            .iter()
            .any(|e| matches!(e, UaEvent::Ended { .. }))
    );
    net.run_until(start + Duration::from_secs(33));
    assert!(net.a_events.contains(&UaEvent::Ended {
        call: a_call,
        reason: EndReason::AckTimeout
    }));
    // 0, .5, 1.5, 3.5, 7.5, 11.5, ... every T2 until 32 s.
    let oks = net.starts("SIP/2.0 200 OK");
    assert!((10..=12).contains(&oks), "{oks} retransmissions");
    assert!(
        net.starts("BYE ") >= 1,
        "BYE sent (and retransmitted while lost)"
    );
}

#[test]
fn cancel_before_answer_gets_487_and_ends_the_call() {
    let mut net = Net::new();
    let b_call = call_b_to_a(&mut net);
    let a_call = net.incoming_on_a();
    net.a.ringing(net.now, a_call);
    net.settle();
    net.b.hangup(net.now, b_call);
    net.settle();
    assert!(net.a_events.contains(&UaEvent::Ended {
        call: a_call,
        reason: EndReason::Cancelled
    }));
    assert_eq!(net.starts("CANCEL "), 1);
    assert_eq!(net.starts("SIP/2.0 487 Request Terminated"), 1);
    assert!(
        net.a.answer(net.now, a_call, ANSWER).is_err(),
        "nothing left to answer"
    );
}

#[test]
fn a_busy_agent_answers_486_and_the_caller_sees_it() {
    let mut net = Net::new();
    let b_call = call_b_to_a(&mut net);
    let a_call = net.incoming_on_a();
    net.a.reject(net.now, a_call, 486, None).expect("reject");
    net.settle();
    assert!(net.b_events.contains(&UaEvent::Ended {
        call: b_call,
        reason: EndReason::Failed(486)
    }));
    assert!(net.a_events.contains(&UaEvent::Ended {
        call: a_call,
        reason: EndReason::Rejected(486)
    }));
    assert!(
        net.wire.iter().any(|m| m.starts_with("ACK ")),
        "the non-2xx is acknowledged"
    );
}

#[test]
fn the_agent_hangs_up_with_bye() {
    let mut net = Net::new();
    let b_call = call_b_to_a(&mut net);
    let a_call = net.incoming_on_a();
    net.a.answer(net.now, a_call, ANSWER).expect("answer");
    net.settle();
    net.b
        .answer(net.now, b_call, b"")
        .expect_err("B has nothing pending");
    net.a.hangup(net.now, a_call);
    net.settle();
    assert!(net.b_events.contains(&UaEvent::Ended {
        call: b_call,
        reason: EndReason::RemoteBye
    }));
    assert_eq!(net.starts("BYE "), 1);
    assert_eq!(
        net.starts("SIP/2.0 200 OK"),
        2,
        "the INVITE's and the BYE's"
    );
}

/// A scripted peer: parse what A sent, and answer with raw text.
fn text(lines: &[&str], body: &str) -> Vec<u8> {
    let mut out = lines.join("\r\n");
    out.push_str(&format!("\r\nContent-Length: {}\r\n\r\n{body}", body.len()));
    out.into_bytes()
}

fn sent(ua: &mut UserAgent) -> Vec<String> {
    let mut out = Vec::new();
    while let Some(o) = ua.poll_output() {
        if let UaOutput::Transmit { bytes, .. } = o {
            out.push(String::from_utf8(bytes).expect("utf-8"));
        }
    }
    out
}

#[test]
fn raw_peers_get_the_right_answers() {
    let mut a = ua(A, 7);
    let now = Instant::now();
    let peer = addr(B);
    let head = |method: &str, cseq: &str, extra: &[&str]| {
        let mut lines = vec![
            format!("{method} sip:agent@192.0.2.10 SIP/2.0"),
            "Via: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bKraw1".to_owned(),
            "From: <sip:alice@192.0.2.20>;tag=r1".to_owned(),
            "To: <sip:agent@192.0.2.10>".to_owned(),
            "Call-ID: raw-1".to_owned(),
            format!("CSeq: {cseq} {method}"),
            "Max-Forwards: 70".to_owned(),
        ];
        lines.extend(extra.iter().map(|s| (*s).to_owned()));
        lines
    };
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (text(&head("OPTIONS", "1", &[]).iter().map(String::as_str).collect::<Vec<_>>(), ""), "SIP/2.0 200 OK"),
        (text(&head("MESSAGE", "1", &[]).iter().map(String::as_str).collect::<Vec<_>>(), ""), "SIP/2.0 405 Method Not Allowed"),
        (text(&head("BYE", "1", &[]).iter().map(String::as_str).collect::<Vec<_>>(), ""), "SIP/2.0 481 Call/Transaction Does Not Exist"),
        (text(&head("INVITE", "1", &["Require: 100rel", "Contact: <sip:alice@192.0.2.20>"]).iter().map(String::as_str).collect::<Vec<_>>(), ""), "SIP/2.0 420 Bad Extension"),
        (text(&head("INVITE", "1", &["Contact: <sip:alice@192.0.2.20>"]).iter().map(String::as_str).collect::<Vec<_>>().iter().map(|l| if l.starts_with("Max-Forwards") { "Max-Forwards: 0" } else { l }).collect::<Vec<_>>(), ""), "SIP/2.0 483 Too Many Hops"),
        (text(&head("INVITE", "1", &[]).iter().map(String::as_str).collect::<Vec<_>>(), ""), "SIP/2.0 400 Bad Request"),
        (text(&head("INVITE", "1", &["Contact: <sip:alice@192.0.2.20>", "Content-Type: application/json"]).iter().map(String::as_str).collect::<Vec<_>>(), "{}"), "SIP/2.0 415 Unsupported Media Type"),
        (text(&head("INVITE", "1", &["Contact: <sip:alice@192.0.2.20>", "Content-Type: application/sdp", "Content-Encoding: gzip"]).iter().map(String::as_str).collect::<Vec<_>>(), "v=0"), "SIP/2.0 415 Unsupported Media Type"),
        (b"INVITE sip:a SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKq\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 BYE\r\n\r\n".to_vec(), "SIP/2.0 400 Bad Request"),
    ];
    for (i, (datagram, want)) in cases.into_iter().enumerate() {
        // A fresh branch per case, so that none is taken for a retransmission.
        let datagram = String::from_utf8(datagram)
            .expect("utf-8")
            .replace("z9hG4bKraw1", &format!("z9hG4bKraw1c{i}"));
        a.handle_datagram(now, peer, datagram.as_bytes());
        let out = sent(&mut a);
        assert!(
            out.iter().any(|m| m.starts_with(want)),
            "case {i}: wanted {want}, got {out:?}"
        );
        for m in &out {
            assert!(
                parse(m.as_bytes()).is_ok(),
                "voxgate's own message parses: {m}"
            );
        }
    }
    // Garbage is counted and answered by nothing; keep-alives are ignored.
    a.handle_datagram(now, peer, b"\x00\x01 not sip");
    a.handle_datagram(now, peer, b"\r\n\r\n");
    assert!(sent(&mut a).is_empty());
    assert!(a.refused() >= 2, "{}", a.refused());
}

/// A request from B in the dialog of the call A answered, built by hand from the 200 OK.
fn in_dialog(
    net: &Net,
    method: &str,
    cseq: u32,
    branch: &str,
    extra: &[&str],
    body: &str,
) -> Vec<u8> {
    let ok = net
        .wire
        .iter()
        .find(|m| m.starts_with("SIP/2.0 200 OK"))
        .expect("the 200");
    let summary = summarize(&parse(ok.as_bytes()).expect("parses")).expect("summary");
    let mut lines = vec![
        format!("{method} sip:voxgate@192.0.2.10:5060 SIP/2.0"),
        format!("Via: SIP/2.0/UDP 192.0.2.20:5060;branch={branch}"),
        format!(
            "From: <sip:alice@192.0.2.20>;tag={}",
            summary.from_tag.unwrap_or_default()
        ),
        format!(
            "To: <sip:+46700000001@192.0.2.10>;tag={}",
            summary.to_tag.unwrap_or_default()
        ),
        format!("Call-ID: {}", summary.call_id),
        format!("CSeq: {cseq} {method}"),
    ];
    lines.extend(extra.iter().map(|s| (*s).to_owned()));
    text(&lines.iter().map(String::as_str).collect::<Vec<_>>(), body)
}

fn answered(net: &mut Net) -> CallRef {
    let _ = call_b_to_a(net);
    let a_call = net.incoming_on_a();
    net.a.answer(net.now, a_call, ANSWER).expect("answer");
    net.settle();
    a_call
}

#[test]
fn info_dtmf_reaches_the_driver() {
    let mut net = Net::new();
    let a_call = answered(&mut net);
    let info = in_dialog(
        &net,
        "INFO",
        5,
        "z9hG4bKinfo1",
        &["Content-Type: application/dtmf-relay"],
        "Signal=7\r\nDuration=160\r\n",
    );
    net.a.handle_datagram(net.now, addr(B), &info);
    net.settle();
    assert!(net.a_events.contains(&UaEvent::Dtmf {
        call: a_call,
        digit: '7'
    }));
    // The same CSeq again is out of order: 500, and no second digit.
    let again = in_dialog(
        &net,
        "INFO",
        5,
        "z9hG4bKinfo2",
        &["Content-Type: application/dtmf-relay"],
        "Signal=8\r\n",
    );
    net.a.handle_datagram(net.now, addr(B), &again);
    net.settle();
    assert_eq!(
        net.a_events
            .iter()
            .filter(|e| matches!(e, UaEvent::Dtmf { .. }))
            .count(),
        1
    );
}

#[test]
fn a_re_invite_puts_the_call_on_hold_and_is_answered_and_acknowledged() {
    let mut net = Net::new();
    let a_call = answered(&mut net);
    let hold = "v=0\r\no=- 1 2 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=sendonly\r\n";
    let reinvite = in_dialog(
        &net,
        "INVITE",
        2,
        "z9hG4bKre1",
        &[
            "Contact: <sip:alice@192.0.2.20>",
            "Content-Type: application/sdp",
        ],
        hold,
    );
    net.a.handle_datagram(net.now, addr(B), &reinvite);
    net.settle();
    assert!(net.a_events.contains(&UaEvent::Reoffer {
        call: a_call,
        offer: hold.as_bytes().to_vec()
    }));
    // A second re-INVITE while the first is pending: 491 (RFC 3261 §14.2).
    let glare = in_dialog(
        &net,
        "INVITE",
        3,
        "z9hG4bKre2",
        &["Contact: <sip:alice@192.0.2.20>"],
        "",
    );
    net.a.handle_datagram(net.now, addr(B), &glare);
    net.settle();
    assert_eq!(net.starts("SIP/2.0 491 Request Pending"), 1);
    net.a
        .answer(net.now, a_call, ANSWER)
        .expect("answer the re-INVITE");
    net.settle();
    assert_eq!(net.starts("SIP/2.0 200 OK"), 2);
    // The 2xx goes again until B's ACK (raw) arrives; then it stops.
    net.run_until(net.now + Duration::from_millis(600));
    assert_eq!(net.starts("SIP/2.0 200 OK"), 3);
    let ack = in_dialog(&net, "ACK", 2, "z9hG4bKack2", &[], "");
    net.a.handle_datagram(net.now, addr(B), &ack);
    net.run_until(net.now + Duration::from_secs(5));
    assert_eq!(net.starts("SIP/2.0 200 OK"), 3);
    assert!(
        !net.a_events
            .iter()
            .any(|e| matches!(e, UaEvent::Ended { .. }))
    );
}
