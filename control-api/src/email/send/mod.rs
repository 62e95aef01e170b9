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
//!
//! Submodules: `draft` reads and checks what the client sent, `gates` holds the policy
//! checks, `stored` composes and stores the message.

mod draft;
mod gates;
mod stored;

use serde_json::json;

pub use draft::{AttachmentIn, ReplyMail, SendMail};
use draft::{Draft, attachments, check_content, message_id, parse_send};

use super::account;
use super::address::Address;
use super::audit::{self, Subject};
use super::deliver;
use crate::element::email::{EmailSpec, SendPolicy};
use crate::error::{ApiError, ErrorCode};
use crate::phone::check_enabled;
use crate::state::AppState;
use crate::store::{Element, EmailMessage, Recipients};

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

/// `send` / `send_tracked`.
pub async fn send(
    state: &AppState,
    element: &Element,
    key_id: &str,
    body: SendMail,
    kind: Kind,
) -> Result<SentMessage, ApiError> {
    let spec = crate::element::email::spec_of(element)?;
    check_enabled(element)?;
    let body = SendMail {
        subject: body.subject.or_else(|| Some(spec.default_subject.clone())),
        reply_to: body.reply_to.or_else(|| spec.reply_to.clone()),
        ..body
    };
    let mut draft = parse_send(body)?;
    if !spec.html_enabled {
        // The spec sends text only: an HTML-only message has nothing left to send.
        if draft.text.is_none() {
            return Err(draft::invalid_message(
                "this element has html_enabled false: give a text body",
            ));
        }
        draft.html = None;
    }
    if kind == Kind::Tracked && draft.html.is_none() {
        // The open pixel and the click redirects live in HTML: tracking a text-only
        // message would promise opens and clicks that can never be counted.
        return Err(draft::invalid_message(
            "send_tracked needs an html body: open tracking inserts a pixel and rewrites links in HTML",
        ));
    }
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
) -> Result<SentMessage, ApiError> {
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
    let mut sent = submit(state, element, &spec, key_id, draft, Kind::Reply).await?;
    if let Some(thread_id) = &original.thread_id {
        // The answer joins the conversation the original is in.
        let store = state.store();
        store
            .email()
            .set_thread(&sent.message.message_id, thread_id)
            .await?;
        sent.message.thread_id = Some(thread_id.clone());
        store
            .append_message(
                thread_id,
                &crate::store::ThreadMessage {
                    role: "assistant".to_owned(),
                    content: text,
                    channel: "email".to_owned(),
                    call_id: None,
                    created_at: state.now_ms(),
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
            ErrorCode::EmailMessageNotFound,
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

/// Runs the gates, stores the message and dispatches it (or queues it for approval).
async fn submit(
    state: &AppState,
    element: &Element,
    spec: &EmailSpec,
    key_id: &str,
    draft: Draft,
    kind: Kind,
) -> Result<SentMessage, ApiError> {
    check_enabled(element)?;
    let account = account::resolve(state, element, spec).await?;
    account.smtp_or_error()?;
    account::check_sender_domain(state, element, &account).await?;
    let circle = &element.circle_id;
    gates::gate_suppressed(state, element, &draft.recipients).await?;
    if spec.send_policy == SendPolicy::KnownOnly && kind != Kind::Reply {
        gates::gate_known(state, circle, &draft.recipients).await?;
    }
    if kind == Kind::Tracked {
        gates::gate_consent(state, circle, &draft.recipients).await?;
    }
    let outbox = spec.send_policy == SendPolicy::Outbox;
    // A draft for the outbox counts against the cap when it is approved, not now.
    let counted = if outbox {
        None
    } else {
        Some(deliver::count(state, element).await?)
    };
    // `send_tracked` always tracks; a plain send does when the spec's tracking_enabled
    // is on and there is HTML to put the pixel in.
    let tracked = kind == Kind::Tracked
        || (kind == Kind::Send && spec.tracking_enabled && draft.html.is_some());
    let message = match stored::store(state, element, &account, draft, kind, outbox, tracked).await
    {
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
    Ok(send_view(&message, outbox))
}

/// The documented send result: the message (`message_id`, `status`, ...), `from_rewritten`
/// (voxgate refuses a From it may not use rather than rewriting it, so always false) and,
/// for a draft held in the outbox, the `dispatch_id` that `approve_dispatch` and
/// `reject_dispatch` take.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct SentMessage {
    /// The stored message.
    #[serde(flatten)]
    pub message: deliver::MessageView,
    /// Always false: a From this element may not use is refused, never rewritten.
    pub from_rewritten: bool,
    /// Held in the outbox (`send_policy` `outbox`) until approved.
    pub queued_for_approval: bool,
    /// The outbox row, for approve_dispatch / reject_dispatch (outbox only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dispatch_id: Option<String>,
}

fn send_view(message: &EmailMessage, outbox: bool) -> SentMessage {
    SentMessage {
        message: deliver::MessageView::of(message),
        from_rewritten: false,
        queued_for_approval: outbox,
        dispatch_id: outbox.then(|| message.id.clone()),
    }
}
