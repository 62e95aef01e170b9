//! What the layers above read from every message, taken out once.

use rsip::prelude::{HeadersExt as _, ToTypedHeader as _, UntypedHeader as _};
use rsip::{Method, SipMessage};

/// The identity of a message: enough to route it to its transaction and dialog and to log
/// it, read once from a message [`parse`](super::parse) has checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The request's method, or the method of the request a response answers (its CSeq).
    pub method: Method,
    /// The status code of a response; `None` for a request.
    pub status: Option<u16>,
    /// The Call-ID.
    pub call_id: String,
    /// The CSeq sequence number.
    pub cseq: u32,
    /// The From tag (RFC 3261 §8.1.1.3 makes it mandatory; RFC 2543 peers omit it).
    pub from_tag: Option<String>,
    /// The To tag: set in responses and in-dialog requests.
    pub to_tag: Option<String>,
    /// The top Via's branch parameter.
    pub branch: Option<String>,
}

/// Reads a checked message's [`Summary`]; `None` for a message [`parse`](super::parse)
/// would have refused.
pub fn summarize(message: &SipMessage) -> Option<Summary> {
    let cseq = message.cseq_header().ok()?.typed().ok()?;
    let (method, status) = match message {
        SipMessage::Request(r) => (r.method, None),
        SipMessage::Response(r) => (cseq.method, Some(r.status_code.code())),
    };
    let from = message.from_header().ok()?.typed().ok()?;
    let to = message.to_header().ok()?.typed().ok()?;
    Some(Summary {
        method,
        status,
        call_id: message.call_id_header().ok()?.value().trim().to_owned(),
        cseq: cseq.seq,
        from_tag: from.tag().map(ToString::to_string),
        to_tag: to.tag().map(ToString::to_string),
        branch: branch_of(message),
    })
}

/// The top Via's branch parameter.
pub fn branch_of(message: &SipMessage) -> Option<String> {
    let via = message.via_header().ok()?.typed().ok()?;
    via.branch().map(ToString::to_string)
}
