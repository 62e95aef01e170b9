//! One INVITE session as the user agent keeps it: its dialog, its transactions, and the
//! 2xx retransmission RFC 6026 leaves to the UAS core.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rsip::{Request, Response};

use crate::auth::DigestClient;
use crate::dialog::Dialog;
use crate::transaction::TransactionKey;

/// Which side of the call voxgate is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    /// voxgate answered (UAS).
    Callee,
    /// voxgate called (UAC).
    Caller,
}

/// Where the call stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CallState {
    /// An INVITE came in; no final response yet.
    Ringing,
    /// voxgate sent a 2xx and waits for the ACK.
    Answering,
    /// voxgate sent an INVITE; no final response yet.
    Calling,
    /// voxgate gave up on its INVITE (CANCEL sent or due); a late 2xx is acknowledged and
    /// ended with BYE (§9.1).
    Cancelling,
    /// The dialog is up.
    Confirmed,
}

/// A 2xx being retransmitted until the ACK (§13.3.1.4).
#[derive(Debug, Clone)]
pub(super) struct Retransmit {
    /// The response.
    pub(super) response: Response,
    /// When to send it again.
    pub(super) next: Instant,
    /// The current interval (T1 doubling up to T2).
    pub(super) interval: Duration,
    /// When to give up and send BYE (64×T1 after the first send).
    pub(super) give_up: Instant,
    /// The CSeq of the INVITE it answers: only the ACK with this number stops it.
    pub(super) cseq: u32,
}

/// One call; see the [module docs](self).
#[derive(Debug)]
pub(super) struct Call {
    pub(super) role: Role,
    pub(super) state: CallState,
    /// The peer's signalling address.
    pub(super) peer: SocketAddr,
    /// The INVITE of the call (the latest one voxgate sent, for a caller).
    pub(super) invite: Request,
    /// The INVITE's transaction (server for a callee, client for a caller).
    pub(super) invite_key: Option<TransactionKey>,
    /// The dialog, once there is one.
    pub(super) dialog: Option<Dialog>,
    /// voxgate's tag on this call.
    pub(super) local_tag: String,
    /// A 2xx (to the INVITE or a re-INVITE) awaiting its ACK.
    pub(super) retransmit: Option<Retransmit>,
    /// A re-INVITE voxgate has not answered yet.
    pub(super) reinvite: Option<(TransactionKey, Request)>,
    /// The ACK voxgate sent to the callee's 2xx, resent on each 2xx retransmission.
    pub(super) ack: Option<Request>,
    /// Answers challenges to voxgate's INVITE.
    pub(super) auth: Option<DigestClient>,
    /// Challenges answered so far (one retry per challenge, RFC 3261 §22.2).
    pub(super) auth_tries: u32,
    /// The caller asked to hang up before any provisional response (CANCEL waits, §9.1).
    pub(super) cancel_pending: bool,
    /// A provisional response has arrived (a CANCEL may be sent).
    pub(super) provisional_seen: bool,
}

impl Call {
    pub(super) fn new(role: Role, state: CallState, peer: SocketAddr, invite: Request) -> Self {
        Self {
            role,
            state,
            peer,
            invite,
            invite_key: None,
            dialog: None,
            local_tag: String::new(),
            retransmit: None,
            reinvite: None,
            ack: None,
            auth: None,
            auth_tries: 0,
            cancel_pending: false,
            provisional_seen: false,
        }
    }

    /// The next 2xx retransmission or give-up time.
    pub(super) fn poll_timeout(&self) -> Option<Instant> {
        self.retransmit.as_ref().map(|r| r.next.min(r.give_up))
    }
}
