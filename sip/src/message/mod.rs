//! SIP messages: parsing behind limits, the header accessors the layers above use, and the
//! responses a UAS builds from a request.
//!
//! `rsip` holds the syntax. This module stands in front of it so that what reaches the
//! transaction and dialog layers is a message RFC 3261 §8.1.1 would call well-formed, and so
//! that everything else is a typed [`MessageErrorKind`] carrying the status a UAS answers
//! with ([`MessageErrorKind::status`]): 400 for bad syntax, 416 for a URI scheme voxgate
//! does not serve, 501 for an unknown method, 505 for another SIP version, 513 for a datagram
//! too large. Nothing here panics on any input; `fuzz/` holds the target that checks it.

mod build;
mod headers;
mod lexer;
mod parse;

pub use build::{refusal, response_to, with_to_tag};
pub use headers::{Summary, branch_of, summarize};
pub use parse::{MAX_DATAGRAM, is_keepalive, parse};

/// Why a datagram was refused as a SIP message; a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessageErrorKind {
    /// Larger than a UDP datagram can be.
    TooLarge,
    /// Nothing but line ends.
    EmptyMessage,
    /// No empty line ends the head.
    NoHeaderEnd,
    /// The head is not UTF-8.
    NotUtf8,
    /// Neither a request line nor a status line.
    BadStartLine,
    /// A SIP version other than 2.0.
    VersionNotSupported,
    /// A request method voxgate does not know.
    UnknownMethod,
    /// A Request-URI scheme other than `sip` or `sips`.
    UnsupportedUriScheme,
    /// A header line without a colon or with a control character (HTAB aside), or a
    /// continuation line with nothing to continue.
    BadHeaderLine,
    /// A header name that is not a token.
    BadHeaderName,
    /// A header line longer than voxgate reads.
    HeaderTooLong,
    /// More header fields than voxgate reads.
    TooManyHeaders,
    /// A Content-Length that is not one run of digits.
    BadContentLength,
    /// A body shorter than its Content-Length.
    BodyTruncated,
    /// `rsip` could not parse the canonical form.
    Syntax,
    /// No Via.
    MissingVia,
    /// A Via that does not parse.
    BadVia,
    /// No From.
    MissingFrom,
    /// A From that does not parse.
    BadFrom,
    /// No To.
    MissingTo,
    /// A To that does not parse.
    BadTo,
    /// No (or an empty) Call-ID.
    MissingCallId,
    /// No CSeq.
    MissingCSeq,
    /// A CSeq that does not parse, or a sequence number of 2^31 or more.
    BadCSeq,
    /// A request whose CSeq names another method.
    CSeqMethodMismatch,
    /// A Max-Forwards that is not a number from 0 to 255.
    BadMaxForwards,
    /// A header that may appear once (From, To, Call-ID, CSeq, Max-Forwards) appears again.
    RepeatedHeader,
}

impl MessageErrorKind {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::TooLarge => "SIP_MESSAGE_TOO_LARGE",
            Self::EmptyMessage => "SIP_MESSAGE_EMPTY",
            Self::NoHeaderEnd => "SIP_MESSAGE_NO_HEADER_END",
            Self::NotUtf8 => "SIP_MESSAGE_NOT_UTF8",
            Self::BadStartLine => "SIP_MESSAGE_BAD_START_LINE",
            Self::VersionNotSupported => "SIP_MESSAGE_VERSION_NOT_SUPPORTED",
            Self::UnknownMethod => "SIP_MESSAGE_UNKNOWN_METHOD",
            Self::UnsupportedUriScheme => "SIP_MESSAGE_UNSUPPORTED_URI_SCHEME",
            Self::BadHeaderLine => "SIP_MESSAGE_BAD_HEADER_LINE",
            Self::BadHeaderName => "SIP_MESSAGE_BAD_HEADER_NAME",
            Self::HeaderTooLong => "SIP_MESSAGE_HEADER_TOO_LONG",
            Self::TooManyHeaders => "SIP_MESSAGE_TOO_MANY_HEADERS",
            Self::BadContentLength => "SIP_MESSAGE_BAD_CONTENT_LENGTH",
            Self::BodyTruncated => "SIP_MESSAGE_BODY_TRUNCATED",
            Self::Syntax => "SIP_MESSAGE_SYNTAX",
            Self::MissingVia => "SIP_MESSAGE_MISSING_VIA",
            Self::BadVia => "SIP_MESSAGE_BAD_VIA",
            Self::MissingFrom => "SIP_MESSAGE_MISSING_FROM",
            Self::BadFrom => "SIP_MESSAGE_BAD_FROM",
            Self::MissingTo => "SIP_MESSAGE_MISSING_TO",
            Self::BadTo => "SIP_MESSAGE_BAD_TO",
            Self::MissingCallId => "SIP_MESSAGE_MISSING_CALL_ID",
            Self::MissingCSeq => "SIP_MESSAGE_MISSING_CSEQ",
            Self::BadCSeq => "SIP_MESSAGE_BAD_CSEQ",
            Self::CSeqMethodMismatch => "SIP_MESSAGE_CSEQ_METHOD_MISMATCH",
            Self::BadMaxForwards => "SIP_MESSAGE_BAD_MAX_FORWARDS",
            Self::RepeatedHeader => "SIP_MESSAGE_REPEATED_HEADER",
        }
    }

    /// The status a UAS answers a request refused for this reason with (RFC 3261 §8.2,
    /// §18.1.1, §21): 513, 505, 501, 416, or 400.
    pub fn status(self) -> u16 {
        match self {
            Self::TooLarge => 513,
            Self::VersionNotSupported => 505,
            Self::UnknownMethod => 501,
            Self::UnsupportedUriScheme => 416,
            _ => 400,
        }
    }
}
crate::error::display_as_code!(MessageErrorKind);

impl From<MessageErrorKind> for crate::SipError {
    fn from(kind: MessageErrorKind) -> Self {
        Self::Message { kind }
    }
}

#[cfg(test)]
mod tests;
