//! Transaction keys: what RFC 3261 §17.1.3 and §17.2.3 match messages on.
//!
//! A server transaction is named by the top Via's branch and sent-by and the request method,
//! with ACK standing for INVITE (the ACK to a non-2xx carries the INVITE's branch, §17.1.1.3)
//! and CANCEL keeping its own method (§9.2: a CANCEL is its own transaction; the INVITE it
//! cancels is the one whose key differs only in the method). A client transaction is named by
//! the branch of the Via it inserted and the CSeq method of the responses (§17.1.3); sent-by
//! is ours and is not compared. Client keys carry no sent-by, so a client and a server key
//! never collide even when voxgate talks to itself.
//!
//! Only RFC 3261 branches are accepted: one that lacks the `z9hG4bK` magic cookie (§8.1.1.7)
//! comes from an RFC 2543 peer, whose matching rules (§17.2.3, second half) voxgate does not
//! implement; the error lets the endpoint answer 400.

use std::hash::{Hash, Hasher};

use rsip::prelude::*;

use super::{TransactionErrorKind, error};
use crate::SipError;

/// The prefix of every RFC 3261 branch (§8.1.1.7).
pub const MAGIC_COOKIE: &str = "z9hG4bK";

/// What a transaction is matched by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionKey {
    /// The top Via branch, compared byte for byte; starts with [`MAGIC_COOKIE`].
    branch: String,
    /// The method the transaction was created for; ACK is stored as INVITE.
    method: rsip::Method,
    /// Server keys: the top Via sent-by, host lowercased, port as written. Client keys: none.
    sent_by: Option<String>,
}

impl Hash for TransactionKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // `rsip::Method` does not implement `Hash`; its name does, and names are unique.
        self.branch.hash(state);
        method_name(self.method).hash(state);
        self.sent_by.hash(state);
    }
}

impl TransactionKey {
    /// The server transaction key of a received request (§17.2.3): an ACK maps to the INVITE
    /// transaction it acknowledges, a CANCEL to its own transaction.
    pub fn for_request(request: &rsip::Request) -> Result<Self, SipError> {
        let via = top_via(request)?;
        let method = match request.method {
            rsip::Method::Ack => rsip::Method::Invite,
            method => method,
        };
        Ok(Self {
            branch: rfc3261_branch(&via)?,
            method,
            sent_by: Some(sent_by(&via)),
        })
    }

    /// The client transaction key of a request voxgate sends: the branch of the Via it
    /// inserted and its method, which its responses will carry in CSeq.
    pub fn for_outgoing(request: &rsip::Request) -> Result<Self, SipError> {
        Ok(Self {
            branch: rfc3261_branch(&top_via(request)?)?,
            method: request.method,
            sent_by: None,
        })
    }

    /// The client transaction key a received response matches (§17.1.3): the top Via branch
    /// and the CSeq method.
    pub fn for_response(response: &rsip::Response) -> Result<Self, SipError> {
        Ok(Self {
            branch: rfc3261_branch(&top_via(response)?)?,
            method: cseq(response)?.method,
            sent_by: None,
        })
    }

    /// The same key with another method: the INVITE a CANCEL's key points at (§9.2).
    pub fn with_method(&self, method: rsip::Method) -> Self {
        Self {
            method,
            ..self.clone()
        }
    }

    /// The branch.
    pub fn branch(&self) -> &str {
        &self.branch
    }

    /// The method (INVITE for an ACK).
    pub fn method(&self) -> rsip::Method {
        self.method
    }

    /// The normalised sent-by of a server key; `None` for a client key.
    pub fn sent_by(&self) -> Option<&str> {
        self.sent_by.as_deref()
    }

    /// Whether this names a server transaction.
    pub fn is_server(&self) -> bool {
        self.sent_by.is_some()
    }
}

/// The first value of the first Via header field, typed. A field may hold several
/// comma-separated values; the top one is the first.
pub(super) fn top_via(message: &impl HeadersExt) -> Result<rsip::typed::Via, SipError> {
    let via = message
        .via_header()
        .map_err(|_| error(TransactionErrorKind::MissingVia))?;
    let first = first_value(via.value());
    rsip::headers::Via::new(first)
        .typed()
        .map_err(|_| error(TransactionErrorKind::BadVia))
}

/// The first value of the top Via header field as written, for copying into an ACK or
/// CANCEL (§17.1.1.3, §9.1: "a single Via ... equal to the top Via of the original request").
pub(super) fn top_via_value(message: &impl HeadersExt) -> Result<rsip::Header, SipError> {
    let via = message
        .via_header()
        .map_err(|_| error(TransactionErrorKind::MissingVia))?;
    Ok(rsip::headers::Via::new(first_value(via.value()).trim()).into())
}

/// The text before the first comma outside a quoted string.
fn first_value(field: &str) -> &str {
    let mut quoted = false;
    let mut escaped = false;
    for (at, c) in field.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => return field.get(..at).unwrap_or(field),
            _ => {}
        }
    }
    field
}

/// The branch, if it is an RFC 3261 one.
fn rfc3261_branch(via: &rsip::typed::Via) -> Result<String, SipError> {
    let branch = via
        .branch()
        .ok_or(error(TransactionErrorKind::MissingBranch))?;
    let branch = branch.value();
    if branch.starts_with(MAGIC_COOKIE) {
        Ok(branch.to_owned())
    } else {
        Err(error(TransactionErrorKind::NoMagicCookie))
    }
}

/// Sent-by as compared: host names are case-insensitive (§19.1.4), the port is kept as
/// written, so `host` and `host:5060` differ, as the RFC's "equal" says.
fn sent_by(via: &rsip::typed::Via) -> String {
    let host_port = &via.sent_by().host_with_port;
    let host = host_port.host.to_string().to_ascii_lowercase();
    match &host_port.port {
        Some(port) => format!("{host}:{port}"),
        None => host,
    }
}

/// The typed CSeq of a message.
pub(super) fn cseq(message: &impl HeadersExt) -> Result<rsip::typed::CSeq, SipError> {
    message
        .cseq_header()
        .map_err(|_| error(TransactionErrorKind::MissingCSeq))?
        .typed()
        .map_err(|_| error(TransactionErrorKind::BadCSeq))
}

/// A method's name, without allocating.
fn method_name(method: rsip::Method) -> &'static str {
    use rsip::Method::*;
    match method {
        Ack => "ACK",
        Bye => "BYE",
        Cancel => "CANCEL",
        Info => "INFO",
        Invite => "INVITE",
        Message => "MESSAGE",
        Notify => "NOTIFY",
        Options => "OPTIONS",
        PRack => "PRACK",
        Publish => "PUBLISH",
        Refer => "REFER",
        Register => "REGISTER",
        Subscribe => "SUBSCRIBE",
        Update => "UPDATE",
    }
}
