//! The digest computation itself (RFC 2617 §3.2.2, RFC 7616 §3.4.1-§3.4.3):
//!
//! ```text
//! A1       = username ":" realm ":" password
//! A1-sess  = H(username ":" realm ":" password) ":" nonce ":" cnonce
//! A2       = method ":" digest-uri                          (qop=auth or no qop)
//! response = H( H(A1) ":" nonce ":" nc ":" cnonce ":" qop ":" H(A2) )   with qop
//! response = H( H(A1) ":" nonce ":" H(A2) )                            without (RFC 2069)
//! ```
//!
//! `H` is MD5 or SHA-256 written as lower-case hex (RFC 7616 §3.4 "KD" and "H").

use std::fmt;

use md5::Md5;
use sha2::{Digest, Sha256};

use crate::SipError;

use super::{AuthErrorKind, err};

/// The hash a challenge names (RFC 7616 §3.3 `algorithm`; RFC 8760 §2 for SIP).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Algorithm {
    /// MD5, the default when a challenge names none (RFC 2617 §3.2.1).
    #[default]
    Md5,
    /// MD5 with the session variant of A1.
    Md5Sess,
    /// SHA-256 (RFC 7616, RFC 8760).
    Sha256,
    /// SHA-256 with the session variant of A1.
    Sha256Sess,
}

impl Algorithm {
    /// Parses an `algorithm` value, case-insensitively (RFC 7616 §3.3 calls the names
    /// tokens, and some servers write `md5`).
    pub fn from_token(token: &str) -> Result<Self, SipError> {
        [Self::Md5, Self::Md5Sess, Self::Sha256, Self::Sha256Sess]
            .into_iter()
            .find(|a| a.token().eq_ignore_ascii_case(token))
            .ok_or(err(AuthErrorKind::UnsupportedAlgorithm))
    }

    /// The name as RFC 7616 §3.3 writes it.
    pub fn token(self) -> &'static str {
        match self {
            Self::Md5 => "MD5",
            Self::Md5Sess => "MD5-sess",
            Self::Sha256 => "SHA-256",
            Self::Sha256Sess => "SHA-256-sess",
        }
    }

    /// Whether A1 is the session variant, which needs a cnonce.
    pub fn is_session(self) -> bool {
        matches!(self, Self::Md5Sess | Self::Sha256Sess)
    }

    /// Whether the hash is SHA-256 (preferred over MD5 when a server offers both).
    pub fn is_sha256(self) -> bool {
        matches!(self, Self::Sha256 | Self::Sha256Sess)
    }

    /// `H(parts joined with ":")` as lower-case hex.
    pub(crate) fn hash_hex(self, parts: &[&str]) -> String {
        if self.is_sha256() {
            joined_hex::<Sha256>(parts)
        } else {
            joined_hex::<Md5>(parts)
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.token())
    }
}

/// The quality of protection voxgate uses (RFC 2617 §3.2.1 `qop`). `auth-int`, which hashes
/// the body, is not supported: SIP servers offering it offer `auth` too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Qop {
    /// Authentication only.
    Auth,
}

impl Qop {
    /// Picks `auth` from a challenge's `qop` option list (`"auth,auth-int"`); `None` when the
    /// list is empty, an error when it offers only options voxgate does not speak.
    pub(crate) fn choose(options: &str) -> Result<Option<Self>, SipError> {
        let mut offered = options
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .peekable();
        if offered.peek().is_none() {
            return Ok(None);
        }
        if offered.any(|o| o.eq_ignore_ascii_case("auth")) {
            Ok(Some(Self::Auth))
        } else {
            Err(err(AuthErrorKind::UnsupportedQop))
        }
    }

    /// Parses the one `qop` value credentials carry.
    pub(crate) fn from_token(token: &str) -> Result<Self, SipError> {
        if token.eq_ignore_ascii_case("auth") {
            Ok(Self::Auth)
        } else {
            Err(err(AuthErrorKind::UnsupportedQop))
        }
    }

    /// The value as written.
    pub fn token(self) -> &'static str {
        match self {
            Self::Auth => "auth",
        }
    }
}

impl fmt::Display for Qop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.token())
    }
}

/// Everything one response is computed from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DigestInput<'a> {
    pub(crate) algorithm: Algorithm,
    pub(crate) username: &'a str,
    pub(crate) realm: &'a str,
    pub(crate) password: &'a str,
    pub(crate) nonce: &'a str,
    pub(crate) method: &'a str,
    pub(crate) uri: &'a str,
    /// `qop` with its nonce count and cnonce; `None` is the RFC 2069 form.
    pub(crate) qop: Option<(Qop, u32)>,
    pub(crate) cnonce: Option<&'a str>,
}

impl DigestInput<'_> {
    /// The `response` value as lower-case hex.
    pub(crate) fn response(&self) -> Result<String, SipError> {
        let h = |parts: &[&str]| self.algorithm.hash_hex(parts);
        let mut ha1 = h(&[self.username, self.realm, self.password]);
        if self.algorithm.is_session() {
            let cnonce = self
                .cnonce
                .ok_or(err(AuthErrorKind::IncompleteCredentials))?;
            ha1 = h(&[&ha1, self.nonce, cnonce]);
        }
        let ha2 = h(&[self.method, self.uri]);
        Ok(match self.qop {
            Some((qop, nc)) => {
                let cnonce = self
                    .cnonce
                    .ok_or(err(AuthErrorKind::IncompleteCredentials))?;
                h(&[&ha1, self.nonce, &nc_hex(nc), cnonce, qop.token(), &ha2])
            }
            None => h(&[&ha1, self.nonce, &ha2]),
        })
    }
}

/// An `nc` value as written: 8 lower-case hex digits (RFC 2617 §3.2.2 `nc-value`).
pub(crate) fn nc_hex(nc: u32) -> String {
    format!("{nc:08x}")
}

/// Parses an `nc` value: exactly 8 hex digits.
pub(crate) fn parse_nc(value: &str) -> Result<u32, SipError> {
    if value.len() != 8 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(err(AuthErrorKind::BadNonceCount));
    }
    u32::from_str_radix(value, 16).map_err(|_| err(AuthErrorKind::BadNonceCount))
}

fn joined_hex<D: Digest>(parts: &[&str]) -> String {
    let mut hasher = D::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            hasher.update(b":");
        }
        hasher.update(part.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// Compares two responses without stopping at the first differing byte, so that the time
/// taken does not tell an attacker how much of a guessed response was right. The length is
/// not secret (it is the hash's), so unequal lengths return at once.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::tests::kind;

    #[test]
    fn algorithm_tokens_round_trip() {
        let table = [
            ("MD5", Algorithm::Md5),
            ("md5", Algorithm::Md5),
            ("MD5-sess", Algorithm::Md5Sess),
            ("MD5-SESS", Algorithm::Md5Sess),
            ("SHA-256", Algorithm::Sha256),
            ("sha-256-sess", Algorithm::Sha256Sess),
        ];
        for (token, expected) in table {
            assert_eq!(Algorithm::from_token(token), Ok(expected), "{token}");
            assert_eq!(Algorithm::from_token(expected.token()), Ok(expected));
        }
        for bad in ["", "SHA-512-256", "SHA256", "AKAv1-MD5", "MD5 "] {
            let expected = Err(err(AuthErrorKind::UnsupportedAlgorithm));
            assert_eq!(Algorithm::from_token(bad), expected, "{bad:?}");
        }
    }

    #[test]
    fn qop_choice() {
        let table: &[(&str, Result<Option<Qop>, AuthErrorKind>)] = &[
            ("auth", Ok(Some(Qop::Auth))),
            ("auth,auth-int", Ok(Some(Qop::Auth))),
            ("auth-int, auth", Ok(Some(Qop::Auth))),
            (" AUTH ", Ok(Some(Qop::Auth))),
            ("", Ok(None)),
            (" , ", Ok(None)),
            ("auth-int", Err(AuthErrorKind::UnsupportedQop)),
            ("auth-conf", Err(AuthErrorKind::UnsupportedQop)),
            ("authx", Err(AuthErrorKind::UnsupportedQop)),
        ];
        for (options, expected) in table {
            let got = Qop::choose(options).map_err(kind);
            assert_eq!(&got, expected, "{options:?}");
        }
    }

    #[test]
    fn hashes_are_lower_case_hex_of_the_joined_parts() {
        // MD5("") and SHA-256("a:b") from their definitions, computed independently.
        assert_eq!(
            Algorithm::Md5.hash_hex(&[""]),
            "d41d8cd98f00b204e9800998ecf8427e"
        );
        assert_eq!(
            Algorithm::Md5.hash_hex(&["a", "b"]),
            Algorithm::Md5.hash_hex(&["a:b"])
        );
        assert_eq!(
            Algorithm::Sha256.hash_hex(&["abc"]),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            Algorithm::Sha256Sess.hash_hex(&["abc"]),
            Algorithm::Sha256.hash_hex(&["abc"])
        );
    }

    #[test]
    fn nonce_counts() {
        assert_eq!(nc_hex(1), "00000001");
        assert_eq!(nc_hex(0xdead_beef), "deadbeef");
        assert_eq!(parse_nc("00000001"), Ok(1));
        assert_eq!(parse_nc("DEADBEEF"), Ok(0xdead_beef));
        for bad in ["1", "000000001", "+0000001", "0000000g", "", "0000 001"] {
            assert_eq!(
                parse_nc(bad),
                Err(err(AuthErrorKind::BadNonceCount)),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(constant_time_eq(b"", b""));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
