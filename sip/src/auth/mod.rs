//! RFC 7616 / RFC 2617 digest authentication.

/// Why a challenge or credentials could not be used; a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthErrorKind {
    /// A challenge that does not parse.
    BadChallenge,
}

impl AuthErrorKind {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::BadChallenge => "SIP_AUTH_BAD_CHALLENGE",
        }
    }
}
crate::error::display_as_code!(AuthErrorKind);
