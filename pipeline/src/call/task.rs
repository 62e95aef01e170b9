//! **IO edge**: the call task, one per call. It owns the call's state machines and drives
//! them from one `select!` over the socket, the session's timers, outbound pacing and the
//! reply task's events. Wall time is read here, and only here, and handed to the sans-IO
//! cores as an argument.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use voxgate_media::{AudioFrame, FRAME_MS};

mod greeting;

use self::greeting::{Lookup, next_context};
use super::heard::HeardText;
use super::reply::{self, ReplyEvent, ReplyHandle, ReplyJob};
use super::{CallSlot, Shared};
use crate::context::LOOKUP_TIMEOUT;
use crate::error::PipelineError;
use crate::events::CallEvent;
use crate::leg::{Leg, LegEvent, LegStep};
use crate::metrics::TurnMetrics;
use crate::providers::{Message, Role};
use crate::slots::SlotGuard;
use crate::turn::{TurnController, TurnOutput};

/// One 20 ms frame.
const FRAME: Duration = Duration::from_millis(FRAME_MS as u64);

/// Runs one call on `leg` until the leg closes.
pub(super) async fn run<L: Leg>(shared: Arc<Shared>, leg: L) {
    let mut call = Call::new(shared, leg);
    call.leg.start(Instant::now());
    loop {
        // Let the call act on everything that happened, until it has nothing more to say.
        loop {
            call.pump(Instant::now());
            match call.leg.next_step(Instant::now()).await {
                None => break,
                Some(LegStep::Event(event)) => call.on_event(Instant::now(), event),
                Some(LegStep::Close) => return call.leg.close().await,
            }
        }
        let wake = call
            .next_wake(Instant::now())
            .map(tokio::time::Instant::from_std);
        tokio::select! {
            () = call.leg.recv() => {}
            () = sleep_until(wake) => call.leg.handle_timeout(Instant::now()),
            event = next_reply_event(call.reply.as_mut()) => call.on_reply(Instant::now(), event),
            answer = next_vad_answer(call.slot.as_deref_mut()) => {
                call.take_vad_answers(Instant::now(), Some(answer));
            }
            context = next_context(call.context.as_mut()) => call.on_context(Instant::now(), context),
        }
    }
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The VAD's next answer; pending forever when no chunk awaits one.
async fn next_vad_answer(slot: Option<&mut CallSlot>) -> Result<f32, PipelineError> {
    match slot {
        Some(slot) if slot.vad_pending.iter().any(|&(_, submitted)| submitted) => {
            std::future::poll_fn(|cx| slot.vad.poll_result(cx)).await
        }
        _ => std::future::pending().await,
    }
}

/// The running reply's next event; pending forever when no reply runs.
async fn next_reply_event(reply: Option<&mut ReplyHandle>) -> Option<ReplyEvent> {
    match reply {
        Some(reply) => reply.events.recv().await,
        None => std::future::pending().await,
    }
}

/// The agent's reply in progress (the greeting, or the answer to one caller turn), from the
/// end of the caller's speech until it has played or was cut off.
struct Turn {
    /// False for the greeting, which is not a turn of the conversation.
    answers_caller: bool,
    /// What the caller said (empty until transcribed).
    user: String,
    /// When the caller stopped speaking, on the wall clock (audio time mapped back).
    speech_end: Instant,
    /// When the end of the caller's turn was decided (`None` for the greeting).
    decided: Option<Instant>,
    metrics: TurnMetrics,
    heard: HeardText,
    /// Reply audio handed to the session so far.
    sent: Duration,
    /// The reply task has finished; what is queued is all there is.
    reply_done: bool,
    /// The agent hangs up once this reply has played.
    hangup: bool,
}

impl Turn {
    fn new(answers_caller: bool, speech_end: Instant) -> Self {
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

/// Everything one call owns.
struct Call<L> {
    shared: Arc<Shared>,
    leg: L,
    /// Taken at `hello`; `None` before it, and for a refused call.
    slot: Option<SlotGuard<CallSlot>>,
    turns: TurnController,
    reply: Option<ReplyHandle>,
    turn: Option<Turn>,
    history: Vec<Message>,
    /// The call context being looked up; the greeting waits for it.
    context: Option<Lookup>,
    call_id: String,
    completed_turns: u32,
    /// The agent sent `bye` (after a reply that ended the call).
    agent_hung_up: bool,
}

impl<L: Leg> Call<L> {
    fn new(shared: Arc<Shared>, leg: L) -> Self {
        let history = vec![Message::new(
            Role::System,
            shared.agent.system_prompt.clone(),
        )];
        Self {
            leg,
            turns: TurnController::new(shared.agent.turn.clone()),
            slot: None,
            reply: None,
            turn: None,
            history,
            context: None,
            call_id: String::new(),
            completed_turns: 0,
            agent_hung_up: false,
            shared,
        }
    }

    fn on_event(&mut self, now: Instant, event: LegEvent) {
        match event {
            LegEvent::Started { call_id, from, to } => self.on_hello(now, call_id, from, to),
            LegEvent::CallerAudio(frame) => {
                self.on_caller_audio(now, &frame);
                self.leg.recycle(frame);
            }
            LegEvent::Digit(digit) => self.on_digit(digit),
            LegEvent::Ended {
                reason,
                message,
                error,
            } => self.on_ended(reason, message.as_deref(), error),
        }
    }

    /// A DTMF digit: published, and kept in the conversation so the brain sees it on the
    /// next turn.
    fn on_digit(&mut self, digit: char) {
        if self.slot.is_none() {
            return;
        }
        tracing::info!(call_id = %self.call_id, %digit, "caller pressed a key");
        self.history.push(Message::new(
            Role::User,
            format!("[the caller pressed {digit}]"),
        ));
        self.shared.bus.publish(CallEvent::Digit {
            call_id: self.call_id.clone(),
            digit,
        });
    }

    fn on_hello(&mut self, now: Instant, call_id: String, from: String, to: String) {
        self.call_id = call_id;
        let shared = Arc::clone(&self.shared);
        let Some(mut slot) = shared.slots.try_acquire() else {
            tracing::warn!(call_id = %self.call_id, "no free call slot: refusing the call");
            shared.metrics.calls_refused.fetch_add(1, Ordering::Relaxed);
            let call_id = self.call_id.clone();
            shared.bus.publish(CallEvent::Refused { call_id, from, to });
            return self.leg.hangup(now);
        };
        slot.reset();
        self.slot = Some(slot);
        shared.metrics.calls_started.fetch_add(1, Ordering::Relaxed);
        tracing::info!(call_id = %self.call_id, %from, %to, "call answered");
        if let Some(contexts) = shared.contexts.get() {
            let lookup = contexts.lookup(&self.call_id, &from, &to);
            self.context = Some(Box::pin(async move {
                tokio::time::timeout(LOOKUP_TIMEOUT, lookup).await.ok()
            }));
        }
        shared.bus.publish(CallEvent::Started {
            call_id: self.call_id.clone(),
            from,
            to,
            agent: shared.agent.name.clone(),
        });
        if self.context.is_none() {
            self.greet(now, &shared.agent.greeting);
        }
    }

    fn on_caller_audio(&mut self, now: Instant, frame: &AudioFrame) {
        let Some(slot) = self.slot.as_deref_mut() else {
            return;
        };
        let CallSlot {
            vad,
            vad_pending,
            silence_floor,
            inbound,
            ..
        } = slot;
        let floor = *silence_floor;
        let pushed = inbound.push(frame, |end, chunk| {
            if CallSlot::is_silent(floor, chunk) {
                vad_pending.push_back((end, false));
                return;
            }
            let submitted = match vad.submit(chunk) {
                Ok(()) => true,
                Err(e) => {
                    tracing::warn!(%e, "VAD refused a chunk; taken as silence");
                    false
                }
            };
            vad_pending.push_back((end, submitted));
        });
        if let Err(e) = pushed {
            tracing::warn!(%e, "caller frame dropped");
        }
        // A detector that answers at once (earshot, or a quick inference thread) is heard
        // now; the rest arrive in the event loop.
        self.take_vad_answers(now, None);
    }

    /// Feeds the turn controller the VAD's answers, in chunk order: `first` (just
    /// received from the event loop) and whatever else is ready.
    fn take_vad_answers(&mut self, now: Instant, first: Option<Result<f32, PipelineError>>) {
        let Some(slot) = self.slot.as_deref_mut() else {
            return;
        };
        let chunk = slot.inbound.chunk_duration();
        let mut first = first;
        loop {
            // Chunks below the floor, or refused by the VAD, are silence, in their place.
            while let Some(&(end, false)) = slot.vad_pending.front() {
                slot.vad_pending.pop_front();
                self.turns.handle_vad(end, chunk, 0.0);
            }
            let Some(&(end, true)) = slot.vad_pending.front() else {
                break;
            };
            let Some(answer) = first.take().or_else(|| slot.vad.try_result()) else {
                break;
            };
            slot.vad_pending.pop_front();
            let probability = answer.unwrap_or_else(|e| {
                tracing::warn!(%e, "VAD failed on a chunk; taken as silence");
                0.0
            });
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
            }
            TurnOutput::EndOfTurn { onset, end } => {
                let utterance = slot.inbound.utterance(onset, end);
                let lag = audio_now.saturating_sub(end);
                self.cut_reply(now);
                let mut turn = Turn::new(true, now.checked_sub(lag).unwrap_or(now));
                turn.metrics.end_of_turn = Some(lag);
                turn.decided = Some(now);
                let history = self.history.clone();
                self.start_reply(turn, ReplyJob::Answer { utterance, history });
            }
            TurnOutput::BargeIn { onset } => {
                let reaction = audio_now.saturating_sub(onset);
                tracing::info!(call_id = %self.call_id, ?reaction, "caller barged in");
                let metrics = &self.shared.metrics;
                metrics.barge_ins.fetch_add(1, Ordering::Relaxed);
                metrics.barge_in_reaction.observe(reaction);
                self.cut_reply(now);
            }
        }
    }

    fn start_reply(&mut self, turn: Turn, job: ReplyJob) {
        let engines = Arc::clone(&self.shared.engines);
        self.reply = Some(reply::spawn(engines, job));
        self.turn = Some(turn);
    }

    /// Stops the reply in progress (barge-in, or a new caller turn): cancels the reply task,
    /// flushes queued audio, sends `interrupt` if any audio went out, and records what the
    /// caller heard.
    fn cut_reply(&mut self, now: Instant) {
        self.reply = None;
        let Some(turn) = self.turn.take() else { return };
        if let Some(slot) = self.slot.as_deref_mut() {
            slot.outbound.clear();
        }
        let played = turn.sent.saturating_sub(self.leg.buffered(now));
        if !turn.sent.is_zero() {
            self.leg.interrupt(now);
        }
        let heard = turn.heard.heard(played);
        self.finish_turn(turn, heard, true);
    }

    fn on_reply(&mut self, now: Instant, event: Option<ReplyEvent>) {
        let (Some(turn), Some(slot)) = (self.turn.as_mut(), self.slot.as_deref_mut()) else {
            self.reply = None;
            return;
        };
        let speech_end = turn.speech_end;
        let since_end = |at: Instant| Some(at.saturating_duration_since(speech_end));
        match event {
            Some(ReplyEvent::Transcript(text, at)) => {
                turn.metrics.stt_final = since_end(at);
                tracing::info!(call_id = %self.call_id, user = %text, "caller said");
                if !text.is_empty() {
                    self.history.push(Message::new(Role::User, text.clone()));
                }
                turn.user = text;
            }
            Some(ReplyEvent::FirstToken(at)) => turn.metrics.first_token = since_end(at),
            Some(ReplyEvent::Piece(text)) => turn.heard.start_piece(&text),
            Some(ReplyEvent::Audio(speech, at)) => {
                turn.metrics.first_audio = turn.metrics.first_audio.or(since_end(at));
                if speech.rate != slot.outbound.speech_rate() {
                    let expected = slot.outbound.speech_rate();
                    tracing::warn!(rate = ?speech.rate, ?expected, "reply audio at the wrong rate dropped");
                    return;
                }
                let queued = slot.outbound.push_speech(&speech.samples);
                turn.heard.add_audio(queued);
            }
            Some(ReplyEvent::Done { hangup }) => {
                turn.hangup = hangup;
                self.reply_finished(now);
            }
            Some(ReplyEvent::Failed(e)) => {
                tracing::warn!(call_id = %self.call_id, %e, "reply failed");
                self.reply_finished(now);
            }
            None => {
                tracing::warn!(call_id = %self.call_id, "reply task ended without a word");
                self.reply_finished(now);
            }
        }
    }

    fn reply_finished(&mut self, _now: Instant) {
        self.reply = None;
        let (Some(turn), Some(slot)) = (self.turn.as_mut(), self.slot.as_deref_mut()) else {
            return;
        };
        let queued = slot.outbound.flush();
        turn.heard.add_audio(queued);
        turn.reply_done = true;
    }

    /// Sends queued reply audio as far as the carrier's buffer cap allows, and closes the
    /// turn once the whole reply has played.
    fn pump(&mut self, now: Instant) {
        let (Some(turn), Some(slot)) = (self.turn.as_mut(), self.slot.as_deref_mut()) else {
            return;
        };
        while self.leg.can_send(now) {
            let frame = match slot.outbound.next_frame() {
                Ok(Some(frame)) => frame,
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(%e, "reply audio dropped");
                    slot.outbound.clear();
                    break;
                }
            };
            if let Err(e) = self.leg.send_audio(now, frame.samples()) {
                tracing::warn!(%e, "reply frame not sent");
                break;
            }
            slot.outbound.pop();
            if turn.sent.is_zero() {
                let since_end = now.saturating_duration_since(turn.speech_end);
                turn.metrics.first_frame_sent = Some(since_end);
                turn.metrics.server_added = turn.decided.map(|d| now.saturating_duration_since(d));
                self.turns.handle_agent_speaking();
            }
            turn.sent += FRAME;
        }
        let played_out =
            turn.reply_done && slot.outbound.is_empty() && self.leg.buffered(now).is_zero();
        if !played_out {
            return;
        }
        let Some(turn) = self.turn.take() else { return };
        self.turns.handle_agent_done();
        let hangup = turn.hangup;
        let heard = turn.heard.full();
        self.finish_turn(turn, heard, false);
        if hangup {
            tracing::info!(call_id = %self.call_id, "agent hangs up");
            self.agent_hung_up = true;
            self.leg.hangup(now);
        }
    }

    /// When the loop must wake with no input: the session's timer, the moment the next
    /// queued frame fits, or the moment the last reply audio has played.
    fn next_wake(&self, now: Instant) -> Option<Instant> {
        let session = self.leg.poll_timeout();
        let reply = match (&self.turn, self.slot.as_deref()) {
            (Some(_), Some(slot)) if slot.outbound.has_frame() => {
                Some(self.leg.next_send_at(now)).filter(|&at| at > now)
            }
            (Some(turn), Some(_)) if turn.reply_done => Some(now + self.leg.buffered(now)),
            _ => None,
        };
        [session, reply].into_iter().flatten().min()
    }

    /// Adds the agent's words as heard to the history, and publishes the turn.
    fn finish_turn(&mut self, turn: Turn, heard: String, interrupted: bool) {
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
        self.shared.bus.publish(CallEvent::TurnCompleted {
            call_id: self.call_id.clone(),
            turn: self.completed_turns,
            user: turn.user,
            agent: heard,
            interrupted,
            metrics: turn.metrics,
        });
    }

    fn on_ended(
        &mut self,
        reason: &'static str,
        message: Option<&str>,
        error: Option<&'static str>,
    ) {
        self.reply = None;
        if self.slot.is_none() {
            return; // Refused, or never said hello: not a call.
        }
        if let Some(turn) = self.turn.take() {
            let heard = turn.heard.heard(turn.sent);
            self.finish_turn(turn, heard, true);
        }
        let reason = match reason {
            "done" if self.agent_hung_up => "agent",
            other => other,
        };
        if reason == "error" {
            self.shared
                .metrics
                .calls_failed
                .fetch_add(1, Ordering::Relaxed);
        }
        tracing::info!(call_id = %self.call_id, %reason, ?message, ?error, "call ended");
        self.shared.bus.publish(CallEvent::Ended {
            call_id: self.call_id.clone(),
            reason: reason.to_owned(),
            error: error.map(str::to_owned),
            turns: self.completed_turns,
        });
    }
}
