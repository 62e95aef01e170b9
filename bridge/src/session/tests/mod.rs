//! Session tables: (inputs, expected outputs), on a virtual clock.

mod agent;
mod inbound;
mod replay;

use std::time::{Duration, Instant};

use super::*;
use crate::format::Format;
use crate::message::write_audio_json;

pub(super) const HELLO: &str =
    r#"{"t":"hello","callid":"c13d1e772","from":"+46701234567","to":"+46766861234"}"#;

/// A fixed origin for the virtual clock, and `ms` after it.
pub(super) struct Clock(Instant);

impl Clock {
    pub(super) fn new() -> Self {
        Self(Instant::now())
    }

    pub(super) fn at(&self, ms: u64) -> Instant {
        self.0 + Duration::from_millis(ms)
    }
}

pub(super) fn drain(s: &mut Session) -> Vec<Output> {
    std::iter::from_fn(|| s.poll_output()).collect()
}

/// Outputs as short strings, for tables: transmits as their JSON text.
pub(super) fn summary(s: &mut Session) -> Vec<String> {
    drain(s).into_iter().map(|o| describe(&o)).collect()
}

pub(super) fn describe(o: &Output) -> String {
    match o {
        Output::Transmit(text) => text.clone(),
        Output::Event(Event::Hello { callid, from, to }) => format!("hello {callid} {from} {to}"),
        Output::Event(Event::CallerAudio(f)) => format!("frame @{}", f.time().samples()),
        Output::Event(Event::Ended {
            reason,
            message,
            error,
        }) => format!(
            "ended {} {} {}",
            reason.as_str(),
            message.as_deref().unwrap_or("-"),
            error.as_ref().map_or("-", BridgeError::code)
        ),
        Output::Close => "close".into(),
    }
}

pub(super) fn audio_msg(bytes: &[u8]) -> String {
    let mut text = String::new();
    write_audio_json(bytes, &mut text);
    text
}

/// A session that has seen `hello` at `now`, with its outputs drained.
pub(super) fn active(config: SessionConfig, now: Instant) -> Session {
    let mut s = Session::new(config);
    s.handle_text(now, HELLO);
    drain(&mut s);
    s
}

pub(super) fn config(listen: Format, send: Format) -> SessionConfig {
    SessionConfig {
        listen_format: listen,
        send_format: send,
        ..SessionConfig::default()
    }
}
