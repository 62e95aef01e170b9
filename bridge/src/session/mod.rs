//! The sans-IO 46elks session: one per call.
//!
//! The session does no IO and reads no clock. The driver feeds it what the socket delivers
//! ([`Session::handle`]), the agent's commands ([`Session::send_audio`],
//! [`Session::interrupt`], [`Session::hangup`]) and the passing of time
//! ([`Session::handle_timeout`] when [`Session::poll_timeout`] is due), and after each call
//! drains [`Session::poll_output`]: text frames to send, events for the pipeline, and finally
//! a request to close the socket. See the [crate doc](crate) for the run loop.

mod agent;
mod config;
mod inbound;
mod playout;
mod reframe;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use voxgate_media::{AudioFrame, FRAME_MS};

use crate::error::BridgeError;
use crate::message::{ByeReason, Outgoing};

pub use config::SessionConfig;

use playout::Playout;
use reframe::Reframer;

/// One 20 ms frame of audio.
const FRAME: Duration = Duration::from_millis(FRAME_MS as u64);

/// Frames preallocated for caller audio: a 320 ms chunk needs no allocation even before
/// the first frame is recycled.
const POOL_FRAMES: usize = 16;

/// What the socket delivered, as the session sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input<'a> {
    /// A text frame.
    Text(&'a str),
    /// A binary frame of `len` bytes (never valid on this protocol).
    Binary {
        /// The frame length.
        len: usize,
    },
    /// A frame the socket layer refused as larger than its limit (`len` if it knows).
    TooLarge {
        /// The frame length, if known.
        len: Option<usize>,
    },
    /// The socket closed or failed.
    Closed,
}

/// What the session asks of its driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Send this JSON text frame. One `String` per message, agent audio included (one per
    /// 20 ms frame, about 1 KiB at `pcm_24000`): the socket takes ownership of its payload,
    /// so a buffer could not be reused anyway.
    Transmit(String),
    /// Something the pipeline needs to know.
    Event(Event),
    /// Close the socket. Always the last output, right after [`Event::Ended`].
    Close,
}

/// What happened on the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The carrier's `hello`: the call is up. `listening` and `sending` follow as transmits.
    Hello {
        /// The 46elks call id.
        callid: String,
        /// The caller's number.
        from: String,
        /// The called number.
        to: String,
    },
    /// 20 ms of caller audio at the `listen_format` rate, stamped with its media time from
    /// the first caller sample. Give it back with [`Session::recycle`].
    CallerAudio(AudioFrame),
    /// The session is over; emitted exactly once, followed by [`Output::Close`].
    Ended {
        /// The carrier's `bye` reason; `error` for a session we ended on bad input, a
        /// timeout or a lost socket; `done` when our own `bye` was not confirmed.
        reason: ByeReason,
        /// The carrier's human-readable explanation, if it gave one.
        message: Option<String>,
        /// What went wrong on the socket, if anything (the carrier's own `bye` with reason
        /// `error` carries no error here: see `message`).
        error: Option<BridgeError>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Connected, waiting for the carrier's `hello`.
    AwaitingHello,
    /// After `hello`: audio flows both ways.
    Active,
    /// We sent `bye`: nothing more goes out; waiting for the carrier's `bye` until `deadline`.
    Draining { deadline: Instant },
    /// `Ended` was emitted; all input is ignored.
    Ended,
}

/// One 46elks Realtime Voice session (one WebSocket, one call), sans-IO.
#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    state: State,
    outputs: VecDeque<Output>,
    reframer: Reframer,
    playout: Playout,
    /// The call id from `hello`, for logs.
    callid: Option<String>,
    /// When the carrier goes silent for too long; armed by the first input or `start`.
    idle_deadline: Option<Instant>,
    /// A `sending` must precede the next agent audio (after an `interrupt`).
    need_sending: bool,
    /// Decoded base64 of the current inbound chunk (reused).
    inbound: Vec<u8>,
    /// One encoded outbound frame (reused).
    outbound: Vec<u8>,
}

impl Session {
    /// A session waiting for the carrier's `hello`. Allocates all its per-call buffers.
    pub fn new(config: SessionConfig) -> Self {
        let frame_bytes = config.send_format.frame_bytes();
        Self {
            reframer: Reframer::new(config.listen_format, POOL_FRAMES),
            playout: Playout::new(),
            state: State::AwaitingHello,
            outputs: VecDeque::with_capacity(POOL_FRAMES + 4),
            callid: None,
            idle_deadline: None,
            need_sending: false,
            inbound: Vec::with_capacity(config.listen_format.frame_bytes() * 4),
            outbound: vec![0; frame_bytes],
            config,
        }
    }

    /// Arms the idle timer at `now` (the moment the socket was accepted), so a carrier that
    /// connects and never says `hello` is dropped too. Without it the timer starts at the
    /// first input.
    pub fn start(&mut self, now: Instant) {
        if self.state != State::Ended {
            self.idle_deadline = Some(now + self.config.idle_timeout);
        }
    }

    /// The configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// The 46elks call id, once `hello` has arrived.
    pub fn callid(&self) -> Option<&str> {
        self.callid.as_deref()
    }

    /// True once [`Event::Ended`] has been emitted.
    pub fn is_ended(&self) -> bool {
        self.state == State::Ended
    }

    /// The next thing for the driver to do, until `None`.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) is next due: the idle timeout, or the
    /// bye timeout while draining; `None` once ended.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            State::AwaitingHello | State::Active => self.idle_deadline,
            State::Draining { deadline } => Some(deadline),
            State::Ended => None,
        }
    }

    /// Fires whatever timer is due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        match self.state {
            State::Draining { deadline } if now >= deadline => {
                let error = BridgeError::ByeTimeout(self.config.bye_timeout);
                self.end(ByeReason::Done, None, Some(error));
            }
            State::AwaitingHello | State::Active
                if self.idle_deadline.is_some_and(|d| now >= d) =>
            {
                let error = BridgeError::IdleTimeout(self.config.idle_timeout);
                self.end(ByeReason::Error, None, Some(error));
            }
            _ => {}
        }
    }

    /// Gives a caller-audio frame back to the session's pool.
    pub fn recycle(&mut self, frame: AudioFrame) {
        self.reframer.recycle(frame);
    }

    /// How often caller-audio frames had to be allocated because none were recycled.
    pub fn frame_allocations(&self) -> u64 {
        self.reframer.allocations()
    }

    fn transmit(&mut self, msg: &Outgoing<'_>) {
        self.outputs.push_back(Output::Transmit(msg.to_json()));
    }

    /// Ends the session (once): `Ended`, then `Close`.
    fn end(&mut self, reason: ByeReason, message: Option<String>, error: Option<BridgeError>) {
        if self.state == State::Ended {
            return;
        }
        match &error {
            Some(e) => {
                tracing::info!(callid = ?self.callid, code = e.code(), %e, "46elks session ended")
            }
            None => {
                tracing::debug!(callid = ?self.callid, reason = reason.as_str(), "46elks session ended")
            }
        }
        self.state = State::Ended;
        self.idle_deadline = None;
        let ended = Event::Ended {
            reason,
            message,
            error,
        };
        self.outputs.push_back(Output::Event(ended));
        self.outputs.push_back(Output::Close);
    }

    /// Ends the session on bad input or a lost socket.
    fn fail(&mut self, error: BridgeError) {
        self.end(ByeReason::Error, None, Some(error));
    }
}

#[cfg(test)]
mod tests;
