//! Table-driven conversations with the [`Session`] and a proptest that no input panics.

use super::*;
use proptest::prelude::*;

fn peer() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 40000))
}

fn config() -> ListenerConfig {
    ListenerConfig {
        max_message_bytes: 1000,
        max_recipients: 3,
        ..ListenerConfig::default()
    }
}

/// What a conversation gave: each reply's code, the delivered messages, whether it closed.
#[derive(Debug, Default)]
struct Transcript {
    codes: Vec<u16>,
    replies: Vec<Reply>,
    delivered: Vec<(Envelope, Vec<u8>)>,
    closed: bool,
}

/// Answers like the integration tests' delivery: `*@voxgate.test` exists.
fn drain(session: &mut Session, out: &mut Transcript) {
    while let Some(output) = session.poll_output() {
        match output {
            Output::Reply(reply) => {
                out.codes.push(reply.code);
                out.replies.push(reply);
            }
            Output::CheckRecipient(address) => {
                session.handle_recipient(if address.ends_with("@voxgate.test") {
                    Verdict::Accept
                } else {
                    Verdict::Reject {
                        code: 550,
                        status: "5.1.1".into(),
                        text: "No such user".into(),
                    }
                })
            }
            Output::Deliver { envelope, raw } => {
                out.delivered.push((envelope, raw));
                session.handle_delivered(Verdict::Accept);
            }
            Output::Close => out.closed = true,
        }
    }
}

/// Feeds each chunk in turn, answering every request at once.
fn converse(config: &ListenerConfig, chunks: &[&[u8]]) -> Transcript {
    let mut session = Session::new(config, peer());
    let mut out = Transcript::default();
    drain(&mut session, &mut out);
    for chunk in chunks {
        session.handle_input(chunk);
        drain(&mut session, &mut out);
    }
    out
}

const HELLO: &[u8] = b"EHLO client.test\r\n";
const ENVELOPE: &[u8] = b"EHLO c\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<x@voxgate.test>\r\n";

/// A name, the client's input chunks, the reply codes expected.
type Case<'a> = (&'a str, &'a [&'a [u8]], &'a [u16]);

#[test]
fn conversations() {
    let cases: &[Case<'_>] = &[
        ("greeting only", &[], &[220]),
        ("ehlo quit", &[HELLO, b"QUIT\r\n"], &[220, 250, 221]),
        (
            "one message",
            &[ENVELOPE, b"DATA\r\n", b"Subject: x\r\n\r\nhi\r\n.\r\n", b"QUIT\r\n"],
            &[220, 250, 250, 250, 354, 250, 221],
        ),
        (
            "pipelined in one packet",
            &[b"EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<x@voxgate.test>\r\nRCPT TO:<y@other.test>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n"],
            &[220, 250, 250, 250, 550, 354, 250, 221],
        ),
        ("mail before helo", &[b"MAIL FROM:<a@b.test>\r\n"], &[220, 503]),
        ("rcpt before mail", &[HELLO, b"RCPT TO:<x@voxgate.test>\r\n"], &[220, 250, 503]),
        ("data before rcpt", &[HELLO, b"MAIL FROM:<a@b.test>\r\nDATA\r\n"], &[220, 250, 250, 503]),
        ("nested mail", &[ENVELOPE, b"MAIL FROM:<a@b.test>\r\n"], &[220, 250, 250, 250, 503]),
        ("unknown recipient only", &[HELLO, b"MAIL FROM:<a@b.test>\r\nRCPT TO:<n@x.test>\r\nDATA\r\n"], &[220, 250, 250, 550, 503]),
        ("size estimate too big", &[HELLO, b"MAIL FROM:<a@b.test> SIZE=1001\r\n"], &[220, 250, 552]),
        ("size estimate fits", &[HELLO, b"MAIL FROM:<a@b.test> SIZE=1000\r\n"], &[220, 250, 250]),
        (
            "too many recipients",
            &[HELLO, b"MAIL FROM:<a@b.test>\r\nRCPT TO:<a@voxgate.test>\r\nRCPT TO:<b@voxgate.test>\r\nRCPT TO:<c@voxgate.test>\r\nRCPT TO:<d@voxgate.test>\r\n"],
            &[220, 250, 250, 250, 250, 250, 452],
        ),
        ("rset clears", &[ENVELOPE, b"RSET\r\nDATA\r\n"], &[220, 250, 250, 250, 250, 503]),
        ("helo resets", &[ENVELOPE, b"HELO d\r\nDATA\r\n"], &[220, 250, 250, 250, 250, 503]),
        ("noop vrfy help", &[b"NOOP\r\nVRFY x\r\nHELP\r\n"], &[220, 250, 252, 214]),
        ("unknown and not implemented", &[b"FOO\r\nSTARTTLS\r\nAUTH PLAIN\r\n"], &[220, 500, 502, 502]),
        ("syntax", &[b"EHLO\r\nMAIL FROM:x\r\n"], &[220, 501, 501]),
        ("bare LF commands", &[b"EHLO c\nNOOP\nQUIT\n"], &[220, 250, 250, 221]),
        ("split across reads", &[b"EH", b"LO c\r", b"\nNO", b"OP\r\n"], &[220, 250, 250]),
        (
            "message over the limit, then the next",
            &[ENVELOPE, b"DATA\r\n", &[b'x'; 1500], b"\r\n.\r\n", b"MAIL FROM:<a@b.test>\r\n"],
            &[220, 250, 250, 250, 354, 552, 250],
        ),
        (
            "long command line",
            &[&[b'A'; 600], b"\r\nNOOP\r\n"],
            &[220, 500, 250],
        ),
        (
            "long command line in one piece",
            &[&[[b'A'; 600].as_slice(), b"\r\nNOOP\r\n"].concat()],
            &[220, 500, 250],
        ),
        ("quit ignores the rest", &[b"QUIT\r\nNOOP\r\n", b"NOOP\r\n"], &[220, 221]),
    ];
    for (name, chunks, codes) in cases {
        let got = converse(&config(), chunks);
        assert_eq!(&got.codes, codes, "{name}: {:?}", got.replies);
    }
}

#[test]
fn the_delivered_message_and_its_envelope() {
    let got = converse(
        &config(),
        &[
            ENVELOPE,
            b"RCPT TO:<y@voxgate.test>\r\nDATA\r\n",
            b"Subject: x\n\n..dot\n.\n",
        ],
    );
    let [(envelope, raw)] = got.delivered.as_slice() else {
        panic!("one message: {got:?}");
    };
    assert_eq!(envelope.helo, "c");
    assert_eq!(envelope.mail_from, "a@b.test");
    assert_eq!(envelope.rcpt_to, ["x@voxgate.test", "y@voxgate.test"]);
    assert_eq!(envelope.peer, peer());
    assert_eq!(raw, b"Subject: x\r\n\r\n.dot\r\n");
}

#[test]
fn ehlo_advertises_the_extensions() {
    let got = converse(&config(), &[HELLO]);
    assert_eq!(
        got.replies[1].lines,
        [
            "voxgate greets client.test",
            "SIZE 1000",
            "8BITMIME",
            "SMTPUTF8",
            "PIPELINING",
            "ENHANCEDSTATUSCODES"
        ]
    );
    assert_eq!(got.replies[0], Reply::plain(220, "voxgate ESMTP voxgate"));
}

#[test]
fn too_many_errors_close_with_421() {
    let got = converse(&config(), &[&b"BAD\r\n".repeat(12)]);
    let mut expected = vec![220];
    expected.extend([500; MAX_ERRORS]);
    expected.push(421);
    assert_eq!(got.codes, expected);
    assert!(got.closed);
}

#[test]
fn idle_timeout_and_shutdown() {
    let mut session = Session::new(&config(), peer());
    session.handle_idle_timeout();
    let mut out = Transcript::default();
    drain(&mut session, &mut out);
    assert_eq!(out.codes, [220, 421]);
    assert!(out.closed && session.is_closed());

    let mut session = Session::new(&config(), peer());
    session.handle_input(ENVELOPE);
    session.handle_input(b"DATA\r\n");
    let mut out = Transcript::default();
    drain(&mut session, &mut out);
    assert!(!session.handle_shutdown(), "mid-message: let it finish");
    session.handle_input(b"x\r\n.\r\n");
    drain(&mut session, &mut out);
    assert!(session.handle_shutdown());
    drain(&mut session, &mut out);
    assert_eq!(out.codes, [220, 250, 250, 250, 354, 250, 421]);
}

#[test]
fn pipelined_commands_wait_for_the_verdict() {
    let mut session = Session::new(&config(), peer());
    session.handle_input(b"EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<x@voxgate.test>\r\nNOOP\r\n");
    let outputs: Vec<Output> = std::iter::from_fn(|| session.poll_output()).collect();
    assert!(matches!(outputs.last(), Some(Output::CheckRecipient(a)) if a == "x@voxgate.test"));
    assert_eq!(session.poll_output(), None, "NOOP waits");
    session.handle_recipient(Verdict::Reject {
        code: 451,
        status: "4.3.0".into(),
        text: "Try later".into(),
    });
    let codes: Vec<u16> = std::iter::from_fn(|| session.poll_output())
        .filter_map(|o| match o {
            Output::Reply(r) => Some(r.code),
            _ => None,
        })
        .collect();
    assert_eq!(codes, [451, 250]);
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..700), 0..8)) {
        let chunks: Vec<&[u8]> = chunks.iter().map(Vec::as_slice).collect();
        let got = converse(&config(), &chunks);
        prop_assert_eq!(got.codes.first(), Some(&220));
    }

    #[test]
    fn command_soup_never_panics(lines in proptest::collection::vec(
        prop_oneof![
            Just("EHLO x".to_owned()), Just("MAIL FROM:<a@b.c>".to_owned()),
            Just("RCPT TO:<x@voxgate.test>".to_owned()), Just("DATA".to_owned()),
            Just(".".to_owned()), Just("RSET".to_owned()), "[ -~]{0,40}",
        ], 0..40)) {
        let input = lines.join("\r\n");
        let got = converse(&config(), &[input.as_bytes()]);
        prop_assert!(got.codes.iter().all(|c| (200..600).contains(c)));
    }
}

#[test]
fn a_large_pipelined_burst() {
    let burst = b"NOOP\r\n".repeat(50_000);
    let got = converse(&config(), &[&burst]);
    assert_eq!(got.codes.len(), 50_001);
    assert!(got.codes[1..].iter().all(|&c| c == 250));
}

#[test]
fn a_sender_guessing_addresses_is_cut_off() {
    let guesses: Vec<u8> = (0..MAX_REFUSED_RECIPIENTS + 5)
        .flat_map(|i| format!("RCPT TO:<guess{i}@elsewhere.test>\r\n").into_bytes())
        .collect();
    let got = converse(
        &config(),
        &[b"EHLO c\r\nMAIL FROM:<a@b.test>\r\n", &guesses],
    );
    let refused = got.codes.iter().filter(|c| **c == 550).count();
    assert_eq!(refused, MAX_REFUSED_RECIPIENTS, "{:?}", got.codes);
    assert_eq!(got.codes.last(), Some(&421));
    assert!(got.closed);
    // A few stale addresses among good ones are fine.
    let got = converse(
        &config(),
        &[
            ENVELOPE,
            b"RCPT TO:<old@elsewhere.test>\r\nRCPT TO:<y@voxgate.test>\r\n",
        ],
    );
    assert_eq!(got.codes[got.codes.len() - 2..], [550, 250]);
    assert!(!got.closed);
}
