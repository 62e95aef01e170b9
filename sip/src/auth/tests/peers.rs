//! Challenges and credentials in the shapes real servers and clients write them: spacing,
//! parameter order, case and quoting as Asterisk (chan_sip and PJSIP), Kamailio/OpenSIPS,
//! FreeSWITCH (sofia-sip), BroadWorks and sipp produce. The nonces are made up.

use super::kind;
use crate::auth::{
    Algorithm, AuthErrorKind, Challenge, Credentials, DigestClient, Qop, Retry, Verifier,
    retry_decision,
};

struct Expected {
    realm: &'static str,
    nonce: &'static str,
    algorithm: Algorithm,
    qop: Option<Qop>,
    opaque: Option<&'static str>,
    stale: bool,
}

const fn expect(realm: &'static str, nonce: &'static str) -> Expected {
    Expected {
        realm,
        nonce,
        algorithm: Algorithm::Md5,
        qop: None,
        opaque: None,
        stale: false,
    }
}

#[test]
fn parses_real_challenges() {
    let table = [
        (
            "Asterisk chan_sip",
            "Digest algorithm=MD5, realm=\"asterisk\", nonce=\"4d2b8c1f\"",
            expect("asterisk", "4d2b8c1f"),
        ),
        (
            "Asterisk PJSIP",
            "Digest  realm=\"asterisk\",nonce=\"1700000000/9d4c2e2a4e1f7a0f2c4d0d5c5b0b2e11\",\
             opaque=\"3f1c5a7b6e2d4c1f\",algorithm=md5,qop=\"auth\"",
            Expected {
                qop: Some(Qop::Auth),
                opaque: Some("3f1c5a7b6e2d4c1f"),
                ..expect("asterisk", "1700000000/9d4c2e2a4e1f7a0f2c4d0d5c5b0b2e11")
            },
        ),
        (
            "Asterisk PJSIP, stale",
            "Digest realm=\"asterisk\",nonce=\"1700000300/0d5c\",opaque=\"3f1c\",stale=true,\
             algorithm=md5,qop=\"auth\"",
            Expected {
                qop: Some(Qop::Auth),
                opaque: Some("3f1c"),
                stale: true,
                ..expect("asterisk", "1700000300/0d5c")
            },
        ),
        (
            "Kamailio auth_db",
            "Digest realm=\"sip.example.com\", nonce=\"ZF1x8GRdcMzTAxNb9mB4b5Gj2Yc7O1uR\", \
             qop=\"auth\"",
            Expected {
                qop: Some(Qop::Auth),
                ..expect("sip.example.com", "ZF1x8GRdcMzTAxNb9mB4b5Gj2Yc7O1uR")
            },
        ),
        (
            "Kamailio SHA-256, stale",
            "Digest realm=\"sip.example.com\", nonce=\"ZF1yAGRdcQB9Qk0qVfSwz1Hl\", \
             qop=\"auth\", algorithm=SHA-256, stale=true",
            Expected {
                algorithm: Algorithm::Sha256,
                qop: Some(Qop::Auth),
                stale: true,
                ..expect("sip.example.com", "ZF1yAGRdcQB9Qk0qVfSwz1Hl")
            },
        ),
        (
            "FreeSWITCH",
            "Digest realm=\"10.0.0.5\", nonce=\"5d0e0ccc-1a2b-4c3d-9e8f-0a1b2c3d4e5f\", \
             algorithm=MD5, qop=\"auth\"",
            Expected {
                qop: Some(Qop::Auth),
                ..expect("10.0.0.5", "5d0e0ccc-1a2b-4c3d-9e8f-0a1b2c3d4e5f")
            },
        ),
        (
            "BroadWorks, auth-int offered too",
            "DIGEST realm=\"BroadWorks\",qop=\"auth,auth-int\",nonce=\"BroadWorksXk1a9ce2fTs\",\
             algorithm=MD5",
            Expected {
                qop: Some(Qop::Auth),
                ..expect("BroadWorks", "BroadWorksXk1a9ce2fTs")
            },
        ),
        (
            "Bare base64 nonce, tab separated",
            "Digest\trealm=carrier.example,\tnonce=q2Jx/8s+Zw==,\topaque=\"\"",
            Expected {
                opaque: Some(""),
                ..expect("carrier.example", "q2Jx/8s+Zw==")
            },
        ),
    ];
    for (peer, value, expected) in table {
        let c = Challenge::parse(value).unwrap_or_else(|e| panic!("{peer}: {e:?}"));
        assert_eq!(c.realm(), expected.realm, "{peer}");
        assert_eq!(c.nonce(), expected.nonce, "{peer}");
        assert_eq!(c.algorithm(), expected.algorithm, "{peer}");
        assert_eq!(c.qop(), expected.qop, "{peer}");
        assert_eq!(c.opaque(), expected.opaque, "{peer}");
        assert_eq!(c.stale(), expected.stale, "{peer}");
    }
}

#[test]
fn refuses_other_schemes_from_real_servers() {
    let table = [
        (
            "NTLM realm=\"SIP Communications Service\", targetname=\"ocs.example\"",
            AuthErrorKind::UnsupportedScheme,
        ),
        (
            "Kerberos realm=\"SIP Communications Service\"",
            AuthErrorKind::UnsupportedScheme,
        ),
        ("Basic realm=\"sip\"", AuthErrorKind::UnsupportedScheme),
        (
            "Digest realm=\"ims.example\", nonce=\"x\", algorithm=AKAv1-MD5",
            AuthErrorKind::UnsupportedAlgorithm,
        ),
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
fn verifies_sipp_style_credentials() {
    // sipp's `[authentication]` writes no spaces and its own parameter order. The response
    // was computed outside this crate (Python hashlib, RFC 2617 §3.2.2).
    let sipp = "Digest username=\"sipp\",realm=\"asterisk\",cnonce=\"6b8b4567\",nc=00000001,\
        qop=auth,uri=\"sip:127.0.0.1:5060\",nonce=\"1700000000/abcdef\",\
        response=\"28393442232b89f58d4e24af7fa34e69\",algorithm=MD5";
    let issued = Challenge::new(
        "asterisk",
        "1700000000/abcdef",
        Algorithm::Md5,
        Some(Qop::Auth),
    )
    .expect("valid");
    let mut verifier = Verifier::new(issued.clone());
    let verified = verifier.verify(sipp, "REGISTER", |user: &str| {
        (user == "sipp").then_some("sipp")
    });
    assert_eq!(
        verified.map(|a| a.uri().to_owned()),
        Ok("sip:127.0.0.1:5060".into())
    );
    // And our client agrees with sipp on the same inputs.
    let ours = DigestClient::new(Credentials {
        username: "sipp".into(),
        password: "sipp".into(),
    })
    .authorize(&issued, "REGISTER", "sip:127.0.0.1:5060", "6b8b4567")
    .expect("answerable");
    assert_eq!(ours.response(), "28393442232b89f58d4e24af7fa34e69");
}

#[test]
fn registration_flow_with_a_stale_nonce() {
    // REGISTER → 401 → REGISTER with credentials → 200; an hour later the refresh answers
    // the old nonce pre-emptively → 401 stale=true → answered with the new nonce → 200.
    let mut client = DigestClient::new(Credentials {
        username: "1001".into(),
        password: "pw".into(),
    });
    let lookup = |user: &str| (user == "1001").then_some("pw");
    let first = Challenge::new("pbx", "n1", Algorithm::Sha256, Some(Qop::Auth)).expect("valid");
    let mut server = Verifier::new(first.clone());

    assert_eq!(retry_decision(&first, None), Ok(Retry::FirstChallenge));
    let answer = client
        .authorize(&first, "REGISTER", "sip:pbx", "c1")
        .expect("ok")
        .to_string();
    assert!(server.verify(&answer, "REGISTER", lookup).is_ok());

    let refresh = client
        .authorize(&first, "REGISTER", "sip:pbx", "c2")
        .expect("ok")
        .to_string();
    assert!(refresh.contains("nc=00000002"), "{refresh}");
    let second = Challenge::new("pbx", "n2", Algorithm::Sha256, Some(Qop::Auth)).expect("valid");
    let mut server = Verifier::new(second.clone());
    let stale = server.verify(&refresh, "REGISTER", lookup).map_err(kind);
    assert_eq!(stale, Err(AuthErrorKind::StaleNonce));

    let rechallenge = Challenge::parse(&second.with_stale(true).to_string()).expect("own output");
    assert_eq!(
        retry_decision(&rechallenge, Some("n1")),
        Ok(Retry::StaleNonce)
    );
    let answer = client
        .authorize(&rechallenge, "REGISTER", "sip:pbx", "c3")
        .expect("ok")
        .to_string();
    assert!(answer.contains("nc=00000001"), "{answer}");
    assert!(server.verify(&answer, "REGISTER", lookup).is_ok());
}

#[test]
fn wrong_password_gives_up_after_one_answer() {
    let mut client = DigestClient::new(Credentials {
        username: "1001".into(),
        password: "bad".into(),
    });
    let challenge = Challenge::new("pbx", "n1", Algorithm::Md5, Some(Qop::Auth)).expect("valid");
    let mut server = Verifier::new(challenge.clone());
    assert_eq!(retry_decision(&challenge, None), Ok(Retry::FirstChallenge));
    let answer = client
        .authorize(&challenge, "REGISTER", "sip:pbx", "c")
        .expect("ok")
        .to_string();
    let refused = server
        .verify(&answer, "REGISTER", |_: &str| Some("pw"))
        .map_err(kind);
    assert_eq!(refused, Err(AuthErrorKind::BadResponse));
    // The server challenges again with the same nonce (Asterisk) or a fresh one, not stale.
    let fresh = Challenge::new("pbx", "n2", Algorithm::Md5, Some(Qop::Auth)).expect("valid");
    for again in [&challenge, &fresh] {
        let decision = retry_decision(again, Some("n1")).map_err(kind);
        assert_eq!(decision, Err(AuthErrorKind::CredentialsRejected));
    }
}
