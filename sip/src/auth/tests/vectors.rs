//! Published and independently computed digest responses.
//!
//! The RFC 2617 §3.5 and RFC 7616 §3.9.1 responses are the RFCs' own. The others were
//! computed outside this crate (Python's `hashlib`, from the formulas in RFC 7616 §3.4) and
//! are checked here against both the client and the verifier.

use super::kind;
use crate::auth::{Algorithm, Authorization, Challenge, Credentials, DigestClient, Qop, Verifier};

/// RFC 2617 §3.5, unfolded.
const RFC2617_CHALLENGE: &str = "Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", \
    nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";
const RFC2617_CREDENTIALS: &str = "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", \
    nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", qop=auth, \
    nc=00000001, cnonce=\"0a4f113b\", response=\"6629fae49393a05397450978507c4ef1\", \
    opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";

/// RFC 7616 §3.9.1 (note the password is "Circle of Life" there, lower-case "of").
const RFC7616_CHALLENGE_SHA256: &str = "Digest realm=\"http-auth@example.org\", \
    qop=\"auth, auth-int\", algorithm=SHA-256, \
    nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", \
    opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";
const RFC7616_CNONCE: &str = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";

fn client(username: &str, password: &str) -> DigestClient {
    DigestClient::new(Credentials {
        username: username.into(),
        password: password.into(),
    })
}

#[test]
fn rfc2617_example() {
    let challenge = Challenge::parse(RFC2617_CHALLENGE).expect("RFC challenge");
    assert_eq!(challenge.qop(), Some(Qop::Auth));
    let auth = client("Mufasa", "Circle Of Life")
        .authorize(&challenge, "GET", "/dir/index.html", "0a4f113b")
        .expect("answerable");
    assert_eq!(auth.response(), "6629fae49393a05397450978507c4ef1");
    assert_eq!(
        auth.to_string(),
        "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", \
         nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", \
         response=\"6629fae49393a05397450978507c4ef1\", algorithm=MD5, cnonce=\"0a4f113b\", \
         qop=auth, nc=00000001, opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""
    );
    // The RFC's own Authorization header, in its own parameter order, verifies.
    let mut verifier = Verifier::new(challenge);
    let verified = verifier.verify(RFC2617_CREDENTIALS, "GET", |user: &str| {
        (user == "Mufasa").then_some("Circle Of Life")
    });
    assert_eq!(
        verified.map(|a| a.response().to_owned()),
        Ok(auth.response().to_owned())
    );
}

#[test]
fn rfc7616_sha256_and_md5_examples() {
    let sha = Challenge::parse(RFC7616_CHALLENGE_SHA256).expect("RFC challenge");
    let md5 = Challenge::parse(&RFC7616_CHALLENGE_SHA256.replace("SHA-256", "MD5")).expect("MD5");
    let table = [
        (
            sha,
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
        ),
        (md5, "8ca523f5e9506fed4657c9700eebdbec"),
    ];
    for (challenge, expected) in table {
        let auth = client("Mufasa", "Circle of Life")
            .authorize(&challenge, "GET", "/dir/index.html", RFC7616_CNONCE)
            .expect("answerable");
        assert_eq!(auth.response(), expected, "{}", challenge.algorithm());
        assert_eq!(
            auth.opaque(),
            Some("FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")
        );
    }
}

#[test]
fn rfc7616_sha256_by_hand() {
    // The same response built step by step from RFC 7616 §3.4.1-§3.4.3 with sha2 directly,
    // not through the module's helpers.
    use sha2::{Digest, Sha256};
    let h = |s: &str| hex::encode(Sha256::digest(s.as_bytes()));
    let ha1 = h("Mufasa:http-auth@example.org:Circle of Life");
    let ha2 = h("GET:/dir/index.html");
    let nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
    let expected = h(&format!(
        "{ha1}:{nonce}:00000001:{RFC7616_CNONCE}:auth:{ha2}"
    ));
    assert_eq!(
        expected,
        "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
    );
}

#[test]
fn computed_vectors() {
    let (user, realm, password, nonce) = ("alice", "voxgate.test", "secret", "n0nce");
    let (method, uri, cnonce) = ("REGISTER", "sip:voxgate.test", "c0ffee");
    let table = [
        (
            Algorithm::Md5Sess,
            Some(Qop::Auth),
            1,
            "99f65a60c2bbf019f0f988756cc7422f",
        ),
        (
            Algorithm::Sha256Sess,
            Some(Qop::Auth),
            1,
            "fea256978c53e82825af1a957331f7d22e9aa880feb0886099c2cc7fbe8d9203",
        ),
        (Algorithm::Md5, None, 1, "88fb9cdb7c0e6088dfb945555e5a7cc8"),
        (
            Algorithm::Md5,
            Some(Qop::Auth),
            3,
            "3dae8a968e09a7b3928a2ef8385fb07b",
        ),
    ];
    for (algorithm, qop, requests, expected) in table {
        let challenge = Challenge::new(realm, nonce, algorithm, qop).expect("valid");
        let mut verifier = Verifier::new(challenge.clone());
        let mut alice = client(user, password);
        for _ in 0..requests {
            let auth = alice
                .authorize(&challenge, method, uri, cnonce)
                .expect("answerable");
            let checked = verifier.verify(&auth.to_string(), method, |_: &str| Some(password));
            assert_eq!(
                checked.as_ref().map(Authorization::response),
                Ok(auth.response())
            );
            if alice.nonce_count(nonce) == Some(requests) {
                assert_eq!(auth.response(), expected, "{algorithm} {qop:?}");
            }
        }
    }
}

#[test]
fn legacy_form_omits_qop_cnonce_and_nc() {
    let challenge =
        Challenge::parse("Digest realm=\"voxgate.test\", nonce=\"n0nce\"").expect("valid");
    let auth = client("alice", "secret")
        .authorize(&challenge, "REGISTER", "sip:voxgate.test", "ignored")
        .expect("answerable");
    assert_eq!(
        auth.to_string(),
        "Digest username=\"alice\", realm=\"voxgate.test\", nonce=\"n0nce\", \
         uri=\"sip:voxgate.test\", response=\"88fb9cdb7c0e6088dfb945555e5a7cc8\", algorithm=MD5"
    );
}

#[test]
fn session_algorithm_without_qop_still_sends_its_cnonce() {
    // RFC 2617 §3.2.2.2: MD5-sess needs the cnonce in A1 even though qop is absent, so the
    // server must get it; the verifier refuses such credentials without one.
    let challenge = Challenge::new("r", "n", Algorithm::Md5Sess, None).expect("valid");
    let auth = client("u", "p")
        .authorize(&challenge, "REGISTER", "sip:r", "cn")
        .expect("ok");
    let written = auth.to_string();
    assert!(
        written.contains("cnonce=\"cn\"") && !written.contains("qop"),
        "{written}"
    );
    let mut verifier = Verifier::new(challenge);
    assert!(
        verifier
            .verify(&written, "REGISTER", |_: &str| Some("p"))
            .is_ok()
    );
    let stripped = written.replace(", cnonce=\"cn\"", "");
    let refused = verifier
        .verify(&stripped, "REGISTER", |_: &str| Some("p"))
        .map_err(kind);
    assert_eq!(
        refused,
        Err(crate::auth::AuthErrorKind::IncompleteCredentials)
    );
}
