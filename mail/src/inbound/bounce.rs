//! Delivery status notifications (RFC 3464) into a [`Bounce`].
//!
//! A DSN is `multipart/report; report-type=delivery-status` (RFC 6522) with three parts: a
//! human-readable explanation, a `message/delivery-status` part of header-like fields (one
//! block for the message, then one block per recipient, separated by empty lines), and the
//! returned message (`message/rfc822`) or only its headers (`text/rfc822-headers`). Only
//! the last two are read here; the explanation is free text in any language.

use mail_parser::{Message, MessageParser, MessagePart, MimeHeaders, PartType};

use super::parse::strip_id;
use super::{Bounce, BouncedRecipient};

/// The bounce this message is, if it is one.
pub(super) fn read(message: &Message<'_>) -> Option<Bounce> {
    let root = message.root_part().content_type()?;
    let is_report = root.ctype().eq_ignore_ascii_case("multipart")
        && root
            .subtype()
            .is_some_and(|s| s.eq_ignore_ascii_case("report"))
        && root
            .attribute("report-type")
            .is_some_and(|t| t.eq_ignore_ascii_case("delivery-status"));
    if !is_report {
        return None;
    }
    let recipients = message
        .parts
        .iter()
        .find(|part| {
            is_type(
                part,
                "message",
                &["delivery-status", "global-delivery-status"],
            )
        })
        .map(|part| recipients(&String::from_utf8_lossy(part.contents())))
        .unwrap_or_default();
    Some(Bounce {
        recipients,
        original_message_id: message.parts.iter().find_map(original_message_id),
    })
}

fn is_type(part: &MessagePart<'_>, ctype: &str, subtypes: &[&str]) -> bool {
    part.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case(ctype)
            && ct
                .subtype()
                .is_some_and(|s| subtypes.iter().any(|want| s.eq_ignore_ascii_case(want)))
    })
}

/// The `Message-ID` of the returned message or returned headers.
fn original_message_id(part: &MessagePart<'_>) -> Option<String> {
    match &part.body {
        PartType::Message(inner) => inner.message_id().map(strip_id),
        PartType::Text(headers) if is_type(part, "text", &["rfc822-headers"]) => {
            let parsed = MessageParser::default().parse_headers(headers.as_bytes())?;
            parsed.message_id().map(strip_id)
        }
        _ => None,
    }
}

/// The per-recipient blocks of a `message/delivery-status` body.
fn recipients(body: &str) -> Vec<BouncedRecipient> {
    blocks(body)
        .iter()
        .filter_map(|fields| recipient(fields))
        .collect()
}

fn recipient(fields: &[(String, String)]) -> Option<BouncedRecipient> {
    let field = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    };
    let address = field("Final-Recipient").or_else(|| field("Original-Recipient"))?;
    let action = field("Action")
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let status = field("Status")
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_default()
        .to_owned();
    Some(BouncedRecipient {
        address: strip_id(without_type(address)),
        permanent: action == "failed" && status.starts_with('5'),
        action,
        status,
        diagnostic: field("Diagnostic-Code").map(|d| without_type(d).to_owned()),
        remote_mta: field("Remote-MTA").map(|m| without_type(m).to_owned()),
    })
}

/// `rfc822; a@b` -> `a@b` (RFC 3464 §2.3.2: the address-type or diagnostic-type prefix).
fn without_type(value: &str) -> &str {
    value.split_once(';').map_or(value, |(_, rest)| rest).trim()
}

/// Field blocks separated by empty lines, with folded lines unfolded (RFC 5322 §2.2.3).
fn blocks(body: &str) -> Vec<Vec<(String, String)>> {
    let mut blocks = Vec::new();
    let mut block: Vec<(String, String)> = Vec::new();
    for line in body.lines() {
        if line.trim().is_empty() {
            if !block.is_empty() {
                blocks.push(std::mem::take(&mut block));
            }
        } else if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = block.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            block.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    if !block.is_empty() {
        blocks.push(block);
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_blocks() {
        let body = "Reporting-MTA: dns; mx.example\r\n\r\nFinal-Recipient: rfc822; a@b.test\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 <a@b.test>:\r\n    Recipient address rejected\r\n\r\n\r\nOriginal-Recipient: rfc822;<c@d.test>\r\nAction: delayed\r\nStatus: 4.4.1 (timeout)\r\n";
        let got = recipients(body);
        let expected = [
            BouncedRecipient {
                address: "a@b.test".into(),
                action: "failed".into(),
                status: "5.1.1".into(),
                permanent: true,
                diagnostic: Some("550 5.1.1 <a@b.test>: Recipient address rejected".into()),
                remote_mta: None,
            },
            BouncedRecipient {
                address: "c@d.test".into(),
                action: "delayed".into(),
                status: "4.4.1".into(),
                permanent: false,
                diagnostic: None,
                remote_mta: None,
            },
        ];
        assert_eq!(got, expected);
    }

    #[test]
    fn without_type_prefix() {
        let cases = [
            ("rfc822; a@b", "a@b"),
            ("smtp;550 x", "550 x"),
            ("no prefix", "no prefix"),
            ("dns; mx.example.com", "mx.example.com"),
        ];
        for (value, expected) in cases {
            assert_eq!(without_type(value), expected);
        }
    }
}
