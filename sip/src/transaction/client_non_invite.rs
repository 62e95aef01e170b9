//! The non-INVITE client transaction (RFC 3261 §17.1.2).
//!
//! ```text
//!  Trying ──1xx──▶ Proceeding ──200-699──▶ Completed ──Timer K──▶ Terminated
//!    └────────200-699────────────────────────▲
//!  Timer E: retransmit (T1 doubling to T2 in Trying, T2 in Proceeding)
//!  Timer F: Timeout ──▶ Terminated (from Trying or Proceeding)
//! ```
//!
//! The request is retransmitted when Timer E fires: in `Trying` at T1, 2×T1, ... capped at
//! T2; once a provisional has arrived, every T2 (§17.1.2.2). Timer F (64×T1) bounds the whole
//! wait for a final, in `Proceeding` too, and ends the transaction with [`Output::Timeout`]
//! (the TU answers itself with 408). A final goes up and `Completed` absorbs its
//! retransmissions for Timer K (T4).

use std::collections::VecDeque;
use std::time::Instant;

use super::key::TransactionKey;
use super::timers::{Retransmit, Timers, deadline, due, earliest};
use super::{Class, Output, State, TransactionErrorKind, error};
use crate::SipError;

/// A non-INVITE client transaction.
#[derive(Debug, Clone)]
pub struct ClientNonInvite {
    /// What responses are matched by.
    key: TransactionKey,
    /// The timer values.
    timers: Timers,
    /// Where in the §17.1.2 figure it is.
    state: State,
    /// The request, for retransmission.
    request: rsip::Request,
    /// Timer E: request retransmission.
    timer_e: Retransmit,
    /// Timer F: the transaction timeout.
    timer_f: Option<Instant>,
    /// Timer K: the end of `Completed`.
    timer_k: Option<Instant>,
    /// What the driver has yet to poll.
    outputs: VecDeque<Output>,
}

impl ClientNonInvite {
    /// Starts the transaction for `request` at `now`: the first output transmits it.
    ///
    /// Refuses an INVITE ([`TransactionErrorKind::WrongMethod`]), an ACK (which has no
    /// transaction) and a request whose top Via has no RFC 3261 branch.
    pub fn new(now: Instant, timers: Timers, request: rsip::Request) -> Result<Self, SipError> {
        match request.method {
            rsip::Method::Invite => return Err(error(TransactionErrorKind::WrongMethod)),
            rsip::Method::Ack => return Err(error(TransactionErrorKind::AckWithoutTransaction)),
            _ => {}
        }
        let key = TransactionKey::for_outgoing(&request)?;
        let outputs = VecDeque::from([Output::Transmit(request.clone().into())]);
        Ok(Self {
            key,
            timers,
            state: State::Trying,
            request,
            timer_e: Retransmit::start(now, timers.e(), Some(timers.t2)),
            timer_f: deadline(now, timers.f()),
            timer_k: None,
            outputs,
        })
    }

    /// The key responses are matched by.
    pub fn key(&self) -> &TransactionKey {
        &self.key
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Whether the transaction has ended.
    pub fn is_terminated(&self) -> bool {
        self.state == State::Terminated
    }

    /// A response received from the network. Refuses one that does not match the key
    /// ([`TransactionErrorKind::NotMine`]) or has a status outside 100-699.
    pub fn handle_response(
        &mut self,
        now: Instant,
        response: rsip::Response,
    ) -> Result<(), SipError> {
        if TransactionKey::for_response(&response)? != self.key {
            return Err(error(TransactionErrorKind::NotMine));
        }
        let class = Class::of(&response.status_code)?;
        match (self.state, class) {
            (State::Trying | State::Proceeding, Class::Provisional) => {
                // §17.1.2.2: in Proceeding, Timer E is reset to T2 each time it fires.
                self.timer_e.pin(self.timers.t2);
                self.state = State::Proceeding;
                self.outputs.push_back(Output::Response(response));
            }
            (State::Trying | State::Proceeding, Class::Success | Class::Failure) => {
                self.timer_e.at = None;
                self.timer_f = None;
                self.timer_k = deadline(now, self.timers.k());
                self.state = State::Completed;
                self.outputs.push_back(Output::Response(response));
            }
            // Retransmitted finals in Completed, anything after the end: absorbed.
            _ => {}
        }
        Ok(())
    }

    /// The transport could not send the request (§17.1.4): the TU is told and, unless a
    /// final already arrived, the transaction ends.
    pub fn handle_transport_error(&mut self, _now: Instant) {
        match self.state {
            State::Terminated => {}
            State::Completed => self.outputs.push_back(Output::TransportError),
            _ => {
                self.outputs.push_back(Output::TransportError);
                self.terminate();
            }
        }
    }

    /// Fires the timers due at `now`: E retransmits, F times out, K ends the transaction.
    pub fn handle_timeout(&mut self, now: Instant) {
        if due(self.timer_f, now) {
            self.outputs.push_back(Output::Timeout);
            self.terminate();
        } else if due(self.timer_e.at, now) {
            self.outputs
                .push_back(Output::Transmit(self.request.clone().into()));
            self.timer_e.fired();
        } else if due(self.timer_k, now) {
            self.terminate();
        }
    }

    /// The next deadline at which [`ClientNonInvite::handle_timeout`] has work, if any.
    pub fn poll_timeout(&self) -> Option<Instant> {
        earliest([self.timer_e.at, self.timer_f, self.timer_k])
    }

    /// The next output, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// Enters `Terminated`, stopping every timer.
    fn terminate(&mut self) {
        self.timer_e.at = None;
        self.timer_f = None;
        self.timer_k = None;
        self.state = State::Terminated;
        self.outputs.push_back(Output::Terminated);
    }
}
