//! The email element's own operations (`001_*.txt`), with the documented names, methods
//! and roles, and two of ours (`list-messages`, `set-consent`). The work is in
//! [`crate::email`].

use axum::http::Method;

use super::{ElementCx, Errors, NoInput, Op, op};
use crate::auth::Role;
use crate::email::addresses::{self, AddressRequest};
use crate::email::audit::{self, EventsQuery};
use crate::email::domains::{self, DomainRequest};
use crate::email::mailbox::{
    self, AttachmentQuery, BatchApply, CreateFolder, DeleteMessages, FolderCountsQuery,
    FolderQuery, InboxQuery, LabelChange, MarkRead, MessageQuery, MoveMessages, SearchQuery,
};
use crate::email::outbox::{self, OutboxQuery, Review};
use crate::email::send::{self, Kind, ReplyMail, SendMail};
use crate::email::suppress::{self, ConsentChange, SuppressionChange, SuppressionsQuery};
use crate::email::{connection, deliver, messages};

/// The email operations.
pub(super) fn ops() -> Vec<Op<ElementCx>> {
    let mut ops = sending();
    ops.extend(mailbox_ops());
    ops.extend(addresses_and_domains());
    ops.extend(compliance());
    ops
}

fn sending() -> Vec<Op<ElementCx>> {
    vec![
        op(
            "send",
            Method::POST,
            Role::Write,
            "send a message (stored first; held in the outbox under send_policy outbox)",
        )
        .errors(Errors::Remote)
        .run(|cx: ElementCx, body: SendMail| async move {
            send::send(&cx.state, &cx.element, &cx.caller.key_id, body, Kind::Send).await
        }),
        op(
            "send_tracked",
            Method::POST,
            Role::Write,
            "single-recipient send with consent gate, open/click tracking and audit",
        )
        .errors(Errors::Remote)
        .run(|cx: ElementCx, body: SendMail| async move {
            send::send(
                &cx.state,
                &cx.element,
                &cx.caller.key_id,
                body,
                Kind::Tracked,
            )
            .await
        }),
        op(
            "reply",
            Method::POST,
            Role::Write,
            "reply to a received message: In-Reply-To, References, To and \"Re: \"",
        )
        .errors(Errors::Remote)
        .run(|cx: ElementCx, body: ReplyMail| async move {
            send::reply(&cx.state, &cx.element, &cx.caller.key_id, body).await
        }),
        op(
            "list_outbox",
            Method::POST,
            Role::Read,
            "outbox rows of this element by status (default pending), with their drafts",
        )
        .also(Method::GET)
        .errors(Errors::Input)
        .run(|cx: ElementCx, query: OutboxQuery| async move {
            outbox::list(&cx.state, &cx.element, &query).await
        }),
        op(
            "approve_dispatch",
            Method::POST,
            Role::Write,
            "approve a pending draft: it is sent at once",
        )
        .errors(Errors::Remote)
        .run(|cx: ElementCx, body: Review| async move {
            outbox::approve(&cx.state, &cx.element, &cx.caller.key_id, &body).await
        }),
        op(
            "reject_dispatch",
            Method::POST,
            Role::Write,
            "reject a pending draft without sending, with an optional reason",
        )
        .run(|cx: ElementCx, body: Review| async move {
            outbox::reject(&cx.state, &cx.element, &cx.caller.key_id, &body).await
        }),
        op(
            "list-messages",
            Method::GET,
            Role::Read,
            "stored messages both ways, newest first (voxgate's own)",
        )
        .errors(Errors::Input)
        .run(|cx: ElementCx, query: messages::MessagesQuery| async move {
            messages::list(&cx.state, &cx.element, &query).await
        }),
        op(
            "test_connection",
            Method::POST,
            Role::Execute,
            "EHLO, TLS and AUTH at the SMTP server (and a login at IMAP); sends nothing",
        )
        .path("test-connection")
        .alias("test_connection")
        .also(Method::GET)
        .errors(Errors::Remote)
        .run(|cx: ElementCx, _: NoInput| async move {
            connection::test(&cx.state, &cx.element).await
        }),
        op(
            "rate-status",
            Method::GET,
            Role::Read,
            "the circle's daily send counter: limit, remaining, reset_at",
        )
        .errors(Errors::Input)
        .run(|cx: ElementCx, _: NoInput| async move {
            deliver::rate_status(&cx.state, &cx.element.circle_id).await
        }),
    ]
}

fn mailbox_ops() -> Vec<Op<ElementCx>> {
    vec![
        op(
            "list-inbox",
            Method::GET,
            Role::Read,
            "message envelopes of a folder (default INBOX), newest first, with page_token",
        )
        .errors(Errors::Remote)
        .run(|cx: ElementCx, query: InboxQuery| async move {
            mailbox::list_inbox(&cx.state, &cx.element, &query).await
        }),
        op(
            "get-message",
            Method::GET,
            Role::Read,
            "one message with bodies, headers and attachment metadata (IMAP: BODY.PEEK)",
        )
        .errors(Errors::Remote)
        .run(|cx: ElementCx, query: MessageQuery| async move {
            mailbox::get_message(&cx.state, &cx.element, &query).await
        }),
        op(
            "search",
            Method::GET,
            Role::Read,
            "search by text, from, since, before; newest first",
        )
        .errors(Errors::Remote)
        .run(|cx: ElementCx, query: SearchQuery| async move {
            mailbox::search(&cx.state, &cx.element, &query).await
        }),
        op(
            "unread-count",
            Method::GET,
            Role::Read,
            "unread messages in the inbox (or a folder)",
        )
        .errors(Errors::Remote)
        .run(|cx: ElementCx, query: FolderQuery| async move {
            mailbox::unread_count(&cx.state, &cx.element, &query).await
        }),
        op(
            "mark-read",
            Method::POST,
            Role::Write,
            "set (or clear) \\Seen",
        )
        .errors(Errors::Remote)
        .run(|cx: ElementCx, body: MarkRead| async move {
            mailbox::mark_read(&cx.state, &cx.element, &body).await
        }),
        op(
            "delete-message",
            Method::POST,
            Role::Write,
            "delete a message",
        )
        .errors(Errors::Remote)
        .run(|cx: ElementCx, body: DeleteMessages| async move {
            mailbox::delete_message(&cx.state, &cx.element, &body).await
        }),
        op(
            "list_folders",
            Method::POST,
            Role::Read,
            "every folder with id, name, role, parent_id, total_emails, unread_emails",
        )
        .also(Method::GET)
        .errors(Errors::Remote)
        .run(|cx: ElementCx, _: NoInput| async move {
            mailbox::list_folders(&cx.state, &cx.element).await
        }),
        op(
            "folder_counts",
            Method::POST,
            Role::Read,
            "total_emails and unread_emails of the given folders",
        )
        .also(Method::GET)
        .errors(Errors::Remote)
        .run(|cx: ElementCx, query: FolderCountsQuery| async move {
            mailbox::folder_counts(&cx.state, &cx.element, &query).await
        }),
        op(
            "create_folder",
            Method::POST,
            Role::Write,
            "create a folder",
        )
        .errors(Errors::Remote)
        .run(|cx: ElementCx, body: CreateFolder| async move {
            mailbox::create_folder(&cx.state, &cx.element, &body).await
        }),
        op(
            "move_to_folder",
            Method::POST,
            Role::Write,
            "move a message to a folder",
        )
        .errors(Errors::Remote)
        .run(|cx: ElementCx, body: MoveMessages| async move {
            mailbox::move_to_folder(&cx.state, &cx.element, &body).await
        }),
        op(
            "apply_label",
            Method::POST,
            Role::Write,
            "add a label (keyword) to a message",
        )
        .errors(Errors::Remote)
        .run(|cx: ElementCx, body: LabelChange| async move {
            mailbox::apply_label(&cx.state, &cx.element, &body).await
        }),
        op(
            "remove_label",
            Method::POST,
            Role::Write,
            "remove a label (idempotent)",
        )
        .errors(Errors::Remote)
        .run(|cx: ElementCx, body: LabelChange| async move {
            mailbox::remove_label(&cx.state, &cx.element, &body).await
        }),
        op(
            "batch_apply",
            Method::POST,
            Role::Write,
            "read state and moves for many messages, grouped per folder",
        )
        .errors(Errors::Remote)
        .run(|cx: ElementCx, body: BatchApply| async move {
            mailbox::batch_apply(&cx.state, &cx.element, &body).await
        }),
        op(
            "get-attachment",
            Method::GET,
            Role::Read,
            "one attachment's bytes, base64",
        )
        .errors(Errors::Remote)
        .run(|cx: ElementCx, query: AttachmentQuery| async move {
            mailbox::get_attachment(&cx.state, &cx.element, &query).await
        }),
    ]
}

fn addresses_and_domains() -> Vec<Op<ElementCx>> {
    vec![
        op(
            "provision-address",
            Method::POST,
            Role::Write,
            "add a receiving address (idempotent)",
        )
        .run(|cx: ElementCx, body: AddressRequest| async move {
            addresses::provision(&cx.state, &cx.element, &body).await
        }),
        op(
            "remove-address",
            Method::POST,
            Role::Write,
            "remove an address (not the primary one)",
        )
        .run(|cx: ElementCx, body: AddressRequest| async move {
            addresses::remove(&cx.state, &cx.element, &body).await
        }),
        op(
            "list-addresses",
            Method::GET,
            Role::Read,
            "the element's addresses, the primary one included",
        )
        .errors(Errors::Input)
        .run(|cx: ElementCx, _: NoInput| async move {
            addresses::list(&cx.state, &cx.element).await
        }),
        op(
            "add_domain",
            Method::POST,
            Role::Write,
            "register a sending domain: the DNS records to publish (idempotent)",
        )
        .errors(Errors::Remote)
        .run(|cx: ElementCx, body: DomainRequest| async move {
            domains::add(&cx.state, &cx.element, &body).await
        }),
        op(
            "verify_domain",
            Method::POST,
            Role::Write,
            "look the verification TXT record up; verified on success",
        )
        .errors(Errors::Remote)
        .run(|cx: ElementCx, body: DomainRequest| async move {
            domains::verify(&cx.state, &cx.element, &body).await
        }),
        op(
            "list_domains",
            Method::POST,
            Role::Read,
            "the circle's sending domains, each with verified",
        )
        .also(Method::GET)
        .errors(Errors::Input)
        .run(|cx: ElementCx, _: NoInput| async move {
            domains::list(&cx.state, &cx.element).await
        }),
        op(
            "remove_domain",
            Method::POST,
            Role::Write,
            "drop a sending domain of the circle",
        )
        .run(|cx: ElementCx, body: DomainRequest| async move {
            domains::remove(&cx.state, &cx.element, &body).await
        }),
        op(
            "bootstrap_managed_domain",
            Method::POST,
            Role::Write,
            "the platform-managed mailbox: the circle's own domain under the platform's",
        )
        .errors(Errors::Remote)
        .run(|cx: ElementCx, _: NoInput| async move {
            domains::bootstrap(&cx.state, &cx.element, &cx.caller.circle.name).await
        }),
    ]
}

fn compliance() -> Vec<Op<ElementCx>> {
    vec![
        op(
            "list-suppressions",
            Method::GET,
            Role::Read,
            "the circle's suppression list",
        )
        .errors(Errors::Input)
        .run(|cx: ElementCx, query: SuppressionsQuery| async move {
            suppress::list(&cx.state, &cx.element, &query).await
        }),
        op(
            "add-suppression",
            Method::POST,
            Role::Write,
            "suppress an address (source manual_user; idempotent)",
        )
        .run(|cx: ElementCx, body: SuppressionChange| async move {
            suppress::add(&cx.state, &cx.element, &cx.caller.key_id, &body).await
        }),
        op(
            "remove-suppression",
            Method::POST,
            Role::Admin,
            "lift a suppression (reason required)",
        )
        .run(|cx: ElementCx, body: SuppressionChange| async move {
            suppress::remove(&cx.state, &cx.element, &cx.caller.key_id, &body).await
        }),
        op(
            "set-consent",
            Method::POST,
            Role::Write,
            "record a contact's consent: none, soft_optin, double_optin (voxgate's own)",
        )
        .run(|cx: ElementCx, body: ConsentChange| async move {
            suppress::set_consent(&cx.state, &cx.element, &cx.caller.key_id, &body).await
        }),
        op(
            "list-events",
            Method::GET,
            Role::Read,
            "the email audit log, by event_type or address",
        )
        .errors(Errors::Input)
        .run(|cx: ElementCx, query: EventsQuery| async move {
            let element_id = (!query.circle_wide).then_some(cx.element.id.as_str());
            if query.circle_wide {
                cx.caller.require(Role::Admin)?;
            }
            audit::list(&cx.state, &cx.element.circle_id, element_id, &query).await
        }),
    ]
}
