//! DKIM (RFC 6376): a signing key per sending domain, the TXT record that publishes it,
//! and the signature [`compose`](crate::compose::compose) adds to a message.
//!
//! [`DkimKey::sign`] works on the finished RFC 5322 bytes, the exact bytes that go on the
//! wire: it canonicalizes what it finds there, so nothing a builder adds later (part
//! headers, line folding) can fall outside what was signed.
//!
//! Choices, for the widest acceptance by receivers today:
//! - `rsa-sha256` with 2048-bit keys (RFC 8301 §3.2 recommends 2048; Ed25519, RFC 8463, is
//!   still not verified by several large receivers);
//! - `relaxed/relaxed` canonicalization, which survives the header refolding and
//!   trailing-whitespace changes relays make;
//! - one selector, [`SELECTOR`], so the record lives at `voxgate._domainkey.<domain>`;
//! - the public key published as a DER SubjectPublicKeyInfo (what `opendkim-genkey` and
//!   every verifier use), the private key kept as PKCS#1 PEM (what the signer reads).
//!
//! The signature covers the headers a reader sees and a replay would change
//! ([`SIGNED_HEADERS`]); a listed header the message does not have counts as empty, so
//! nobody can add it later without breaking the signature (RFC 6376 §5.4).
//!
//! Pure: no IO and no clock; the caller gives the `t=` time.

use std::fmt;

use base64::Engine as _;
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey, LineEnding};
use rsa::pkcs8::EncodePublicKey;
use rsa::{Pkcs1v15Sign, RsaPrivateKey, RsaPublicKey};
use sha2::{Digest, Sha256};

use crate::{MailError, MailResult};

/// The selector every voxgate key is published under.
pub const SELECTOR: &str = "voxgate";
/// The size of generated keys.
pub const KEY_BITS: usize = 2048;

/// The headers a signature covers, in this order.
pub const SIGNED_HEADERS: [&str; 13] = [
    "From",
    "Reply-To",
    "Subject",
    "Date",
    "To",
    "Cc",
    "Message-ID",
    "In-Reply-To",
    "References",
    "MIME-Version",
    "Content-Type",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
];

/// A new key pair for a domain.
pub struct KeyPair {
    /// The private key, PKCS#1 PEM: a secret, to be sealed before it is stored.
    pub private_pem: String,
    /// The public key, base64 of its DER SubjectPublicKeyInfo: the record's `p=`.
    pub public_key: String,
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair")
            .field("private_pem", &"<hidden>")
            .field("public_key", &self.public_key)
            .finish()
    }
}

/// Makes a fresh [`KEY_BITS`]-bit RSA key pair from the operating system's randomness.
///
/// # Errors
///
/// [`MailError::Dkim`] if the key cannot be made or encoded.
pub fn generate() -> MailResult<KeyPair> {
    let private = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, KEY_BITS)
        .map_err(|e| MailError::Dkim(format!("generating a key: {e}")))?;
    let public = RsaPublicKey::from(&private)
        .to_public_key_der()
        .map_err(|e| MailError::Dkim(format!("encoding the public key: {e}")))?;
    let private_pem = private
        .to_pkcs1_pem(LineEnding::LF)
        .map_err(|e| MailError::Dkim(format!("encoding the private key: {e}")))?;
    Ok(KeyPair {
        private_pem: private_pem.as_str().to_owned(),
        public_key: base64::engine::general_purpose::STANDARD.encode(public.as_bytes()),
    })
}

/// The TXT record's name for `domain`: `voxgate._domainkey.<domain>`.
pub fn record_name(domain: &str) -> String {
    format!("{SELECTOR}._domainkey.{domain}")
}

/// The TXT record's value for a public key (RFC 6376 §3.6.1).
pub fn record_value(public_key: &str) -> String {
    format!("v=DKIM1; k=rsa; p={public_key}")
}

/// A domain's signing key, checked when made. `Debug` never shows the key.
#[derive(Clone, PartialEq, Eq)]
pub struct DkimKey {
    domain: String,
    private_pem: String,
}

impl DkimKey {
    /// The key of `domain` from its PKCS#1 PEM.
    ///
    /// # Errors
    ///
    /// [`MailError::Dkim`] if `private_pem` is not an RSA private key.
    pub fn new(domain: &str, private_pem: &str) -> MailResult<Self> {
        RsaPrivateKey::from_pkcs1_pem(private_pem)
            .map_err(|_| MailError::Dkim("the signing key is not a PKCS#1 RSA key".into()))?;
        Ok(Self {
            domain: domain.to_ascii_lowercase(),
            private_pem: private_pem.to_owned(),
        })
    }

    /// The signing domain (`d=`).
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// `raw` (a whole RFC 5322 message, CRLF line ends) with a `DKIM-Signature` header
    /// in front, stamped `t=unix_seconds`: `rsa-sha256`, `relaxed/relaxed`, over
    /// [`SIGNED_HEADERS`] and the whole body.
    ///
    /// # Errors
    ///
    /// [`MailError::Dkim`] if `raw` has no header block or the key cannot sign.
    pub fn sign(&self, raw: &[u8], unix_seconds: u64) -> MailResult<Vec<u8>> {
        let (head, body) = split(raw)?;
        let fields = fields(head);
        let body_hash = B64.encode(Sha256::digest(relaxed_body(body)));
        let names = SIGNED_HEADERS.map(str::to_ascii_lowercase).join(":");
        let unsigned = format!(
            "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={}; s={SELECTOR};\r\n\tt={unix_seconds}; h={names};\r\n\tbh={body_hash};\r\n\tb=",
            self.domain
        );
        let mut hashed = Sha256::new();
        for field in selected(&fields, &SIGNED_HEADERS) {
            hashed.update(relaxed_header(field));
        }
        // The signature field itself, with b= empty and without its final CRLF (§3.7).
        let own = relaxed_header(unsigned.as_bytes());
        hashed.update(&own[..own.len() - 2]);
        let key = RsaPrivateKey::from_pkcs1_pem(&self.private_pem)
            .map_err(|_| MailError::Dkim("the signing key is not a PKCS#1 RSA key".into()))?;
        let signature = key
            .sign(Pkcs1v15Sign::new::<Sha256>(), &hashed.finalize())
            .map_err(|e| MailError::Dkim(format!("signing: {e}")))?;
        let mut out = Vec::with_capacity(raw.len() + unsigned.len() + 400);
        out.extend_from_slice(unsigned.as_bytes());
        out.extend_from_slice(B64.encode(signature).as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(raw);
        Ok(out)
    }
}

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The header block (with its last CRLF) and the body of `raw`.
fn split(raw: &[u8]) -> MailResult<(&[u8], &[u8])> {
    raw.windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (&raw[..i + 2], &raw[i + 4..]))
        .ok_or_else(|| MailError::Dkim("the message has no header block".into()))
}

/// The header fields of a header block, each with its continuation lines and final CRLF.
fn fields(head: &[u8]) -> Vec<&[u8]> {
    let mut out: Vec<&[u8]> = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + 1 < head.len() {
        if head[i] == b'\r' && head[i + 1] == b'\n' {
            let next = head.get(i + 2);
            if !matches!(next, Some(b' ' | b'\t')) {
                out.push(&head[start..i + 2]);
                start = i + 2;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    out
}

/// The field's name, as written.
fn name(field: &[u8]) -> &[u8] {
    let end = field.iter().position(|&b| b == b':').unwrap_or(field.len());
    field[..end].trim_ascii()
}

/// The fields `names` select, in order: for a name listed again, the next instance up
/// from the bottom (§5.4.2); a name with no (more) instances selects nothing.
fn selected<'a>(fields: &[&'a [u8]], names: &[&str]) -> Vec<&'a [u8]> {
    let mut used = vec![false; fields.len()];
    let mut out = Vec::new();
    for wanted in names {
        let found = (0..fields.len())
            .rev()
            .find(|&i| !used[i] && name(fields[i]).eq_ignore_ascii_case(wanted.as_bytes()));
        if let Some(i) = found {
            used[i] = true;
            out.push(fields[i]);
        }
    }
    out
}

/// Relaxed header canonicalization (§3.4.2): the name in lower case, the value unfolded
/// with every run of spaces and tabs one space, none around the colon or at the end.
fn relaxed_header(field: &[u8]) -> Vec<u8> {
    let colon = field.iter().position(|&b| b == b':').unwrap_or(field.len());
    let mut out: Vec<u8> = field[..colon]
        .trim_ascii()
        .iter()
        .map(u8::to_ascii_lowercase)
        .collect();
    out.push(b':');
    let (mut space, mut started) = (false, false);
    for &b in field.get(colon + 1..).unwrap_or_default() {
        match b {
            b'\r' | b'\n' => {}
            b' ' | b'\t' => space = true,
            _ => {
                if space && started {
                    out.push(b' ');
                }
                (space, started) = (false, true);
                out.push(b);
            }
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Relaxed body canonicalization (§3.4.4): per line, runs of spaces and tabs become one
/// space and none ends a line; empty lines at the end go; a non-empty body ends in CRLF.
fn relaxed_body(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 2);
    let mut lines = body.split(|&b| b == b'\n').peekable();
    while let Some(line) = lines.next() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if lines.peek().is_none() && line.is_empty() {
            break; // the split after a final CRLF
        }
        let mut space = false;
        for &b in line {
            if b == b' ' || b == b'\t' {
                space = true;
            } else {
                if space {
                    out.push(b' ');
                }
                space = false;
                out.push(b);
            }
        }
        out.extend_from_slice(b"\r\n");
    }
    while out.ends_with(b"\r\n\r\n") {
        out.truncate(out.len() - 2);
    }
    if out == b"\r\n" {
        out.clear();
    }
    out
}

impl fmt::Debug for DkimKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DkimKey")
            .field("domain", &self.domain)
            .field("private_pem", &"<hidden>")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_loads_and_its_record_is_well_formed() {
        let pair = generate().expect("key");
        let key = DkimKey::new("Example.COM", &pair.private_pem).expect("loads");
        assert_eq!(key.domain(), "example.com");
        assert!(!format!("{key:?}").contains("PRIVATE"));
        assert!(!format!("{pair:?}").contains("PRIVATE"));
        let value = record_value(&pair.public_key);
        assert!(value.starts_with("v=DKIM1; k=rsa; p=MIIB"), "{value}");
        assert_eq!(record_name("example.com"), "voxgate._domainkey.example.com");
        assert!(matches!(
            DkimKey::new("example.com", "not a key"),
            Err(MailError::Dkim(_))
        ));
        assert!(matches!(
            key.sign(b"no header block", 0),
            Err(MailError::Dkim(_))
        ));
    }

    /// RFC 6376 §3.4.5's example, relaxed/relaxed.
    #[test]
    fn the_rfc_canonicalization_example() {
        let raw = b"A: X\r\nB : Y\t\r\n\tZ  \r\n\r\n C \r\nD \t E\r\n\r\n\r\n";
        let (head, body) = split(raw).expect("split");
        let canonical: Vec<u8> = fields(head)
            .iter()
            .flat_map(|f| relaxed_header(f))
            .collect();
        assert_eq!(canonical, b"a:X\r\nb:Y Z\r\n");
        assert_eq!(
            relaxed_header(b"Subject: Re:  a:\tb \r\n"),
            b"subject:Re: a: b\r\n"
        );
        assert_eq!(relaxed_body(body), b" C\r\nD E\r\n");
        assert_eq!(relaxed_body(b""), b"");
        assert_eq!(relaxed_body(b"\r\n\r\n"), b"");
        assert_eq!(relaxed_body(b"no final line end"), b"no final line end\r\n");
    }

    #[test]
    fn repeated_headers_are_taken_from_the_bottom() {
        let head = b"Received: 1\r\nTo: a\r\nReceived: 2\r\n";
        let chosen = selected(&fields(head), &["received", "cc", "received", "received"]);
        assert_eq!(chosen, [&b"Received: 2\r\n"[..], &b"Received: 1\r\n"[..]]);
    }
}
