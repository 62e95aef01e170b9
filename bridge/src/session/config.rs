//! The per-session configuration.

use std::time::Duration;

use crate::format::Format;

/// How one 46elks session behaves. Every field has a documented default; the server fills
/// them from its TOML file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    /// The format we ask caller audio in (`listening`). Default `pcm_16000`: the rate the
    /// VAD and speech recognition run at, so inbound audio needs no resampling and keeps
    /// wideband quality when the call has it. Use `ulaw` to save bandwidth on narrowband
    /// calls.
    pub listen_format: Format,
    /// The format of the agent audio we send (`sending`); agent frames handed to
    /// [`Session::send_audio`](crate::Session::send_audio) are at its rate. Default
    /// `pcm_16000`.
    pub send_format: Format,
    /// The most agent audio we let sit in the carrier's playout buffer. Default 1 s: enough
    /// to ride out TTS and scheduling jitter, small enough that what has been sent stays
    /// close to what the caller has heard. (46elks' own buffer holds up to 30 MB and ends the
    /// call with an error when overfilled, doc §1.7.)
    pub max_buffered: Duration,
    /// How much agent audio we send between `sync` checkpoints. Default 200 ms (ten frames):
    /// frequent enough to correct the buffer estimate within a fraction of `max_buffered`.
    pub sync_interval: Duration,
    /// A session with no message from the carrier for this long ends with
    /// `WS_IDLE_TIMEOUT`. Default 30 s. Caller audio flows continuously during a call, so a
    /// silent socket means a dead carrier.
    pub idle_timeout: Duration,
    /// After our `bye`, how long we wait for the carrier's own `bye` (it plays out the
    /// buffered audio first) before giving up with `WS_BYE_TIMEOUT`. Default 5 s; a larger
    /// `max_buffered` needs at least that much more.
    pub bye_timeout: Duration,
    /// The largest text frame accepted; larger ones end the session with
    /// `WS_MESSAGE_TOO_LARGE`. Default 1 MiB (about 32 s of `pcm_16000` in one message).
    pub max_message_bytes: usize,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            listen_format: Format::Pcm16000,
            send_format: Format::Pcm16000,
            max_buffered: Duration::from_secs(1),
            sync_interval: Duration::from_millis(200),
            idle_timeout: Duration::from_secs(30),
            bye_timeout: Duration::from_secs(5),
            max_message_bytes: 1 << 20,
        }
    }
}
