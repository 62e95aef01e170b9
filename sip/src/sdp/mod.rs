//! RFC 4566 session descriptions and RFC 3264 offer/answer for one audio stream.
//!
//! voxgate's calls carry exactly one audio stream, so this module models SDP as far as a
//! voice user agent needs and no further:
//!
//! - [`SessionDescription`] is a parsed description: the origin, the session-level
//!   connection and direction, and one [`MediaDescription`] per `m=` line with its formats,
//!   `a=rtpmap`/`a=fmtp` maps, `a=ptime`, `a=maxptime`, `a=rtcp`, direction and connection.
//!   Lines and attributes it does not model are kept in order, so nothing a peer wrote is
//!   lost when a description is logged or written back.
//! - [`SessionDescription::parse`] is lenient where real peers are sloppy (`\n` or `\r\n`,
//!   blank lines, trailing whitespace, doubled spaces, lines out of RFC 4566 §5 order,
//!   unknown lines and attributes, a missing `s=` or `t=`) and strict where the call depends
//!   on it: `v=0` comes first, the `o=` line is well formed, every `c=` is `IN IP4`/`IN IP6`
//!   with a literal address of that family, every active `m=` line has a connection address
//!   (RFC 4566 §5.7), and `m=` lines and `a=rtpmap` lines are well formed. Sizes are bounded
//!   ([`MAX_SDP_LEN`], [`MAX_MEDIA`], [`MAX_FORMATS`]). Every refusal is a
//!   [`SipError::Sdp`](crate::SipError::Sdp) with a typed [`SdpErrorKind`] and the 1-based
//!   line it happened on.
//! - `Display` writes canonical SDP: RFC 4566 §5 line order, single spaces, `\r\n`. For any
//!   description `d` the parser returned, `parse(d.to_string()) == d`.
//! - [`answer`], [`offer`] and [`accept_answer`] are RFC 3264 offer/answer reduced to the
//!   one audio stream, producing the call's [`MediaParams`](crate::codec::MediaParams);
//!   [`LocalMedia`] is voxgate's side of it (address, port, codecs, origin version, hold).
//!
//! There is no IO, no clock and no state here beyond [`LocalMedia`]'s origin version, which
//! the dialog that owns it bumps for each changed description (RFC 3264 §8).

mod description;
mod fields;
mod local;
mod negotiate;
mod parse;
mod write;

#[cfg(test)]
mod tests;

pub use description::{
    AddressType, Attribute, Connection, Line, MediaDescription, Origin, Rtcp, RtpMap,
    SessionDescription,
};
pub use local::{
    DEFAULT_PTIME_MS, LocalMedia, OPUS_PAYLOAD_TYPE, TELEPHONE_EVENT_PAYLOAD_TYPE, offer,
};
pub use negotiate::{accept_answer, answer};

/// The largest description accepted, in bytes. A voice offer is well under 2 KiB; a Cisco
/// offer with video and many codecs stays under 8 KiB.
pub const MAX_SDP_LEN: usize = 16 * 1024;

/// The most `m=` lines accepted in one description.
pub const MAX_MEDIA: usize = 64;

/// The most formats accepted on one `m=` line (an RTP payload type is 7 bits: 128 values).
pub const MAX_FORMATS: usize = 128;

/// Why a session description was refused; a stable code for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SdpErrorKind {
    /// A line that is not `<type>=<value>` with a one-letter type.
    BadLine,
    /// The description is larger than [`MAX_SDP_LEN`].
    TooLarge,
    /// The bytes are not UTF-8.
    NotUtf8,
    /// A NUL or another control character (RFC 4566 §5: text fields carry none).
    BadCharacter,
    /// The first line is not `v=` (RFC 4566 §5).
    MissingVersion,
    /// A `v=` line other than `v=0`.
    BadVersion,
    /// No `o=` line before the first `m=` line.
    MissingOrigin,
    /// An `o=` line that is not `<username> <sess-id> <sess-version> IN IP4|IP6 <address>`.
    BadOrigin,
    /// A second `v=`, `o=` or `s=` line, or a second `c=` line in one section.
    DuplicateLine,
    /// A `c=` line that is not `IN IP4|IP6 <address>` with a literal unicast address.
    BadConnection,
    /// An active `m=` line with no `c=` line at media or session level (RFC 4566 §5.7).
    MissingConnection,
    /// An `m=` line that is not `<media> <port>[/<count>] <proto> <fmt>...`, or an RTP
    /// format that is not a payload type 0..=127.
    BadMedia,
    /// More than [`MAX_MEDIA`] `m=` lines.
    TooManyMedia,
    /// More than [`MAX_FORMATS`] formats on one `m=` line.
    TooManyFormats,
    /// An `a=rtpmap` or `a=fmtp` line for a payload type that is malformed.
    BadAttribute,
    /// An offer with active streams none of which voxgate can take: no `RTP/AVP` or
    /// `RTP/AVPF` audio stream with a codec in common (answer with 488 Not Acceptable Here,
    /// RFC 3261 §13.3.1.2).
    NoAcceptableMedia,
    /// An answer whose `m=` lines do not match the offer's in number or media type
    /// (RFC 3264 §6).
    AnswerMismatch,
    /// An answer that rejected the audio stream (port 0).
    AnswerRejected,
    /// An answer whose audio stream names no codec the offer offered.
    AnswerCodecNotOffered,
}

impl SdpErrorKind {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::BadLine => "SDP_BAD_LINE",
            Self::TooLarge => "SDP_TOO_LARGE",
            Self::NotUtf8 => "SDP_NOT_UTF8",
            Self::BadCharacter => "SDP_BAD_CHARACTER",
            Self::MissingVersion => "SDP_MISSING_VERSION",
            Self::BadVersion => "SDP_BAD_VERSION",
            Self::MissingOrigin => "SDP_MISSING_ORIGIN",
            Self::BadOrigin => "SDP_BAD_ORIGIN",
            Self::DuplicateLine => "SDP_DUPLICATE_LINE",
            Self::BadConnection => "SDP_BAD_CONNECTION",
            Self::MissingConnection => "SDP_MISSING_CONNECTION",
            Self::BadMedia => "SDP_BAD_MEDIA",
            Self::TooManyMedia => "SDP_TOO_MANY_MEDIA",
            Self::TooManyFormats => "SDP_TOO_MANY_FORMATS",
            Self::BadAttribute => "SDP_BAD_ATTRIBUTE",
            Self::NoAcceptableMedia => "SDP_NO_ACCEPTABLE_MEDIA",
            Self::AnswerMismatch => "SDP_ANSWER_MISMATCH",
            Self::AnswerRejected => "SDP_ANSWER_REJECTED",
            Self::AnswerCodecNotOffered => "SDP_ANSWER_CODEC_NOT_OFFERED",
        }
    }

    /// This kind as a [`SipError`](crate::SipError) at a 1-based line (0: the whole
    /// description).
    pub(crate) fn at(self, line: u32) -> crate::SipError {
        crate::SipError::Sdp { kind: self, line }
    }
}
crate::error::display_as_code!(SdpErrorKind);
