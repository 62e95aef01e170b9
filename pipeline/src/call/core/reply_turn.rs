//! The agent's side of a turn: the reply's progress, its audio paced onto the leg, the cut
//! at barge-in (keeping what the caller heard), and the turn's record.

use std::time::{Duration, Instant};

use voxgate_media::FRAME_MS;

use super::{CallCore, CallOutput, EndReason, ReplyEvent, Timer};
use crate::call::heard::HeardText;
use crate::error::PipelineError;
use crate::events::CallEvent;
use crate::metrics::TurnMetrics;
use crate::providers::{Message, Role};

/// One 20 ms frame.
const FRAME: Duration = Duration::from_millis(FRAME_MS as u64);

/// The agent's reply in progress (the greeting, or the answer to one caller turn), from the
/// end of the caller's speech until it has played or was cut off.
#[derive(Debug)]
pub(super) struct Turn {
    /// False for the greeting, which is not a turn of the conversation.
    answers_caller: bool,
    /// What the caller said (empty until transcribed).
    user: String,
    /// When the caller stopped speaking (audio time mapped back onto the driver's clock).
    speech_end: Instant,
    /// When the end of the caller's turn was decided (`None` for the greeting).
    pub(super) decided: Option<Instant>,
    pub(super) metrics: TurnMetrics,
    pub(super) heard: HeardText,
    /// Reply audio handed to the leg so far.
    pub(super) sent: Duration,
    /// The reply job has finished; what is queued is all there is.
    pub(super) reply_done: bool,
    /// The agent hangs up once this reply has played.
    hangup: bool,
}

impl Turn {
    pub(super) fn new(answers_caller: bool, speech_end: Instant) -> Self {
        Self {
            answers_caller,
            user: String::new(),
            speech_end,
            decided: None,
            metrics: TurnMetrics::default(),
            heard: HeardText::default(),
            sent: Duration::ZERO,
            reply_done: false,
            hangup: false,
        }
    }
}

impl CallCore {
    pub(super) fn on_reply(&mut self, now: Instant, event: ReplyEvent) {
        let (Some(turn), Some(slot)) = (self.turn.as_mut(), self.slot.as_deref_mut()) else {
            return self.cancel_reply();
        };
        // Any progress restarts the reply's timeout.
        let timeout = self.shared.agent.turn.reply_timeout;
        self.timers.set(Timer::Reply, now + timeout);
        let since_end = Some(now.saturating_duration_since(turn.speech_end));
        match event {
            ReplyEvent::Transcript(text) => {
                turn.metrics.stt_final = since_end;
                tracing::info!(call_id = %self.call_id, user = %text, "caller said");
                if !text.is_empty() {
                    self.history.push(Message::new(Role::User, text.clone()));
                }
                turn.user = text;
            }
            ReplyEvent::FirstToken => turn.metrics.first_token = since_end,
            ReplyEvent::Piece(text) => turn.heard.start_piece(&text),
            ReplyEvent::Audio(speech) => {
                if speech.rate != slot.outbound.speech_rate() {
                    let expected = slot.outbound.speech_rate();
                    tracing::warn!(rate = ?speech.rate, ?expected, "reply audio at the wrong rate dropped");
                    return;
                }
                turn.metrics.first_audio = turn.metrics.first_audio.or(since_end);
                let queued = slot.outbound.push_speech(&speech.samples);
                turn.heard.add_audio(queued);
            }
            ReplyEvent::Done { hangup } => {
                turn.hangup = hangup;
                self.reply_finished();
            }
            ReplyEvent::Failed(e) => self.reply_failed(&e),
        }
    }

    /// The reply job failed or stalled: it is stopped, and what it queued still plays.
    pub(super) fn reply_failed(&mut self, error: &PipelineError) {
        tracing::warn!(call_id = %self.call_id, %error, "reply failed");
        self.cancel_reply();
        self.reply_finished();
    }

    fn reply_finished(&mut self) {
        self.reply = None;
        self.timers.stop(Timer::Reply);
        let (Some(turn), Some(slot)) = (self.turn.as_mut(), self.slot.as_deref_mut()) else {
            return;
        };
        let queued = slot.outbound.flush();
        turn.heard.add_audio(queued);
        turn.reply_done = true;
    }

    /// Agent audio the leg holds at `now`, from the last room it reported and what was
    /// sent since.
    pub(super) fn buffered(&self, now: Instant) -> Duration {
        let drained = now.saturating_duration_since(self.room.at);
        self.room.buffered.saturating_sub(drained)
    }

    /// Sends one frame of the reply if the leg said one fits. The driver reports the room
    /// again after each frame sent, so the reply leaves as fast as the leg allows.
    pub(super) fn send_one(&mut self, now: Instant) {
        if !self.room.can_send || self.hung_up.is_some() {
            return;
        }
        let buffered = self.buffered(now);
        let (Some(turn), Some(slot)) = (self.turn.as_mut(), self.slot.as_deref_mut()) else {
            return;
        };
        let frame = match slot.outbound.take_frame() {
            Ok(Some(frame)) => frame,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(%e, "reply audio dropped");
                return slot.outbound.clear();
            }
        };
        self.room.can_send = false;
        self.room.buffered = buffered + FRAME;
        self.room.at = now;
        if turn.sent.is_zero() {
            let since_end = now.saturating_duration_since(turn.speech_end);
            turn.metrics.first_frame_sent = Some(since_end);
            turn.metrics.server_added = turn.decided.map(|d| now.saturating_duration_since(d));
            self.turns.handle_agent_speaking();
        }
        turn.sent += FRAME;
        self.outputs.push_back(CallOutput::SendAudio(frame));
    }

    /// Closes the turn once the whole reply has played; the agent hangs up after it if the
    /// brain asked to.
    pub(super) fn check_played_out(&mut self, now: Instant) {
        let buffered = self.buffered(now);
        let (Some(turn), Some(slot)) = (self.turn.as_ref(), self.slot.as_deref()) else {
            return;
        };
        if !(turn.reply_done && slot.outbound.is_empty() && buffered.is_zero()) {
            return;
        }
        let Some(turn) = self.turn.take() else { return };
        self.turns.handle_agent_done();
        let hangup = turn.hangup;
        let heard = turn.heard.full();
        self.finish_turn(turn, heard, false);
        if hangup {
            tracing::info!(call_id = %self.call_id, "agent hangs up");
            self.hang_up(EndReason::AgentHungUp);
        } else {
            self.arm_idle(now);
        }
    }

    /// Stops the reply in progress (barge-in, or a new caller turn): cancels the job,
    /// flushes queued audio, interrupts the leg if any audio went out, and records what the
    /// caller heard.
    pub(super) fn cut_reply(&mut self, now: Instant) {
        self.cancel_reply();
        let Some(turn) = self.turn.take() else { return };
        if let Some(slot) = self.slot.as_deref_mut() {
            slot.outbound.clear();
        }
        let played = turn.sent.saturating_sub(self.buffered(now));
        if !turn.sent.is_zero() {
            self.outputs.push_back(CallOutput::Interrupt);
            self.room.buffered = Duration::ZERO;
            self.room.at = now;
        }
        let heard = turn.heard.heard(played);
        self.finish_turn(turn, heard, true);
    }

    /// Adds the agent's words as heard to the history, and publishes the turn.
    pub(super) fn finish_turn(&mut self, turn: Turn, heard: String, interrupted: bool) {
        if !heard.is_empty() {
            self.history
                .push(Message::new(Role::Assistant, heard.clone()));
        }
        if !turn.answers_caller || (turn.user.is_empty() && heard.is_empty()) {
            return;
        }
        self.completed_turns += 1;
        self.shared.metrics.record_turn(&turn.metrics);
        tracing::info!(
            call_id = %self.call_id,
            agent = %heard,
            interrupted,
            metrics = ?turn.metrics,
            "turn completed"
        );
        self.publish(CallEvent::TurnCompleted {
            call_id: self.call_id.clone(),
            turn: self.completed_turns,
            user: turn.user,
            agent: heard,
            interrupted,
            metrics: turn.metrics,
        });
    }
}
