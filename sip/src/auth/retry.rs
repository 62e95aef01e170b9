//! When to answer a 401/407 again, and which headers a challenge and its answer travel in.

use crate::SipError;

use super::challenge::Challenge;
use super::{AuthErrorKind, err};

/// Who challenged: the registrar or UAS (401) or a proxy on the way (407); RFC 3261 §22.2,
/// §22.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChallengeOrigin {
    /// A 401 Unauthorized from the UAS or registrar.
    Server,
    /// A 407 Proxy Authentication Required from a proxy.
    Proxy,
}

impl ChallengeOrigin {
    /// The origin of a challenging status code; `None` for any other status.
    pub fn from_status(status: u16) -> Option<Self> {
        match status {
            401 => Some(Self::Server),
            407 => Some(Self::Proxy),
            _ => None,
        }
    }

    /// The header the challenge comes in.
    pub fn challenge_header(self) -> &'static str {
        match self {
            Self::Server => "WWW-Authenticate",
            Self::Proxy => "Proxy-Authenticate",
        }
    }

    /// The header the answer goes in.
    pub fn credentials_header(self) -> &'static str {
        match self {
            Self::Server => "Authorization",
            Self::Proxy => "Proxy-Authorization",
        }
    }
}

/// Why answering a challenge again is worth it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Retry {
    /// The rejected request carried no credentials for this challenge: answer it.
    FirstChallenge,
    /// The rejected request answered an older nonce and the server says that nonce is merely
    /// stale (`stale=true`): answer the new nonce with the same password.
    StaleNonce,
}

/// Decides whether to answer a 401/407 `challenge`. `answered` is the nonce the rejected
/// request's credentials answered for this realm, or `None` if it carried none.
///
/// - no credentials sent: [`Retry::FirstChallenge`];
/// - the same nonce challenged again: our response was wrong, whatever `stale` says (a server
///   cannot find a nonce it just issued stale without looping);
/// - a new nonce with `stale=true`: [`Retry::StaleNonce`];
/// - a new nonce without `stale=true`: RFC 2617 §3.2.1 says the username or password is
///   invalid.
///
/// The last two give up with [`AuthErrorKind::CredentialsRejected`], so that a wrong
/// password costs one extra request, not a loop. Counting the retries of one request is not
/// needed: each retry answers a nonce, and answering that nonce again is refused here.
pub fn retry_decision(challenge: &Challenge, answered: Option<&str>) -> Result<Retry, SipError> {
    match answered {
        None => Ok(Retry::FirstChallenge),
        Some(nonce) if nonce == challenge.nonce() => Err(err(AuthErrorKind::CredentialsRejected)),
        Some(_) if challenge.stale() => Ok(Retry::StaleNonce),
        Some(_) => Err(err(AuthErrorKind::CredentialsRejected)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Algorithm;

    fn challenge(nonce: &str, stale: bool) -> Challenge {
        Challenge::new("r", nonce, Algorithm::Md5, None)
            .expect("valid")
            .with_stale(stale)
    }

    #[test]
    fn decisions() {
        let rejected = Err(err(AuthErrorKind::CredentialsRejected));
        let table = [
            (challenge("n1", false), None, Ok(Retry::FirstChallenge)),
            (challenge("n1", true), None, Ok(Retry::FirstChallenge)),
            (challenge("n2", true), Some("n1"), Ok(Retry::StaleNonce)),
            (challenge("n2", false), Some("n1"), rejected.clone()),
            (challenge("n1", false), Some("n1"), rejected.clone()),
            (challenge("n1", true), Some("n1"), rejected),
        ];
        for (challenge, answered, expected) in table {
            assert_eq!(
                retry_decision(&challenge, answered),
                expected,
                "{challenge} {answered:?}"
            );
        }
    }

    #[test]
    fn origins() {
        assert_eq!(
            ChallengeOrigin::from_status(401),
            Some(ChallengeOrigin::Server)
        );
        assert_eq!(
            ChallengeOrigin::from_status(407),
            Some(ChallengeOrigin::Proxy)
        );
        assert_eq!(ChallengeOrigin::from_status(403), None);
        let proxy = ChallengeOrigin::Proxy;
        assert_eq!(
            (proxy.challenge_header(), proxy.credentials_header()),
            ("Proxy-Authenticate", "Proxy-Authorization")
        );
        let server = ChallengeOrigin::Server;
        assert_eq!(
            (server.challenge_header(), server.credentials_header()),
            ("WWW-Authenticate", "Authorization")
        );
    }
}
