//! RFC 3261 §17 transactions over UDP, with the fixes of RFC 6026.
//!
//! A transaction is one request and the responses to it, plus the retransmissions UDP needs.
//! This module holds the four state machines of RFC 3261 §17 and the table that routes
//! messages to them:
//!
//! - [`ClientInvite`] (§17.1.1, RFC 6026 §7.2 and §8.4): `Calling` → `Proceeding` →
//!   `Accepted` (2xx) or `Completed` (3xx-6xx, the transaction sends the ACK) → `Terminated`;
//! - [`ClientNonInvite`] (§17.1.2): `Trying` → `Proceeding` → `Completed` → `Terminated`;
//! - [`ServerInvite`] (§17.2.1, RFC 6026 §7.1 and §8.5-8.7): `Proceeding` → `Accepted` (2xx)
//!   or `Completed` (3xx-6xx) → `Confirmed` (ACK) → `Terminated`;
//! - [`ServerNonInvite`] (§17.2.2): `Trying` → `Proceeding` → `Completed` → `Terminated`;
//! - [`TransactionLayer`]: owns many transactions, matches incoming messages to them by
//!   [`TransactionKey`] (§17.1.3, §17.2.3, and §9.2 for CANCEL) and hands up what matches none.
//!
//! # Sans-IO
//!
//! Nothing here reads a clock, owns a socket or sleeps. Each machine takes inputs with
//! `handle_*(now, ..)`, gives [`Output`]s from `poll_output()` and names its next deadline
//! with `poll_timeout()`; the driver calls `handle_timeout(now)` when that deadline passes.
//! Timers are a few `Option<Instant>` deadlines per machine, computed from [`Timers`] (the RFC
//! names `T1`, `T2`, `T4` and timers A to M), so tests run whole flows on a virtual clock.
//!
//! ```text
//! loop {
//!     select! {
//!         (datagram, from) = socket.recv() => match layer.handle_message(now, parse(datagram)?)? {
//!             Routed::Matched(_) => {}
//!             Routed::NewRequest(request) => tu.on_request(request, from), // create_server
//!             Routed::Cancel { request, invite } => tu.on_cancel(request, invite),
//!             Routed::StrayResponse(response) => tu.on_stray(response),
//!         },
//!         _ = sleep_until(layer.poll_timeout()) => layer.handle_timeout(now),
//!     }
//!     while let Some(out) = layer.poll_output() {
//!         match out.output {
//!             Output::Transmit(message) => socket.send_to(message.to_string(), out.peer),
//!             other => tu.on_transaction(out.key, other),
//!         }
//!     }
//! }
//! ```
//!
//! # Addresses
//!
//! The four machines know no addresses: they say *what* to send. The [`TransactionLayer`]
//! keeps the one `SocketAddr` each transaction was created with (where the request goes, or
//! where the endpoint decided responses go per §18.2.2) and tags every output with it.
//!
//! # 2xx to INVITE
//!
//! Per RFC 6026 the transactions do not carry a 2xx to INVITE reliably; the dialog does.
//! On the client, [`ClientInvite`] passes every 2xx (retransmissions too) up and the TU sends
//! the ACK (§13.2.2.4), a request outside any transaction. On the server, the dialog
//! retransmits its 2xx per §13.3.1.4 (T1 doubling to T2 until the ACK, for 64×T1). This module
//! offers no retransmission helper for that: [`ServerInvite`] in `Accepted` sends each 2xx the
//! TU hands it, and since Timer L lasts 64×T1, the dialog's whole retransmission window falls
//! inside it. An ACK to a 2xx has its own branch, matches no transaction and reaches the TU
//! as [`Routed::NewRequest`]; one that does match (same branch) is passed up as
//! [`Output::Ack`], as the server INVITE figure of RFC 6026 (§7.1) shows.
//!
//! # What it does not do
//!
//! UDP only: no reliable transports (whose timers would be zero), no RFC 2543 transaction
//! matching (a request without the `z9hG4bK` cookie is refused with
//! [`TransactionErrorKind::NoMagicCookie`], and the endpoint answers 400), no proxy or
//! stateless behaviour, and no 2xx retransmission (see above).

mod client_invite;
mod client_non_invite;
mod key;
mod layer;
mod requests;
mod server_invite;
mod server_non_invite;
mod timers;

#[cfg(test)]
mod tests;

pub use client_invite::ClientInvite;
pub use client_non_invite::ClientNonInvite;
pub use key::{MAGIC_COOKIE, TransactionKey};
pub use layer::{LayerOutput, Routed, TransactionLayer};
pub use requests::cancel_for;
pub use server_invite::ServerInvite;
pub use server_non_invite::ServerNonInvite;
pub use timers::{T1, T2, T4, TIMER_D_UDP, TRYING_DELAY, Timers};

use crate::SipError;

/// What a transaction asks of its driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Send this message to the transaction's peer (the request, a retransmission, an ACK
    /// to a non-2xx, or a response).
    Transmit(rsip::SipMessage),
    /// A response for the TU (client transactions): provisional, final, and on an INVITE
    /// every 2xx including retransmissions (RFC 6026 §8.4).
    Response(rsip::Response),
    /// An ACK with the INVITE's branch that reached a server INVITE transaction in `Accepted`,
    /// for the TU (the RFC 6026 §7.1 figure: "ACK / to TU").
    Ack(rsip::Request),
    /// No final response (timer B or F) or no ACK (timer H): the TU answers itself with 408
    /// (client) or ends the dialog (server).
    Timeout,
    /// The transport reported that a message of this transaction could not be sent
    /// (§17.1.4, §17.2.4).
    TransportError,
    /// The transaction ended; it takes no more input and can be dropped.
    Terminated,
}

/// The RFC 3261 / RFC 6026 state of a transaction. Each machine uses the states its figure
/// names: client INVITE `Calling`, `Proceeding`, `Accepted`, `Completed`; client non-INVITE
/// and server non-INVITE `Trying`, `Proceeding`, `Completed`; server INVITE `Proceeding`,
/// `Accepted`, `Completed`, `Confirmed`; all end in `Terminated`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Client INVITE: the INVITE was sent, nothing heard yet (timers A and B run).
    Calling,
    /// Non-INVITE: the request was sent or received, no response yet.
    Trying,
    /// A provisional response was received or sent.
    Proceeding,
    /// RFC 6026: a 2xx to the INVITE was received or sent; absorbing retransmissions.
    Accepted,
    /// A final response was received or sent; absorbing retransmissions.
    Completed,
    /// Server INVITE: the ACK to a non-2xx arrived (timer I runs).
    Confirmed,
    /// Done.
    Terminated,
}

/// Why a transaction refused an input; a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransactionErrorKind {
    /// A message that does not belong to this transaction.
    NotMine,
    /// No Via header field: nothing to match a transaction on.
    MissingVia,
    /// A top Via that does not parse.
    BadVia,
    /// A top Via without a branch parameter (an RFC 2543 peer): answer 400.
    MissingBranch,
    /// A branch without the `z9hG4bK` magic cookie (an RFC 2543 peer): answer 400.
    NoMagicCookie,
    /// No CSeq header field.
    MissingCSeq,
    /// A CSeq that does not parse.
    BadCSeq,
    /// No From header field in a request a transaction copies it from.
    MissingFrom,
    /// No To header field in the message a transaction copies it from.
    MissingTo,
    /// No Call-ID header field in a request a transaction copies it from.
    MissingCallId,
    /// A request of a method this kind of transaction is not made for (a non-INVITE to an
    /// INVITE transaction or the reverse).
    WrongMethod,
    /// An ACK: it never starts a transaction (§17.1.1.3, §17.2.3).
    AckWithoutTransaction,
    /// A status code outside 100-699.
    BadStatus,
    /// A response from the TU the transaction's state no longer takes (a provisional after
    /// a final, a second non-2xx final, anything once terminated).
    LateResponse,
    /// The layer holds no transaction under that key.
    UnknownTransaction,
    /// The layer already holds a transaction under that key (a reused branch).
    DuplicateTransaction,
}

impl TransactionErrorKind {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::NotMine => "SIP_TRANSACTION_NOT_MINE",
            Self::MissingVia => "SIP_TRANSACTION_MISSING_VIA",
            Self::BadVia => "SIP_TRANSACTION_BAD_VIA",
            Self::MissingBranch => "SIP_TRANSACTION_MISSING_BRANCH",
            Self::NoMagicCookie => "SIP_TRANSACTION_NO_MAGIC_COOKIE",
            Self::MissingCSeq => "SIP_TRANSACTION_MISSING_CSEQ",
            Self::BadCSeq => "SIP_TRANSACTION_BAD_CSEQ",
            Self::MissingFrom => "SIP_TRANSACTION_MISSING_FROM",
            Self::MissingTo => "SIP_TRANSACTION_MISSING_TO",
            Self::MissingCallId => "SIP_TRANSACTION_MISSING_CALL_ID",
            Self::WrongMethod => "SIP_TRANSACTION_WRONG_METHOD",
            Self::AckWithoutTransaction => "SIP_TRANSACTION_ACK_WITHOUT_TRANSACTION",
            Self::BadStatus => "SIP_TRANSACTION_BAD_STATUS",
            Self::LateResponse => "SIP_TRANSACTION_LATE_RESPONSE",
            Self::UnknownTransaction => "SIP_TRANSACTION_UNKNOWN",
            Self::DuplicateTransaction => "SIP_TRANSACTION_DUPLICATE",
        }
    }
}
crate::error::display_as_code!(TransactionErrorKind);

/// The error for `kind`.
fn error(kind: TransactionErrorKind) -> SipError {
    SipError::Transaction { kind }
}

/// The class of a status code, refusing codes outside 100-699.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// 1xx.
    Provisional,
    /// 2xx.
    Success,
    /// 3xx-6xx.
    Failure,
}

impl Class {
    /// Classifies `status`, or [`TransactionErrorKind::BadStatus`].
    fn of(status: &rsip::StatusCode) -> Result<Self, SipError> {
        match status.code() {
            100..=199 => Ok(Self::Provisional),
            200..=299 => Ok(Self::Success),
            300..=699 => Ok(Self::Failure),
            _ => Err(error(TransactionErrorKind::BadStatus)),
        }
    }
}
