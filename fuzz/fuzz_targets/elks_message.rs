//! The 46elks Realtime messages (`voxgate_bridge::message`) and the session that reads
//! them: each line of the input is one text frame. Every frame either parses, and then
//! writes back to JSON that parses to the same message, or is refused with a typed error;
//! a `Session` fed the same frames (with time moving on) never panics and keeps answering
//! `poll_output` / `poll_timeout`.

#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use voxgate_bridge::message::{Incoming, Outgoing};
use voxgate_bridge::session::{Input, Session, SessionConfig};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut session = Session::new(SessionConfig::default());
    let mut now = Instant::now();
    session.start(now);
    for frame in text.split('\n') {
        if let Ok(message) = Incoming::parse(frame) {
            let json = message.to_json();
            assert_eq!(Incoming::parse(&json).as_ref(), Ok(&message), "{json}");
        }
        if let Ok(message) = Outgoing::parse(frame) {
            let json = message.to_json();
            assert_eq!(Outgoing::parse(&json).as_ref(), Ok(&message), "{json}");
        }
        session.handle(now, Input::Text(frame));
        while session.poll_output().is_some() {}
        now += Duration::from_millis(20);
        if session.poll_timeout().is_some_and(|at| at <= now) {
            session.handle_timeout(now);
        }
    }
});
