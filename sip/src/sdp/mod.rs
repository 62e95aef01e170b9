//! RFC 4566 session descriptions and RFC 3264 offer/answer for one audio stream.

/// Why a session description was refused; a stable code for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SdpErrorKind {
    /// A line that is not `<type>=<value>`.
    BadLine,
}

impl SdpErrorKind {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::BadLine => "SDP_BAD_LINE",
        }
    }
}
crate::error::display_as_code!(SdpErrorKind);
