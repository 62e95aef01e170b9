//! The email element's operation table (name, method, least role, summary): the router's
//! role checks and `ops/schema` both read it.

use crate::auth::Role;
use crate::element::Operation;

/// Every email operation.
pub const OPERATIONS: [Operation; 36] = [
    Operation {
        name: "send",
        method: "POST",
        role: Role::Execute,
        summary: "send a message (stored first; held in the outbox under send_policy outbox)",
    },
    Operation {
        name: "reply",
        method: "POST",
        role: Role::Execute,
        summary: "reply to a stored message with threading headers and \"Re: \"",
    },
    Operation {
        name: "send_tracked",
        method: "POST",
        role: Role::Execute,
        summary: "send with open and click tracking; recipients must have opted in",
    },
    Operation {
        name: "rate-status",
        method: "GET",
        role: Role::Read,
        summary: "the circle's daily cap, sent today and remaining",
    },
    Operation {
        name: "list_outbox",
        method: "GET",
        role: Role::Read,
        summary: "outgoing drafts waiting for approval (or by status), newest first",
    },
    Operation {
        name: "approve_dispatch",
        method: "POST",
        role: Role::Execute,
        summary: "approve a pending draft: it is sent at once",
    },
    Operation {
        name: "reject_dispatch",
        method: "POST",
        role: Role::Execute,
        summary: "reject a pending draft",
    },
    Operation {
        name: "list-messages",
        method: "GET",
        role: Role::Read,
        summary: "stored messages both ways, newest first",
    },
    Operation {
        name: "list-inbox",
        method: "GET",
        role: Role::Read,
        summary: "a mailbox folder over IMAP, newest first, with a cursor",
    },
    Operation {
        name: "get-message",
        method: "GET",
        role: Role::Read,
        summary: "one message over IMAP (BODY.PEEK: stays unread) or a stored one",
    },
    Operation {
        name: "search",
        method: "GET",
        role: Role::Read,
        summary: "search a folder: text, from, since, before",
    },
    Operation {
        name: "unread-count",
        method: "GET",
        role: Role::Read,
        summary: "messages without \\Seen in a folder",
    },
    Operation {
        name: "mark-read",
        method: "POST",
        role: Role::Write,
        summary: "set (or clear) \\Seen",
    },
    Operation {
        name: "delete-message",
        method: "POST",
        role: Role::Write,
        summary: "delete messages from a folder",
    },
    Operation {
        name: "list_folders",
        method: "GET",
        role: Role::Read,
        summary: "the mailbox's folders",
    },
    Operation {
        name: "create_folder",
        method: "POST",
        role: Role::Write,
        summary: "create a folder",
    },
    Operation {
        name: "move_to_folder",
        method: "POST",
        role: Role::Write,
        summary: "move messages to another folder",
    },
    Operation {
        name: "apply_label",
        method: "POST",
        role: Role::Write,
        summary: "add a label (IMAP keyword)",
    },
    Operation {
        name: "remove_label",
        method: "POST",
        role: Role::Write,
        summary: "remove a label (IMAP keyword)",
    },
    Operation {
        name: "folder_counts",
        method: "GET",
        role: Role::Read,
        summary: "messages and unread per folder",
    },
    Operation {
        name: "batch_apply",
        method: "POST",
        role: Role::Write,
        summary: "several flag, label and move actions, grouped per folder",
    },
    Operation {
        name: "get-attachment",
        method: "GET",
        role: Role::Read,
        summary: "one attachment, base64",
    },
    Operation {
        name: "provision-address",
        method: "POST",
        role: Role::Write,
        summary: "add a receiving address (idempotent)",
    },
    Operation {
        name: "remove-address",
        method: "POST",
        role: Role::Write,
        summary: "remove a receiving address (not the primary one)",
    },
    Operation {
        name: "list-addresses",
        method: "GET",
        role: Role::Read,
        summary: "the element's receiving addresses",
    },
    Operation {
        name: "add_domain",
        method: "POST",
        role: Role::Admin,
        summary: "add a sending domain: the TXT records to publish (idempotent)",
    },
    Operation {
        name: "verify_domain",
        method: "POST",
        role: Role::Admin,
        summary: "look the domain's TXT record up and mark it verified",
    },
    Operation {
        name: "list_domains",
        method: "GET",
        role: Role::Read,
        summary: "the circle's domains",
    },
    Operation {
        name: "remove_domain",
        method: "POST",
        role: Role::Admin,
        summary: "remove a domain of the circle",
    },
    Operation {
        name: "bootstrap_managed_domain",
        method: "POST",
        role: Role::Admin,
        summary: "the circle's domain under the platform domain, verified",
    },
    Operation {
        name: "list-suppressions",
        method: "GET",
        role: Role::Read,
        summary: "the circle's suppression list",
    },
    Operation {
        name: "add-suppression",
        method: "POST",
        role: Role::Admin,
        summary: "suppress an address (reason required)",
    },
    Operation {
        name: "remove-suppression",
        method: "POST",
        role: Role::Admin,
        summary: "lift a suppression (reason required)",
    },
    Operation {
        name: "set-consent",
        method: "POST",
        role: Role::Write,
        summary: "record a contact's consent: none, soft_optin, double_optin",
    },
    Operation {
        name: "list-events",
        method: "GET",
        role: Role::Read,
        summary: "the audit log: sent, opened, clicked, bounced, suppressed, ...",
    },
    Operation {
        name: "test-connection",
        method: "GET",
        role: Role::Read,
        summary: "EHLO, TLS and AUTH at the SMTP server, login at IMAP; sends nothing",
    },
];

/// The input and output schemas of email operation `name`, for `ops/schema`: request
/// bodies from their types, queries and outputs as plain objects.
pub fn io_schema(name: &str) -> (serde_json::Value, serde_json::Value) {
    use utoipa::PartialSchema;

    use super::{outbox, send, suppress};
    fn of<T: PartialSchema>() -> serde_json::Value {
        serde_json::to_value(T::schema()).unwrap_or(serde_json::Value::Null)
    }
    let object = serde_json::json!({"type": "object"});
    let input = match name {
        "send" | "send_tracked" => of::<send::SendMail>(),
        "reply" => of::<send::ReplyMail>(),
        "approve_dispatch" | "reject_dispatch" => of::<outbox::Review>(),
        "add-suppression" | "remove-suppression" => of::<suppress::SuppressionChange>(),
        "set-consent" => of::<suppress::ConsentChange>(),
        _ => object.clone(),
    };
    (input, object)
}
