//! From an IMAP `FETCH (UID FLAGS RFC822.SIZE ENVELOPE)` answer to a [`Summary`].
//!
//! The ENVELOPE (RFC 3501 section 7.4.2) gives header values as the message has them: the
//! subject may be MIME encoded-words (RFC 2047, `=?UTF-8?B?...?=`), which `mail-parser`
//! decodes; addresses come split into mailbox and host.

use std::borrow::Cow;

use async_imap::imap_proto::Address;
use async_imap::types::{Fetch, Flag};
use mail_parser::{HeaderName, MessageParser};

use super::Summary;

/// The summary of one fetched message, `None` when the server gave no UID.
pub(super) fn summary(fetch: &Fetch) -> Option<Summary> {
    let uid = fetch.uid?;
    let envelope = fetch.envelope();
    let text =
        |value: Option<&Cow<'_, [u8]>>| value.map(|v| String::from_utf8_lossy(v).into_owned());
    Some(Summary {
        uid,
        message_id: envelope
            .and_then(|e| text(e.message_id.as_ref()))
            .map(|id| {
                id.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_owned()
            }),
        from: envelope
            .and_then(|e| e.from.as_ref())
            .and_then(|from| from.iter().find_map(address)),
        to: envelope
            .and_then(|e| e.to.as_ref())
            .map(|to| to.iter().filter_map(address).collect())
            .unwrap_or_default(),
        subject: envelope
            .and_then(|e| e.subject.as_ref())
            .map(|s| decode_subject(s)),
        date: envelope.and_then(|e| text(e.date.as_ref())),
        flags: fetch.flags().map(|f| flag_name(&f)).collect(),
        size: fetch.size.unwrap_or(0),
    })
}

/// `mailbox@host` of an envelope address; `None` for group syntax markers (no host).
fn address(address: &Address<'_>) -> Option<String> {
    let mailbox = String::from_utf8_lossy(address.mailbox.as_deref()?);
    let host = String::from_utf8_lossy(address.host.as_deref()?);
    Some(format!("{mailbox}@{host}"))
}

/// A subject with its RFC 2047 encoded-words decoded (as-is when it has none).
pub(super) fn decode_subject(raw: &[u8]) -> String {
    let mut header = b"Subject: ".to_vec();
    header.extend_from_slice(raw);
    header.extend_from_slice(b"\r\n\r\n");
    MessageParser::new()
        .header_text(HeaderName::Subject)
        .parse(&header)
        .and_then(|message| message.subject().map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(raw).into_owned())
}

/// A flag as IMAP writes it (`\Seen`, `$label`).
pub(super) fn flag_name(flag: &Flag<'_>) -> String {
    match flag {
        Flag::Seen => "\\Seen".into(),
        Flag::Answered => "\\Answered".into(),
        Flag::Flagged => "\\Flagged".into(),
        Flag::Deleted => "\\Deleted".into(),
        Flag::Draft => "\\Draft".into(),
        Flag::Recent => "\\Recent".into(),
        Flag::MayCreate => "\\*".into(),
        Flag::Custom(name) => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_decoded() {
        let table = [
            ("plain subject", "plain subject"),
            ("=?UTF-8?B?R3LDvMOfZQ==?=", "Grüße"),
            ("=?ISO-8859-1?Q?Caf=E9?= au lait", "Café au lait"),
            ("", ""),
        ];
        for (raw, expected) in table {
            assert_eq!(decode_subject(raw.as_bytes()), expected, "{raw:?}");
        }
    }
}
