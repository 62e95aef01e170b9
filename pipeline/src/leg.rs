//! **IO edge**: a call leg as the per-call task drives it.
//!
//! A leg is a carrier protocol's sans-IO session together with its socket: the 46elks
//! Realtime WebSocket ([`ElksLeg`]) or a SIP call's RTP stream (in `voxgate-server`, on
//! `voxgate-sip`). The call task does not care which: it starts the leg, takes its
//! [`LegEvent`]s (the call started, 20 ms of caller audio, a DTMF digit, the call ended),
//! sends the agent's audio through it as fast as [`Leg::can_send`] allows, and cuts it off
//! with [`Leg::interrupt`] at barge-in. Every method but [`Leg::next_step`] and
//! [`Leg::recv`] is synchronous and allocation-free per frame; those two await only the
//! socket, and neither reads the clock: what `recv` received is handed to the session by
//! [`Leg::handle_received`] at the time the driver gives.

pub(crate) mod elks;

use std::future::Future;
use std::time::{Duration, Instant};

use voxgate_media::AudioFrame;

use crate::call::EndReason;
use crate::error::PipelineError;

pub use elks::ElksLeg;

/// What a leg tells the call.
#[derive(Debug)]
pub enum LegEvent {
    /// The call is up: take a slot and greet.
    Started {
        /// The carrier's (or the SIP dialog's) call id.
        call_id: String,
        /// The caller.
        from: String,
        /// The number or extension called.
        to: String,
    },
    /// 20 ms of caller audio at the leg's rate; give it back with [`Leg::recycle`].
    CallerAudio(AudioFrame),
    /// A DTMF digit (`0`-`9`, `*`, `#`, `A`-`D`).
    Digit(char),
    /// The call ended.
    Ended {
        /// How the leg's side ended: completed, the caller hung up, or a failure with its
        /// stable code.
        reason: EndReason,
        /// The carrier's or the peer's words, if any.
        message: Option<String>,
    },
}

/// How much agent audio the leg takes at one moment: what the call core paces by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegRoom {
    /// When this was read.
    pub at: Instant,
    /// One more 20 ms frame fits now.
    pub can_send: bool,
    /// Agent audio sent and not yet played to the caller.
    pub buffered: Duration,
    /// When a frame fits again (`at` if one fits now).
    pub next_send_at: Instant,
}

/// The next thing a leg has for the call.
#[derive(Debug)]
pub enum LegStep {
    /// Something happened.
    Event(LegEvent),
    /// The leg is done: close it and end the task.
    Close,
}

/// A call leg; see the [module docs](self).
pub trait Leg: Send + 'static {
    /// Starts the session at `now` (timers run from here).
    fn start(&mut self, now: Instant);

    /// Sends whatever the session has to send, and returns its next event; `None` when it
    /// has nothing more for now.
    fn next_step(&mut self, now: Instant) -> impl Future<Output = Option<LegStep>> + Send;

    /// Waits for the next input from the socket and keeps it for
    /// [`handle_received`](Self::handle_received). Cancel-safe: used in `select!`.
    fn recv(&mut self) -> impl Future<Output = ()> + Send;

    /// Hands what [`recv`](Self::recv) received to the session, as arrived at `now`.
    fn handle_received(&mut self, now: Instant);

    /// When the session next needs [`handle_timeout`](Self::handle_timeout).
    fn poll_timeout(&self) -> Option<Instant>;

    /// The session's timers at `now`.
    fn handle_timeout(&mut self, now: Instant);

    /// Gives back a caller frame (so that frames are reused, never allocated per frame).
    fn recycle(&mut self, frame: AudioFrame);

    /// Whether one more 20 ms frame of agent audio fits now.
    fn can_send(&self, now: Instant) -> bool;

    /// Sends one 20 ms frame of agent audio at the leg's rate.
    ///
    /// # Errors
    ///
    /// When the leg is not active or the frame has the wrong length.
    fn send_audio(&mut self, now: Instant, samples: &[i16]) -> Result<(), PipelineError>;

    /// Agent audio sent and not yet played to the caller.
    fn buffered(&self, now: Instant) -> Duration;

    /// When [`can_send`](Self::can_send) turns true again (`now` if it is).
    fn next_send_at(&self, now: Instant) -> Instant;

    /// Barge-in: drops every queued frame of agent audio at once.
    fn interrupt(&mut self, now: Instant);

    /// The agent (or a refused call) hangs up.
    fn hangup(&mut self, now: Instant);

    /// [`can_send`](Self::can_send), [`buffered`](Self::buffered) and
    /// [`next_send_at`](Self::next_send_at) at `now`, for the call core.
    fn room(&self, now: Instant) -> LegRoom {
        LegRoom {
            at: now,
            can_send: self.can_send(now),
            buffered: self.buffered(now),
            next_send_at: self.next_send_at(now),
        }
    }

    /// Closes the socket; the task ends after this.
    fn close(self) -> impl Future<Output = ()> + Send;
}
