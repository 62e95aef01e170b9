//! The client side: answering a challenge with credentials, counting `nc` per nonce.

use std::fmt;

use crate::SipError;

use super::authorization::Authorization;
use super::challenge::Challenge;
use super::digest::DigestInput;
use super::params;
use super::{AuthErrorKind, err};

/// How many nonces a [`DigestClient`] remembers counts for. A user agent answers a
/// registrar's and a proxy's challenge at the same time at most; a few more cover realms
/// that change nonces between requests. The oldest is forgotten first.
const MAX_TRACKED_NONCES: usize = 8;

/// A username and password for one account. `Debug` does not print the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name, as the carrier or PBX knows it (often the account number).
    pub username: String,
    /// The password.
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Answers digest challenges for one account.
///
/// It remembers the last nonce count used with each recent nonce, so that a client which
/// reuses a nonce for later requests (a REGISTER refresh answering the last challenge
/// pre-emptively) sends `nc=00000002`, `00000003`, ... and a new nonce starts again at
/// `00000001` (RFC 7616 §3.4; a server refuses a repeated count as a replay).
#[derive(Debug, Clone)]
pub struct DigestClient {
    credentials: Credentials,
    /// (nonce, last nc used), oldest first.
    counts: Vec<(String, u32)>,
}

impl DigestClient {
    /// A client for `credentials`, with no nonce seen yet.
    pub fn new(credentials: Credentials) -> Self {
        Self {
            credentials,
            counts: Vec::new(),
        }
    }

    /// The account answered for.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The last nonce count used with `nonce`, if it is one of the recent nonces.
    pub fn nonce_count(&self, nonce: &str) -> Option<u32> {
        self.counts
            .iter()
            .find(|(n, _)| n == nonce)
            .map(|&(_, nc)| nc)
    }

    /// Answers `challenge` for a request with this `method` (`REGISTER`, `INVITE`, ...) and
    /// Request-URI. `cnonce` is a fresh random string from the caller (RFC 7616 §3.4: at
    /// least 64 bits of entropy; used with `qop` and with `-sess` algorithms, ignored
    /// otherwise). Each call counts one request under the challenge's nonce.
    ///
    /// The result's `Display` is the `Authorization` (401) or `Proxy-Authorization` (407)
    /// value; the digest-uri is `uri` as given, which must be the Request-URI as sent
    /// (RFC 3261 §22.4 item 3).
    pub fn authorize(
        &mut self,
        challenge: &Challenge,
        method: &str,
        uri: &str,
        cnonce: &str,
    ) -> Result<Authorization, SipError> {
        params::check_token(method)?;
        params::check_writable(&self.credentials.username)?;
        params::check_writable(uri)?;
        params::check_writable(cnonce)?;
        if uri.is_empty() {
            return Err(err(AuthErrorKind::UnsafeValue));
        }
        let needs_cnonce = challenge.qop().is_some() || challenge.algorithm().is_session();
        if needs_cnonce && cnonce.is_empty() {
            return Err(err(AuthErrorKind::UnsafeValue));
        }
        let nc = self.next_count(challenge.nonce())?;
        let cnonce = needs_cnonce.then(|| cnonce.to_owned());
        let qop = challenge.qop().map(|qop| (qop, nc));
        let response = DigestInput {
            algorithm: challenge.algorithm(),
            username: &self.credentials.username,
            realm: challenge.realm(),
            password: &self.credentials.password,
            nonce: challenge.nonce(),
            method,
            uri,
            qop,
            cnonce: cnonce.as_deref(),
        }
        .response()?;
        self.commit_count(challenge.nonce(), nc);
        Ok(Authorization {
            username: self.credentials.username.clone(),
            realm: challenge.realm().to_owned(),
            nonce: challenge.nonce().to_owned(),
            uri: uri.to_owned(),
            response,
            algorithm: challenge.algorithm(),
            cnonce,
            qop,
            opaque: challenge.opaque().map(str::to_owned),
        })
    }

    /// The count the next request under `nonce` uses.
    fn next_count(&self, nonce: &str) -> Result<u32, SipError> {
        match self.nonce_count(nonce) {
            Some(nc) => nc.checked_add(1).ok_or(err(AuthErrorKind::BadNonceCount)),
            None => Ok(1),
        }
    }

    /// Records that `nc` was used with `nonce`, forgetting the oldest nonce when full.
    fn commit_count(&mut self, nonce: &str, nc: u32) {
        if let Some(entry) = self.counts.iter_mut().find(|(n, _)| n == nonce) {
            entry.1 = nc;
            return;
        }
        if self.counts.len() >= MAX_TRACKED_NONCES {
            self.counts.remove(0);
        }
        self.counts.push((nonce.to_owned(), nc));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::tests::kind;
    use crate::auth::{Algorithm, Qop};

    fn client() -> DigestClient {
        DigestClient::new(Credentials {
            username: "alice".into(),
            password: "secret".into(),
        })
    }

    fn challenge(nonce: &str, qop: Option<Qop>) -> Challenge {
        Challenge::new("voxgate.test", nonce, Algorithm::Md5, qop).expect("valid challenge")
    }

    #[test]
    fn nc_rises_per_nonce_and_restarts_on_a_new_one() {
        let mut c = client();
        let (n1, n2) = (
            challenge("n1", Some(Qop::Auth)),
            challenge("n2", Some(Qop::Auth)),
        );
        let nc = |a: Authorization| a.nonce_count();
        assert_eq!(
            c.authorize(&n1, "REGISTER", "sip:voxgate.test", "c1")
                .map(nc),
            Ok(Some(1))
        );
        assert_eq!(
            c.authorize(&n1, "REGISTER", "sip:voxgate.test", "c2")
                .map(nc),
            Ok(Some(2))
        );
        assert_eq!(
            c.authorize(&n2, "INVITE", "sip:bob@voxgate.test", "c3")
                .map(nc),
            Ok(Some(1))
        );
        assert_eq!(
            c.authorize(&n1, "REGISTER", "sip:voxgate.test", "c4")
                .map(nc),
            Ok(Some(3))
        );
        assert_eq!(
            (
                c.nonce_count("n1"),
                c.nonce_count("n2"),
                c.nonce_count("n3")
            ),
            (Some(3), Some(1), None)
        );
        let written = c
            .authorize(&n2, "BYE", "sip:bob@voxgate.test", "c5")
            .expect("valid")
            .to_string();
        assert!(written.contains(", qop=auth, nc=00000002"), "{written}");
    }

    #[test]
    fn forgets_the_oldest_nonce() {
        let mut c = client();
        for i in 0..=MAX_TRACKED_NONCES {
            let nonce = format!("n{i}");
            c.authorize(
                &challenge(&nonce, Some(Qop::Auth)),
                "REGISTER",
                "sip:r",
                "c",
            )
            .expect("valid");
        }
        assert_eq!(c.nonce_count("n0"), None);
        assert_eq!(c.nonce_count("n1"), Some(1));
        assert_eq!(c.counts.len(), MAX_TRACKED_NONCES);
    }

    #[test]
    fn nc_overflow_is_an_error_not_a_wrap() {
        let mut c = client();
        c.commit_count("n1", u32::MAX);
        let result = c.authorize(&challenge("n1", Some(Qop::Auth)), "REGISTER", "sip:r", "c");
        assert_eq!(result.map_err(kind), Err(AuthErrorKind::BadNonceCount));
        assert_eq!(c.nonce_count("n1"), Some(u32::MAX));
    }

    #[test]
    fn refuses_values_that_would_break_the_header() {
        let ch = challenge("n", Some(Qop::Auth));
        let table = [
            ("REG ISTER", "sip:r", "c"),
            ("", "sip:r", "c"),
            ("REGISTER", "sip:r\r\nVia: x", "c"),
            ("REGISTER", "", "c"),
            ("REGISTER", "sip:r", ""),
            ("REGISTER", "sip:r", "c\n"),
        ];
        let mut c = client();
        for (method, uri, cnonce) in table {
            let result = c.authorize(&ch, method, uri, cnonce).map_err(kind);
            assert_eq!(
                result,
                Err(AuthErrorKind::UnsafeValue),
                "{method:?} {uri:?} {cnonce:?}"
            );
        }
        // Refused requests do not use up a count.
        assert_eq!(c.nonce_count("n"), None);
        let mut evil = DigestClient::new(Credentials {
            username: "a\"\r\n".into(),
            password: "p".into(),
        });
        let result = evil.authorize(&ch, "REGISTER", "sip:r", "c").map_err(kind);
        assert_eq!(result, Err(AuthErrorKind::UnsafeValue));
    }

    #[test]
    fn escapes_quotes_in_the_username_but_hashes_it_raw() {
        let mut c = DigestClient::new(Credentials {
            username: "a\"b".into(),
            password: "p".into(),
        });
        let a = c
            .authorize(&challenge("n", None), "REGISTER", "sip:r", "")
            .expect("valid");
        let written = a.to_string();
        assert!(
            written.starts_with("Digest username=\"a\\\"b\""),
            "{written}"
        );
        let expected = Algorithm::Md5.hash_hex(&[
            &Algorithm::Md5.hash_hex(&["a\"b", "voxgate.test", "p"]),
            "n",
            &Algorithm::Md5.hash_hex(&["REGISTER", "sip:r"]),
        ]);
        assert_eq!(a.response(), expected);
        assert_eq!(Authorization::parse(&written), Ok(a));
    }

    #[test]
    fn debug_hides_the_password() {
        let shown = format!("{:?}", client());
        assert!(
            shown.contains("alice") && !shown.contains("secret"),
            "{shown}"
        );
    }
}
