//! RTP (RFC 3550) packets, sequence/timestamp extension, and RFC 4733 telephone-events.
//!
//! Parsing borrows from the datagram and never allocates; writing goes into a caller-owned
//! buffer. The parser never panics: every malformed input is a [`MediaError::Rtp`] with a
//! stable [`RtpErrorKind`](crate::error::RtpErrorKind) code (fuzzed in `fuzz/`).
//!
//! [`MediaError::Rtp`]: crate::MediaError::Rtp

mod dtmf;
mod extend;
mod header;

pub use dtmf::{DtmfReceiver, TelephoneEvent, dtmf_digit, dtmf_event};
pub use extend::{SeqExtender, TimestampExtender};
pub use header::{HEADER_LEN, RtpExtension, RtpHeader, RtpPacket, Ssrc};
