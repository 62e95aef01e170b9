//! The per-call RTP session.

/// Why the RTP session refused a packet or a command; a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RtpSessionErrorKind {
    /// A payload type the negotiated session does not carry.
    UnknownPayloadType,
}

impl RtpSessionErrorKind {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::UnknownPayloadType => "RTP_UNKNOWN_PAYLOAD_TYPE",
        }
    }
}
crate::error::display_as_code!(RtpSessionErrorKind);
