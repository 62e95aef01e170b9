//! The one error type of the media crate.

use crate::time::SampleRate;

/// Everything that can go wrong in the media layer. Variants carry data, not prose.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MediaError {
    /// A sample rate that is zero, above 48 kHz, or not a whole number of samples per 20 ms.
    #[error("unsupported sample rate {0} Hz")]
    UnsupportedRate(u32),
    /// A buffer handed in has the wrong number of samples or bytes.
    #[error("buffer length {actual}, expected {expected}")]
    BufferLength {
        /// What the operation needed.
        expected: usize,
        /// What it got.
        actual: usize,
    },
    /// A frame arrived at a rate other than the one the component was built for.
    #[error("frame at {actual}, expected {expected}")]
    RateMismatch {
        /// The rate the component was built for.
        expected: SampleRate,
        /// The rate of the frame.
        actual: SampleRate,
    },
    /// An RTP packet shorter than its header says, or with a bad version.
    #[error("malformed RTP packet: {0}")]
    Rtp(RtpErrorKind),
    /// An RFC 4733 telephone-event payload that is not 4 bytes or names an unknown event.
    #[error("malformed telephone-event payload")]
    TelephoneEvent,
    /// libopus refused an operation; the code is libopus' own.
    #[error("opus error {0}")]
    Opus(i32),
    /// The resampler could not be built or refused a buffer.
    #[error("resampler: {0}")]
    Resampler(String),
    /// An audio file could not be opened or decoded.
    #[error("audio file {path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// What the decoder said.
        reason: String,
    },
}

/// Why an RTP packet was rejected; a stable code for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RtpErrorKind {
    /// Fewer than 12 bytes.
    TooShort,
    /// Version field other than 2.
    BadVersion,
    /// CSRC list runs past the end of the packet.
    CsrcOverrun,
    /// Header extension runs past the end of the packet.
    ExtensionOverrun,
    /// Padding count is zero or larger than the payload.
    BadPadding,
    /// The output buffer is too small to write the packet.
    OutputTooSmall,
}

impl std::fmt::Display for RtpErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let code = match self {
            Self::TooShort => "RTP_TOO_SHORT",
            Self::BadVersion => "RTP_BAD_VERSION",
            Self::CsrcOverrun => "RTP_CSRC_OVERRUN",
            Self::ExtensionOverrun => "RTP_EXTENSION_OVERRUN",
            Self::BadPadding => "RTP_BAD_PADDING",
            Self::OutputTooSmall => "RTP_OUTPUT_TOO_SMALL",
        };
        f.write_str(code)
    }
}
