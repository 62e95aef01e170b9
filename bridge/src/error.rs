//! The one error type of the bridge crate, with the stable codes logs and metrics key on.

use std::time::Duration;

use voxgate_media::MediaError;

/// Everything that can go wrong on a 46elks leg. Variants carry data, not prose; each has a
/// stable machine-readable [`code`](BridgeError::code).
///
/// Errors that end a session (bad carrier input, idle timeout, lost socket) reach the call
/// task in [`Event::Ended`](crate::Event::Ended); errors from agent commands
/// ([`Session::send_audio`](crate::Session::send_audio)) are returned and leave the session
/// running.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BridgeError {
    /// A text frame that is not JSON at all. `detail` is the parser's message.
    #[error("invalid JSON: {detail}")]
    InvalidJson {
        /// The JSON parser's description.
        detail: String,
    },
    /// JSON that is not a valid protocol message: no `t`, or a known `t` with a missing or
    /// ill-typed field (`t` is empty when it was missing or not a string).
    #[error("invalid {t:?} message: {detail}")]
    InvalidMessage {
        /// The message type, as far as it could be read.
        t: String,
        /// The JSON parser's description.
        detail: String,
    },
    /// An `audio` message whose `data` is not standard padded base64 (RFC 4648 §4).
    #[error("bad base64 in audio data: {0}")]
    BadBase64(base64::DecodeError),
    /// An `audio` message before `hello` ("the session ALWAYS starts with the API sending a
    /// hello message").
    #[error("audio before hello")]
    AudioBeforeHello,
    /// A second `hello` on the same socket.
    #[error("duplicate hello")]
    DuplicateHello,
    /// A text frame longer than the configured limit (`len` unknown when the socket layer
    /// refused it before reading it whole).
    #[error("message of {len:?} bytes exceeds {max}")]
    MessageTooLarge {
        /// The message length, if known.
        len: Option<usize>,
        /// The configured limit.
        max: usize,
    },
    /// A binary WebSocket frame: the protocol is JSON text frames only.
    #[error("binary frame of {len} bytes")]
    BinaryFrame {
        /// The frame length.
        len: usize,
    },
    /// No message from the carrier for the configured idle timeout.
    #[error("no message for {0:?}")]
    IdleTimeout(Duration),
    /// The socket closed or failed before the carrier's `bye`.
    #[error("socket lost")]
    SocketLost,
    /// After our `bye`, the carrier's `bye` did not arrive within the bye timeout.
    #[error("no bye from the carrier within {0:?} of ours")]
    ByeTimeout(Duration),
    /// A 46elks format string this crate does not speak (`g722`, `ogg`, `wav`, `mp3`, ...).
    #[error("unsupported audio format {0:?}")]
    UnsupportedFormat(String),
    /// Agent audio refused: the frame would push the audio buffered at the carrier past
    /// `max_buffered`. The session keeps running; send again when there is room.
    #[error("carrier buffer full: {buffered:?} buffered, cap {max:?}")]
    BufferFull {
        /// The estimated audio buffered at the carrier now.
        buffered: Duration,
        /// The configured cap.
        max: Duration,
    },
    /// An agent command while the session cannot carry it (before `hello`, after our `bye`,
    /// or after the session ended).
    #[error("session is not active")]
    NotActive,
    /// A media-layer failure (a frame of the wrong length, a format conversion).
    #[error(transparent)]
    Media(#[from] MediaError),
    /// The WebSocket handshake was refused: a wrong or missing token.
    #[error("unauthorized")]
    Unauthorized,
    /// The simulated carrier could not connect (test support).
    #[error("connect failed: {0}")]
    ConnectFailed(String),
    /// The simulated carrier waited too long for something (test support).
    #[error("timed out waiting for {0}")]
    WaitTimeout(&'static str),
}

impl BridgeError {
    /// The stable code for logs, metrics and API bodies, e.g. `WS_BAD_BASE64`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidJson { .. } => "WS_INVALID_JSON",
            Self::InvalidMessage { .. } => "WS_INVALID_MESSAGE",
            Self::BadBase64(_) => "WS_BAD_BASE64",
            Self::AudioBeforeHello => "WS_AUDIO_BEFORE_HELLO",
            Self::DuplicateHello => "WS_DUPLICATE_HELLO",
            Self::MessageTooLarge { .. } => "WS_MESSAGE_TOO_LARGE",
            Self::BinaryFrame { .. } => "WS_BINARY_FRAME",
            Self::IdleTimeout(_) => "WS_IDLE_TIMEOUT",
            Self::SocketLost => "WS_SOCKET_LOST",
            Self::ByeTimeout(_) => "WS_BYE_TIMEOUT",
            Self::UnsupportedFormat(_) => "WS_UNSUPPORTED_FORMAT",
            Self::BufferFull { .. } => "WS_BUFFER_FULL",
            Self::NotActive => "WS_NOT_ACTIVE",
            Self::Media(_) => "WS_MEDIA",
            Self::Unauthorized => "WS_UNAUTHORIZED",
            Self::ConnectFailed(_) => "WS_CONNECT_FAILED",
            Self::WaitTimeout(_) => "WS_WAIT_TIMEOUT",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_prefixed() {
        let all = [
            BridgeError::InvalidJson {
                detail: String::new(),
            },
            BridgeError::InvalidMessage {
                t: String::new(),
                detail: String::new(),
            },
            BridgeError::BadBase64(base64::DecodeError::InvalidPadding),
            BridgeError::AudioBeforeHello,
            BridgeError::DuplicateHello,
            BridgeError::MessageTooLarge { len: None, max: 1 },
            BridgeError::BinaryFrame { len: 1 },
            BridgeError::IdleTimeout(Duration::ZERO),
            BridgeError::SocketLost,
            BridgeError::ByeTimeout(Duration::ZERO),
            BridgeError::UnsupportedFormat(String::new()),
            BridgeError::BufferFull {
                buffered: Duration::ZERO,
                max: Duration::ZERO,
            },
            BridgeError::NotActive,
            BridgeError::Media(MediaError::UnsupportedRate(1)),
            BridgeError::Unauthorized,
            BridgeError::ConnectFailed(String::new()),
            BridgeError::WaitTimeout("x"),
        ];
        let mut codes: Vec<_> = all.iter().map(BridgeError::code).collect();
        assert!(codes.iter().all(|c| c.starts_with("WS_")));
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
    }
}
