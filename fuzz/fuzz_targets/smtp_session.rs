//! The inbound SMTP `Session` takes any bytes, cut into any reads, without panicking: every
//! reply has a code from 200 to 599 and ends in CRLF, nothing comes after `Close`, and no
//! delivered message is larger than the configured limit.
//!
//! Input: the first byte sets the read size (1 to 256 bytes); each verdict asked for is
//! accept or refuse by the parity of a running counter, so both paths are taken.

#![no_main]

use std::net::SocketAddr;

use libfuzzer_sys::fuzz_target;
use voxgate_mail::listener::{ListenerConfig, Output, Session, Verdict};

/// Small limits, so that the fuzzer reaches them.
fn config() -> ListenerConfig {
    ListenerConfig {
        max_message_bytes: 2048,
        max_recipients: 4,
        ..ListenerConfig::default()
    }
}

fn verdict(turn: &mut u32) -> Verdict {
    *turn += 1;
    if *turn % 2 == 0 {
        Verdict::Accept
    } else {
        Verdict::Reject {
            code: 550,
            status: "5.1.1".to_owned(),
            text: "No".to_owned(),
        }
    }
}

fn drain(session: &mut Session, closed: &mut bool, turn: &mut u32, max: usize) {
    while let Some(output) = session.poll_output() {
        assert!(!*closed, "nothing after Close");
        match output {
            Output::Reply(reply) => {
                assert!((200..600).contains(&reply.code), "{reply:?}");
                let wire = reply.to_bytes();
                assert!(wire.ends_with(b"\r\n"));
            }
            Output::CheckRecipient(address) => {
                assert!(!address.is_empty());
                session.handle_recipient(verdict(turn));
            }
            Output::Deliver { envelope, raw } => {
                assert!(raw.len() <= max, "over the limit: {}", raw.len());
                assert!(!envelope.rcpt_to.is_empty());
                session.handle_delivered(verdict(turn));
            }
            Output::Close => *closed = true,
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let config = config();
    let peer: SocketAddr = "127.0.0.1:25".parse().expect("addr");
    let mut session = Session::new(&config, peer);
    let (mut closed, mut turn) = (false, 0);
    drain(
        &mut session,
        &mut closed,
        &mut turn,
        config.max_message_bytes,
    );
    for chunk in rest.chunks(usize::from(first) + 1) {
        session.handle_input(chunk);
        drain(
            &mut session,
            &mut closed,
            &mut turn,
            config.max_message_bytes,
        );
    }
    session.handle_idle_timeout();
    drain(
        &mut session,
        &mut closed,
        &mut turn,
        config.max_message_bytes,
    );
    assert!(closed && session.is_closed());
});
