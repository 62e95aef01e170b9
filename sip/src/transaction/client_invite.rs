//! The INVITE client transaction (RFC 3261 §17.1.1, as RFC 6026 §7.2 and §8.4 amend it).
//!
//! ```text
//!  Calling ──1xx──▶ Proceeding ──2xx──▶ Accepted ──Timer M──▶ Terminated
//!     │  ╲                │                 (every 2xx to the TU)
//!     │   ╲──2xx──▶ Accepted
//!     │                   │
//!     └──3xx-6xx──────────┴──▶ Completed ──Timer D──▶ Terminated
//!   Timer A: retransmit       (ACK sent here and on each retransmitted final)
//!   Timer B: Timeout ──▶ Terminated
//! ```
//!
//! In `Calling` the INVITE is retransmitted when Timer A fires, at T1, 2×T1, 4×T1, ... with no
//! cap, until Timer B (64×T1) ends the transaction with [`Output::Timeout`] (the TU answers
//! itself with 408). A provisional stops the retransmissions and, as §17.1.1.2 says, Timer B
//! no longer runs: from `Proceeding` only a final response or the TU's CANCEL ends the wait.
//!
//! A 3xx-6xx is acknowledged by the transaction itself with an ACK built per §17.1.1.3, sent
//! again for each retransmission of the final; `Completed` lasts Timer D. A 2xx goes up to the
//! TU, which sends the ACK; RFC 6026 adds `Accepted` so that retransmitted (and forked) 2xx
//! responses, which the TU needs to re-ACK, are passed up rather than treated as strays, for
//! Timer M (64×T1).

use std::collections::VecDeque;
use std::time::Instant;

use super::key::TransactionKey;
use super::requests::{InviteEcho, ack_for};
use super::timers::{Retransmit, Timers, deadline, due, earliest};
use super::{Class, Output, State, TransactionErrorKind, error};
use crate::SipError;

/// An INVITE client transaction.
#[derive(Debug, Clone)]
pub struct ClientInvite {
    /// What responses are matched by.
    key: TransactionKey,
    /// The timer values.
    timers: Timers,
    /// Where in the RFC 6026 figure it is.
    state: State,
    /// The INVITE, for retransmission.
    request: rsip::Request,
    /// What the ACK copies from the INVITE.
    echo: InviteEcho,
    /// The ACK to the non-2xx final, once one arrived.
    ack: Option<rsip::Request>,
    /// Timer A: INVITE retransmission in `Calling`.
    timer_a: Retransmit,
    /// Timer B: the `Calling` timeout.
    timer_b: Option<Instant>,
    /// Timer D: the end of `Completed`.
    timer_d: Option<Instant>,
    /// Timer M: the end of `Accepted`.
    timer_m: Option<Instant>,
    /// What the driver has yet to poll.
    outputs: VecDeque<Output>,
}

impl ClientInvite {
    /// Starts the transaction for `invite` at `now`: the first output transmits it.
    ///
    /// Refuses a request that is not an INVITE, or whose top Via has no RFC 3261 branch, or
    /// that lacks a header field the ACK must copy (From, Call-ID, CSeq).
    pub fn new(now: Instant, timers: Timers, invite: rsip::Request) -> Result<Self, SipError> {
        if invite.method != rsip::Method::Invite {
            return Err(error(TransactionErrorKind::WrongMethod));
        }
        let key = TransactionKey::for_outgoing(&invite)?;
        let echo = InviteEcho::of(&invite)?;
        let outputs = VecDeque::from([Output::Transmit(invite.clone().into())]);
        Ok(Self {
            key,
            timers,
            state: State::Calling,
            request: invite,
            echo,
            ack: None,
            timer_a: Retransmit::start(now, timers.a(), None),
            timer_b: deadline(now, timers.b()),
            timer_d: None,
            timer_m: None,
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
            (State::Calling | State::Proceeding, Class::Provisional) => {
                self.stop_calling();
                self.state = State::Proceeding;
                self.outputs.push_back(Output::Response(response));
            }
            (State::Calling | State::Proceeding, Class::Success) => {
                self.stop_calling();
                self.state = State::Accepted;
                self.timer_m = deadline(now, self.timers.m());
                self.outputs.push_back(Output::Response(response));
            }
            (State::Calling | State::Proceeding, Class::Failure) => {
                let ack = ack_for(&self.echo, &response)?;
                self.stop_calling();
                self.state = State::Completed;
                self.timer_d = deadline(now, self.timers.d());
                self.outputs.push_back(Output::Transmit(ack.clone().into()));
                self.outputs.push_back(Output::Response(response));
                self.ack = Some(ack);
            }
            // RFC 6026 §8.4: every 2xx in Accepted goes up; the TU ACKs each one.
            (State::Accepted, Class::Success) => self.outputs.push_back(Output::Response(response)),
            // §17.1.1.2: a retransmitted final is answered with the same ACK, not passed up.
            (State::Completed, Class::Failure) => {
                if let Some(ack) = &self.ack {
                    self.outputs.push_back(Output::Transmit(ack.clone().into()));
                }
            }
            // Late provisionals, a 2xx after a non-2xx and anything after the end: absorbed.
            _ => {}
        }
        Ok(())
    }

    /// The transport could not send the INVITE or the ACK (§17.1.4): the TU is told and the
    /// transaction ends. In `Accepted` the transaction sends nothing, so it only tells the TU.
    pub fn handle_transport_error(&mut self, _now: Instant) {
        match self.state {
            State::Terminated => {}
            State::Accepted => self.outputs.push_back(Output::TransportError),
            _ => {
                self.outputs.push_back(Output::TransportError);
                self.terminate();
            }
        }
    }

    /// Fires the timers due at `now`: A retransmits, B times out, D and M end the transaction.
    pub fn handle_timeout(&mut self, now: Instant) {
        if due(self.timer_b, now) {
            self.outputs.push_back(Output::Timeout);
            self.terminate();
        } else if due(self.timer_a.at, now) {
            self.outputs
                .push_back(Output::Transmit(self.request.clone().into()));
            self.timer_a.fired();
        } else if due(self.timer_d, now) || due(self.timer_m, now) {
            self.terminate();
        }
    }

    /// The next deadline at which [`ClientInvite::handle_timeout`] has work, if any.
    pub fn poll_timeout(&self) -> Option<Instant> {
        earliest([self.timer_a.at, self.timer_b, self.timer_d, self.timer_m])
    }

    /// The next output, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// Leaves `Calling`: no more retransmissions, and no Timer B (§17.1.1.2).
    fn stop_calling(&mut self) {
        self.timer_a.at = None;
        self.timer_b = None;
    }

    /// Enters `Terminated`, stopping every timer.
    fn terminate(&mut self) {
        self.stop_calling();
        self.timer_d = None;
        self.timer_m = None;
        self.state = State::Terminated;
        self.outputs.push_back(Output::Terminated);
    }
}
