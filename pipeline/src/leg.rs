//! **IO edge**: a call leg as the per-call task drives it.
//!
//! A leg is a carrier protocol's sans-IO session together with its socket: the 46elks
//! Realtime WebSocket ([`ElksLeg`]) or a SIP call's RTP stream (in `voxgate-server`, on
//! `voxgate-sip`). The call task does not care which: it starts the leg, takes its
//! [`LegEvent`]s (the call started, 20 ms of caller audio, a DTMF digit, the call ended),
//! sends the agent's audio through it as fast as [`Leg::can_send`] allows, and cuts it off
//! with [`Leg::interrupt`] at barge-in. Every method but [`Leg::next_step`] and
//! [`Leg::recv`] is synchronous and allocation-free per frame; those two await only the
//! socket.

mod elks;

use std::future::Future;
use std::time::{Duration, Instant};

use voxgate_media::AudioFrame;

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
        /// `done` (the call completed), `hangup` (the caller hung up) or `error`.
        reason: &'static str,
        /// The carrier's or the peer's words, if any.
        message: Option<String>,
        /// The stable code of the failure, if one ended it.
        error: Option<&'static str>,
    },
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

    /// Waits for the next input from the socket and hands it to the session. Cancel-safe:
    /// used in `select!`.
    fn recv(&mut self) -> impl Future<Output = ()> + Send;

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

    /// Closes the socket; the task ends after this.
    fn close(self) -> impl Future<Output = ()> + Send;
}
