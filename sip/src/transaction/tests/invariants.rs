//! Properties over random message sequences: no input panics, every transaction reports
//! `Terminated` exactly once and says nothing after it, and once the TU has answered, every
//! transaction ends on its own timers and the table empties.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Instant;

use proptest::prelude::*;

use super::super::{Output, Timers, TransactionKey, TransactionLayer};
use super::{BRANCH, SENT_BY, invite, ms, request_from, response_on};

/// Status codes to try, including ones out of range.
const STATUSES: [u16; 12] = [100, 180, 183, 200, 202, 302, 404, 486, 487, 500, 603, 700];

/// One step of a random flow.
#[derive(Debug, Clone)]
enum Op {
    /// The clock moves on by this many ms and due timers fire.
    Advance(u64),
    /// A response arrives for the client INVITE (`true`) or BYE (`false`).
    ToClient(bool, u16),
    /// The peer retransmits the INVITE (`true`) or sends an ACK with its branch (`false`).
    FromPeer(bool),
    /// The TU answers the server INVITE (`true`) or OPTIONS (`false`).
    Tu(bool, u16),
    /// The transport fails for transaction `n` of the four.
    TransportError(usize),
}

/// A random step.
fn op() -> impl Strategy<Value = Op> {
    let status = proptest::sample::select(STATUSES.to_vec());
    prop_oneof![
        (0u64..40_000).prop_map(Op::Advance),
        (any::<bool>(), status.clone()).prop_map(|(invite, s)| Op::ToClient(invite, s)),
        any::<bool>().prop_map(Op::FromPeer),
        (any::<bool>(), status).prop_map(|(invite, s)| Op::Tu(invite, s)),
        (0usize..4).prop_map(Op::TransportError),
    ]
}

/// The flow under test: four transactions in one table and what each has said.
struct Flow {
    /// The table.
    layer: TransactionLayer,
    /// The virtual clock.
    now: Instant,
    /// Client INVITE, client BYE, server INVITE, server OPTIONS.
    keys: [TransactionKey; 4],
    /// Outputs per key so far.
    said: HashMap<TransactionKey, Vec<Output>>,
}

impl Flow {
    /// Sets up the four transactions.
    fn new() -> Self {
        let now = Instant::now();
        let peer = SocketAddr::from(([192, 0, 2, 4], 5060));
        let mut layer = TransactionLayer::new(Timers::default());
        let keys = [
            layer.send_request(now, request_from("INVITE", "z9hG4bKcli", SENT_BY), peer),
            layer.send_request(now, request_from("BYE", "z9hG4bKbye", SENT_BY), peer),
            layer.create_server(now, &invite(), peer),
            layer.create_server(now, &request_from("OPTIONS", BRANCH, SENT_BY), peer),
        ]
        .map(|key| key.expect("four distinct transactions"));
        let mut flow = Self {
            layer,
            now,
            keys,
            said: HashMap::new(),
        };
        flow.collect();
        flow
    }

    /// Applies one step; errors (a bad status, a late response) are allowed, panics are not.
    fn apply(&mut self, op: &Op) {
        let code = |status: u16| format!("{status} Whatever");
        let _ = match op {
            Op::Advance(by) => {
                self.advance(*by);
                Ok(())
            }
            Op::ToClient(true, s) => {
                self.deliver(response_on(&code(*s), "INVITE", "z9hG4bKcli", "t").into())
            }
            Op::ToClient(false, s) => {
                self.deliver(response_on(&code(*s), "BYE", "z9hG4bKbye", "t").into())
            }
            Op::FromPeer(true) => self.deliver(invite().into()),
            Op::FromPeer(false) => self.deliver(request_from("ACK", BRANCH, SENT_BY).into()),
            Op::Tu(true, s) => self.respond(2, response_on(&code(*s), "INVITE", BRANCH, "u")),
            Op::Tu(false, s) => self.respond(3, response_on(&code(*s), "OPTIONS", BRANCH, "u")),
            Op::TransportError(n) => match self.keys.get(*n).cloned() {
                Some(key) => self.layer.handle_transport_error(self.now, &key),
                None => Ok(()),
            },
        };
        self.collect();
    }

    /// A message from the network.
    fn deliver(&mut self, message: rsip::SipMessage) -> Result<(), crate::SipError> {
        self.layer.handle_message(self.now, message).map(drop)
    }

    /// A response from the TU for transaction `n`.
    fn respond(&mut self, n: usize, response: rsip::Response) -> Result<(), crate::SipError> {
        let key = self.keys.get(n).cloned().expect("four keys");
        self.layer.send_response(self.now, &key, response)
    }

    /// Moves the clock by `by` ms, firing every deadline on the way at its own instant.
    fn advance(&mut self, by: u64) {
        let end = self.now + ms(by);
        for _ in 0..10_000 {
            match self.layer.poll_timeout().filter(|at| *at <= end) {
                Some(at) => {
                    self.now = self.now.max(at);
                    self.layer.handle_timeout(self.now);
                    self.collect();
                }
                None => break,
            }
        }
        assert!(
            self.layer.poll_timeout().is_none_or(|at| at > end),
            "timers converge"
        );
        self.now = end;
    }

    /// Files the queued outputs under their keys, checking nothing follows `Terminated`.
    fn collect(&mut self) {
        while let Some(out) = self.layer.poll_output() {
            let said = self.said.entry(out.key).or_default();
            assert!(
                !said.contains(&Output::Terminated),
                "output after Terminated: {said:?}"
            );
            said.push(out.output);
        }
    }
}

proptest! {
    #[test]
    fn every_transaction_ends_exactly_once(ops in proptest::collection::vec(op(), 0..40)) {
        let mut flow = Flow::new();
        for op in &ops {
            flow.apply(op);
        }
        // The TU's side of the bargain: a final for what it was asked, a final from the peer
        // for the INVITE (an INVITE in Proceeding has no timer of its own).
        flow.apply(&Op::Tu(true, 500));
        flow.apply(&Op::Tu(false, 200));
        flow.apply(&Op::ToClient(true, 486));
        flow.apply(&Op::Advance(200_000));
        prop_assert!(flow.layer.is_empty(), "left: {}", flow.layer.len());
        for key in &flow.keys {
            let said = flow.said.get(key).map(Vec::as_slice).unwrap_or_default();
            let ends = said.iter().filter(|o| **o == Output::Terminated).count();
            prop_assert_eq!(ends, 1, "{:?}: {:?}", key, said);
        }
    }
}
