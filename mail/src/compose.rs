//! Composing outgoing mail: an [`Outgoing`] made into RFC 5322 bytes ([`Composed`]) with
//! `lettre`'s builder.
//!
//! [`compose`] is pure: no IO, no clock other than the `Date` header lettre stamps (and
//! the DKIM signature's `t=`).
//! Text and HTML together become `multipart/alternative` (text first, RFC 2046 §5.1.4);
//! attachments wrap that in `multipart/mixed`; `in_reply_to` and `references` become
//! `In-Reply-To` and `References` (RFC 5322 §3.6.4); `list_unsubscribe` becomes
//! `List-Unsubscribe` (RFC 2369) with `List-Unsubscribe-Post: List-Unsubscribe=One-Click`
//! (RFC 8058). Bcc recipients are in the envelope, never in the headers.
//!
//! Every field that reaches a header is checked first, and a bad one is
//! [`MailError::InvalidMessage`] naming the field (`to[1]`, `references[0]`, ...), so a
//! caller can point at what its user typed. Message ids and links must be printable ASCII
//! without spaces or angle brackets: that keeps header injection out by construction.

use lettre::Message;
use lettre::address::{Address, Envelope};
use lettre::message::header::{ContentType, HeaderName, HeaderValue, InReplyTo, References};
use lettre::message::{Attachment as LettreAttachment, Mailbox, MultiPart, SinglePart};

use crate::dkim::DkimKey;
use crate::{MailError, MailResult};

/// A file attached to a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The file name shown to the reader.
    pub filename: String,
    /// Its MIME type (`application/pdf`).
    pub content_type: String,
    /// The bytes.
    pub data: Vec<u8>,
}

/// Where a reader unsubscribes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListUnsubscribe {
    /// The HTTPS link (also the one-click POST target).
    pub url: String,
    /// An optional `mailto:` address.
    pub mailto: Option<String>,
}

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outgoing {
    /// The sender's address (`From`, and the envelope sender).
    pub from: String,
    /// The sender's display name.
    pub from_name: Option<String>,
    /// `To` recipients.
    pub to: Vec<String>,
    /// `Cc` recipients.
    pub cc: Vec<String>,
    /// Blind recipients: in the envelope only.
    pub bcc: Vec<String>,
    /// `Reply-To`.
    pub reply_to: Option<String>,
    /// `Subject`.
    pub subject: String,
    /// The plain-text body.
    pub text: Option<String>,
    /// The HTML body.
    pub html: Option<String>,
    /// Attached files.
    pub attachments: Vec<Attachment>,
    /// `Message-ID`, without angle brackets (`id@domain`).
    pub message_id: String,
    /// `In-Reply-To`, without angle brackets.
    pub in_reply_to: Option<String>,
    /// `References`, oldest first, without angle brackets.
    pub references: Vec<String>,
    /// `List-Unsubscribe`.
    pub list_unsubscribe: Option<ListUnsubscribe>,
    /// The sending domain's key: the message is DKIM-signed with it when given.
    pub dkim: Option<DkimKey>,
}

/// A composed message, ready to submit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Composed {
    /// The RFC 5322 bytes (CRLF line ends).
    pub raw: Vec<u8>,
    /// The envelope sender (`MAIL FROM`).
    pub envelope_from: String,
    /// Every envelope recipient (`RCPT TO`): to, cc and bcc.
    pub envelope_to: Vec<String>,
}

/// `List-Unsubscribe` (RFC 2369).
const LIST_UNSUBSCRIBE: HeaderName = HeaderName::new_from_ascii_str("List-Unsubscribe");
/// `List-Unsubscribe-Post` (RFC 8058).
const LIST_UNSUBSCRIBE_POST: HeaderName = HeaderName::new_from_ascii_str("List-Unsubscribe-Post");
/// The only value RFC 8058 §3.1 allows for `List-Unsubscribe-Post`.
const ONE_CLICK: &str = "List-Unsubscribe=One-Click";

/// Builds the RFC 5322 bytes and the envelope of `message`.
///
/// # Errors
///
/// [`MailError::InvalidMessage`] naming the field when an address, message id, link,
/// header text or attachment type is not valid, or when there is no recipient at all.
pub fn compose(message: &Outgoing) -> MailResult<Composed> {
    let from = address("from", &message.from)?;
    let envelope = envelope(message, &from)?;
    let mut builder = Message::builder()
        .from(Mailbox::new(
            message
                .from_name
                .as_deref()
                .map(|n| header_text("from_name", n))
                .transpose()?,
            from,
        ))
        .subject(header_text("subject", &message.subject)?)
        .message_id(Some(msg_id("message_id", &message.message_id)?))
        .envelope(envelope.clone());
    for (i, to) in message.to.iter().enumerate() {
        builder = builder.to(mailbox(&format!("to[{i}]"), to)?);
    }
    for (i, cc) in message.cc.iter().enumerate() {
        builder = builder.cc(mailbox(&format!("cc[{i}]"), cc)?);
    }
    if let Some(reply_to) = &message.reply_to {
        builder = builder.reply_to(mailbox("reply_to", reply_to)?);
    }
    if let Some(id) = &message.in_reply_to {
        builder = builder.header(InReplyTo::from(msg_id("in_reply_to", id)?));
    }
    if !message.references.is_empty() {
        let ids = message
            .references
            .iter()
            .enumerate()
            .map(|(i, id)| msg_id(&format!("references[{i}]"), id))
            .collect::<MailResult<Vec<_>>>()?;
        builder = builder.header(References::from(ids.join(" ")));
    }
    if let Some(unsubscribe) = &message.list_unsubscribe {
        builder = builder
            .raw_header(HeaderValue::new(
                LIST_UNSUBSCRIBE,
                list_unsubscribe(unsubscribe)?,
            ))
            .raw_header(HeaderValue::new(
                LIST_UNSUBSCRIBE_POST,
                ONE_CLICK.to_owned(),
            ));
    }
    let built = match body(message)? {
        Body::Single(part) => builder.singlepart(part),
        Body::Multi(part) => builder.multipart(part),
    }
    .map_err(|e| MailError::InvalidMessage(e.to_string()))?;
    let raw = match &message.dkim {
        Some(key) => key.sign(&built.formatted(), unix_now())?,
        None => built.formatted(),
    };
    Ok(Composed {
        raw,
        envelope_from: envelope.from().map(ToString::to_string).unwrap_or_default(),
        envelope_to: envelope.to().iter().map(ToString::to_string).collect(),
    })
}

/// Seconds since 1970 for the signature's `t=`, like the `Date` header lettre stamps.
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The top-level body: one part, or a multipart.
enum Body {
    Single(SinglePart),
    Multi(MultiPart),
}

/// Text and/or HTML (alternatives, text first), wrapped with the attachments in
/// `multipart/mixed` when there are any. A message with neither text nor HTML gets an
/// empty text part: RFC 5322 allows an empty body, and readers show it as such.
fn body(message: &Outgoing) -> MailResult<Body> {
    let content = match (&message.text, &message.html) {
        (Some(text), Some(html)) => Body::Multi(MultiPart::alternative_plain_html(
            text.clone(),
            html.clone(),
        )),
        (None, Some(html)) => Body::Single(SinglePart::html(html.clone())),
        (Some(text), None) => Body::Single(SinglePart::plain(text.clone())),
        (None, None) => Body::Single(SinglePart::plain(String::new())),
    };
    if message.attachments.is_empty() {
        return Ok(content);
    }
    let mut mixed = match content {
        Body::Single(part) => MultiPart::mixed().singlepart(part),
        Body::Multi(part) => MultiPart::mixed().multipart(part),
    };
    for (i, attachment) in message.attachments.iter().enumerate() {
        mixed = mixed.singlepart(attachment_part(i, attachment)?);
    }
    Ok(Body::Multi(mixed))
}

/// One attachment as a `Content-Disposition: attachment` part.
fn attachment_part(i: usize, attachment: &Attachment) -> MailResult<SinglePart> {
    let content_type = ContentType::parse(&attachment.content_type).map_err(|_| {
        MailError::InvalidMessage(format!(
            "attachments[{i}].content_type: not a MIME type: {:?}",
            attachment.content_type
        ))
    })?;
    let filename = header_text(&format!("attachments[{i}].filename"), &attachment.filename)?;
    Ok(LettreAttachment::new(filename).body(attachment.data.clone(), content_type))
}

/// The envelope: `MAIL FROM` is the From address; `RCPT TO` is every to, cc and bcc
/// address once, in that order.
fn envelope(message: &Outgoing, from: &Address) -> MailResult<Envelope> {
    let fields = [
        ("to", &message.to),
        ("cc", &message.cc),
        ("bcc", &message.bcc),
    ];
    let mut recipients: Vec<Address> = Vec::new();
    for (field, list) in fields {
        for (i, text) in list.iter().enumerate() {
            let address = mailbox(&format!("{field}[{i}]"), text)?.email;
            let key: &str = address.as_ref();
            let seen = recipients.iter().any(|r| {
                let r: &str = r.as_ref();
                r.eq_ignore_ascii_case(key)
            });
            if !seen {
                recipients.push(address);
            }
        }
    }
    if recipients.is_empty() {
        return Err(MailError::InvalidMessage(
            "no recipient: to, cc and bcc are all empty".into(),
        ));
    }
    Envelope::new(Some(from.clone()), recipients)
        .map_err(|e| MailError::InvalidMessage(e.to_string()))
}

/// A bare address (`user@example.com`).
fn address(field: &str, text: &str) -> MailResult<Address> {
    text.trim()
        .parse()
        .map_err(|_| MailError::InvalidMessage(format!("{field}: not an email address: {text:?}")))
}

/// An address with an optional display name (`Ann <ann@example.com>` or a bare address).
fn mailbox(field: &str, text: &str) -> MailResult<Mailbox> {
    header_text(field, text)?;
    text.trim()
        .parse()
        .map_err(|_| MailError::InvalidMessage(format!("{field}: not an email address: {text:?}")))
}

/// Header text (subject, names, file names): anything but control characters, which could
/// end the header early. Returns it owned, for the builder.
fn header_text(field: &str, text: &str) -> MailResult<String> {
    if text.chars().any(char::is_control) {
        return Err(MailError::InvalidMessage(format!(
            "{field}: control characters are not allowed"
        )));
    }
    Ok(text.to_owned())
}

/// A message id without brackets (`id@example.com`) made into `<id@example.com>`: printable
/// ASCII, no spaces or angle brackets (RFC 5322 §3.6.4 `msg-id`).
fn msg_id(field: &str, id: &str) -> MailResult<String> {
    let ok = !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'<' && b != b'>');
    if !ok {
        return Err(MailError::InvalidMessage(format!(
            "{field}: not a message id (printable ASCII without <>): {id:?}"
        )));
    }
    Ok(format!("<{id}>"))
}

/// `<https://...>` plus `, <mailto:...>` when there is a mailto. The link must be HTTPS:
/// RFC 8058 §3.1 requires it for one-click unsubscription.
fn list_unsubscribe(unsubscribe: &ListUnsubscribe) -> MailResult<String> {
    let url = uri("list_unsubscribe.url", &unsubscribe.url)?;
    if !url.starts_with("https://") {
        return Err(MailError::InvalidMessage(format!(
            "list_unsubscribe.url: must be an https:// link: {url:?}"
        )));
    }
    let Some(mailto) = &unsubscribe.mailto else {
        return Ok(format!("<{url}>"));
    };
    let mailto = uri("list_unsubscribe.mailto", mailto)?;
    let mailto = if mailto.starts_with("mailto:") {
        mailto.to_owned()
    } else {
        address("list_unsubscribe.mailto", mailto)?;
        format!("mailto:{mailto}")
    };
    Ok(format!("<{url}>, <{mailto}>"))
}

/// A URI for an angle-bracketed header list: printable ASCII without `<`, `>` or `,`.
fn uri<'a>(field: &str, text: &'a str) -> MailResult<&'a str> {
    let ok = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'<' | b'>' | b','));
    if ok {
        Ok(text)
    } else {
        Err(MailError::InvalidMessage(format!(
            "{field}: not a URI (printable ASCII without <>,): {text:?}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> Outgoing {
        Outgoing {
            from: "agent@voxgate.test".into(),
            from_name: Some("Voxgate Agent".into()),
            to: vec!["ann@example.com".into()],
            subject: "Your call".into(),
            text: Some("Hello Ann".into()),
            message_id: "m1@voxgate.test".into(),
            ..Outgoing::default()
        }
    }

    /// The raw message as text, split into unfolded headers and the rest.
    fn parse(composed: &Composed) -> (Vec<(String, String)>, String) {
        let text = String::from_utf8(composed.raw.clone()).expect("utf-8");
        let (head, body) = text.split_once("\r\n\r\n").expect("a header block");
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in head.split("\r\n") {
            if line.starts_with([' ', '\t']) {
                let last = headers.last_mut().expect("a header before a fold");
                last.1.push(' ');
                last.1.push_str(line.trim());
            } else {
                let (name, value) = line.split_once(':').expect("name: value");
                headers.push((name.to_owned(), value.trim().to_owned()));
            }
        }
        (headers, body.to_owned())
    }

    fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn signed_messages_verify_with_an_independent_verifier_and_tampering_breaks_them() {
        let pair = crate::dkim::generate().expect("key");
        let record = (
            crate::dkim::record_name("voxgate.test"),
            crate::dkim::record_value(&pair.public_key),
        );
        let signed = |m: Outgoing| {
            compose(&Outgoing {
                dkim: Some(DkimKey::new("voxgate.test", &pair.private_pem).expect("key")),
                ..m
            })
            .expect("compose")
        };
        let rich = Outgoing {
            subject: "Räksmörgås — a subject long enough that the header is folded over two lines or more".into(),
            html: Some("<p>Hello <b>Ann</b></p>".into()),
            cc: vec!["bo@example.com".into()],
            reply_to: Some("desk@voxgate.test".into()),
            in_reply_to: Some("prev@example.com".into()),
            references: vec!["first@example.com".into(), "prev@example.com".into()],
            attachments: vec![Attachment {
                filename: "notes.txt".into(),
                content_type: "text/plain".into(),
                data: b"line one  \r\nline two\t\r\n\r\n".to_vec(),
            }],
            list_unsubscribe: Some(ListUnsubscribe {
                url: "https://voxgate.test/u/abc".into(),
                mailto: None,
            }),
            ..message()
        };
        for composed in [signed(message()), signed(rich)] {
            let (headers, _) = parse(&composed);
            let signature = header(&headers, "DKIM-Signature").expect("signed");
            assert!(
                signature.contains("d=voxgate.test") && signature.contains("s=voxgate"),
                "{signature}"
            );
            let verdict =
                voxgate_testdata::mail::dkim::verify(&composed.raw, std::slice::from_ref(&record))
                    .expect("dkimpy");
            assert_eq!(
                verdict,
                Ok(()),
                "{}",
                String::from_utf8_lossy(&composed.raw)
            );
            let tampered = String::from_utf8(composed.raw.clone())
                .expect("utf-8")
                .replacen("Hello Ann", "Hello Bob", 1);
            let verdict = voxgate_testdata::mail::dkim::verify(
                tampered.as_bytes(),
                std::slice::from_ref(&record),
            )
            .expect("dkimpy");
            assert!(verdict.is_err(), "a changed body still verified");
        }
        let unsigned = compose(&message()).expect("compose");
        assert!(header(&parse(&unsigned).0, "DKIM-Signature").is_none());
    }

    #[test]
    fn plain_text_message() {
        let composed = compose(&message()).expect("composes");
        let (headers, body) = parse(&composed);
        assert_eq!(
            header(&headers, "From"),
            Some("\"Voxgate Agent\" <agent@voxgate.test>")
        );
        assert_eq!(header(&headers, "To"), Some("ann@example.com"));
        assert_eq!(header(&headers, "Subject"), Some("Your call"));
        assert_eq!(header(&headers, "Message-ID"), Some("<m1@voxgate.test>"));
        assert!(header(&headers, "Date").is_some());
        assert!(header(&headers, "Content-Type").is_some_and(|v| v.starts_with("text/plain")));
        assert!(body.contains("Hello Ann"));
        assert_eq!(composed.envelope_from, "agent@voxgate.test");
        assert_eq!(composed.envelope_to, ["ann@example.com"]);
        assert!(
            composed
                .raw
                .windows(2)
                .all(|w| w[1] != b'\n' || w[0] == b'\r')
        );
    }

    #[test]
    fn text_and_html_are_alternatives_text_first() {
        let mut m = message();
        m.html = Some("<p>Hello <b>Ann</b></p>".into());
        let composed = compose(&m).expect("composes");
        let (headers, body) = parse(&composed);
        let ct = header(&headers, "Content-Type").expect("content type");
        assert!(ct.starts_with("multipart/alternative"), "{ct}");
        let text_at = body.find("text/plain").expect("text part");
        let html_at = body.find("text/html").expect("html part");
        assert!(text_at < html_at);
    }

    #[test]
    fn attachments_wrap_the_alternatives_in_mixed() {
        let mut m = message();
        m.html = Some("<p>Hi</p>".into());
        m.attachments = vec![Attachment {
            filename: "notes.pdf".into(),
            content_type: "application/pdf".into(),
            data: b"%PDF-1.4 \x00\x01\x02".to_vec(),
        }];
        let (headers, body) = parse(&compose(&m).expect("composes"));
        let ct = header(&headers, "Content-Type").expect("content type");
        assert!(ct.starts_with("multipart/mixed"), "{ct}");
        let alt = body
            .find("multipart/alternative")
            .expect("nested alternative");
        let pdf = body.find("application/pdf").expect("attachment part");
        assert!(alt < pdf);
        assert!(
            body.contains("attachment; filename=\"notes.pdf\""),
            "{body}"
        );
    }

    #[test]
    fn threading_unsubscribe_reply_to_cc_and_hidden_bcc() {
        let mut m = message();
        m.cc = vec!["Bo <bo@example.com>".into()];
        m.bcc = vec!["boss@example.com".into(), "ANN@example.com".into()];
        m.reply_to = Some("support@voxgate.test".into());
        m.in_reply_to = Some("orig@example.com".into());
        m.references = vec!["root@example.com".into(), "orig@example.com".into()];
        m.list_unsubscribe = Some(ListUnsubscribe {
            url: "https://voxgate.test/u/abc".into(),
            mailto: Some("unsub@voxgate.test".into()),
        });
        let composed = compose(&m).expect("composes");
        let (headers, _) = parse(&composed);
        assert_eq!(header(&headers, "Cc"), Some("Bo <bo@example.com>"));
        assert_eq!(header(&headers, "Reply-To"), Some("support@voxgate.test"));
        assert_eq!(header(&headers, "In-Reply-To"), Some("<orig@example.com>"));
        assert_eq!(
            header(&headers, "References"),
            Some("<root@example.com> <orig@example.com>")
        );
        assert_eq!(
            header(&headers, "List-Unsubscribe"),
            Some("<https://voxgate.test/u/abc>, <mailto:unsub@voxgate.test>")
        );
        assert_eq!(header(&headers, "List-Unsubscribe-Post"), Some(ONE_CLICK));
        assert_eq!(header(&headers, "Bcc"), None);
        assert!(!String::from_utf8_lossy(&composed.raw).contains("boss@"));
        // ANN@ is ann@ again: each recipient once.
        assert_eq!(
            composed.envelope_to,
            ["ann@example.com", "bo@example.com", "boss@example.com"]
        );
    }

    #[test]
    fn bad_fields_are_named() {
        type Edit = fn(&mut Outgoing);
        let table: [(&str, Edit); 10] = [
            ("from", |m| m.from = "not an address".into()),
            ("to[1]", |m| m.to.push("nope".into())),
            ("cc[0]", |m| m.cc.push("@example.com".into())),
            ("bcc[0]", |m| m.bcc.push("a@".into())),
            ("reply_to", |m| m.reply_to = Some("x".into())),
            ("subject", |m| {
                m.subject = "hi\r\nBcc: evil@example.com".into()
            }),
            ("message_id", |m| m.message_id = "<m1@x>".into()),
            ("references[1]", |m| {
                m.references = vec!["a@x".into(), "b c@x".into()]
            }),
            ("list_unsubscribe.url", |m| {
                m.list_unsubscribe = Some(ListUnsubscribe {
                    url: "http://voxgate.test/u".into(),
                    mailto: None,
                });
            }),
            ("attachments[0].content_type", |m| {
                m.attachments.push(Attachment {
                    filename: "a.bin".into(),
                    content_type: "nonsense".into(),
                    data: vec![1],
                });
            }),
        ];
        for (field, edit) in table {
            let mut m = message();
            edit(&mut m);
            match compose(&m) {
                Err(MailError::InvalidMessage(text)) => {
                    assert!(text.starts_with(field), "{field}: {text}");
                }
                other => panic!("{field}: expected InvalidMessage, got {other:?}"),
            }
        }
    }

    proptest::proptest! {
        /// Whatever a caller passes, composing answers (bytes or InvalidMessage), never
        /// panics, and no header text can start a header of its own.
        #[test]
        fn never_panics_nor_injects(
            subject in "(?s)(.|\r\nX-Injected: 1){0,20}",
            name in "(?s)(.|\r\nX-Injected: 1){0,20}",
            to in "[a-zA-Z0-9.<> @\"-]{0,30}",
            filename in "(?s)(.|\r\nX-Injected: 1){0,20}",
            id in "(?s)(.|\r\nX-Injected: 1){0,20}",
        ) {
            let mut m = message();
            m.subject = subject;
            m.from_name = Some(name);
            m.to.push(to);
            m.in_reply_to = Some(id);
            m.attachments.push(Attachment {
                filename,
                content_type: "application/octet-stream".into(),
                data: vec![0, 1, 2],
            });
            if let Ok(composed) = compose(&m) {
                let text = String::from_utf8_lossy(&composed.raw).into_owned();
                let head = text.split("\r\n\r\n").next().unwrap_or_default();
                let names: Vec<&str> = head
                    .split("\r\n")
                    .filter(|l| !l.starts_with([' ', '\t']))
                    .filter_map(|l| l.split_once(':').map(|(n, _)| n))
                    .collect();
                for injected in ["Bcc", "X-Injected"] {
                    proptest::prop_assert!(!names.contains(&injected));
                }
            }
        }
    }

    #[test]
    fn a_message_needs_a_recipient_but_bcc_alone_is_enough() {
        let mut m = message();
        m.to.clear();
        assert!(matches!(compose(&m), Err(MailError::InvalidMessage(_))));
        m.bcc = vec!["hidden@example.com".into()];
        let composed = compose(&m).expect("composes");
        assert_eq!(composed.envelope_to, ["hidden@example.com"]);
        let (headers, _) = parse(&composed);
        assert_eq!(header(&headers, "To"), None);
    }
}
