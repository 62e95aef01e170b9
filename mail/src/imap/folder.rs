//! Folders on the wire: the LIST answer as a [`Folder`], and names in IMAP4rev1's
//! modified UTF-7 (RFC 3501 section 5.1.3).
//!
//! Printable ASCII stands for itself, except `&`, written `&-`; any other run of
//! characters is UTF-16BE in base64 with `,` for `/` and no padding, between `&` and `-`:
//! `Räkningar` is `R&AOQ-kningar`. [`super::ImapSession`] takes and gives folder names as
//! ordinary Unicode and converts at the edge, so callers never see the encoding.

use async_imap::types::{Name, NameAttribute};
use base64::Engine as _;
use base64::alphabet::IMAP_MUTF7;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use super::Folder;

/// Modified base64: the IMAP alphabet, no padding written or accepted.
const MODIFIED_BASE64: GeneralPurpose = GeneralPurpose::new(
    &IMAP_MUTF7,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone),
);

/// A folder of a LIST answer, its name decoded (kept as given when not valid modified
/// UTF-7) and its attributes as IMAP writes them (`\Noselect`, `\Sent`, ...).
pub(super) fn from_list(name: &Name) -> Folder {
    Folder {
        name: decode(name.name()).unwrap_or_else(|| name.name().to_owned()),
        delimiter: name.delimiter().map(str::to_owned),
        attributes: name.attributes().iter().map(attribute).collect(),
    }
}

/// A LIST attribute (RFC 3501 section 7.2.2, RFC 6154 special use) as IMAP writes it.
fn attribute(attribute: &NameAttribute<'_>) -> String {
    let known = match attribute {
        NameAttribute::NoInferiors => "\\Noinferiors",
        NameAttribute::NoSelect => "\\Noselect",
        NameAttribute::Marked => "\\Marked",
        NameAttribute::Unmarked => "\\Unmarked",
        NameAttribute::All => "\\All",
        NameAttribute::Archive => "\\Archive",
        NameAttribute::Drafts => "\\Drafts",
        NameAttribute::Flagged => "\\Flagged",
        NameAttribute::Junk => "\\Junk",
        NameAttribute::Sent => "\\Sent",
        NameAttribute::Trash => "\\Trash",
        NameAttribute::Extension(text) => return text.to_string(),
        other => return format!("{other:?}"),
    };
    known.to_owned()
}

/// `name` in modified UTF-7.
pub(super) fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut run: Vec<u16> = Vec::new();
    for c in name.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut run, &mut out);
            out.push(c);
            if c == '&' {
                out.push('-');
            }
        } else {
            run.extend(c.encode_utf16(&mut [0; 2]).iter());
        }
    }
    flush(&mut run, &mut out);
    out
}

/// Writes a pending run of non-ASCII characters as `&...-`.
fn flush(run: &mut Vec<u16>, out: &mut String) {
    if run.is_empty() {
        return;
    }
    let bytes: Vec<u8> = run.iter().flat_map(|unit| unit.to_be_bytes()).collect();
    out.push('&');
    out.push_str(&MODIFIED_BASE64.encode(bytes));
    out.push('-');
    run.clear();
}

/// A modified UTF-7 name as Unicode; `None` when it is not valid modified UTF-7 (the
/// caller then keeps the name as the server gave it).
pub(super) fn decode(wire: &str) -> Option<String> {
    let mut out = String::with_capacity(wire.len());
    let mut rest = wire;
    while let Some(start) = rest.find('&') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let end = after.find('-')?;
        let encoded = &after[..end];
        if encoded.is_empty() {
            out.push('&');
        } else {
            let bytes = MODIFIED_BASE64.decode(encoded).ok()?;
            if bytes.len() % 2 != 0 {
                return None;
            }
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
                .collect();
            out.push_str(&String::from_utf16(&units).ok()?);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (Unicode, wire) pairs, the first from RFC 3501 section 5.1.3.
    const PAIRS: [(&str, &str); 7] = [
        ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
        ("INBOX", "INBOX"),
        ("Räkningar", "R&AOQ-kningar"),
        ("Tom & Jerry", "Tom &- Jerry"),
        ("Skickat/Åäö", "Skickat/&AMUA5AD2-"),
        ("📬 Post", "&2D3c7A- Post"),
        ("", ""),
    ];

    #[test]
    fn round_trips() {
        for (unicode, wire) in PAIRS {
            assert_eq!(encode(unicode), wire, "{unicode:?}");
            assert_eq!(decode(wire).as_deref(), Some(unicode), "{wire:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_name_round_trips(name in "\\PC*") {
            proptest::prop_assert_eq!(decode(&encode(&name)), Some(name));
        }

        #[test]
        fn decoding_never_panics(wire in "[&A-Za-z0-9+,\\- ]*") {
            let _ = decode(&wire);
        }
    }

    #[test]
    fn invalid_wire_names_are_none() {
        for wire in ["&", "&AOQ", "&A-", "&2D0-", "&!!-"] {
            assert_eq!(decode(wire), None, "{wire:?}");
        }
    }
}
