//! A `WWW-Authenticate` / `Proxy-Authenticate` digest challenge (RFC 2617 §3.2.1, RFC 7616
//! §3.3, RFC 3261 §22.1): parsed from a peer, or built and written by voxgate.

use std::fmt;

use crate::SipError;

use super::digest::{Algorithm, Qop};
use super::params::{self, Params};
use super::{AuthErrorKind, err};

/// One digest challenge. Every value in it is safe to write back into a header: parsing and
/// the constructors refuse control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    realm: String,
    nonce: String,
    algorithm: Algorithm,
    qop: Option<Qop>,
    opaque: Option<String>,
    stale: bool,
    domain: Vec<String>,
}

impl Challenge {
    /// A challenge to issue. `nonce` comes from the caller (random, or a timestamp with an
    /// HMAC); it must not be empty. `qop` `None` is the RFC 2069 form, for old clients only.
    pub fn new(
        realm: impl Into<String>,
        nonce: impl Into<String>,
        algorithm: Algorithm,
        qop: Option<Qop>,
    ) -> Result<Self, SipError> {
        let (realm, nonce) = (realm.into(), nonce.into());
        params::check_writable(&realm)?;
        params::check_writable(&nonce)?;
        if nonce.is_empty() {
            return Err(err(AuthErrorKind::MissingNonce));
        }
        Ok(Self {
            realm,
            nonce,
            algorithm,
            qop,
            opaque: None,
            stale: false,
            domain: Vec::new(),
        })
    }

    /// The same challenge with an `opaque` value the client must echo.
    pub fn with_opaque(mut self, opaque: impl Into<String>) -> Result<Self, SipError> {
        let opaque = opaque.into();
        params::check_writable(&opaque)?;
        self.opaque = Some(opaque);
        Ok(self)
    }

    /// The same challenge with `stale` set: the previous nonce had expired but the response
    /// to it was right, so the client retries without asking for a new password.
    pub fn with_stale(mut self, stale: bool) -> Self {
        self.stale = stale;
        self
    }

    /// The same challenge with a `domain` list (URIs the credentials apply to). Each URI
    /// must be non-empty and free of whitespace and control characters.
    pub fn with_domain(mut self, uris: Vec<String>) -> Result<Self, SipError> {
        for uri in &uris {
            if uri.is_empty() || uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(err(AuthErrorKind::UnsafeValue));
            }
        }
        self.domain = uris;
        Ok(self)
    }

    /// Parses a challenge value, e.g. `Digest realm="example.com", nonce="abc", qop="auth"`.
    ///
    /// Needs `realm` and a non-empty `nonce`; `algorithm` defaults to MD5; `qop` is the
    /// option list from which `auth` is picked; `stale` is true only for `true` in any case
    /// (RFC 2617 §3.2.1: anything else is false); unknown parameters are ignored.
    pub fn parse(value: &str) -> Result<Self, SipError> {
        let params = Params::parse_digest(value)?;
        let realm = params
            .get("realm")
            .ok_or(err(AuthErrorKind::MissingRealm))?;
        let nonce = params.get("nonce").filter(|n| !n.is_empty());
        let nonce = nonce.ok_or(err(AuthErrorKind::MissingNonce))?;
        let algorithm = params
            .get("algorithm")
            .map_or(Ok(Algorithm::Md5), Algorithm::from_token)?;
        let qop = params.get("qop").map_or(Ok(None), Qop::choose)?;
        let stale = params
            .get("stale")
            .is_some_and(|s| s.eq_ignore_ascii_case("true"));
        let domain = params
            .get("domain")
            .map(|d| d.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default();
        Ok(Self {
            realm: realm.to_owned(),
            nonce: nonce.to_owned(),
            algorithm,
            qop,
            opaque: params.get("opaque").map(str::to_owned),
            stale,
            domain,
        })
    }

    /// The first challenge of several that voxgate supports. A server may offer one challenge
    /// per algorithm, most preferred first (RFC 8760 §2.3); the client uses the topmost it can
    /// answer (RFC 8760 §2.4). When none can be used, the error is the first one's
    /// ([`AuthErrorKind::BadChallenge`] for no values at all).
    pub fn first_supported<'a>(
        values: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, SipError> {
        let mut first_error = None;
        for value in values {
            match Self::parse(value) {
                Ok(challenge) => return Ok(challenge),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        Err(first_error.unwrap_or(err(AuthErrorKind::BadChallenge)))
    }

    /// The protection space (RFC 2617 §1.2): which username and password to use.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// The server's nonce.
    pub fn nonce(&self) -> &str {
        &self.nonce
    }

    /// The hash to use.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The quality of protection to use; `None` for the RFC 2069 form.
    pub fn qop(&self) -> Option<Qop> {
        self.qop
    }

    /// The value the client echoes back unchanged, if any.
    pub fn opaque(&self) -> Option<&str> {
        self.opaque.as_deref()
    }

    /// Whether the previous nonce was refused only for being stale.
    pub fn stale(&self) -> bool {
        self.stale
    }

    /// The URIs the credentials apply to (empty: the server did not say).
    pub fn domain(&self) -> &[String] {
        &self.domain
    }
}

impl fmt::Display for Challenge {
    /// Writes `Digest realm="..", nonce="..", algorithm=.., qop="auth", opaque="..",
    /// stale=true, domain=".."` (the optional ones only when set).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Digest realm=")?;
        params::write_quoted(f, &self.realm)?;
        f.write_str(", nonce=")?;
        params::write_quoted(f, &self.nonce)?;
        write!(f, ", algorithm={}", self.algorithm)?;
        if let Some(qop) = self.qop {
            write!(f, ", qop=\"{qop}\"")?;
        }
        if let Some(opaque) = &self.opaque {
            f.write_str(", opaque=")?;
            params::write_quoted(f, opaque)?;
        }
        if self.stale {
            f.write_str(", stale=true")?;
        }
        if !self.domain.is_empty() {
            f.write_str(", domain=")?;
            params::write_quoted(f, &self.domain.join(" "))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::tests::kind;

    #[test]
    fn parses_fields_and_defaults() {
        let c = Challenge::parse(
            "Digest realm=\"sip.example.com\", nonce=\"n1\", opaque=\"o\", stale=TRUE, \
             algorithm=SHA-256, qop=\"auth,auth-int\", domain=\"sip:a.example sip:b.example\"",
        )
        .expect("valid challenge");
        assert_eq!(c.realm(), "sip.example.com");
        assert_eq!(c.nonce(), "n1");
        assert_eq!(c.opaque(), Some("o"));
        assert!(c.stale());
        assert_eq!(c.algorithm(), Algorithm::Sha256);
        assert_eq!(c.qop(), Some(Qop::Auth));
        assert_eq!(c.domain(), ["sip:a.example", "sip:b.example"]);

        let bare = Challenge::parse("Digest realm=\"r\", nonce=\"n\"").expect("minimal");
        assert_eq!(bare.algorithm(), Algorithm::Md5);
        assert_eq!(bare.qop(), None);
        assert_eq!(bare.opaque(), None);
        assert!(!bare.stale());
        assert!(bare.domain().is_empty());
    }

    #[test]
    fn stale_is_true_only_for_true() {
        for (value, expected) in [
            ("true", true),
            ("\"TRUE\"", true),
            ("false", false),
            ("yes", false),
        ] {
            let c = Challenge::parse(&format!("Digest realm=r, nonce=n, stale={value}"))
                .expect("valid challenge");
            assert_eq!(c.stale(), expected, "{value}");
        }
    }

    #[test]
    fn refuses_unusable_challenges() {
        let table = [
            ("Digest nonce=\"n\"", AuthErrorKind::MissingRealm),
            ("Digest realm=\"r\"", AuthErrorKind::MissingNonce),
            (
                "Digest realm=\"r\", nonce=\"\"",
                AuthErrorKind::MissingNonce,
            ),
            (
                "Digest realm=r, nonce=n, algorithm=SHA-512-256",
                AuthErrorKind::UnsupportedAlgorithm,
            ),
            (
                "Digest realm=r, nonce=n, algorithm=\"\"",
                AuthErrorKind::UnsupportedAlgorithm,
            ),
            (
                "Digest realm=r, nonce=n, qop=\"auth-int\"",
                AuthErrorKind::UnsupportedQop,
            ),
            (
                "Digest realm=r, nonce=n, nonce=m",
                AuthErrorKind::DuplicateParam,
            ),
            ("Basic realm=\"r\"", AuthErrorKind::UnsupportedScheme),
        ];
        for (value, expected) in table {
            assert_eq!(
                Challenge::parse(value).map_err(kind),
                Err(expected),
                "{value}"
            );
        }
    }

    #[test]
    fn display_round_trips() {
        let c = Challenge::new(
            "voxgate \"test\"",
            "abc/def==",
            Algorithm::Sha256Sess,
            Some(Qop::Auth),
        )
        .and_then(|c| c.with_opaque("op\\aque"))
        .and_then(|c| c.with_domain(vec!["sip:a".into(), "sip:b".into()]))
        .map(|c| c.with_stale(true))
        .expect("valid challenge");
        let written = c.to_string();
        assert_eq!(
            written,
            "Digest realm=\"voxgate \\\"test\\\"\", nonce=\"abc/def==\", algorithm=SHA-256-sess, \
             qop=\"auth\", opaque=\"op\\\\aque\", stale=true, domain=\"sip:a sip:b\""
        );
        assert_eq!(Challenge::parse(&written), Ok(c));

        let legacy = Challenge::new("r", "n", Algorithm::Md5, None).expect("valid");
        assert_eq!(
            legacy.to_string(),
            "Digest realm=\"r\", nonce=\"n\", algorithm=MD5"
        );
        assert_eq!(Challenge::parse(&legacy.to_string()), Ok(legacy));
    }

    #[test]
    fn constructors_refuse_unsafe_values() {
        let new = |realm: &str, nonce: &str| Challenge::new(realm, nonce, Algorithm::Md5, None);
        assert_eq!(
            new("r\r\n", "n").map_err(kind),
            Err(AuthErrorKind::UnsafeValue)
        );
        assert_eq!(new("r", "").map_err(kind), Err(AuthErrorKind::MissingNonce));
        let ok = new("r", "n").expect("valid");
        assert_eq!(
            ok.clone().with_opaque("\n").map_err(kind),
            Err(AuthErrorKind::UnsafeValue)
        );
        let spaced = ok.with_domain(vec!["sip:a b".into()]);
        assert_eq!(spaced.map_err(kind), Err(AuthErrorKind::UnsafeValue));
    }

    #[test]
    fn first_supported_takes_the_topmost_usable() {
        let sha = "Digest realm=r, nonce=n1, algorithm=SHA-512-256";
        let md5 = "Digest realm=r, nonce=n2, algorithm=MD5";
        let sha256 = "Digest realm=r, nonce=n3, algorithm=SHA-256";
        let picked = Challenge::first_supported([sha, sha256, md5]).expect("one is supported");
        assert_eq!(picked.nonce(), "n3");
        let none = Challenge::first_supported([sha, "Basic realm=x"]).map_err(kind);
        assert_eq!(none, Err(AuthErrorKind::UnsupportedAlgorithm));
        let empty = Challenge::first_supported([]).map_err(kind);
        assert_eq!(empty, Err(AuthErrorKind::BadChallenge));
    }
}
