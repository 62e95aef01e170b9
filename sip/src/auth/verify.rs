//! The server side: checking credentials against the challenge that was issued (RFC 2617
//! §3.2.2, RFC 7616 §3.4-§3.5, RFC 3261 §22.4 for what a UAS checks).

use crate::SipError;

use super::authorization::Authorization;
use super::challenge::Challenge;
use super::digest::{DigestInput, constant_time_eq};
use super::{AuthErrorKind, err};

/// Checks credentials answering one issued [`Challenge`].
///
/// The caller makes the nonce (random, or a timestamp and an HMAC), builds the challenge with
/// [`Challenge::new`], sends its `Display` in a 401 or 407, and keeps the `Verifier` for as
/// long as the nonce is valid; a new nonce means a new `Verifier`. The verifier remembers the
/// highest `nc` it accepted, so a replayed request is refused (RFC 7616 §3.4 `nc`). Credentials
/// in the RFC 2069 form carry no `nc` and so have no replay protection; issue `qop="auth"`.
///
/// The refusal kinds are for logs and metrics. The peer should see the same response for
/// all of them (a new 401/407, with `stale=true` only for [`AuthErrorKind::StaleNonce`]), so
/// that it cannot tell an unknown user from a wrong password.
#[derive(Debug, Clone)]
pub struct Verifier {
    issued: Challenge,
    last_nc: Option<u32>,
}

impl Verifier {
    /// A verifier for credentials answering `issued`.
    pub fn new(issued: Challenge) -> Self {
        Self {
            issued,
            last_nc: None,
        }
    }

    /// The challenge this verifier checks answers to.
    pub fn challenge(&self) -> &Challenge {
        &self.issued
    }

    /// Checks an `Authorization` / `Proxy-Authorization` value sent with a request of this
    /// `method`. `password` looks up a user's password by username (in the issued realm).
    ///
    /// In order: the value parses; realm, algorithm and `qop` are the issued ones; the user
    /// exists; the response is right (compared in constant time); the nonce is the issued one
    /// (a right response to another nonce is [`AuthErrorKind::StaleNonce`]); `opaque` is
    /// echoed; `nc` is above the last one accepted. Returns the credentials on success; the
    /// caller should also check that [`Authorization::uri`] is the request's Request-URI.
    pub fn verify<P: AsRef<str>>(
        &mut self,
        credentials: &str,
        method: &str,
        password: impl FnOnce(&str) -> Option<P>,
    ) -> Result<Authorization, SipError> {
        let auth = Authorization::parse(credentials)?;
        if auth.realm() != self.issued.realm() {
            return Err(err(AuthErrorKind::RealmMismatch));
        }
        if auth.algorithm() != self.issued.algorithm() || auth.qop() != self.issued.qop() {
            return Err(err(AuthErrorKind::ChallengeMismatch));
        }
        let password = password(auth.username()).ok_or(err(AuthErrorKind::UnknownUser))?;
        let expected = DigestInput {
            algorithm: auth.algorithm(),
            username: auth.username(),
            realm: auth.realm(),
            password: password.as_ref(),
            nonce: auth.nonce(),
            method,
            uri: auth.uri(),
            qop: auth.qop,
            cnonce: auth.cnonce(),
        }
        .response()?;
        let sent = auth.response().to_ascii_lowercase();
        if !constant_time_eq(sent.as_bytes(), expected.as_bytes()) {
            return Err(err(AuthErrorKind::BadResponse));
        }
        // Only now, with a right response, is an old nonce "stale" rather than an attack
        // (RFC 2617 §3.2.1: stale=true only for a valid digest). The opaque of an old
        // challenge may differ too, so it is checked after this.
        if auth.nonce() != self.issued.nonce() {
            return Err(err(AuthErrorKind::StaleNonce));
        }
        if auth.opaque() != self.issued.opaque() {
            return Err(err(AuthErrorKind::ChallengeMismatch));
        }
        self.accept_count(auth.nonce_count())?;
        Ok(auth)
    }

    /// Refuses an `nc` not above the last accepted one, then remembers it.
    fn accept_count(&mut self, nc: Option<u32>) -> Result<(), SipError> {
        let Some(nc) = nc else { return Ok(()) };
        if self.last_nc.is_some_and(|last| nc <= last) {
            return Err(err(AuthErrorKind::NonceCountReplay));
        }
        self.last_nc = Some(nc);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::tests::kind;
    use crate::auth::{Algorithm, Credentials, DigestClient, Qop};

    const REALM: &str = "voxgate.test";

    fn issued(nonce: &str, algorithm: Algorithm, qop: Option<Qop>) -> Challenge {
        Challenge::new(REALM, nonce, algorithm, qop)
            .and_then(|c| c.with_opaque("op"))
            .expect("valid challenge")
    }

    fn alice(password: &str) -> DigestClient {
        DigestClient::new(Credentials {
            username: "alice".into(),
            password: password.into(),
        })
    }

    fn lookup(user: &str) -> Option<&'static str> {
        (user == "alice").then_some("secret")
    }

    fn answer(client: &mut DigestClient, challenge: &Challenge) -> String {
        client
            .authorize(challenge, "REGISTER", "sip:voxgate.test", "cn")
            .expect("answerable")
            .to_string()
    }

    #[test]
    fn round_trips_every_algorithm_and_qop() {
        let algorithms = [
            Algorithm::Md5,
            Algorithm::Md5Sess,
            Algorithm::Sha256,
            Algorithm::Sha256Sess,
        ];
        for algorithm in algorithms {
            for qop in [Some(Qop::Auth), None] {
                let challenge = issued("n1", algorithm, qop);
                let mut verifier = Verifier::new(challenge.clone());
                let mut client = alice("secret");
                for _ in 0..3 {
                    let value = answer(&mut client, &challenge);
                    let ok = verifier.verify(&value, "REGISTER", lookup);
                    assert_eq!(
                        ok.map(|a| a.username().to_owned()),
                        Ok("alice".into()),
                        "{value}"
                    );
                }
            }
        }
    }

    #[test]
    fn refusals() {
        let challenge = issued("n1", Algorithm::Sha256, Some(Qop::Auth));
        let good = answer(&mut alice("secret"), &challenge);
        let other = |c: Challenge| answer(&mut alice("secret"), &c);
        let table = [
            (
                answer(&mut alice("wrong"), &challenge),
                "REGISTER",
                AuthErrorKind::BadResponse,
            ),
            (good.clone(), "INVITE", AuthErrorKind::BadResponse),
            (
                good.replace("alice", "bob"),
                "REGISTER",
                AuthErrorKind::UnknownUser,
            ),
            (
                good.replace("opaque=\"op\"", "opaque=\"xx\""),
                "REGISTER",
                AuthErrorKind::ChallengeMismatch,
            ),
            (
                good.replace("cnonce=\"cn\"", "cnonce=\"cx\""),
                "REGISTER",
                AuthErrorKind::BadResponse,
            ),
            (
                other(issued("n0", Algorithm::Sha256, Some(Qop::Auth))),
                "REGISTER",
                AuthErrorKind::StaleNonce,
            ),
            (
                other(issued("n1", Algorithm::Md5, Some(Qop::Auth))),
                "REGISTER",
                AuthErrorKind::ChallengeMismatch,
            ),
            (
                other(issued("n1", Algorithm::Sha256, None)),
                "REGISTER",
                AuthErrorKind::ChallengeMismatch,
            ),
            (
                good.replace(REALM, "elsewhere"),
                "REGISTER",
                AuthErrorKind::RealmMismatch,
            ),
            (
                "Digest username=\"alice\"".into(),
                "REGISTER",
                AuthErrorKind::MissingNonce,
            ),
        ];
        for (value, method, expected) in table {
            let mut verifier = Verifier::new(challenge.clone());
            assert_eq!(
                verifier.verify(&value, method, lookup).map_err(kind),
                Err(expected),
                "{value}"
            );
        }
    }

    #[test]
    fn a_wrong_answer_to_an_old_nonce_is_not_stale() {
        let challenge = issued("n1", Algorithm::Md5, Some(Qop::Auth));
        let old = answer(
            &mut alice("wrong"),
            &issued("n0", Algorithm::Md5, Some(Qop::Auth)),
        );
        let result = Verifier::new(challenge)
            .verify(&old, "REGISTER", lookup)
            .map_err(kind);
        assert_eq!(result, Err(AuthErrorKind::BadResponse));
    }

    #[test]
    fn replayed_and_reordered_counts_are_refused() {
        let challenge = issued("n1", Algorithm::Md5, Some(Qop::Auth));
        let mut client = alice("secret");
        let first = answer(&mut client, &challenge);
        let second = answer(&mut client, &challenge);
        let mut verifier = Verifier::new(challenge);
        assert!(verifier.verify(&second, "REGISTER", lookup).is_ok());
        let replay = verifier.verify(&second, "REGISTER", lookup).map_err(kind);
        assert_eq!(replay, Err(AuthErrorKind::NonceCountReplay));
        let late = verifier.verify(&first, "REGISTER", lookup).map_err(kind);
        assert_eq!(late, Err(AuthErrorKind::NonceCountReplay));
    }

    #[test]
    fn upper_case_hex_responses_are_accepted() {
        let challenge = issued("n1", Algorithm::Md5, Some(Qop::Auth));
        let auth = alice("secret")
            .authorize(&challenge, "REGISTER", "sip:r", "cn")
            .expect("valid");
        let value = auth
            .to_string()
            .replace(auth.response(), &auth.response().to_ascii_uppercase());
        assert!(
            Verifier::new(challenge)
                .verify(&value, "REGISTER", lookup)
                .is_ok(),
            "{value}"
        );
    }
}
