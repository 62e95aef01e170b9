//! What the leg and the VAD bring to the core: the call's start, caller audio through the
//! VAD into the turn controller, digits, and the call's end.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use voxgate_media::AudioFrame;

use super::reply_turn::Turn;
use super::{CallCore, CallOutput, EndReason, Timer};
use crate::call::reply::ReplyJob;
use crate::context::LOOKUP_TIMEOUT;
use crate::events::CallEvent;
use crate::leg::LegEvent;
use crate::providers::{Message, Role};
use crate::turn::TurnOutput;

impl CallCore {
    pub(super) fn on_leg(&mut self, now: Instant, event: &LegEvent) {
        match event {
            LegEvent::Started { call_id, from, to } => self.on_started(now, call_id, from, to),
            LegEvent::CallerAudio(frame) => self.on_caller_audio(now, frame),
            LegEvent::Digit(digit) => self.on_digit(*digit),
            LegEvent::Ended { reason, message } => self.on_ended(now, *reason, message.as_deref()),
        }
    }

    fn on_started(&mut self, now: Instant, call_id: &str, from: &str, to: &str) {
        if self.slot.is_some() || self.hung_up.is_some() {
            return; // A second start: the leg's bug, not a second call.
        }
        self.call_id = call_id.to_owned();
        let shared = self.shared.clone();
        let Some(mut slot) = shared.slots.try_acquire() else {
            tracing::warn!(call_id, "no free call slot: refusing the call");
            shared.metrics.calls_refused.fetch_add(1, Ordering::Relaxed);
            self.publish(CallEvent::Refused {
                call_id: call_id.to_owned(),
                from: from.to_owned(),
                to: to.to_owned(),
            });
            return self.hang_up(EndReason::RefusedNoSlot);
        };
        slot.reset();
        self.slot = Some(slot);
        shared.metrics.calls_started.fetch_add(1, Ordering::Relaxed);
        tracing::info!(call_id, from, to, "call answered");
        self.publish(CallEvent::Started {
            call_id: call_id.to_owned(),
            from: from.to_owned(),
            to: to.to_owned(),
            agent: shared.agent.name.clone(),
        });
        self.arm_idle(now);
        if shared.looks_up_context {
            self.timers.set(Timer::Context, now + LOOKUP_TIMEOUT);
            self.outputs.push_back(CallOutput::LookupContext {
                call_id: call_id.to_owned(),
                from: from.to_owned(),
                to: to.to_owned(),
            });
        } else {
            self.greet(now, &Arc::clone(&shared.agent).greeting);
        }
    }

    /// A DTMF digit: published, and kept in the conversation so the brain sees it on the
    /// next turn.
    fn on_digit(&mut self, digit: char) {
        if self.slot.is_none() {
            return;
        }
        tracing::info!(call_id = %self.call_id, %digit, "caller pressed a key");
        let said = format!("[the caller pressed {digit}]");
        self.history.push(Message::new(Role::User, said));
        self.publish(CallEvent::Digit {
            call_id: self.call_id.clone(),
            digit,
        });
    }

    fn on_caller_audio(&mut self, now: Instant, frame: &AudioFrame) {
        let Some(slot) = self.slot.as_deref_mut() else {
            return;
        };
        let vad = &mut slot.vad;
        if let Err(e) = slot.inbound.push(frame, |end, chunk| vad.push(end, chunk)) {
            tracing::warn!(%e, "caller frame dropped");
        }
        self.take_vad_decisions(now);
    }

    /// Feeds the turn controller every window decided so far, in audio order.
    pub(super) fn take_vad_decisions(&mut self, now: Instant) {
        let Some(slot) = self.slot.as_deref_mut() else {
            return;
        };
        let chunk = slot.inbound.chunk_duration();
        while let Some((end, probability)) = slot.vad.poll_decided() {
            self.turns.handle_vad(end, chunk, probability);
        }
        while let Some(output) = self.turns.poll() {
            self.on_turn(now, output);
        }
    }

    fn on_turn(&mut self, now: Instant, output: TurnOutput) {
        let Some(slot) = self.slot.as_deref() else {
            return;
        };
        let audio_now = slot.inbound.now();
        match output {
            TurnOutput::SpeechStarted { onset } => {
                tracing::debug!(call_id = %self.call_id, ?onset, "caller speaking");
                self.timers.stop(Timer::Idle);
            }
            TurnOutput::EndOfTurn { onset, end } => {
                let utterance = slot.inbound.utterance(onset, end);
                let lag = audio_now.saturating_sub(end);
                self.cut_reply(now);
                let mut turn = Turn::new(true, now.checked_sub(lag).unwrap_or(now));
                turn.metrics.end_of_turn = Some(lag);
                turn.decided = Some(now);
                let history = self.history.clone();
                self.start_reply(now, turn, ReplyJob::Answer { utterance, history });
            }
            TurnOutput::BargeIn { onset } => {
                let reaction = audio_now.saturating_sub(onset);
                tracing::info!(call_id = %self.call_id, ?reaction, "caller barged in");
                let metrics = &self.shared.metrics;
                metrics.barge_ins.fetch_add(1, Ordering::Relaxed);
                metrics.barge_in_reaction.observe(reaction);
                self.cut_reply(now);
                self.timers.stop(Timer::Idle);
            }
        }
    }

    fn on_ended(&mut self, now: Instant, reason: EndReason, message: Option<&str>) {
        self.ended = true;
        self.cancel_reply();
        self.timers = super::Timers::default();
        if self.slot.is_none() {
            return; // Refused, or never started: not a call.
        }
        if let Some(turn) = self.turn.take() {
            let played = turn.sent.saturating_sub(self.buffered(now));
            let heard = turn.heard.heard(played);
            self.finish_turn(turn, heard, true);
        }
        let reason = match (reason, self.hung_up) {
            (EndReason::Completed, Some(ours)) => ours,
            (theirs, _) => theirs,
        };
        if reason.is_failure() {
            let failed = &self.shared.metrics.calls_failed;
            failed.fetch_add(1, Ordering::Relaxed);
        }
        tracing::info!(call_id = %self.call_id, %reason, code = ?reason.code(), ?message, "call ended");
        self.publish(CallEvent::Ended {
            call_id: self.call_id.clone(),
            reason,
            error: reason.code().map(str::to_owned),
            turns: self.completed_turns,
        });
        // The slot goes back to the pool now, not when the driver is done closing.
        self.slot = None;
    }
}
