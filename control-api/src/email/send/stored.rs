//! Composing (DKIM-signed when the sender's domain has a key) and storing an outgoing
//! message, with its tracking tokens.

use serde_json::{Value, json};
use voxgate_mail::compose::{ListUnsubscribe, Outgoing, compose};

use super::Kind;
use super::draft::{Draft, invalid_message};
use crate::email::account::Account;
use crate::email::domains::signing_key;
use crate::email::track;
use crate::error::ApiError;
use crate::ids::new_id;
use crate::state::AppState;
use crate::store::{Element, EmailMessage};

/// Composes and stores the message (`pending` for the outbox, else `queued`), with its
/// tracking tokens.
pub(super) async fn store(
    state: &AppState,
    element: &Element,
    account: &Account,
    draft: Draft,
    kind: Kind,
    outbox: bool,
    tracked: bool,
) -> Result<EmailMessage, ApiError> {
    let id = new_id("eml");
    let message_id = format!("{id}@{}", account.from.domain());
    let now = state.now_ms();
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
        // Signed when From is on a verified domain of the circle (email::domains).
        dkim: signing_key(state, &element.circle_id, account.from.domain()).await?,
    };
    // One unsubscribe link per message: it can only say whom it unsubscribes when the
    // message has one recipient (a one-click POST carries no address).
    let single = draft.recipients.len() == 1;
    let tokens = if kind == Kind::Reply || (!single && !tracked) {
        Vec::new()
    } else {
        let (tokens, unsubscribe) = track::prepare(state, &mut outgoing, tracked);
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
        tracked,
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
