//! SIP messages: parsing behind limits, and the header accessors the layers above use.

/// Why a datagram was refused as a SIP message; a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessageErrorKind {
    /// Not SIP syntax.
    Syntax,
}

impl MessageErrorKind {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Syntax => "SIP_MESSAGE_SYNTAX",
        }
    }
}
crate::error::display_as_code!(MessageErrorKind);
