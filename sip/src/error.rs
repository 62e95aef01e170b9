//! The one error type of the SIP crate, and the stable codes of its kinds.
//!
//! Each layer names why it refused something with a small `Copy` kind enum defined next to
//! the code that raises it ([`MessageErrorKind`], [`SdpErrorKind`], [`AuthErrorKind`], [`DialogErrorKind`],
//! [`TransactionErrorKind`], [`RtpSessionErrorKind`]); [`SipError`] wraps them with the data
//! a log line needs. [`SipError::code`] is the stable machine-readable code
//! (`SIP_MESSAGE_...`, `SDP_...`, ...) that metrics and API errors carry.

pub use crate::auth::AuthErrorKind;
pub use crate::dialog::DialogErrorKind;
pub use crate::message::MessageErrorKind;
pub use crate::rtp::RtpSessionErrorKind;
pub use crate::sdp::SdpErrorKind;
pub use crate::transaction::TransactionErrorKind;

/// Everything that can go wrong in the SIP layer. Variants carry data, not prose.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SipError {
    /// A datagram that is not a SIP message voxgate accepts.
    #[error("SIP message refused: {kind}")]
    Message {
        /// Why.
        kind: MessageErrorKind,
    },
    /// A session description that does not parse, or an offer with nothing to answer.
    #[error("SDP refused at line {line}: {kind}")]
    Sdp {
        /// Why.
        kind: SdpErrorKind,
        /// 1-based line of the description (0: the description as a whole).
        line: u32,
    },
    /// A digest challenge or credentials that cannot be used.
    #[error("digest authentication: {kind}")]
    Auth {
        /// Why.
        kind: AuthErrorKind,
    },
    /// A dialog refused a message, or could not be made from one.
    #[error("dialog: {kind}")]
    Dialog {
        /// Why.
        kind: DialogErrorKind,
    },
    /// A transaction refused an input.
    #[error("transaction: {kind}")]
    Transaction {
        /// Why.
        kind: TransactionErrorKind,
    },
    /// The RTP session refused a packet or a command.
    #[error("RTP session: {kind}")]
    RtpSession {
        /// Why.
        kind: RtpSessionErrorKind,
    },
    /// The media layer refused audio (codec, RTP header, resampler).
    #[error(transparent)]
    Media(#[from] voxgate_media::MediaError),
}

impl SipError {
    /// The stable code of this error, for logs, metrics and API errors.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Message { kind } => kind.code(),
            Self::Sdp { kind, .. } => kind.code(),
            Self::Auth { kind } => kind.code(),
            Self::Dialog { kind } => kind.code(),
            Self::Transaction { kind } => kind.code(),
            Self::RtpSession { kind } => kind.code(),
            Self::Media(_) => "SIP_MEDIA",
        }
    }
}

/// Writes a kind enum's `Display` as its stable code.
macro_rules! display_as_code {
    ($kind:ty) => {
        impl std::fmt::Display for $kind {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}
pub(crate) use display_as_code;
