//! The INVITE server transaction (RFC 3261 §17.2.1, as RFC 6026 §7.1 and §8.5-8.7 amend it).
//!
//! ```text
//!  Proceeding ──2xx from TU──▶ Accepted ──Timer L──▶ Terminated
//!     │  (INVITE: resend last 1xx)   (INVITE absorbed, ACK to TU, 2xx from TU sent)
//!     └──3xx-6xx from TU──▶ Completed ──ACK──▶ Confirmed ──Timer I──▶ Terminated
//!                         Timer G: resend final
//!                         Timer H: Timeout ──▶ Terminated
//! ```
//!
//! In `Proceeding` the transaction sends a 100 Trying of its own when the TU has not answered
//! within 200 ms (§17.2.1: "MUST generate a 100 unless it knows the TU will generate a
//! provisional or final response within 200 ms"); that delay is a timer like the others.
//! A retransmitted INVITE is answered with the most recent provisional (§17.2.1).
//!
//! A 2xx from the TU moves it to RFC 6026's `Accepted`: the transaction no longer owns the
//! 2xx's reliability (the dialog retransmits it per §13.3.1.4 and hands each copy here, and
//! the transaction sends it), absorbs INVITE retransmissions without passing them up, and
//! passes up any ACK that carries the INVITE's branch, until Timer L (64×T1).
//!
//! A 3xx-6xx moves it to `Completed`: the final is resent when Timer G fires (T1 doubling to
//! T2) and on each INVITE retransmission, until the ACK arrives (`Confirmed`, which absorbs
//! ACK retransmissions for Timer I) or Timer H (64×T1) ends it with [`Output::Timeout`].

use std::collections::VecDeque;
use std::time::Instant;

use super::key::TransactionKey;
use super::requests::trying_for;
use super::timers::{Retransmit, Timers, deadline, due, earliest};
use super::{Class, Output, State, TransactionErrorKind, error};
use crate::SipError;

/// An INVITE server transaction.
#[derive(Debug, Clone)]
pub struct ServerInvite {
    /// What requests are matched by.
    key: TransactionKey,
    /// The timer values.
    timers: Timers,
    /// Where in the RFC 6026 figure it is.
    state: State,
    /// The 100 Trying to send if the TU stays silent, built when the INVITE arrived.
    trying: rsip::Response,
    /// The most recent response sent: the provisional to repeat in `Proceeding`, the final
    /// to repeat in `Completed`.
    last: Option<rsip::Response>,
    /// When the 100 Trying goes out unless the TU answers first.
    timer_trying: Option<Instant>,
    /// Timer G: final response retransmission in `Completed`.
    timer_g: Retransmit,
    /// Timer H: the wait for the ACK.
    timer_h: Option<Instant>,
    /// Timer I: the end of `Confirmed`.
    timer_i: Option<Instant>,
    /// Timer L: the end of `Accepted`.
    timer_l: Option<Instant>,
    /// What the driver has yet to poll.
    outputs: VecDeque<Output>,
}

impl ServerInvite {
    /// Starts the transaction for a received `invite` at `now`; the TU answers it with
    /// [`ServerInvite::send_response`].
    ///
    /// Refuses an ACK or any other non-INVITE, a request without an RFC 3261 branch (the
    /// endpoint answers 400) and one missing a field the 100 Trying copies.
    pub fn new(now: Instant, timers: Timers, invite: &rsip::Request) -> Result<Self, SipError> {
        match invite.method {
            rsip::Method::Invite => {}
            rsip::Method::Ack => return Err(error(TransactionErrorKind::AckWithoutTransaction)),
            _ => return Err(error(TransactionErrorKind::WrongMethod)),
        }
        Ok(Self {
            key: TransactionKey::for_request(invite)?,
            timers,
            state: State::Proceeding,
            trying: trying_for(invite)?,
            last: None,
            timer_trying: deadline(now, timers.trying),
            timer_g: Retransmit::idle(),
            timer_h: None,
            timer_i: None,
            timer_l: None,
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

    /// A retransmission of the INVITE, or an ACK with its branch. Refuses a request that
    /// does not match the key ([`TransactionErrorKind::NotMine`]).
    pub fn handle_request(&mut self, now: Instant, request: rsip::Request) -> Result<(), SipError> {
        if TransactionKey::for_request(&request)? != self.key {
            return Err(error(TransactionErrorKind::NotMine));
        }
        let is_ack = request.method == rsip::Method::Ack;
        match (self.state, is_ack) {
            (State::Proceeding | State::Completed, false) => self.resend_last(),
            (State::Completed, true) => {
                self.timer_g.at = None;
                self.timer_h = None;
                self.timer_i = deadline(now, self.timers.i());
                self.state = State::Confirmed;
            }
            (State::Accepted, true) => self.outputs.push_back(Output::Ack(request)),
            // INVITEs in Accepted (RFC 6026), ACKs in Confirmed, anything after the end.
            _ => {}
        }
        Ok(())
    }

    /// A response from the TU, to send. Refuses one for another transaction, a status outside
    /// 100-699, and one the state no longer takes ([`TransactionErrorKind::LateResponse`]:
    /// anything after a non-2xx final, or a non-2xx after a 2xx).
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
            (State::Proceeding, Class::Provisional) => self.timer_trying = None,
            (State::Proceeding, Class::Success) => {
                self.timer_trying = None;
                self.timer_l = deadline(now, self.timers.l());
                self.state = State::Accepted;
            }
            (State::Proceeding, Class::Failure) => {
                self.timer_trying = None;
                self.timer_g = Retransmit::start(now, self.timers.g(), Some(self.timers.t2));
                self.timer_h = deadline(now, self.timers.h());
                self.state = State::Completed;
            }
            // RFC 6026: 2xx retransmissions from the TU go out while Accepted.
            (State::Accepted, Class::Success) => {}
            _ => return Err(error(TransactionErrorKind::LateResponse)),
        }
        self.outputs
            .push_back(Output::Transmit(response.clone().into()));
        self.last = Some(response);
        Ok(())
    }

    /// The transport could not send a response (§17.2.4): the TU is told and the transaction
    /// ends, except in `Accepted`, where the 2xx is the dialog's to retry (RFC 6026 §7.1).
    pub fn handle_transport_error(&mut self, _now: Instant) {
        match self.state {
            State::Terminated => {}
            State::Accepted | State::Confirmed => self.outputs.push_back(Output::TransportError),
            _ => {
                self.outputs.push_back(Output::TransportError);
                self.terminate();
            }
        }
    }

    /// Fires the timers due at `now`: the 100 Trying, G resends the final, H times out, I and
    /// L end the transaction.
    pub fn handle_timeout(&mut self, now: Instant) {
        if due(self.timer_trying, now) {
            self.timer_trying = None;
            self.outputs
                .push_back(Output::Transmit(self.trying.clone().into()));
            self.last = Some(self.trying.clone());
        } else if due(self.timer_h, now) {
            self.outputs.push_back(Output::Timeout);
            self.terminate();
        } else if due(self.timer_g.at, now) {
            self.resend_last();
            self.timer_g.fired();
        } else if due(self.timer_i, now) || due(self.timer_l, now) {
            self.terminate();
        }
    }

    /// The next deadline at which [`ServerInvite::handle_timeout`] has work, if any.
    pub fn poll_timeout(&self) -> Option<Instant> {
        earliest([
            self.timer_trying,
            self.timer_g.at,
            self.timer_h,
            self.timer_i,
            self.timer_l,
        ])
    }

    /// The next output, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// Sends the most recent response again, if there is one.
    fn resend_last(&mut self) {
        if let Some(last) = &self.last {
            self.outputs
                .push_back(Output::Transmit(last.clone().into()));
        }
    }

    /// Enters `Terminated`, stopping every timer.
    fn terminate(&mut self) {
        self.timer_trying = None;
        self.timer_g.at = None;
        self.timer_h = None;
        self.timer_i = None;
        self.timer_l = None;
        self.state = State::Terminated;
        self.outputs.push_back(Output::Terminated);
    }
}
