//! What the agent asks for: audio to play, `interrupt` (barge-in) and `bye` (hang up).
//!
//! Pacing contract: the caller asks [`Session::can_send`] (or [`Session::outbound_room`], or
//! [`Session::next_send_at`] to know when to wake) before each frame. [`Session::send_audio`]
//! enforces the same cap and refuses a frame that does not fit with
//! [`BridgeError::BufferFull`], leaving the session running, so a caller that ignores pacing
//! cannot overfill the carrier (46elks ends the call when its buffer overflows, doc §1.7).

use std::time::{Duration, Instant};

use voxgate_media::MediaError;

use super::{FRAME, Output, Session, State};
use crate::error::BridgeError;
use crate::message::{Outgoing, write_audio_json};

/// `{"t":"audio","data":""}` around the base64.
const AUDIO_JSON_OVERHEAD: usize = 24;

impl Session {
    /// Sends one 20 ms frame of agent audio at the `send_format` rate (exactly
    /// `send_format.samples_per_frame()` samples). Emits `sending` first after an
    /// `interrupt`, and a `sync` checkpoint after every `sync_interval` of audio.
    ///
    /// Refused, with the session left running: before `hello` or after `hangup`
    /// ([`BridgeError::NotActive`]), a frame of the wrong length ([`BridgeError::Media`]),
    /// or a frame that would push the carrier's buffer past `max_buffered`
    /// ([`BridgeError::BufferFull`]; a frame always fits into an empty buffer).
    pub fn send_audio(&mut self, now: Instant, samples: &[i16]) -> Result<(), BridgeError> {
        if self.state != State::Active {
            return Err(BridgeError::NotActive);
        }
        let format = self.config.send_format;
        if samples.len() != format.samples_per_frame() {
            let expected = format.samples_per_frame();
            let actual = samples.len();
            return Err(MediaError::BufferLength { expected, actual }.into());
        }
        if !self.fits(now) {
            let buffered = self.playout.buffered(now);
            let max = self.config.max_buffered;
            return Err(BridgeError::BufferFull { buffered, max });
        }
        format.encode(samples, &mut self.outbound)?;
        if self.need_sending {
            self.need_sending = false;
            self.transmit(&Outgoing::Sending(format));
        }
        let mut text =
            String::with_capacity(AUDIO_JSON_OVERHEAD + self.outbound.len().div_ceil(3) * 4);
        write_audio_json(&self.outbound, &mut text);
        self.outputs.push_back(Output::Transmit(text));
        let interval = self.config.sync_interval;
        if self.playout.record_sent(now, FRAME, interval) && self.playout.record_checkpoint(now) {
            self.transmit(&Outgoing::Sync);
        }
        Ok(())
    }

    /// The estimated agent audio waiting in the carrier's buffer at `now` (see the
    /// `session::playout` module notes for how it is estimated).
    pub fn buffered(&self, now: Instant) -> Duration {
        self.playout.buffered(now)
    }

    /// How much more agent audio fits under `max_buffered` at `now`.
    pub fn outbound_room(&self, now: Instant) -> Duration {
        self.config.max_buffered.saturating_sub(self.buffered(now))
    }

    /// True when [`send_audio`](Self::send_audio) would accept a frame at `now`.
    pub fn can_send(&self, now: Instant) -> bool {
        self.state == State::Active && self.fits(now)
    }

    /// The soonest a frame fits, if no `sync` ack arrives meanwhile (`now` if it fits now):
    /// a driver with audio waiting sleeps until then. The carrier drains at 1x, so this is
    /// `now + (buffered + 20 ms - max_buffered)`.
    pub fn next_send_at(&self, now: Instant) -> Instant {
        if self.fits(now) {
            return now;
        }
        let over = (self.buffered(now) + FRAME).saturating_sub(self.config.max_buffered);
        now + over
    }

    fn fits(&self, now: Instant) -> bool {
        let buffered = self.playout.buffered(now);
        buffered.is_zero() || buffered + FRAME <= self.config.max_buffered
    }

    /// Barge-in: sends `interrupt`, which makes 46elks "immediately clear the audio buffer
    /// and ignore all subsequent audio messages until a new `sending` is sent"; the next
    /// [`send_audio`](Self::send_audio) sends that `sending` first. The buffer estimate drops
    /// to zero. Does nothing unless the session is active.
    pub fn interrupt(&mut self, now: Instant) {
        if self.state != State::Active {
            return;
        }
        self.transmit(&Outgoing::Interrupt);
        self.need_sending = true;
        self.playout.clear(now);
    }

    /// Hangs up: sends `bye`, then sends nothing more and waits for the carrier's `bye`
    /// (46elks plays out what is buffered first) for at most `bye_timeout`. Does nothing once
    /// draining or ended.
    pub fn hangup(&mut self, now: Instant) {
        if !matches!(self.state, State::AwaitingHello | State::Active) {
            return;
        }
        self.transmit(&Outgoing::Bye);
        let deadline = now + self.config.bye_timeout;
        self.state = State::Draining { deadline };
    }
}
