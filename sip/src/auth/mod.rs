//! RFC 3261 §22 digest authentication: RFC 2617 and RFC 7616 digest with MD5 and SHA-256
//! (RFC 8760 brings SHA-256 to SIP), `qop=auth`, and the RFC 2069 form without `qop`.
//!
//! The module works on header *values*, not messages, so it does not depend on the message
//! layer: the caller hands in the text of a `WWW-Authenticate` or `Proxy-Authenticate` field
//! (a [`Challenge`]) and gets back the text of the `Authorization` or `Proxy-Authorization`
//! field to send ([`Authorization`]). [`ChallengeOrigin`] says which pair of headers a 401 or
//! a 407 uses.
//!
//! - Client side (voxgate REGISTERs to carriers and PBXes and answers 407s on INVITE):
//!   [`Challenge::parse`] (or [`Challenge::first_supported`] when a server offers one
//!   challenge per algorithm, RFC 8760 §2.4), then [`DigestClient::authorize`] with the
//!   method, the Request-URI and a fresh cnonce. The client counts `nc` per nonce (RFC 7616
//!   §3.4: the count rises with each request under one nonce and starts at 1 for a new one).
//!   [`retry_decision`] says whether a new 401/407 is worth another attempt (a stale nonce)
//!   or means the password is wrong (RFC 2617 §3.2.1 `stale`).
//! - Server side (tests, and an optional registrar check): [`Challenge::new`] plus `Display`
//!   writes a challenge; [`Verifier::verify`] parses credentials, checks they answer the
//!   challenge that was issued, recomputes the response and compares it in constant time.
//!
//! There is no IO, clock or randomness here: nonces and cnonces are made by the caller (with
//! `rand`), which keeps every computation reproducible in tests.
//!
//! Parsing follows RFC 3261 §25.1 (`token`, `quoted-string`, `quoted-pair`) and RFC 7235
//! §2.1 (parameter names are case-insensitive), and is lenient where real peers are sloppy:
//! any amount of whitespace, folded lines, empty list elements, unknown parameters, a
//! quoted `qop`/`nc` in credentials, `=` in unquoted values (a base64 nonce written bare),
//! algorithm names in any case. It is strict where a
//! mistake would change the answer: a duplicated parameter, an unterminated quote, a control
//! character, an unknown algorithm and a value over [`MAX_VALUE_LEN`] are refused. Every
//! refusal is a [`SipError::Auth`] with an [`AuthErrorKind`].

mod authorization;
mod challenge;
mod client;
mod digest;
mod params;
mod retry;
mod verify;

#[cfg(test)]
mod tests;

pub use authorization::Authorization;
pub use challenge::Challenge;
pub use client::{Credentials, DigestClient};
pub use digest::{Algorithm, Qop};
pub use retry::{ChallengeOrigin, Retry, retry_decision};
pub use verify::Verifier;

use crate::SipError;

/// The longest challenge or credentials value accepted, in bytes. Real ones are under 512
/// bytes (a long opaque and a SHA-256 response included); the bound keeps a hostile peer
/// from making the parser work on megabytes.
pub const MAX_VALUE_LEN: usize = 4 * 1024;

/// The most parameters accepted in one challenge or credentials value (a real one has at
/// most ten).
pub const MAX_PARAMS: usize = 32;

/// Why a challenge or credentials could not be used; a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthErrorKind {
    /// A value that is not `<scheme> <name>=<value>, ...`: a parameter without `=` or value,
    /// or garbage between parameters.
    BadChallenge,
    /// A value longer than [`MAX_VALUE_LEN`] or with more than [`MAX_PARAMS`] parameters.
    TooLarge,
    /// A control character (NUL, CR, LF, ...) in the value; RFC 3261 §25.1 allows none.
    BadCharacter,
    /// A quoted string without its closing quote.
    UnterminatedQuote,
    /// The same parameter twice (RFC 7616 §3.3: each directive at most once).
    DuplicateParam,
    /// A scheme other than `Digest` (e.g. `Basic`, which RFC 3261 §22.1 forbids).
    UnsupportedScheme,
    /// An `algorithm` other than MD5, MD5-sess, SHA-256 and SHA-256-sess.
    UnsupportedAlgorithm,
    /// A `qop` that does not include `auth` (only `auth-int`, or an unknown value).
    UnsupportedQop,
    /// A challenge without a `realm`.
    MissingRealm,
    /// A challenge or credentials without a `nonce`, or with an empty one.
    MissingNonce,
    /// Credentials without `username`, `uri` or `response`, or with `qop` but no `cnonce`
    /// or `nc`, or a `-sess` algorithm without `cnonce`.
    IncompleteCredentials,
    /// An `nc` that is not 8 hex digits, or a nonce used 2^32 - 1 times.
    BadNonceCount,
    /// A value to be written (username, URI, method, cnonce, realm, ...) that is empty where
    /// it must not be, or holds a control character that would break the header.
    UnsafeValue,
    /// Credentials for a realm other than the one challenged.
    RealmMismatch,
    /// Credentials whose algorithm, `qop` or `opaque` differ from the challenge issued.
    ChallengeMismatch,
    /// A correct response for a nonce other than the one issued: re-challenge with
    /// `stale=true` (RFC 2617 §3.2.1).
    StaleNonce,
    /// An `nc` not above the last one accepted for this nonce: a replayed request.
    NonceCountReplay,
    /// The password lookup knows no such user.
    UnknownUser,
    /// The response does not match the one computed from the stored password.
    BadResponse,
    /// The server challenged again without `stale=true` after we answered: the username or
    /// password is wrong, and retrying would loop (RFC 2617 §3.2.1).
    CredentialsRejected,
}

impl AuthErrorKind {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::BadChallenge => "SIP_AUTH_BAD_CHALLENGE",
            Self::TooLarge => "SIP_AUTH_TOO_LARGE",
            Self::BadCharacter => "SIP_AUTH_BAD_CHARACTER",
            Self::UnterminatedQuote => "SIP_AUTH_UNTERMINATED_QUOTE",
            Self::DuplicateParam => "SIP_AUTH_DUPLICATE_PARAM",
            Self::UnsupportedScheme => "SIP_AUTH_UNSUPPORTED_SCHEME",
            Self::UnsupportedAlgorithm => "SIP_AUTH_UNSUPPORTED_ALGORITHM",
            Self::UnsupportedQop => "SIP_AUTH_UNSUPPORTED_QOP",
            Self::MissingRealm => "SIP_AUTH_MISSING_REALM",
            Self::MissingNonce => "SIP_AUTH_MISSING_NONCE",
            Self::IncompleteCredentials => "SIP_AUTH_INCOMPLETE_CREDENTIALS",
            Self::BadNonceCount => "SIP_AUTH_BAD_NONCE_COUNT",
            Self::UnsafeValue => "SIP_AUTH_UNSAFE_VALUE",
            Self::RealmMismatch => "SIP_AUTH_REALM_MISMATCH",
            Self::ChallengeMismatch => "SIP_AUTH_CHALLENGE_MISMATCH",
            Self::StaleNonce => "SIP_AUTH_STALE_NONCE",
            Self::NonceCountReplay => "SIP_AUTH_NONCE_COUNT_REPLAY",
            Self::UnknownUser => "SIP_AUTH_UNKNOWN_USER",
            Self::BadResponse => "SIP_AUTH_BAD_RESPONSE",
            Self::CredentialsRejected => "SIP_AUTH_CREDENTIALS_REJECTED",
        }
    }
}
crate::error::display_as_code!(AuthErrorKind);

/// The error for `kind`; every refusal in this module goes through here.
fn err(kind: AuthErrorKind) -> SipError {
    SipError::Auth { kind }
}
