//! The non-INVITE server transaction (RFC 3261 §17.2.2).
//!
//! ```text
//!  Trying ──1xx from TU──▶ Proceeding ──200-699 from TU──▶ Completed ──Timer J──▶ Terminated
//!    └──────────200-699 from TU──────────────────────────────▲
//!  (request retransmission: absorbed in Trying, answered with the last response after)
//! ```
//!
//! A retransmitted request is dropped while the TU has not answered, answered with the last
//! provisional in `Proceeding` and with the final in `Completed`, which lasts Timer J (64×T1)
//! so that every retransmission the client can send within its Timer F is answered.

use std::collections::VecDeque;
use std::time::Instant;

use super::key::TransactionKey;
use super::timers::{Timers, deadline, due};
use super::{Class, Output, State, TransactionErrorKind, error};
use crate::SipError;

/// A non-INVITE server transaction.
#[derive(Debug, Clone)]
pub struct ServerNonInvite {
    /// What requests are matched by.
    key: TransactionKey,
    /// The timer values.
    timers: Timers,
    /// Where in the §17.2.2 figure it is.
    state: State,
    /// The most recent response sent, to repeat on a request retransmission.
    last: Option<rsip::Response>,
    /// Timer J: the end of `Completed`.
    timer_j: Option<Instant>,
    /// What the driver has yet to poll.
    outputs: VecDeque<Output>,
}

impl ServerNonInvite {
    /// Starts the transaction for a received `request`; the TU answers it with
    /// [`ServerNonInvite::send_response`].
    ///
    /// Refuses an INVITE ([`TransactionErrorKind::WrongMethod`]), an ACK (which has no
    /// transaction) and a request without an RFC 3261 branch (the endpoint answers 400).
    pub fn new(_now: Instant, timers: Timers, request: &rsip::Request) -> Result<Self, SipError> {
        match request.method {
            rsip::Method::Invite => return Err(error(TransactionErrorKind::WrongMethod)),
            rsip::Method::Ack => return Err(error(TransactionErrorKind::AckWithoutTransaction)),
            _ => {}
        }
        Ok(Self {
            key: TransactionKey::for_request(request)?,
            timers,
            state: State::Trying,
            last: None,
            timer_j: None,
            outputs: VecDeque::new(),
        })
    }

    /// The key requests are matched by.
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

    /// A retransmission of the request. Refuses a request that does not match the key
    /// ([`TransactionErrorKind::NotMine`]).
    pub fn handle_request(
        &mut self,
        _now: Instant,
        request: &rsip::Request,
    ) -> Result<(), SipError> {
        if TransactionKey::for_request(request)? != self.key {
            return Err(error(TransactionErrorKind::NotMine));
        }
        if let (State::Proceeding | State::Completed, Some(last)) = (self.state, &self.last) {
            self.outputs
                .push_back(Output::Transmit(last.clone().into()));
        }
        Ok(())
    }

    /// A response from the TU, to send. Refuses one for another transaction, a status outside
    /// 100-699, and anything after the final ([`TransactionErrorKind::LateResponse`]).
    pub fn send_response(
        &mut self,
        now: Instant,
        response: rsip::Response,
    ) -> Result<(), SipError> {
        let key = TransactionKey::for_response(&response)?;
        if key.branch() != self.key.branch() || key.method() != self.key.method() {
            return Err(error(TransactionErrorKind::NotMine));
        }
        let class = Class::of(&response.status_code)?;
        match (self.state, class) {
            (State::Trying | State::Proceeding, Class::Provisional) => {
                self.state = State::Proceeding;
            }
            (State::Trying | State::Proceeding, Class::Success | Class::Failure) => {
                self.timer_j = deadline(now, self.timers.j());
                self.state = State::Completed;
            }
            _ => return Err(error(TransactionErrorKind::LateResponse)),
        }
        self.outputs
            .push_back(Output::Transmit(response.clone().into()));
        self.last = Some(response);
        Ok(())
    }

    /// The transport could not send a response (§17.2.4): the TU is told and the transaction
    /// ends.
    pub fn handle_transport_error(&mut self, _now: Instant) {
        if self.state != State::Terminated {
            self.outputs.push_back(Output::TransportError);
            self.terminate();
        }
    }

    /// Fires Timer J when due, ending the transaction.
    pub fn handle_timeout(&mut self, now: Instant) {
        if due(self.timer_j, now) {
            self.terminate();
        }
    }

    /// The next deadline at which [`ServerNonInvite::handle_timeout`] has work, if any.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timer_j
    }

    /// The next output, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// Enters `Terminated`.
    fn terminate(&mut self) {
        self.timer_j = None;
        self.state = State::Terminated;
        self.outputs.push_back(Output::Terminated);
    }
}
