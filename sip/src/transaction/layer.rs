//! The transaction table: owns every live transaction, routes each received message to the
//! one its key names, and reports what matches none.
//!
//! Requests are matched as §17.2.3 says (an ACK to a non-2xx reaches the INVITE transaction
//! it acknowledges, a retransmission reaches the transaction it repeats); a CANCEL that is
//! not itself a retransmission is a new request, reported with the key of the INVITE server
//! transaction it cancels (§9.2: same key but the method). Responses are matched as §17.1.3
//! says. What matches nothing is handed back as [`Routed`]: a new request (the TU makes a
//! server transaction with [`TransactionLayer::create_server`], or, for an ACK to a 2xx,
//! gives it to the dialog), or a stray response (a 2xx retransmission after `Accepted`
//! ended, which the dialog re-ACKs; anything else it drops).
//!
//! Each transaction is created with the peer address its messages go to; every
//! [`LayerOutput`] carries it. A terminated transaction is dropped once its last output,
//! [`Output::Terminated`], is queued. The table is a `HashMap` and the next deadline is a scan:
//! a user agent holds a few transactions per call, so a timer wheel would buy nothing.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::Instant;

use super::key::TransactionKey;
use super::timers::Timers;
use super::{
    ClientInvite, ClientNonInvite, Output, ServerInvite, ServerNonInvite, State,
    TransactionErrorKind, error,
};
use crate::SipError;

/// An output of one transaction, with the transaction and its peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerOutput {
    /// The transaction it comes from.
    pub key: TransactionKey,
    /// The address the transaction was created with: where a `Transmit` goes.
    pub peer: SocketAddr,
    /// What to do.
    pub output: Output,
}

/// Where [`TransactionLayer::handle_message`] sent a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Routed {
    /// The transaction under this key took it; its outputs follow from `poll_output`.
    Matched(TransactionKey),
    /// A request no transaction matches: a new request for the TU, or an ACK to a 2xx
    /// (its own branch, §17.1.1.3) for the dialog.
    NewRequest(rsip::Request),
    /// A CANCEL that is not a retransmission: a new request with its own server transaction,
    /// and the key of the live INVITE server transaction it cancels (§9.2), if any; without
    /// one the TU answers 481.
    Cancel {
        /// The CANCEL.
        request: rsip::Request,
        /// The INVITE server transaction it targets.
        invite: Option<TransactionKey>,
    },
    /// A response no client transaction matches (§17.1.3): handed up, since it may be a 2xx
    /// to an INVITE whose transaction has left `Accepted`.
    StrayResponse(rsip::Response),
}

/// One of the four machines.
#[derive(Debug, Clone)]
enum Transaction {
    /// §17.1.1.
    InviteClient(Box<ClientInvite>),
    /// §17.1.2.
    NonInviteClient(Box<ClientNonInvite>),
    /// §17.2.1.
    InviteServer(Box<ServerInvite>),
    /// §17.2.2.
    NonInviteServer(Box<ServerNonInvite>),
}

/// Calls the same method on whichever machine it is.
macro_rules! each {
    ($transaction:expr, $machine:ident => $body:expr) => {
        match $transaction {
            Transaction::InviteClient($machine) => $body,
            Transaction::NonInviteClient($machine) => $body,
            Transaction::InviteServer($machine) => $body,
            Transaction::NonInviteServer($machine) => $body,
        }
    };
}

/// A live transaction and where its messages go.
#[derive(Debug, Clone)]
struct Entry {
    /// The peer address it was created with.
    peer: SocketAddr,
    /// The machine.
    transaction: Transaction,
}

/// Every live transaction of an endpoint (or of a call), keyed by [`TransactionKey`].
#[derive(Debug, Clone, Default)]
pub struct TransactionLayer {
    /// The timer values new transactions get.
    timers: Timers,
    /// The live transactions.
    entries: HashMap<TransactionKey, Entry>,
    /// Outputs not yet polled, in order.
    outputs: VecDeque<LayerOutput>,
}

impl TransactionLayer {
    /// An empty table whose transactions run on `timers`.
    pub fn new(timers: Timers) -> Self {
        Self {
            timers,
            ..Self::default()
        }
    }

    /// Starts a client transaction sending `request` to `peer`; the first output transmits
    /// it. Refuses an ACK (the TU sends the ACK to a 2xx itself), a request without an RFC
    /// 3261 branch and a branch already in use.
    pub fn send_request(
        &mut self,
        now: Instant,
        request: rsip::Request,
        peer: SocketAddr,
    ) -> Result<TransactionKey, SipError> {
        let transaction = match request.method {
            rsip::Method::Invite => {
                Transaction::InviteClient(Box::new(ClientInvite::new(now, self.timers, request)?))
            }
            _ => Transaction::NonInviteClient(Box::new(ClientNonInvite::new(
                now,
                self.timers,
                request,
            )?)),
        };
        self.insert(peer, transaction)
    }

    /// Starts a server transaction for a received `request` that matched none
    /// ([`Routed::NewRequest`] or [`Routed::Cancel`]); its responses go to `peer` (the address
    /// §18.2.2 picks). Refuses an ACK, a request without an RFC 3261 branch, and a request
    /// that already has a transaction.
    pub fn create_server(
        &mut self,
        now: Instant,
        request: &rsip::Request,
        peer: SocketAddr,
    ) -> Result<TransactionKey, SipError> {
        let transaction = match request.method {
            rsip::Method::Invite => {
                Transaction::InviteServer(Box::new(ServerInvite::new(now, self.timers, request)?))
            }
            _ => Transaction::NonInviteServer(Box::new(ServerNonInvite::new(
                now,
                self.timers,
                request,
            )?)),
        };
        self.insert(peer, transaction)
    }

    /// The TU's `response` for the server transaction `key`.
    pub fn send_response(
        &mut self,
        now: Instant,
        key: &TransactionKey,
        response: rsip::Response,
    ) -> Result<(), SipError> {
        let result = match &mut self.entry(key)?.transaction {
            Transaction::InviteServer(tx) => tx.send_response(now, response),
            Transaction::NonInviteServer(tx) => tx.send_response(now, response),
            _ => Err(error(TransactionErrorKind::NotMine)),
        };
        self.collect(key);
        result
    }

    /// A message received from the network: given to its transaction, or handed back.
    /// Refuses a message whose top Via or CSeq names no RFC 3261 transaction (the endpoint
    /// answers a request with 400 and drops a response).
    pub fn handle_message(
        &mut self,
        now: Instant,
        message: rsip::SipMessage,
    ) -> Result<Routed, SipError> {
        match message {
            rsip::SipMessage::Request(request) => self.handle_request(now, request),
            rsip::SipMessage::Response(response) => self.handle_response(now, response),
        }
    }

    /// The transport failed to send a message of transaction `key`.
    pub fn handle_transport_error(
        &mut self,
        now: Instant,
        key: &TransactionKey,
    ) -> Result<(), SipError> {
        each!(&mut self.entry(key)?.transaction, tx => tx.handle_transport_error(now));
        self.collect(key);
        Ok(())
    }

    /// Fires the timers due at `now` in every transaction.
    pub fn handle_timeout(&mut self, now: Instant) {
        let due: Vec<TransactionKey> = self
            .entries
            .iter()
            .filter(|(_, entry)| {
                each!(&entry.transaction, tx => tx.poll_timeout()).is_some_and(|at| at <= now)
            })
            .map(|(key, _)| key.clone())
            .collect();
        for key in due {
            if let Some(entry) = self.entries.get_mut(&key) {
                each!(&mut entry.transaction, tx => tx.handle_timeout(now));
            }
            self.collect(&key);
        }
    }

    /// The earliest deadline of any transaction.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.entries
            .values()
            .filter_map(|entry| each!(&entry.transaction, tx => tx.poll_timeout()))
            .min()
    }

    /// The next output of any transaction, in the order they were produced.
    pub fn poll_output(&mut self) -> Option<LayerOutput> {
        self.outputs.pop_front()
    }

    /// Drops transaction `key` without a word; whether it was there. For the TU's own
    /// deadlines, above all §9.1's: an INVITE client transaction in `Proceeding` has no
    /// timer, and when no final follows a CANCEL within 64×T1 the UAC destroys it.
    pub fn remove(&mut self, key: &TransactionKey) -> bool {
        self.entries.remove(key).is_some()
    }

    /// The state of transaction `key`, or `None` once it is gone.
    pub fn state(&self, key: &TransactionKey) -> Option<State> {
        let entry = self.entries.get(key)?;
        Some(each!(&entry.transaction, tx => tx.state()))
    }

    /// How many transactions are live.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no transaction is live.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// A received request: a retransmission or ACK for a server transaction, or new.
    fn handle_request(&mut self, now: Instant, request: rsip::Request) -> Result<Routed, SipError> {
        let key = TransactionKey::for_request(&request)?;
        if let Some(entry) = self.entries.get_mut(&key) {
            let result = match &mut entry.transaction {
                Transaction::InviteServer(tx) => tx.handle_request(now, request),
                Transaction::NonInviteServer(tx) => tx.handle_request(now, &request),
                // Server keys carry a sent-by and client keys do not: unreachable in practice.
                _ => Err(error(TransactionErrorKind::NotMine)),
            };
            self.collect(&key);
            return result.map(|()| Routed::Matched(key));
        }
        Ok(match request.method {
            rsip::Method::Cancel => {
                let invite = key.with_method(rsip::Method::Invite);
                let live = matches!(
                    self.entries.get(&invite).map(|entry| &entry.transaction),
                    Some(Transaction::InviteServer(_))
                );
                Routed::Cancel {
                    request,
                    invite: live.then_some(invite),
                }
            }
            _ => Routed::NewRequest(request),
        })
    }

    /// A received response: for a client transaction, or stray.
    fn handle_response(
        &mut self,
        now: Instant,
        response: rsip::Response,
    ) -> Result<Routed, SipError> {
        let key = TransactionKey::for_response(&response)?;
        let Some(entry) = self.entries.get_mut(&key) else {
            return Ok(Routed::StrayResponse(response));
        };
        let result = match &mut entry.transaction {
            Transaction::InviteClient(tx) => tx.handle_response(now, response),
            Transaction::NonInviteClient(tx) => tx.handle_response(now, response),
            _ => Err(error(TransactionErrorKind::NotMine)),
        };
        self.collect(&key);
        result.map(|()| Routed::Matched(key))
    }

    /// Adds a new transaction and collects its first outputs.
    fn insert(
        &mut self,
        peer: SocketAddr,
        transaction: Transaction,
    ) -> Result<TransactionKey, SipError> {
        let key = each!(&transaction, tx => tx.key().clone());
        if self.entries.contains_key(&key) {
            return Err(error(TransactionErrorKind::DuplicateTransaction));
        }
        self.entries
            .insert(key.clone(), Entry { peer, transaction });
        self.collect(&key);
        Ok(key)
    }

    /// The live transaction `key`.
    fn entry(&mut self, key: &TransactionKey) -> Result<&mut Entry, SipError> {
        self.entries
            .get_mut(key)
            .ok_or(error(TransactionErrorKind::UnknownTransaction))
    }

    /// Moves transaction `key`'s outputs to the queue, and drops it once terminated.
    fn collect(&mut self, key: &TransactionKey) {
        let Some(entry) = self.entries.get_mut(key) else {
            return;
        };
        while let Some(output) = each!(&mut entry.transaction, tx => tx.poll_output()) {
            self.outputs.push_back(LayerOutput {
                key: key.clone(),
                peer: entry.peer,
                output,
            });
        }
        if each!(&entry.transaction, tx => tx.is_terminated()) {
            self.entries.remove(key);
        }
    }
}
