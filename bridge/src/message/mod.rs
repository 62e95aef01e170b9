//! The protocol messages, typed on their `t` field (46elks doc §1.2, §1.4, §1.5).
//!
//! "All messages are JSON. The field `t` identifies the message type." [`Incoming`] are the
//! messages 46elks sends (`hello`, `audio`, `sync`, `bye`); [`Outgoing`] are the ones we send
//! (`listening`, `sending`, `audio`, `interrupt`, `sync`, `bye`). Both directions parse and
//! write, because the [`caller`](crate#features) simulator speaks the carrier's side.
//!
//! Parsing is two-step: first only `t` is read; an unknown `t` becomes `Unknown(t)` (the API
//! is Beta: log and ignore), a known one is then read strictly into its body, so a missing or
//! ill-typed field is [`BridgeError::InvalidMessage`]. Fields we do not know are tolerated.
//! Text that is not JSON at all is [`BridgeError::InvalidJson`]. The parsers never panic.
//!
//! Writing goes into a caller-owned `String` (`write_json`), escaping the few free-text
//! fields by hand, so it cannot fail and allocates nothing once the buffer is large enough.
//! Audio `data` is standard base64 with padding (RFC 4648 §4), as Python's `b64encode` in the
//! official examples produces; [`AudioData`] holds it still encoded and decodes into a
//! caller-owned buffer.

mod incoming;
mod outgoing;

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

use crate::error::BridgeError;

pub use incoming::{Bye, ByeReason, Hello, Incoming};
pub use outgoing::Outgoing;

/// The base64 text of an `audio` message's `data`, borrowed from the JSON when possible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioData<'a>(Cow<'a, str>);

impl<'a> AudioData<'a> {
    /// Wraps base64 text as is (not checked until [`decode_into`](Self::decode_into)).
    pub fn from_base64(text: impl Into<Cow<'a, str>>) -> Self {
        Self(text.into())
    }

    /// Encodes `bytes` (allocates the text).
    pub fn encode(bytes: &[u8]) -> AudioData<'static> {
        AudioData(Cow::Owned(STANDARD.encode(bytes)))
    }

    /// The base64 text.
    pub fn as_base64(&self) -> &str {
        &self.0
    }

    /// Replaces the contents of `out` with the decoded bytes; `out` keeps its capacity, so a
    /// reused buffer stops allocating once it has seen the largest chunk.
    pub fn decode_into(&self, out: &mut Vec<u8>) -> Result<(), BridgeError> {
        out.clear();
        STANDARD
            .decode_vec(self.0.as_bytes(), out)
            .map_err(BridgeError::BadBase64)
    }
}

/// Appends `{"t":"audio","data":"<base64 of bytes>"}` to `out`: the hot-path writer for
/// audio in either direction.
pub fn write_audio_json(bytes: &[u8], out: &mut String) {
    out.push_str(r#"{"t":"audio","data":""#);
    STANDARD.encode_string(bytes, out);
    out.push_str(r#""}"#);
}

/// Appends `{"t":"<t>"` with no closing brace.
fn open(t: &str, out: &mut String) {
    out.push_str(r#"{"t":""#);
    out.push_str(t);
    out.push('"');
}

/// Appends `,"<key>":"<value escaped>"`.
fn field(key: &str, value: &str, out: &mut String) {
    out.push_str(",\"");
    out.push_str(key);
    out.push_str("\":");
    push_json_string(value, out);
}

/// Appends `s` as a JSON string literal (RFC 8259 §7: quote, backslash and control
/// characters escaped).
fn push_json_string(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let b = u32::from(c) as usize;
                out.push_str("\\u00");
                out.push(char::from(HEX[b >> 4]));
                out.push(char::from(HEX[b & 0xf]));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    t: Cow<'a, str>,
}

#[derive(Deserialize)]
struct AudioBody<'a> {
    #[serde(borrow)]
    data: Cow<'a, str>,
}

/// Reads only the `t` field of `text`.
fn message_type(text: &str) -> Result<Cow<'_, str>, BridgeError> {
    serde_json::from_str::<Envelope<'_>>(text)
        .map(|e| e.t)
        .map_err(|e| classify(&e, text))
}

/// Reads the body of a message whose type `t` is known. The text was already read as JSON
/// by [`message_type`], so any failure here is the message's shape, whatever category
/// serde_json gives it (a number where an enum is expected is a "syntax" error to it).
fn body<'a, T: Deserialize<'a>>(text: &'a str, t: &str) -> Result<T, BridgeError> {
    serde_json::from_str(text).map_err(|e| BridgeError::InvalidMessage {
        t: t.to_owned(),
        detail: e.to_string(),
    })
}

/// Reads an `audio` body.
fn audio_body<'a>(text: &'a str) -> Result<AudioData<'a>, BridgeError> {
    body::<AudioBody<'a>>(text, "audio").map(|b| AudioData(b.data))
}

/// Not JSON at all, or JSON without a string `t`. serde_json's error categories cannot
/// tell these apart (a JSON array where an object belongs is a "syntax" error to it), so on
/// this error path the text is checked again as plain JSON, without allocating.
fn classify(e: &serde_json::Error, text: &str) -> BridgeError {
    let detail = e.to_string();
    match serde_json::from_str::<serde::de::IgnoredAny>(text) {
        Ok(_) => BridgeError::InvalidMessage {
            t: String::new(),
            detail,
        },
        Err(_) => BridgeError::InvalidJson { detail },
    }
}

#[cfg(test)]
mod tests;
