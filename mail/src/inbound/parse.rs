//! RFC 5322 bytes into an [`Inbound`], with `mail-parser`.
//!
//! Two kinds of trouble are told apart. What cannot be read at all (over the [`Limits`],
//! no header section, nothing that makes it a message) is [`MailError::Unreadable`]: the
//! caller should keep the raw bytes and not show anything. What is readable but broken (a
//! charset nobody knows, broken base64, a multipart without its boundary, 8-bit bytes in
//! headers) is read as well as it can be and described, one line each, in
//! [`Inbound::problems`].

use mail_parser::decoders::charsets::map::charset_decoder;
use mail_parser::decoders::html::html_to_text;
use mail_parser::{
    Address, HeaderValue, Message, MessageParser, MessagePart, MimeHeaders, PartType,
};

use super::{AttachmentInfo, Inbound, Limits, bounce};
use crate::{MailError, MailResult};

/// Headers of which at least one makes bytes a message (RFC 5322 §3.6 requires `Date` and
/// `From`; real mail sometimes lacks either, never all of these).
const IDENTIFYING_HEADERS: [&str; 6] = ["From", "Sender", "To", "Subject", "Message-ID", "Date"];

/// Reads a received message within `limits`.
pub fn parse(raw: &[u8], limits: &Limits) -> MailResult<Inbound> {
    check_limits(raw, limits)?;
    let message = read(raw)?;
    let parts = count_parts(&message);
    if parts > limits.max_parts {
        return Err(MailError::Unreadable(format!(
            "{parts} MIME parts, more than the limit of {}",
            limits.max_parts
        )));
    }
    let bounce = bounce::read(&message);
    let auto_submitted = bounce.is_some() || is_auto_submitted(&message);
    Ok(Inbound {
        message_id: message.message_id().map(strip_id),
        in_reply_to: ids(message.in_reply_to()).into_iter().next(),
        references: ids(message.references()),
        from: first_address(message.from()).and_then(|(address, _)| address),
        from_name: first_address(message.from()).and_then(|(_, name)| name),
        to: addresses(message.to()),
        cc: addresses(message.cc()),
        subject: message.subject().unwrap_or_default().to_owned(),
        date_ms: message
            .date()
            .filter(|date| date.is_valid())
            .map(|date| date.to_timestamp().saturating_mul(1000)),
        text: text_body(&message),
        html: html_body(&message),
        attachments: attachment_infos(&message),
        problems: problems(raw, &message),
        bounce,
        auto_submitted,
    })
}

/// The `index`th attachment (as in [`Inbound::attachments`]) and its decoded bytes;
/// `None` when there is no such attachment. Applies no [`Limits`]: it is meant for a
/// message that [`parse`] has already read.
pub fn attachment(raw: &[u8], index: usize) -> MailResult<Option<(AttachmentInfo, Vec<u8>)>> {
    let message = read(raw)?;
    let Some(part) = u32::try_from(index)
        .ok()
        .and_then(|i| message.attachment(i))
    else {
        return Ok(None);
    };
    Ok(Some((info(index, part), part.contents().to_vec())))
}

fn check_limits(raw: &[u8], limits: &Limits) -> MailResult<()> {
    if raw.len() > limits.max_bytes {
        return Err(MailError::Unreadable(format!(
            "{} bytes, more than the limit of {}",
            raw.len(),
            limits.max_bytes
        )));
    }
    let header = header_len(raw);
    if header > limits.max_header_bytes {
        return Err(MailError::Unreadable(format!(
            "a header section of {header} bytes, more than the limit of {}",
            limits.max_header_bytes
        )));
    }
    Ok(())
}

/// The header section's length: up to the empty line that ends it, or everything.
fn header_len(raw: &[u8]) -> usize {
    let mut line_start = 0;
    for (i, &byte) in raw.iter().enumerate() {
        if byte == b'\n' {
            if raw[line_start..i].iter().all(|&b| b == b'\r') {
                return line_start;
            }
            line_start = i + 1;
        }
    }
    raw.len()
}

fn read(raw: &[u8]) -> MailResult<Message<'_>> {
    let message = MessageParser::default()
        .parse(raw)
        .ok_or_else(|| MailError::Unreadable("no header section".to_owned()))?;
    let identified = IDENTIFYING_HEADERS
        .iter()
        .any(|name| message.header(*name).is_some_and(|value| !value.is_empty()));
    if !identified {
        return Err(MailError::Unreadable(
            "no From, Sender, To, Subject, Message-ID or Date header: not a message".to_owned(),
        ));
    }
    Ok(message)
}

/// Parts of the message and of the messages inside it.
fn count_parts(message: &Message<'_>) -> usize {
    message
        .parts
        .iter()
        .map(|part| match &part.body {
            PartType::Message(inner) => 1 + count_parts(inner),
            _ => 1,
        })
        .sum()
}

/// `Auto-Submitted` other than `no` (RFC 3834 §5): `auto-replied`, `auto-generated`, ...
fn is_auto_submitted(message: &Message<'_>) -> bool {
    message.header_raw("Auto-Submitted").is_some_and(|value| {
        let keyword = value.split(';').next().unwrap_or_default().trim();
        !keyword.is_empty() && !keyword.eq_ignore_ascii_case("no")
    })
}

/// A message id without its angle brackets.
pub(super) fn strip_id(id: &str) -> String {
    id.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_owned()
}

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(id) => vec![strip_id(id)],
        HeaderValue::TextList(ids) => ids.iter().map(|id| strip_id(id)).collect(),
        _ => Vec::new(),
    }
}

/// The first address and display name of a field.
fn first_address(field: Option<&Address<'_>>) -> Option<(Option<String>, Option<String>)> {
    let first = field?.first()?;
    Some((
        first.address().map(str::to_owned),
        first.name().map(str::to_owned),
    ))
}

fn addresses(field: Option<&Address<'_>>) -> Vec<String> {
    field.map_or_else(Vec::new, |field| {
        field
            .iter()
            .filter_map(|addr| addr.address().map(str::to_owned))
            .collect()
    })
}

/// The text bodies, joined; HTML made into text where a body has only HTML.
fn text_body(message: &Message<'_>) -> Option<String> {
    let texts: Vec<String> = message
        .text_body
        .iter()
        .filter_map(|&id| message.parts.get(usize::try_from(id).ok()?))
        .filter_map(|part| match &part.body {
            PartType::Text(text) => Some(text.to_string()),
            PartType::Html(html) => Some(html_to_text(html)),
            _ => None,
        })
        .collect();
    (!texts.is_empty()).then(|| texts.join("\n"))
}

/// The first HTML body; never HTML made from text.
fn html_body(message: &Message<'_>) -> Option<String> {
    message
        .html_body
        .iter()
        .filter_map(|&id| message.parts.get(usize::try_from(id).ok()?))
        .find_map(|part| match &part.body {
            PartType::Html(html) => Some(html.to_string()),
            _ => None,
        })
}

fn attachment_infos(message: &Message<'_>) -> Vec<AttachmentInfo> {
    message
        .attachments()
        .enumerate()
        .map(|(index, part)| info(index, part))
        .collect()
}

fn info(index: usize, part: &MessagePart<'_>) -> AttachmentInfo {
    AttachmentInfo {
        index,
        filename: part.attachment_name().map(str::to_owned),
        content_type: content_type(part),
        size: part.contents().len(),
    }
}

/// `type/subtype`, lower case; `text/plain` when absent (RFC 2045 §5.2).
fn content_type(part: &MessagePart<'_>) -> String {
    match part.content_type() {
        Some(ct) => match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
            None => ct.ctype().to_ascii_lowercase(),
        },
        None => "text/plain".to_owned(),
    }
}

/// What was wrong but readable, one line each.
fn problems(raw: &[u8], message: &Message<'_>) -> Vec<String> {
    let mut problems = Vec::new();
    if std::str::from_utf8(&raw[..header_len(raw)]).is_err() {
        problems.push(
            "the header section has bytes that are not UTF-8; read with replacement characters"
                .to_owned(),
        );
    }
    for (i, part) in message.parts.iter().enumerate() {
        part_problems(i, part, &mut problems);
    }
    problems
}

fn part_problems(i: usize, part: &MessagePart<'_>, problems: &mut Vec<String>) {
    let kind = content_type(part);
    if part.is_encoding_problem {
        problems.push(format!(
            "part {i} ({kind}): its content could not be decoded (broken encoding or a missing boundary); kept as raw text"
        ));
    }
    let Some(ct) = part.content_type() else {
        return;
    };
    if ct.ctype().eq_ignore_ascii_case("multipart") {
        if ct.attribute("boundary").is_none() {
            problems.push(format!("part {i} ({kind}): a multipart without a boundary"));
        } else if !matches!(part.body, PartType::Multipart(_)) {
            problems.push(format!(
                "part {i} ({kind}): its boundary never appears; kept as raw text"
            ));
        }
    }
    let is_text = matches!(part.body, PartType::Text(_) | PartType::Html(_));
    if let Some(charset) = ct.attribute("charset")
        && is_text
        && !known_charset(charset)
    {
        problems.push(format!(
            "part {i} ({kind}): unknown charset {charset:?}; read as UTF-8 with replacement characters"
        ));
    }
}

fn known_charset(charset: &str) -> bool {
    let lower = charset.trim().to_ascii_lowercase();
    ["utf-8", "utf8", "us-ascii", "ascii"].contains(&lower.as_str())
        || charset_decoder(lower.as_bytes()).is_some()
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
