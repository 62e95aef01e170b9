//! An `Authorization` / `Proxy-Authorization` digest credentials value (RFC 2617 §3.2.2,
//! RFC 7616 §3.4, RFC 3261 §22.2 and §22.3): written by [`DigestClient`](super::DigestClient),
//! parsed by [`Verifier`](super::Verifier).

use std::fmt;

use crate::SipError;

use super::digest::{self, Algorithm, Qop};
use super::params::{self, Params};
use super::{AuthErrorKind, err};

/// Digest credentials: the answer to one [`Challenge`](super::Challenge). Every value in it
/// is safe to write into a header (no control characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub(crate) username: String,
    pub(crate) realm: String,
    pub(crate) nonce: String,
    pub(crate) uri: String,
    pub(crate) response: String,
    pub(crate) algorithm: Algorithm,
    pub(crate) cnonce: Option<String>,
    /// `qop` and its nonce count, which RFC 2617 §3.2.2 sends together.
    pub(crate) qop: Option<(Qop, u32)>,
    pub(crate) opaque: Option<String>,
}

impl Authorization {
    /// Parses a credentials value, e.g. `Digest username="alice", realm="r", nonce="n",
    /// uri="sip:r", response="..."`.
    ///
    /// Needs `username`, `realm`, a non-empty `nonce`, `uri` and `response`; with `qop`,
    /// also `cnonce` and an 8-hex-digit `nc`; with a `-sess` algorithm, `cnonce`. `qop`,
    /// `nc` and `algorithm` are accepted quoted too (some clients quote them).
    pub fn parse(value: &str) -> Result<Self, SipError> {
        let params = Params::parse_digest(value)?;
        let required = |name: &str| {
            params
                .get(name)
                .map(str::to_owned)
                .ok_or(err(AuthErrorKind::IncompleteCredentials))
        };
        let nonce = params.get("nonce").filter(|n| !n.is_empty());
        let nonce = nonce.ok_or(err(AuthErrorKind::MissingNonce))?.to_owned();
        let algorithm = params
            .get("algorithm")
            .map_or(Ok(Algorithm::Md5), Algorithm::from_token)?;
        let cnonce = params.get("cnonce").map(str::to_owned);
        let qop = match params.get("qop") {
            Some(qop) => {
                let qop = Qop::from_token(qop)?;
                let nc = params
                    .get("nc")
                    .ok_or(err(AuthErrorKind::IncompleteCredentials))?;
                Some((qop, digest::parse_nc(nc)?))
            }
            None => None,
        };
        if (qop.is_some() || algorithm.is_session()) && cnonce.is_none() {
            return Err(err(AuthErrorKind::IncompleteCredentials));
        }
        Ok(Self {
            username: required("username")?,
            realm: required("realm")?,
            nonce,
            uri: required("uri")?,
            response: required("response")?,
            algorithm,
            cnonce,
            qop,
            opaque: params.get("opaque").map(str::to_owned),
        })
    }

    /// The user the credentials are for.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The realm answered.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// The nonce answered.
    pub fn nonce(&self) -> &str {
        &self.nonce
    }

    /// The `digest-uri`: the Request-URI of the request (RFC 3261 §22.4 item 3).
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The response hash, hex, as sent.
    pub fn response(&self) -> &str {
        &self.response
    }

    /// The hash used.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The client nonce, if any.
    pub fn cnonce(&self) -> Option<&str> {
        self.cnonce.as_deref()
    }

    /// The quality of protection used; `None` for the RFC 2069 form.
    pub fn qop(&self) -> Option<Qop> {
        self.qop.map(|(qop, _)| qop)
    }

    /// The nonce count (`nc`), present exactly when `qop` is.
    pub fn nonce_count(&self) -> Option<u32> {
        self.qop.map(|(_, nc)| nc)
    }

    /// The challenge's `opaque`, echoed back.
    pub fn opaque(&self) -> Option<&str> {
        self.opaque.as_deref()
    }
}

impl fmt::Display for Authorization {
    /// Writes `Digest username="..", realm="..", nonce="..", uri="..", response="..",
    /// algorithm=.., cnonce="..", qop=auth, nc=00000001, opaque=".."`; `cnonce`, `qop`,
    /// `nc` and `opaque` only when set. `qop` and `nc` are unquoted (RFC 2617 §3.2.2).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let quoted = [
            ("username", self.username.as_str()),
            ("realm", &self.realm),
            ("nonce", &self.nonce),
            ("uri", &self.uri),
            ("response", &self.response),
        ];
        f.write_str("Digest ")?;
        for (i, (name, value)) in quoted.into_iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{name}=")?;
            params::write_quoted(f, value)?;
        }
        write!(f, ", algorithm={}", self.algorithm)?;
        if let Some(cnonce) = &self.cnonce {
            f.write_str(", cnonce=")?;
            params::write_quoted(f, cnonce)?;
        }
        if let Some((qop, nc)) = self.qop {
            write!(f, ", qop={qop}, nc={}", digest::nc_hex(nc))?;
        }
        if let Some(opaque) = &self.opaque {
            f.write_str(", opaque=")?;
            params::write_quoted(f, opaque)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::tests::kind;

    const FULL: &str = "Digest username=\"alice\", realm=\"r\", nonce=\"n\", \
        uri=\"sip:r\", response=\"0123\", algorithm=MD5, cnonce=\"c\", qop=auth, nc=0000000a, \
        opaque=\"o\"";

    #[test]
    fn parses_and_writes_back_the_same_text() {
        let a = Authorization::parse(FULL).expect("valid credentials");
        assert_eq!(a.username(), "alice");
        assert_eq!(a.realm(), "r");
        assert_eq!(a.nonce(), "n");
        assert_eq!(a.uri(), "sip:r");
        assert_eq!(a.response(), "0123");
        assert_eq!(a.algorithm(), Algorithm::Md5);
        assert_eq!(a.cnonce(), Some("c"));
        assert_eq!(a.qop(), Some(Qop::Auth));
        assert_eq!(a.nonce_count(), Some(10));
        assert_eq!(a.opaque(), Some("o"));
        assert_eq!(a.to_string(), FULL);
    }

    #[test]
    fn accepts_quoted_qop_nc_and_algorithm() {
        let value = "Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"sip:r\", \
            response=\"x\", algorithm=\"SHA-256\", cnonce=\"c\", qop=\"auth\", nc=\"00000002\"";
        let a = Authorization::parse(value).expect("quoted but valid");
        assert_eq!(
            (a.algorithm(), a.qop(), a.nonce_count()),
            (Algorithm::Sha256, Some(Qop::Auth), Some(2))
        );
    }

    #[test]
    fn legacy_credentials_have_no_qop() {
        let value =
            "Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"sip:r\", response=\"x\"";
        let a = Authorization::parse(value).expect("RFC 2069 credentials");
        assert_eq!((a.qop(), a.nonce_count(), a.cnonce()), (None, None, None));
        assert_eq!(a.to_string(), format!("{value}, algorithm=MD5"));
    }

    #[test]
    fn refuses_incomplete_credentials() {
        let base = "realm=\"r\", nonce=\"n\", uri=\"sip:r\", response=\"x\"";
        let table = [
            (
                format!("Digest {base}"),
                AuthErrorKind::IncompleteCredentials,
            ),
            (
                format!("Digest username=u, {base}, qop=auth, nc=00000001"),
                AuthErrorKind::IncompleteCredentials,
            ),
            (
                format!("Digest username=u, {base}, qop=auth, cnonce=c"),
                AuthErrorKind::IncompleteCredentials,
            ),
            (
                format!("Digest username=u, {base}, algorithm=MD5-sess"),
                AuthErrorKind::IncompleteCredentials,
            ),
            (
                format!("Digest username=u, {base}, qop=auth, cnonce=c, nc=1"),
                AuthErrorKind::BadNonceCount,
            ),
            (
                format!("Digest username=u, {base}, qop=auth-int, cnonce=c, nc=00000001"),
                AuthErrorKind::UnsupportedQop,
            ),
            (
                format!("Digest username=u, {base}, algorithm=SHA-1"),
                AuthErrorKind::UnsupportedAlgorithm,
            ),
            (
                "Digest username=u, realm=r, uri=u, response=x".to_owned(),
                AuthErrorKind::MissingNonce,
            ),
            (
                "Digest username=u, realm=r, nonce=\"\", uri=u, response=x".to_owned(),
                AuthErrorKind::MissingNonce,
            ),
        ];
        for (value, expected) in table {
            assert_eq!(
                Authorization::parse(&value).map_err(kind),
                Err(expected),
                "{value}"
            );
        }
    }
}
