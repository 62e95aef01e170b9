//! Messages from us to 46elks (46elks doc §1.5).

use serde::Deserialize;

use super::{AudioData, audio_body, body, field, message_type, open, push_json_string};
use crate::error::BridgeError;
use crate::format::Format;

/// A message we send to 46elks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing<'a> {
    /// `listening`: the format we want caller audio in.
    Listening(Format),
    /// `sending`: the format of the audio we send. Required before the first `audio`, and
    /// again after every `interrupt`.
    Sending(Format),
    /// `audio`: audio to play to the caller, in the `sending` format.
    Audio(AudioData<'a>),
    /// `interrupt`: "immediately clear the audio buffer and ignore all subsequent audio
    /// messages until a new `sending` is sent".
    Interrupt,
    /// `sync`: a checkpoint; 46elks replies `sync` once all audio sent before it has played.
    Sync,
    /// `bye`: end the call (no fields documented).
    Bye,
    /// A `t` this crate does not know (only seen when parsing).
    Unknown(String),
}

#[derive(Deserialize)]
struct FormatBody {
    format: Format,
}

impl<'a> Outgoing<'a> {
    /// Parses one text frame (the carrier simulator's side). Never panics.
    pub fn parse(text: &'a str) -> Result<Self, BridgeError> {
        let t = message_type(text)?;
        Ok(match t.as_ref() {
            "listening" => Self::Listening(body::<FormatBody>(text, "listening")?.format),
            "sending" => Self::Sending(body::<FormatBody>(text, "sending")?.format),
            "audio" => Self::Audio(audio_body(text)?),
            "interrupt" => Self::Interrupt,
            "sync" => Self::Sync,
            "bye" => Self::Bye,
            _ => Self::Unknown(t.into_owned()),
        })
    }

    /// Appends the JSON text of this message to `out`.
    pub fn write_json(&self, out: &mut String) {
        match self {
            Self::Listening(f) => {
                open("listening", out);
                field("format", f.as_str(), out);
            }
            Self::Sending(f) => {
                open("sending", out);
                field("format", f.as_str(), out);
            }
            Self::Audio(data) => {
                open("audio", out);
                field("data", data.as_base64(), out);
            }
            Self::Interrupt => open("interrupt", out),
            Self::Sync => open("sync", out),
            Self::Bye => open("bye", out),
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
