//! `voxgate_sip::message::parse` never panics; a message it accepts has a summary, writes
//! back to text that parses again, and the user agent takes any datagram without panicking.

#![no_main]

use std::time::Instant;

use libfuzzer_sys::fuzz_target;
use voxgate_sip::message::{parse, refusal, summarize};
use voxgate_sip::ua::{UaConfig, UserAgent};

fuzz_target!(|data: &[u8]| {
    match parse(data) {
        Ok(message) => {
            assert!(summarize(&message).is_some(), "a parsed message has its identity");
            let text = message.to_string();
            parse(text.as_bytes()).expect("what voxgate writes, it reads");
        }
        Err(kind) => {
            assert!((400..=513).contains(&kind.status()));
            if let Some(answer) = refusal(data, kind.status()) {
                parse(&answer).expect("a refusal parses");
            }
        }
    }
    let mut ua = UserAgent::new(UaConfig {
        public_addr: "127.0.0.1:5060".parse().expect("addr"),
        contact_user: "voxgate".to_owned(),
        user_agent: "fuzz".to_owned(),
        timers: Default::default(),
        seed: 1,
    });
    let now = Instant::now();
    ua.handle_datagram(now, "127.0.0.1:5070".parse().expect("addr"), data);
    while ua.poll_output().is_some() {}
});
