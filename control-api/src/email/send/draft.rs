//! What a client sends to `send`, `send_tracked` and `reply`, read and checked: addresses,
//! subject, bodies and attachments within their limits, before any gate or storage.

use base64::Engine as _;
use serde::Deserialize;
use voxgate_mail::compose::Attachment;

use crate::email::address::{Address, AddressList, MAX_RECIPIENTS};
use crate::error::{ApiError, ErrorCode};
use crate::store::Recipients;

/// The largest subject (RFC 5322's line limit).
const MAX_SUBJECT: usize = 998;
/// The largest body, text or HTML, in bytes.
const MAX_BODY: usize = 2 * 1024 * 1024;
/// All attachments together, decoded.
const MAX_ATTACHMENTS_BYTES: usize = 20 * 1024 * 1024;
/// Attachments per message.
const MAX_ATTACHMENTS: usize = 20;

/// An attachment as a client sends it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachmentIn {
    /// The file name.
    pub filename: String,
    /// Its MIME type; default `application/octet-stream`.
    pub content_type: Option<String>,
    /// The bytes, base64.
    pub content_base64: String,
}

/// `send` and `send_tracked`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendMail {
    /// One address, a comma-separated string, or a list.
    pub to: AddressList,
    /// Copies.
    #[serde(default)]
    pub cc: AddressList,
    /// Blind copies (envelope only).
    #[serde(default)]
    pub bcc: AddressList,
    /// The subject; default the spec's `default_subject`.
    pub subject: Option<String>,
    /// The text body, documented as `body` (`text` is our earlier name, still accepted);
    /// `body` and/or `html` is required.
    #[serde(rename = "body", alias = "text")]
    pub text: Option<String>,
    /// The HTML body.
    pub html: Option<String>,
    /// Attached files.
    #[serde(default)]
    pub attachments: Vec<AttachmentIn>,
    /// The `Message-ID` this answers: becomes `In-Reply-To` and `References`.
    pub in_reply_to: Option<String>,
    /// `Reply-To`; default the spec's `reply_to`.
    pub reply_to: Option<String>,
}

/// `reply`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyMail {
    /// The message answered, documented as `original_message_id` (`message_id` is our
    /// earlier name, still accepted): its id here (`eml_...`) or its `Message-ID`.
    #[serde(rename = "original_message_id", alias = "message_id")]
    pub message_id: String,
    /// The text body, documented as `body` (`text` still accepted).
    #[serde(rename = "body", alias = "text")]
    pub text: Option<String>,
    /// The HTML body.
    pub html: Option<String>,
    /// Also to the original's other recipients.
    #[serde(default)]
    pub reply_all: bool,
    /// Attached files.
    #[serde(default)]
    pub attachments: Vec<AttachmentIn>,
}

/// A message after parsing, before the gates.
#[derive(Debug)]
pub(super) struct Draft {
    pub(super) recipients: Vec<Address>,
    pub(super) headers: Recipients,
    pub(super) subject: String,
    pub(super) text: Option<String>,
    pub(super) html: Option<String>,
    pub(super) attachments: Vec<Attachment>,
    pub(super) in_reply_to: Option<String>,
    pub(super) references: Vec<String>,
    pub(super) reply_to: Option<Address>,
}

pub(super) fn parse_send(body: SendMail) -> Result<Draft, ApiError> {
    let to = body.to.parse("to")?;
    if to.is_empty() {
        return Err(ApiError::invalid(
            ErrorCode::EmailInvalidAddress,
            "to: at least one recipient is required",
        ));
    }
    let cc = body.cc.parse("cc")?;
    let bcc = body.bcc.parse("bcc")?;
    let in_reply_to = match body.in_reply_to.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(id) => Some(message_id("in_reply_to", id)?),
    };
    let reply_to = body
        .reply_to
        .as_deref()
        .map(|r| Address::parse("reply_to", r))
        .transpose()?;
    let mut recipients: Vec<Address> = Vec::new();
    for address in to.iter().chain(&cc).chain(&bcc) {
        if !recipients.contains(address) {
            recipients.push(address.clone());
        }
    }
    let draft = Draft {
        recipients,
        headers: Recipients {
            to: to.iter().map(ToString::to_string).collect(),
            cc: cc.iter().map(ToString::to_string).collect(),
            bcc: bcc.iter().map(ToString::to_string).collect(),
        },
        subject: body.subject.unwrap_or_default(),
        text: body.text,
        html: body.html,
        attachments: attachments(&body.attachments)?,
        in_reply_to,
        references: Vec::new(),
        reply_to,
    };
    check_content(&draft)?;
    Ok(draft)
}

/// A `Message-ID` as a client gives it: angle brackets optional, `left@right`, printable
/// ASCII without spaces.
pub(super) fn message_id(field: &str, text: &str) -> Result<String, ApiError> {
    let bare = text.trim_start_matches('<').trim_end_matches('>');
    let ok = bare.len() <= 250
        && bare.contains('@')
        && bare
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'<' && b != b'>');
    if ok {
        Ok(bare.to_owned())
    } else {
        Err(invalid_message(format!(
            "{field}: {:?} is not a Message-ID (left@right)",
            crate::e164::clip(text)
        )))
    }
}

pub(super) fn invalid_message(message: impl Into<String>) -> ApiError {
    ApiError::invalid(ErrorCode::EmailInvalidMessage, message)
}

pub(super) fn check_content(draft: &Draft) -> Result<(), ApiError> {
    if draft.recipients.len() > MAX_RECIPIENTS {
        return Err(ApiError::invalid(
            ErrorCode::EmailTooManyRecipients,
            format!("at most {MAX_RECIPIENTS} recipients per message"),
        ));
    }
    if draft.subject.len() > MAX_SUBJECT || draft.subject.chars().any(char::is_control) {
        return Err(invalid_message(format!(
            "subject must be at most {MAX_SUBJECT} bytes, without line breaks or control characters"
        )));
    }
    let text_len = draft.text.as_deref().map_or(0, str::len);
    let html_len = draft.html.as_deref().map_or(0, str::len);
    if draft.text.is_none() && draft.html.is_none() {
        return Err(invalid_message("body (text) or html is required"));
    }
    if text_len > MAX_BODY || html_len > MAX_BODY {
        return Err(ApiError::invalid(
            ErrorCode::EmailTooLarge,
            format!("text and html must each be at most {MAX_BODY} bytes"),
        ));
    }
    Ok(())
}

pub(super) fn attachments(list: &[AttachmentIn]) -> Result<Vec<Attachment>, ApiError> {
    let bad = |message: String| ApiError::invalid(ErrorCode::EmailInvalidAttachment, message);
    if list.len() > MAX_ATTACHMENTS {
        return Err(bad(format!("at most {MAX_ATTACHMENTS} attachments")));
    }
    let mut total = 0;
    let mut out = Vec::with_capacity(list.len());
    for (i, a) in list.iter().enumerate() {
        let name_ok = !a.filename.trim().is_empty()
            && a.filename.len() <= 255
            && !a
                .filename
                .chars()
                .any(|c| c.is_control() || c == '/' || c == '\\');
        if !name_ok {
            return Err(bad(format!(
                "attachments[{i}].filename must be 1-255 characters, without control characters or slashes"
            )));
        }
        let content_type = a
            .content_type
            .clone()
            .unwrap_or_else(|| "application/octet-stream".to_owned());
        let type_ok = content_type.len() <= 127
            && content_type.split_once('/').is_some_and(|(t, s)| {
                !t.is_empty()
                    && !s.is_empty()
                    && content_type
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"/.+-_".contains(&b))
            });
        if !type_ok {
            return Err(bad(format!(
                "attachments[{i}].content_type is not a MIME type (type/subtype)"
            )));
        }
        let data = base64::engine::general_purpose::STANDARD
            .decode(a.content_base64.trim())
            .map_err(|e| {
                bad(format!(
                    "attachments[{i}].content_base64 is not base64: {e}"
                ))
            })?;
        total += data.len();
        if total > MAX_ATTACHMENTS_BYTES {
            return Err(ApiError::invalid(
                ErrorCode::EmailTooLarge,
                format!("attachments may be at most {MAX_ATTACHMENTS_BYTES} bytes together"),
            ));
        }
        out.push(Attachment {
            filename: a.filename.clone(),
            content_type,
            data,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn body(json: Value) -> SendMail {
        serde_json::from_value(json).expect("body")
    }

    #[test]
    fn drafts_are_checked() {
        let ok = parse_send(body(json!({
            "to": "A@x.se, b@x.se", "cc": ["c@x.se"], "bcc": "a@x.se",
            "subject": "Hi", "text": "hello", "in_reply_to": "<m1@x.se>",
            "attachments": [{"filename": "a.txt", "content_base64": "aGVq"}]
        })))
        .expect("ok");
        assert_eq!(ok.recipients.len(), 3, "a@x.se once");
        assert_eq!(ok.headers.bcc, ["a@x.se"]);
        assert_eq!(ok.in_reply_to.as_deref(), Some("m1@x.se"));
        assert_eq!(ok.attachments[0].data, b"hej");
        assert_eq!(ok.attachments[0].content_type, "application/octet-stream");
        for (bad, code) in [
            (
                json!({"to": [], "subject": "s", "text": "t"}),
                "EMAIL_INVALID_ADDRESS",
            ),
            (
                json!({"to": "nope", "subject": "s", "text": "t"}),
                "EMAIL_INVALID_ADDRESS",
            ),
            (
                json!({"to": "a@x.se", "subject": "s"}),
                "EMAIL_INVALID_MESSAGE",
            ),
            (
                json!({"to": "a@x.se", "subject": "a\r\nBcc: x@y.se", "text": "t"}),
                "EMAIL_INVALID_MESSAGE",
            ),
            (
                json!({"to": "a@x.se", "subject": "s", "text": "t", "in_reply_to": "no id"}),
                "EMAIL_INVALID_MESSAGE",
            ),
            (
                json!({"to": "a@x.se", "subject": "s", "text": "t", "attachments": [{"filename": "a", "content_base64": "!!"}]}),
                "EMAIL_INVALID_ATTACHMENT",
            ),
            (
                json!({"to": "a@x.se", "subject": "s", "text": "t", "attachments": [{"filename": "../a", "content_base64": ""}]}),
                "EMAIL_INVALID_ATTACHMENT",
            ),
            (
                json!({"to": "a@x.se", "subject": "s", "text": "t", "attachments": [{"filename": "a", "content_type": "text", "content_base64": ""}]}),
                "EMAIL_INVALID_ATTACHMENT",
            ),
        ] {
            assert_eq!(
                parse_send(body(bad.clone()))
                    .map(|_| ())
                    .map_err(|e| e.code()),
                Err(code),
                "{bad}"
            );
        }
        let many: Vec<String> = (0..101).map(|i| format!("u{i}@x.se")).collect();
        assert_eq!(
            parse_send(body(json!({"to": many, "subject": "s", "text": "t"})))
                .map(|_| ())
                .map_err(|e| e.code()),
            Err("EMAIL_TOO_MANY_RECIPIENTS")
        );
    }
}
