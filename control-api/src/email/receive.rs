//! Mail delivered to voxgate's SMTP listener (`email.smtp_listen`): [`Inbox`] is the
//! listener's [`Delivery`]. A recipient is accepted when an enabled email element receives
//! at it (its `address`, `from_address`, `accepted_addresses`, a provisioned address, or
//! any address at one of its `accepted_domains`); others get `550 5.1.1`.
//!
//! Each accepted message is read (`voxgate-mail`'s `inbound::parse`, within limits),
//! stored once per element, audited as `received` and emitted on the element's `message`
//! port (event `email.message`). Mail that cannot be read at all is refused with
//! `554 5.6.0` and nothing is stored; readable mail with broken parts is stored with its
//! problems in `error`. A delivery status notification (RFC 3464) is a bounce: its failed
//! recipients are suppressed with the parsed diagnostics. In `mode = conversation` mail is
//! threaded into the agent's conversation: by `In-Reply-To`/`References` when they name a
//! stored message, else by sender.

use serde_json::json;
use voxgate_mail::inbound::{self, Inbound, Limits};
use voxgate_mail::listener::{Delivery, Envelope, Verdict};

use super::address::Address;
use super::audit::{self, Subject};
use super::deliver::view;
use super::suppress;
use crate::element::email::EmailMode;
use crate::error::{ApiError, ErrorCode};
use crate::ids::new_id;
use crate::state::AppState;
use crate::store::{Element, EmailMessage, Recipients, ThreadMessage};

/// The listener's delivery into the email elements.
#[derive(Debug, Clone)]
pub struct Inbox {
    state: AppState,
    limits: Limits,
}

impl Inbox {
    /// An inbox over `state`.
    pub fn new(state: AppState) -> Self {
        Self {
            state,
            limits: Limits::default(),
        }
    }
}

fn temporary(text: &str) -> Verdict {
    Verdict::Reject {
        code: 451,
        status: "4.3.0".to_owned(),
        text: text.to_owned(),
    }
}

#[async_trait::async_trait]
impl Delivery for Inbox {
    async fn recipient(&self, address: &str) -> Verdict {
        match route(&self.state, address).await {
            Ok(Some(_)) => Verdict::Accept,
            Ok(None) => Verdict::Reject {
                code: 550,
                status: "5.1.1".to_owned(),
                text: "no such mailbox here".to_owned(),
            },
            Err(e) => {
                tracing::warn!(error = %e, "inbound mail: cannot route a recipient");
                temporary("cannot check the recipient now; try again later")
            }
        }
    }

    async fn deliver(&self, envelope: &Envelope, raw: Vec<u8>) -> Verdict {
        let mail = match inbound::parse(&raw, &self.limits) {
            Ok(mail) => mail,
            Err(e) => {
                tracing::info!(peer = %envelope.peer, error = %e, "inbound mail refused");
                return Verdict::Reject {
                    code: 554,
                    status: "5.6.0".to_owned(),
                    text: format!("message refused: {e}"),
                };
            }
        };
        match store_all(&self.state, envelope, &mail, &raw).await {
            Ok(()) => Verdict::Accept,
            Err(e) => {
                tracing::warn!(error = %e, "inbound mail: cannot store");
                temporary("cannot store the message now; try again later")
            }
        }
    }
}

/// The enabled email element receiving at `address`, if any. Exact addresses win over
/// `accepted_domains`.
pub async fn route(state: &AppState, address: &str) -> Result<Option<Element>, ApiError> {
    let Ok(address) = Address::parse("rcpt", address) else {
        return Ok(None);
    };
    let store = state.store();
    if let Some(record) = store.email().address(address.as_str()).await? {
        let element = store.element_by_id(&record.element_id).await?;
        return Ok(element.filter(|e| e.enabled));
    }
    let mut by_domain = None;
    for element in store.email().email_elements().await? {
        if !element.enabled {
            continue;
        }
        let Ok(spec) = crate::element::email::spec_of(&element) else {
            continue;
        };
        let exact = [&spec.address, &spec.from_address]
            .into_iter()
            .chain(&spec.accepted_addresses)
            .any(|a| a.eq_ignore_ascii_case(address.as_str()));
        if exact {
            return Ok(Some(element));
        }
        if by_domain.is_none()
            && spec
                .accepted_domains
                .iter()
                .any(|d| d.eq_ignore_ascii_case(address.domain()))
        {
            by_domain = Some(element);
        }
    }
    Ok(by_domain)
}

/// Stores the message once for each element among the envelope's recipients.
async fn store_all(
    state: &AppState,
    envelope: &Envelope,
    mail: &Inbound,
    raw: &[u8],
) -> Result<(), ApiError> {
    let mut done: Vec<String> = Vec::new();
    for rcpt in &envelope.rcpt_to {
        let Some(element) = route(state, rcpt).await? else {
            continue;
        };
        if done.contains(&element.id) {
            continue;
        }
        done.push(element.id.clone());
        receive(state, &element, envelope, mail, raw).await?;
    }
    Ok(())
}

/// References looked at when threading (the newest ones): a header section of 256 KiB can
/// hold thousands, and each costs a query.
const MAX_REFERENCES: usize = 20;

/// One element's copy of a received message. Once the message is stored, what follows
/// (the bounce, the contact, the thread) is best effort: failing it must not make the
/// sender retry and store the message twice.
async fn receive(
    state: &AppState,
    element: &Element,
    envelope: &Envelope,
    mail: &Inbound,
    raw: &[u8],
) -> Result<(), ApiError> {
    let spec = crate::element::email::spec_of(element)?;
    let message = record_of(element, envelope, mail, state.now_ms());
    state.store().email().insert_message(&message, raw).await?;
    let mut stored = message;
    if let Err(e) = after_storing(state, element, &spec, mail, &mut stored).await {
        tracing::warn!(message = %stored.id, error = %e, "inbound mail stored; its follow-up failed");
    }
    state.events().emit(
        "email.message",
        &element.circle_id,
        &element.id,
        view(&stored),
    );
    Ok(())
}

/// The stored record of a received message.
fn record_of(
    element: &Element,
    envelope: &Envelope,
    mail: &Inbound,
    now: crate::ids::Millis,
) -> EmailMessage {
    let sender = mail
        .from
        .clone()
        .unwrap_or_else(|| envelope.mail_from.clone())
        .to_lowercase();
    let attachments = mail
        .attachments
        .iter()
        .map(|a| json!({"index": a.index, "filename": a.filename, "content_type": a.content_type, "size": a.size}))
        .collect();
    let problems = (!mail.problems.is_empty()).then(|| mail.problems.join("; "));
    EmailMessage {
        id: new_id("eml"),
        circle_id: element.circle_id.clone(),
        element_id: element.id.clone(),
        direction: "inbound".to_owned(),
        kind: if mail.bounce.is_some() {
            "bounce"
        } else {
            "received"
        }
        .to_owned(),
        status: "received".to_owned(),
        message_id: mail
            .message_id
            .clone()
            .unwrap_or_else(|| format!("{}@voxgate.invalid", new_id("nomsgid"))),
        in_reply_to: mail.in_reply_to.clone(),
        refs: mail.references.clone(),
        thread_id: None,
        sender,
        recipients: Recipients {
            to: mail.to.clone(),
            cc: mail.cc.clone(),
            bcc: Vec::new(),
        },
        subject: mail.subject.clone(),
        body_text: mail.text.clone(),
        body_html: mail.html.clone(),
        attachments: serde_json::Value::Array(attachments),
        tracked: false,
        attempts: 0,
        next_attempt_at: None,
        error_code: problems
            .as_ref()
            .map(|_| ErrorCode::EmailMalformed.as_str().to_owned()),
        error: problems,
        reviewed_by: None,
        created_at: now,
        updated_at: now,
        sent_at: None,
    }
}

/// The audit entry, then the bounce, the contact or the conversation thread.
async fn after_storing(
    state: &AppState,
    element: &Element,
    spec: &crate::element::email::EmailSpec,
    mail: &Inbound,
    message: &mut EmailMessage,
) -> Result<(), ApiError> {
    audit::record(
        state,
        &element.circle_id,
        "received",
        Subject {
            element_id: Some(&element.id),
            message: Some(&message.id),
            address: Some(&message.sender),
        },
        json!({"subject": message.subject, "rfc_message_id": message.message_id, "bounce": mail.bounce.is_some(), "problems": mail.problems}),
    )
    .await?;
    if let Some(bounce) = &mail.bounce {
        return bounced(state, element, bounce).await;
    }
    if !mail.auto_submitted && Address::parse("from", &message.sender).is_ok() {
        state
            .store()
            .email()
            .know_contact(
                &element.circle_id,
                &message.sender,
                "inbound",
                message.created_at,
            )
            .await?;
    }
    if spec.mode == EmailMode::Conversation {
        message.thread_id = thread(state, element, message).await?;
    }
    Ok(())
}

/// A delivery status notification. Anyone can send one, so an address is suppressed only
/// when the report names a message this circle sent to that very address; other reports
/// are audited as `bounced` and change nothing.
async fn bounced(
    state: &AppState,
    element: &Element,
    bounce: &voxgate_mail::inbound::Bounce,
) -> Result<(), ApiError> {
    let email = state.store().email();
    let original = match &bounce.original_message_id {
        Some(id) => email
            .messages_by_message_id(&element.circle_id, id)
            .await?
            .into_iter()
            .find(|m| m.direction == "outbound"),
        None => None,
    };
    for failed in bounce.recipients.iter().filter(|r| r.permanent) {
        let diagnostic = format!(
            "{} {}{}",
            failed.status,
            failed.diagnostic.as_deref().unwrap_or(""),
            failed
                .remote_mta
                .as_deref()
                .map(|m| format!(" (remote MTA {m})"))
                .unwrap_or_default()
        );
        let address = failed.address.to_lowercase();
        let ours = original
            .as_ref()
            .filter(|m| m.recipients.all().any(|r| *r == address));
        match ours {
            Some(message) => {
                suppress::bounced(
                    state,
                    &element.circle_id,
                    Some(&element.id),
                    Some(&message.id),
                    &address,
                    diagnostic.trim(),
                )
                .await?;
            }
            None => {
                audit::record(
                    state,
                    &element.circle_id,
                    "bounced",
                    Subject {
                        element_id: Some(&element.id),
                        message: None,
                        address: Some(&address),
                    },
                    json!({"diagnostic": diagnostic.trim(), "ignored": "the report names no message sent to this address"}),
                )
                .await?;
            }
        }
    }
    Ok(())
}

/// Threads a received message into the agent's conversation; gives the thread. A reply
/// joins the thread of the message it names only when it comes from that thread's
/// contact: Message-IDs are visible to every recipient, so a stranger must not be able to
/// write into someone else's conversation.
async fn thread(
    state: &AppState,
    element: &Element,
    message: &EmailMessage,
) -> Result<Option<String>, ApiError> {
    let store = state.store();
    let Ok(contact) = Address::parse("from", &message.sender) else {
        return Ok(None);
    };
    let own_threads: Vec<String> = store
        .threads_by_contact(&element.circle_id, contact.as_str())
        .await?
        .into_iter()
        .map(|t| t.id)
        .collect();
    let mut thread_id = None;
    let parents = message
        .in_reply_to
        .iter()
        .chain(message.refs.iter().rev())
        .take(MAX_REFERENCES);
    for parent in parents {
        let found = store
            .email()
            .messages_by_message_id(&element.circle_id, parent)
            .await?
            .into_iter()
            .find_map(|m| m.thread_id)
            .filter(|t| own_threads.contains(t));
        if found.is_some() {
            thread_id = found;
            break;
        }
    }
    if thread_id.is_none() {
        let Some(agent) = store.agents(&element.circle_id).await?.into_iter().next() else {
            return Ok(None);
        };
        thread_id = Some(
            store
                .thread(
                    &element.circle_id,
                    contact.as_str(),
                    &agent.id,
                    message.created_at,
                )
                .await?
                .id,
        );
    }
    let Some(thread_id) = thread_id else {
        return Ok(None);
    };
    let text = message.body_text.as_deref().unwrap_or("").trim();
    store
        .append_message(
            &thread_id,
            &ThreadMessage {
                role: "user".to_owned(),
                content: format!("Subject: {}\n\n{text}", message.subject),
                channel: "email".to_owned(),
                call_id: None,
                created_at: message.created_at,
            },
        )
        .await?;
    store.email().set_thread(&message.id, &thread_id).await?;
    Ok(Some(thread_id))
}
