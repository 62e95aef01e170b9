//! Messages from 46elks to us (46elks doc §1.4).

use serde::Deserialize;

use super::{AudioData, audio_body, body, field, message_type, open, push_json_string};
use crate::error::BridgeError;

/// A message 46elks sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming<'a> {
    /// `hello`: the session started. "ALWAYS the first message."
    Hello(Hello),
    /// `audio`: caller audio in the format we asked for with `listening`.
    Audio(AudioData<'a>),
    /// `sync`: the reply to our `sync`: "all audio sent before the request has been played".
    Sync,
    /// `bye`: the call has ended. "ALWAYS the last message."
    Bye(Bye),
    /// A `t` this crate does not know; logged and ignored (the API is Beta).
    Unknown(String),
}

/// The fields of `hello`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Hello {
    /// The 46elks call id.
    pub callid: String,
    /// The caller's number, e.g. `+46701234567`.
    pub from: String,
    /// The called number.
    pub to: String,
}

/// The fields of the carrier's `bye`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Bye {
    /// Why the call ended.
    pub reason: ByeReason,
    /// The human-readable explanation, if any (treated as optional free text).
    #[serde(default)]
    pub message: Option<String>,
}

/// The `reason` of a carrier `bye`, also the reason a [`Session`](crate::Session) reports
/// when it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ByeReason {
    /// `done`: the call completed.
    Done,
    /// `hangup`: the caller hung up.
    Hangup,
    /// `error`: the call failed.
    Error,
}

impl ByeReason {
    /// The wire string: `done`, `hangup` or `error`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Hangup => "hangup",
            Self::Error => "error",
        }
    }
}

impl<'a> Incoming<'a> {
    /// Parses one text frame. Never panics; see the [module doc](super) for the rules.
    pub fn parse(text: &'a str) -> Result<Self, BridgeError> {
        let t = message_type(text)?;
        Ok(match t.as_ref() {
            "hello" => Self::Hello(body(text, "hello")?),
            "audio" => Self::Audio(audio_body(text)?),
            "sync" => Self::Sync,
            "bye" => Self::Bye(body(text, "bye")?),
            _ => Self::Unknown(t.into_owned()),
        })
    }

    /// Appends the JSON text of this message to `out`. `Unknown(t)` writes `{"t":"<t>"}`.
    pub fn write_json(&self, out: &mut String) {
        match self {
            Self::Hello(h) => {
                open("hello", out);
                field("callid", &h.callid, out);
                field("from", &h.from, out);
                field("to", &h.to, out);
            }
            Self::Audio(data) => {
                open("audio", out);
                field("data", data.as_base64(), out);
            }
            Self::Sync => open("sync", out),
            Self::Bye(b) => {
                open("bye", out);
                field("reason", b.reason.as_str(), out);
                if let Some(m) = &b.message {
                    field("message", m, out);
                }
            }
            Self::Unknown(t) => {
                out.push_str(r#"{"t":"#);
                push_json_string(t, out);
            }
        }
        out.push('}');
    }

    /// The JSON text of this message (allocates).
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }
}
