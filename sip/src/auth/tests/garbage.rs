//! Garbage in, typed errors out; and property tests that nothing panics and that what
//! voxgate writes it can read back.

use proptest::prelude::*;

use super::kind;
use crate::auth::{
    Algorithm, AuthErrorKind, Authorization, Challenge, Credentials, DigestClient, MAX_VALUE_LEN,
    Qop, Verifier,
};

#[test]
fn garbage_challenges_are_typed_errors() {
    let huge_nonce = format!("Digest realm=r, nonce=\"{}\"", "n".repeat(MAX_VALUE_LEN));
    let huge_garbage = "\"".repeat(1 << 20);
    let table: Vec<(&str, AuthErrorKind)> = vec![
        (
            "Digest realm=\"r\", nonce=\"unterminated",
            AuthErrorKind::UnterminatedQuote,
        ),
        (
            "Digest realm=\"r, nonce=n",
            AuthErrorKind::UnterminatedQuote,
        ),
        ("Digest realm=\"r\"", AuthErrorKind::MissingNonce),
        (
            "Digest realm=\"r\", opaque=\"nonce=x\"",
            AuthErrorKind::MissingNonce,
        ),
        (
            "Digest nonce=\"n\", qop=\"auth\"",
            AuthErrorKind::MissingRealm,
        ),
        (
            "Digest realm=\"r\", nonce=\"n\", qop=\"auth-int\"",
            AuthErrorKind::UnsupportedQop,
        ),
        (
            "Digest realm=\"r\", nonce=\"n\", algorithm=SHA-512",
            AuthErrorKind::UnsupportedAlgorithm,
        ),
        (
            "Digest realm=\"r\", nonce=\"n\", realm=\"s\"",
            AuthErrorKind::DuplicateParam,
        ),
        (
            "Digest realm=\"r\"\r\nVia: SIP/2.0/UDP evil, nonce=n",
            AuthErrorKind::BadCharacter,
        ),
        (
            "Digest realm=\"r\u{0}\", nonce=n",
            AuthErrorKind::BadCharacter,
        ),
        (
            "Digest realm=\"r\", nonce=n\u{1b}[31m",
            AuthErrorKind::BadCharacter,
        ),
        ("Digest realm==r, nonce=n", AuthErrorKind::BadChallenge),
        (
            "Digest realm=\"r\" nonce=\"n\"",
            AuthErrorKind::BadChallenge,
        ),
        ("Digest \"realm\"=r", AuthErrorKind::BadChallenge),
        ("Digest realm=r; nonce=n", AuthErrorKind::BadChallenge),
        ("Digest realm=r, nonce", AuthErrorKind::BadChallenge),
        (
            "Digest realm=r, nonce=n, Basic realm=x",
            AuthErrorKind::BadChallenge,
        ),
        ("realm=r, nonce=n", AuthErrorKind::UnsupportedScheme),
        ("   ", AuthErrorKind::UnsupportedScheme),
        ("Digest", AuthErrorKind::MissingRealm),
        (&huge_nonce, AuthErrorKind::TooLarge),
        (&huge_garbage, AuthErrorKind::TooLarge),
    ];
    for (value, expected) in table {
        let shown: String = value.chars().take(60).collect();
        assert_eq!(
            Challenge::parse(value).map_err(kind),
            Err(expected),
            "{shown:?}"
        );
        // Credentials go through the same lexer, so the lexical refusals are the same.
        if !matches!(
            expected,
            AuthErrorKind::MissingRealm
                | AuthErrorKind::MissingNonce
                | AuthErrorKind::UnsupportedQop
                | AuthErrorKind::UnsupportedAlgorithm
        ) {
            assert_eq!(
                Authorization::parse(value).map_err(kind),
                Err(expected),
                "{shown:?}"
            );
        }
    }
}

/// Strings made mostly of the characters the lexer cares about, so that proptest reaches
/// its branches more often than with uniformly random text.
fn digestish() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("Digest ".to_owned()),
        Just("realm=".to_owned()),
        Just("nonce=".to_owned()),
        Just("qop=".to_owned()),
        Just("algorithm=".to_owned()),
        Just("\"".to_owned()),
        Just("\\".to_owned()),
        Just(",".to_owned()),
        Just(" ".to_owned()),
        Just("=".to_owned()),
        "[a-zA-Z0-9\t\r\n\0é-]{0,4}",
    ];
    prop::collection::vec(pieces, 0..40).prop_map(|v| v.concat())
}

fn quotable() -> impl Strategy<Value = String> {
    "[ -~é]{0,24}"
}

fn algorithm() -> impl Strategy<Value = Algorithm> {
    prop_oneof![
        Just(Algorithm::Md5),
        Just(Algorithm::Md5Sess),
        Just(Algorithm::Sha256),
        Just(Algorithm::Sha256Sess),
    ]
}

proptest! {
    #[test]
    fn parsers_never_panic_on_any_text(value in any::<String>()) {
        let _ = Challenge::parse(&value);
        let _ = Authorization::parse(&value);
    }

    #[test]
    fn parsers_never_panic_on_digest_like_text(value in digestish()) {
        let _ = Challenge::parse(&value);
        let _ = Authorization::parse(&value);
        let issued = Challenge::new("r", "n", Algorithm::Md5, Some(Qop::Auth)).expect("valid");
        let _ = Verifier::new(issued).verify(&value, "REGISTER", |_: &str| Some("p"));
    }

    #[test]
    fn challenges_round_trip(
        realm in quotable(),
        nonce in "[!-~]{1,24}",
        opaque in proptest::option::of(quotable()),
        algorithm in algorithm(),
        qop in proptest::option::of(Just(Qop::Auth)),
        stale in any::<bool>(),
    ) {
        let mut c = Challenge::new(realm, nonce, algorithm, qop).expect("printable");
        c = c.with_stale(stale);
        if let Some(opaque) = opaque {
            c = c.with_opaque(opaque).expect("printable");
        }
        prop_assert_eq!(Challenge::parse(&c.to_string()), Ok(c));
    }

    #[test]
    fn client_and_verifier_agree(
        username in quotable(),
        password in any::<String>(),
        realm in quotable(),
        uri in "sip:[!-~]{1,30}",
        cnonce in "[!-~]{1,16}",
        algorithm in algorithm(),
        qop in proptest::option::of(Just(Qop::Auth)),
    ) {
        let challenge = Challenge::new(realm, "nonce", algorithm, qop).expect("printable");
        let credentials = Credentials { username: username.clone(), password: password.clone() };
        let mut client = DigestClient::new(credentials);
        let auth = client.authorize(&challenge, "INVITE", &uri, &cnonce).expect("answerable");
        let written = auth.to_string();
        prop_assert_eq!(Authorization::parse(&written), Ok(auth));
        let mut verifier = Verifier::new(challenge);
        let lookup = |user: &str| (user == username).then_some(password.as_str());
        let verified = verifier.verify(&written, "INVITE", lookup);
        prop_assert!(verified.is_ok(), "{written}: {verified:?}");
    }
}
