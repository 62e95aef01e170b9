//! `send`, `reply` and `send_tracked`: every message passes the same gates in the same
//! order, is stored, and is then queued for approval (`send_policy = outbox`) or submitted.
//!
//! The gates, each with its code:
//! 1. the element is enabled (`ELEMENT_DISABLED`) and can send (`EMAIL_NOT_CONFIGURED`);
//! 2. addresses and content are well formed (`EMAIL_INVALID_ADDRESS`,
//!    `EMAIL_INVALID_MESSAGE`, `EMAIL_INVALID_ATTACHMENT`, `EMAIL_TOO_MANY_RECIPIENTS`);
//! 3. the sender's domain is the platform's or a verified domain of the circle, on the
//!    platform path (`EMAIL_DOMAIN_NOT_VERIFIED`);
//! 4. no recipient is suppressed (`EMAIL_SUPPRESSED`, audited as `blocked`);
//! 5. `known_only`: every recipient is a known contact, except for replies
//!    (`EMAIL_UNKNOWN_RECIPIENT`);
//! 6. tracked mail: every recipient gave `soft_optin` or `double_optin` (`EMAIL_NO_CONSENT`);
//! 7. the circle's daily cap, counted atomically per message when it is dispatched
//!    (`EMAIL_DAILY_CAP_REACHED`, 429).

use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Value, json};
use voxgate_mail::compose::{Attachment, ListUnsubscribe, Outgoing, compose};

use super::account::{self, Account};
use super::address::{Address, AddressList, MAX_RECIPIENTS};
use super::audit::{self, Subject};
use super::{deliver, track};
use crate::element::email::{EmailSpec, SendPolicy};
use crate::error::ApiError;
use crate::ids::{new_id, now_ms};
use crate::phone::check_enabled;
use crate::state::AppState;
use crate::store::{Element, EmailMessage, Recipients};

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
    /// The subject.
    pub subject: String,
    /// The text body (text and/or html is required).
    pub text: Option<String>,
    /// The HTML body.
    pub html: Option<String>,
    /// Attached files.
    #[serde(default)]
    pub attachments: Vec<AttachmentIn>,
    /// The `Message-ID` this answers: becomes `In-Reply-To` and `References`.
    pub in_reply_to: Option<String>,
    /// `Reply-To`.
    pub reply_to: Option<String>,
}

/// `reply`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyMail {
    /// The message answered: its id here (`eml_...`) or its `Message-ID`.
    pub message_id: String,
    /// The text body (text and/or html is required).
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

/// What kind of send this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `send`.
    Send,
    /// `reply`: threading headers from the original, exempt from `known_only`.
    Reply,
    /// `send_tracked`: consent required, open pixel and click redirects.
    Tracked,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Send => "send",
            Self::Reply => "reply",
            Self::Tracked => "tracked",
        }
    }
}

/// A message after parsing, before the gates.
#[derive(Debug)]
struct Draft {
    recipients: Vec<Address>,
    headers: Recipients,
    subject: String,
    text: Option<String>,
    html: Option<String>,
    attachments: Vec<Attachment>,
    in_reply_to: Option<String>,
    references: Vec<String>,
    reply_to: Option<Address>,
}

/// `send` / `send_tracked`.
pub async fn send(
    state: &AppState,
    element: &Element,
    key_id: &str,
    body: SendMail,
    kind: Kind,
) -> Result<Value, ApiError> {
    let spec = crate::element::email::spec_of(element)?;
    check_enabled(element)?;
    let draft = parse_send(body)?;
    let references = match &draft.in_reply_to {
        Some(parent) => references_of(state, &element.circle_id, parent).await?,
        None => Vec::new(),
    };
    let draft = Draft {
        references,
        ..draft
    };
    submit(state, element, &spec, key_id, draft, kind).await
}

/// `reply`: to the original's sender (and, with `reply_all`, its other recipients), with
/// "Re: " and the threading headers.
pub async fn reply(
    state: &AppState,
    element: &Element,
    key_id: &str,
    body: ReplyMail,
) -> Result<Value, ApiError> {
    let spec = crate::element::email::spec_of(element)?;
    check_enabled(element)?;
    let original = original_of(state, element, &body.message_id).await?;
    let own = account::own_addresses(state, element, &spec).await?;
    let mut to = vec![Address::parse("reply", &original.sender)?];
    let mut cc = Vec::new();
    if body.reply_all {
        for other in original.recipients.to.iter().chain(&original.recipients.cc) {
            let Ok(address) = Address::parse("reply", other) else {
                continue;
            };
            if !own.contains(&address) && !to.contains(&address) && !cc.contains(&address) {
                cc.push(address);
            }
        }
    }
    if original.direction == "outbound" {
        // Following up on our own message: answer its recipients.
        to = original
            .recipients
            .to
            .iter()
            .filter_map(|a| Address::parse("reply", a).ok())
            .collect();
    }
    let subject = if original.subject.to_ascii_lowercase().starts_with("re:") {
        original.subject.clone()
    } else {
        format!("Re: {}", original.subject)
    };
    cc.retain(|a| !to.contains(a));
    // Received ids are whatever the sender wrote: keep the ones that can go in a header.
    let mut references: Vec<String> = original
        .refs
        .iter()
        .filter_map(|r| message_id("references", r).ok())
        .collect();
    let parent = message_id("message_id", &original.message_id).ok();
    references.extend(parent.clone());
    let draft = Draft {
        recipients: to.iter().chain(&cc).cloned().collect(),
        headers: Recipients {
            to: to.iter().map(ToString::to_string).collect(),
            cc: cc.iter().map(ToString::to_string).collect(),
            bcc: Vec::new(),
        },
        subject,
        text: body.text,
        html: body.html,
        attachments: attachments(&body.attachments)?,
        in_reply_to: parent,
        references,
        reply_to: None,
    };
    check_content(&draft)?;
    let text = draft.text.clone().unwrap_or_default();
    let sent = submit(state, element, &spec, key_id, draft, Kind::Reply).await?;
    if let (Some(thread_id), Some(id)) = (&original.thread_id, sent["message_id"].as_str()) {
        // The answer joins the conversation the original is in.
        let store = state.store();
        store.email().set_thread(id, thread_id).await?;
        store
            .append_message(
                thread_id,
                &crate::store::ThreadMessage {
                    role: "assistant".to_owned(),
                    content: text,
                    channel: "email".to_owned(),
                    call_id: None,
                    created_at: now_ms(),
                },
            )
            .await?;
    }
    Ok(sent)
}

/// The stored message `id` (`eml_...`) or `Message-ID` of this element's circle.
pub(crate) async fn original_of(
    state: &AppState,
    element: &Element,
    id: &str,
) -> Result<EmailMessage, ApiError> {
    let email = state.store().email();
    let found = if id.starts_with("eml_") {
        email.message(&element.id, id).await?
    } else {
        let bare = id.trim().trim_start_matches('<').trim_end_matches('>');
        email
            .messages_by_message_id(&element.circle_id, bare)
            .await?
            .into_iter()
            .find(|m| m.element_id == element.id)
    };
    found.ok_or_else(|| {
        ApiError::not_found(
            "EMAIL_MESSAGE_NOT_FOUND",
            format!("no message {:?} on this element", crate::e164::clip(id)),
        )
    })
}

/// `References` for an answer to `parent` (a `Message-ID`): the parent's own references
/// and the parent, when the parent is stored; else just the parent.
async fn references_of(
    state: &AppState,
    circle_id: &str,
    parent: &str,
) -> Result<Vec<String>, ApiError> {
    let stored = state
        .store()
        .email()
        .messages_by_message_id(circle_id, parent)
        .await?;
    let mut refs = stored.first().map(|m| m.refs.clone()).unwrap_or_default();
    refs.push(parent.to_owned());
    Ok(refs)
}

fn parse_send(body: SendMail) -> Result<Draft, ApiError> {
    let to = body.to.parse("to")?;
    if to.is_empty() {
        return Err(ApiError::invalid(
            "EMAIL_INVALID_ADDRESS",
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
        subject: body.subject,
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
fn message_id(field: &str, text: &str) -> Result<String, ApiError> {
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

fn invalid_message(message: impl Into<String>) -> ApiError {
    ApiError::invalid("EMAIL_INVALID_MESSAGE", message)
}

fn check_content(draft: &Draft) -> Result<(), ApiError> {
    if draft.recipients.len() > MAX_RECIPIENTS {
        return Err(ApiError::invalid(
            "EMAIL_TOO_MANY_RECIPIENTS",
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
        return Err(invalid_message("text or html is required"));
    }
    if text_len > MAX_BODY || html_len > MAX_BODY {
        return Err(invalid_message(format!(
            "text and html must each be at most {MAX_BODY} bytes"
        )));
    }
    Ok(())
}

fn attachments(list: &[AttachmentIn]) -> Result<Vec<Attachment>, ApiError> {
    let bad = |message: String| ApiError::invalid("EMAIL_INVALID_ATTACHMENT", message);
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
            return Err(bad(format!(
                "attachments may be at most {MAX_ATTACHMENTS_BYTES} bytes together"
            )));
        }
        out.push(Attachment {
            filename: a.filename.clone(),
            content_type,
            data,
        });
    }
    Ok(out)
}

/// Runs the gates, stores the message and dispatches it (or queues it for approval).
async fn submit(
    state: &AppState,
    element: &Element,
    spec: &EmailSpec,
    key_id: &str,
    draft: Draft,
    kind: Kind,
) -> Result<Value, ApiError> {
    check_enabled(element)?;
    let account = account::resolve(state, element, spec).await?;
    account.smtp_or_error()?;
    account::check_sender_domain(state, element, &account).await?;
    let circle = &element.circle_id;
    gate_suppressed(state, element, &draft.recipients).await?;
    if spec.send_policy == SendPolicy::KnownOnly && kind != Kind::Reply {
        gate_known(state, circle, &draft.recipients).await?;
    }
    if kind == Kind::Tracked {
        gate_consent(state, circle, &draft.recipients).await?;
    }
    let outbox = spec.send_policy == SendPolicy::Outbox;
    // A draft for the outbox counts against the cap when it is approved, not now.
    let counted = if outbox {
        None
    } else {
        Some(deliver::count(state, element).await?)
    };
    let message = match store(state, element, &account, draft, kind, outbox).await {
        Ok(message) => message,
        Err(e) => {
            if let Some(day) = counted {
                deliver::refund(state, circle, &day).await;
            }
            return Err(e);
        }
    };
    audit::record(
        state,
        circle,
        "queued",
        Subject {
            element_id: Some(&element.id),
            message: Some(&message.id),
            address: None,
        },
        json!({"kind": kind.as_str(), "outbox": outbox, "to": message.recipients.to, "by": key_id}),
    )
    .await?;
    let message = if outbox {
        message
    } else {
        deliver::dispatch(state, message).await?
    };
    Ok(deliver::view(&message))
}

async fn gate_suppressed(
    state: &AppState,
    element: &Element,
    recipients: &[Address],
) -> Result<(), ApiError> {
    for address in recipients {
        if let Some(s) = state
            .store()
            .email()
            .suppression(&element.circle_id, address.as_str())
            .await?
        {
            audit::record(
                state,
                &element.circle_id,
                "blocked",
                Subject {
                    element_id: Some(&element.id),
                    message: None,
                    address: Some(address.as_str()),
                },
                json!({"reason": s.reason, "source": s.source}),
            )
            .await?;
            return Err(ApiError::failed(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "EMAIL_SUPPRESSED",
                format!(
                    "{address} is on the suppression list ({}): nothing was sent",
                    s.source
                ),
                false,
            ));
        }
    }
    Ok(())
}

async fn gate_known(
    state: &AppState,
    circle: &str,
    recipients: &[Address],
) -> Result<(), ApiError> {
    for address in recipients {
        if state
            .store()
            .email()
            .contact(circle, address.as_str())
            .await?
            .is_none()
        {
            return Err(ApiError::failed(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "EMAIL_UNKNOWN_RECIPIENT",
                format!(
                    "{address} is not a known contact and send_policy is known_only: nothing was sent"
                ),
                false,
            ));
        }
    }
    Ok(())
}

async fn gate_consent(
    state: &AppState,
    circle: &str,
    recipients: &[Address],
) -> Result<(), ApiError> {
    for address in recipients {
        let consent = state
            .store()
            .email()
            .contact(circle, address.as_str())
            .await?
            .map(|c| c.consent);
        if !matches!(consent.as_deref(), Some("soft_optin" | "double_optin")) {
            return Err(ApiError::failed(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "EMAIL_NO_CONSENT",
                format!(
                    "{address} has not opted in (soft_optin or double_optin) to tracked mail: nothing was sent"
                ),
                false,
            ));
        }
    }
    Ok(())
}

/// Composes and stores the message (`pending` for the outbox, else `queued`), with its
/// tracking tokens.
async fn store(
    state: &AppState,
    element: &Element,
    account: &Account,
    draft: Draft,
    kind: Kind,
    outbox: bool,
) -> Result<EmailMessage, ApiError> {
    let id = new_id("eml");
    let message_id = format!("{id}@{}", account.from.domain());
    let now = now_ms();
    let mut outgoing = Outgoing {
        from: account.from.to_string(),
        from_name: account.from_name.clone(),
        to: draft.headers.to.clone(),
        cc: draft.headers.cc.clone(),
        bcc: draft.headers.bcc.clone(),
        reply_to: draft.reply_to.as_ref().map(ToString::to_string),
        subject: draft.subject.clone(),
        text: draft.text.clone(),
        html: draft.html.clone(),
        attachments: draft.attachments,
        message_id: message_id.clone(),
        in_reply_to: draft.in_reply_to.clone(),
        references: draft.references.clone(),
        list_unsubscribe: None,
    };
    // One unsubscribe link per message: it can only say whom it unsubscribes when the
    // message has one recipient (a one-click POST carries no address).
    let single = draft.recipients.len() == 1;
    let tokens = if kind == Kind::Reply || (!single && kind != Kind::Tracked) {
        Vec::new()
    } else {
        let (tokens, unsubscribe) = track::prepare(state, &mut outgoing, kind == Kind::Tracked);
        // RFC 8058 one-click needs HTTPS; a deployment on plain HTTP (development) sends
        // no List-Unsubscribe rather than a link mail clients must not POST to.
        outgoing.list_unsubscribe =
            (single && unsubscribe.starts_with("https://")).then_some(ListUnsubscribe {
                url: unsubscribe,
                mailto: None,
            });
        tokens
    };
    let composed = compose(&outgoing).map_err(|e| invalid_message(e.to_string()))?;
    let attachments: Vec<Value> = outgoing
        .attachments
        .iter()
        .enumerate()
        .map(|(index, a)| {
            json!({"index": index, "filename": a.filename, "content_type": a.content_type, "size": a.data.len()})
        })
        .collect();
    let message = EmailMessage {
        id,
        circle_id: element.circle_id.clone(),
        element_id: element.id.clone(),
        direction: "outbound".to_owned(),
        kind: kind.as_str().to_owned(),
        status: if outbox { "pending" } else { "queued" }.to_owned(),
        message_id,
        in_reply_to: draft.in_reply_to,
        refs: draft.references,
        thread_id: None,
        sender: account.from.to_string(),
        recipients: draft.headers,
        subject: draft.subject,
        body_text: outgoing.text,
        body_html: outgoing.html,
        attachments: Value::Array(attachments),
        tracked: kind == Kind::Tracked,
        attempts: 0,
        next_attempt_at: None,
        error_code: None,
        error: None,
        reviewed_by: None,
        created_at: now,
        updated_at: now,
        sent_at: None,
    };
    state
        .store()
        .email()
        .insert_message(&message, &composed.raw)
        .await?;
    track::store_tokens(state, &message.id, &tokens).await?;
    Ok(message)
}

#[cfg(test)]
mod tests {
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
