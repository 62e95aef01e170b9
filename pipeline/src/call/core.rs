//! The call as a sans-IO state machine: [`CallCore`].
//!
//! One core per call owns everything that decides what happens on it: the slot (buffers,
//! resamplers and the `VadStream` (the `vad` module)), the [`TurnController`], the conversation,
//! the reply in progress and the call's timers. It does no IO, reads no clock and spawns
//! nothing. The driver (`task.rs`) feeds it, with the time:
//!
//! - what the leg reports ([`CallInput::Leg`]: started, caller audio, a digit, ended) and
//!   how much agent audio the leg takes now ([`CallInput::Room`]);
//! - the VAD's answers ([`CallInput::Vad`], after waiting on [`CallCore::poll_vad`]);
//! - the reply's progress ([`CallInput::Reply`]: transcript, first token, text pieces,
//!   audio, done or failed), from the job it was asked to run;
//! - the call context it asked for ([`CallInput::Context`]);
//! - the passing of time ([`CallInput::Timeout`] once [`CallCore::poll_timeout`] is due);
//!
//! and after each input drains [`CallCore::poll`] for what to do: send a frame of agent
//! audio, interrupt or hang up the leg, start or cancel a reply, look up the context,
//! publish an event. Agent audio leaves one frame per [`CallInput::Room`] that says a frame
//! fits, so the core paces by the leg's own rules and never overfills the carrier.
//!
//! Timers are a small enum and a table of deadlines (the quinn-proto way): the context
//! lookup's deadline, the caller's idle timeout and the reply's progress timeout. Playout
//! and pacing wake-ups come from the last [`LegRoom`].

mod inputs;
mod reply_turn;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use voxgate_media::AudioFrame;

use super::reply::ReplyJob;
use super::{CallSlot, EndReason};
use crate::agent::AgentConfig;
use crate::context::CallContext;
use crate::error::PipelineError;
use crate::events::CallEvent;
use crate::leg::{LegEvent, LegRoom};
use crate::metrics::Metrics;
use crate::providers::{Message, Role};
use crate::slots::{SlotGuard, SlotPool};
use crate::turn::TurnController;

use reply_turn::Turn;

pub use super::reply::ReplyEvent;

/// Identifies one reply the core asked for, so that progress of a reply it has cancelled
/// is ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReplyId(u64);

/// What the driver tells the core.
#[derive(Debug)]
pub enum CallInput<'a> {
    /// The leg reported something. Caller audio is borrowed: the driver recycles the frame
    /// to the leg afterwards.
    Leg(&'a LegEvent),
    /// How much agent audio the leg takes now. Given before draining [`CallCore::poll`],
    /// and after every frame sent.
    Room(LegRoom),
    /// The VAD's answer for the oldest window waiting for one.
    Vad(Result<f32, PipelineError>),
    /// Progress of reply `id`.
    Reply {
        /// The reply it belongs to.
        id: ReplyId,
        /// What happened.
        event: ReplyEvent,
    },
    /// The call context asked for with [`CallOutput::LookupContext`].
    Context(CallContext),
    /// [`CallCore::poll_timeout`] is due.
    Timeout,
}

/// What the core asks of the driver.
#[derive(Debug)]
pub enum CallOutput {
    /// Send this frame of agent audio on the leg, then give it back with
    /// [`CallCore::recycle`].
    SendAudio(AudioFrame),
    /// Barge-in: drop the agent audio queued on the leg.
    Interrupt,
    /// Hang up the leg.
    Hangup,
    /// Run this reply job; report its progress as [`CallInput::Reply`] with `id`.
    StartReply {
        /// Its id.
        id: ReplyId,
        /// What to do.
        job: ReplyJob,
    },
    /// Stop the running reply (and drop its progress).
    CancelReply,
    /// Look up this call's context; answer with [`CallInput::Context`]. Late answers are
    /// ignored (the core stops waiting after [`LOOKUP_TIMEOUT`](crate::context::LOOKUP_TIMEOUT)).
    LookupContext {
        /// The carrier's call id.
        call_id: String,
        /// The caller.
        from: String,
        /// The number called.
        to: String,
    },
    /// Publish this event on the bus.
    Publish(CallEvent),
}

/// The core's timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timer {
    /// The context lookup's deadline: greet with the defaults.
    Context,
    /// Nobody has spoken for the agent's idle timeout: hang up.
    Idle,
    /// The running reply showed no progress for the agent's reply timeout: give it up.
    Reply,
}

impl Timer {
    const ALL: [Self; 3] = [Self::Context, Self::Idle, Self::Reply];
}

/// The deadline of each [`Timer`].
#[derive(Debug, Default)]
struct Timers([Option<Instant>; 3]);

impl Timers {
    fn set(&mut self, timer: Timer, at: Instant) {
        self.0[timer as usize] = Some(at);
    }

    fn stop(&mut self, timer: Timer) {
        self.0[timer as usize] = None;
    }

    fn get(&self, timer: Timer) -> Option<Instant> {
        self.0[timer as usize]
    }

    fn next(&self) -> Option<Instant> {
        self.0.iter().flatten().min().copied()
    }
}

/// What every call of one pipeline shares with its core.
#[derive(Debug, Clone)]
pub struct CallShared {
    /// The agent answering.
    pub agent: Arc<AgentConfig>,
    /// The slot pool calls take their slot from.
    pub slots: Arc<SlotPool<CallSlot>>,
    /// Where counters and latency histograms go.
    pub metrics: Arc<Metrics>,
    /// Whether to ask for each call's context before greeting.
    pub looks_up_context: bool,
}

/// One call's state machine; see the [module docs](self).
pub struct CallCore {
    shared: CallShared,
    /// Taken when the call starts; `None` before, for a refused call, and once ended.
    slot: Option<SlotGuard<CallSlot>>,
    turns: TurnController,
    /// The agent's reply in progress (the greeting or an answer), if any.
    turn: Option<Turn>,
    /// The running reply job, if any.
    reply: Option<ReplyId>,
    replies: u64,
    history: Vec<Message>,
    call_id: String,
    completed_turns: u32,
    /// Why the agent hung up, if it did.
    hung_up: Option<EndReason>,
    ended: bool,
    room: LegRoom,
    timers: Timers,
    outputs: VecDeque<CallOutput>,
}

impl std::fmt::Debug for CallCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallCore")
            .field("call_id", &self.call_id)
            .field("state", &self.turns.state())
            .field("turns", &self.completed_turns)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl CallCore {
    /// A core waiting for its leg to start, at `now`.
    pub fn new(shared: CallShared, now: Instant) -> Self {
        let history = vec![Message::new(
            Role::System,
            shared.agent.system_prompt.clone(),
        )];
        Self {
            turns: TurnController::new(shared.agent.turn.clone()),
            shared,
            slot: None,
            turn: None,
            reply: None,
            replies: 0,
            history,
            call_id: String::new(),
            completed_turns: 0,
            hung_up: None,
            ended: false,
            room: LegRoom {
                at: now,
                can_send: false,
                buffered: Duration::ZERO,
                next_send_at: now,
            },
            timers: Timers::default(),
            outputs: VecDeque::with_capacity(8),
        }
    }

    /// Feeds one input at `now`; then drain [`poll`](Self::poll).
    pub fn handle(&mut self, now: Instant, input: CallInput<'_>) {
        if self.ended {
            return;
        }
        match input {
            CallInput::Leg(event) => self.on_leg(now, event),
            CallInput::Room(room) => {
                self.room = room;
                self.send_one(now);
            }
            CallInput::Vad(answer) => {
                if let Some(slot) = self.slot.as_deref_mut() {
                    slot.vad.answer(answer);
                }
                self.take_vad_decisions(now);
            }
            CallInput::Reply { id, event } if self.reply == Some(id) => self.on_reply(now, event),
            CallInput::Reply { .. } => {} // A cancelled reply's last words.
            CallInput::Context(context) => self.on_context(now, Some(context)),
            CallInput::Timeout => self.on_timeout(now),
        }
        self.check_played_out(now);
    }

    /// The next thing to do, until `None`.
    pub fn poll(&mut self) -> Option<CallOutput> {
        self.outputs.pop_front()
    }

    /// When to feed [`CallInput::Timeout`]: the earliest timer, the moment the next frame
    /// fits on the leg, or the moment the reply's last audio has played.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.ended {
            return None;
        }
        let pacing = match (&self.turn, self.slot.as_deref()) {
            // A leg that cannot send and says so for `now` (not active) needs no wake-up.
            (Some(_), Some(slot)) if slot.outbound.has_frame() && !self.room.can_send => {
                Some(self.room.next_send_at).filter(|&at| at > self.room.at)
            }
            (Some(turn), Some(slot)) if turn.reply_done && slot.outbound.is_empty() => {
                Some(self.room.at + self.room.buffered)
            }
            _ => None,
        };
        [self.timers.next(), pacing].into_iter().flatten().min()
    }

    /// The driver's wait for the VAD's next answer, fed back as [`CallInput::Vad`]. Pending
    /// while no window waits for one.
    pub fn poll_vad(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<f32, PipelineError>> {
        match self.slot.as_deref_mut() {
            Some(slot) => slot.vad.poll_answer(cx),
            None => std::task::Poll::Pending,
        }
    }

    /// Gives back a frame of [`CallOutput::SendAudio`] once sent.
    pub fn recycle(&mut self, frame: AudioFrame) {
        if let Some(slot) = self.slot.as_deref_mut() {
            slot.outbound.recycle(frame);
        }
    }

    /// True once the leg has ended the call; nothing more comes out.
    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// The carrier's call id (empty before the leg starts).
    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    fn on_timeout(&mut self, now: Instant) {
        for timer in Timer::ALL {
            if self.timers.get(timer).is_none_or(|at| at > now) {
                continue;
            }
            self.timers.stop(timer);
            match timer {
                Timer::Context => self.on_context(now, None),
                Timer::Idle => {
                    tracing::info!(call_id = %self.call_id, "nobody spoke: the agent hangs up");
                    self.hang_up(EndReason::Idle);
                }
                Timer::Reply => {
                    let after = self.shared.agent.turn.reply_timeout;
                    self.reply_failed(&PipelineError::ReplyStalled { after });
                }
            }
        }
    }

    /// The agent hangs up the leg (once); the leg's end follows.
    fn hang_up(&mut self, reason: EndReason) {
        if self.hung_up.is_none() {
            self.hung_up = Some(reason);
            self.timers.stop(Timer::Idle);
            self.outputs.push_back(CallOutput::Hangup);
        }
    }

    /// Arms the idle timer from `now` (nobody speaks, nothing plays), if the agent has one.
    fn arm_idle(&mut self, now: Instant) {
        let idle = self.shared.agent.turn.idle_timeout;
        if !idle.is_zero() && self.slot.is_some() && self.hung_up.is_none() {
            self.timers.set(Timer::Idle, now + idle);
        }
    }

    /// Applies the looked-up context (`None`: the lookup timed out) and greets.
    fn on_context(&mut self, now: Instant, context: Option<CallContext>) {
        if self.timers.get(Timer::Context).is_none() && context.is_some() {
            return; // Late: the call was greeted with the defaults already.
        }
        self.timers.stop(Timer::Context);
        let agent = Arc::clone(&self.shared.agent);
        let Some(context) = context else {
            tracing::warn!(call_id = %self.call_id, "call context lookup timed out; greeting with the defaults");
            return self.greet(now, &agent.greeting);
        };
        if let Some(prompt) = context.system_prompt {
            self.history[0] = Message::new(Role::System, prompt);
        }
        let earlier = context.history.len();
        self.history.splice(1..1, context.history);
        tracing::debug!(call_id = %self.call_id, earlier, "call context applied");
        self.greet(now, context.greeting.as_deref().unwrap_or(&agent.greeting));
    }

    /// Plays `greeting`, unless it is empty or the caller already started a turn.
    fn greet(&mut self, now: Instant, greeting: &str) {
        if !greeting.is_empty() && self.turn.is_none() {
            let job = ReplyJob::Say(greeting.to_owned());
            self.start_reply(now, Turn::new(false, now), job);
        }
    }

    /// Asks for a reply job, cancelling none (the caller cuts the previous one first).
    fn start_reply(&mut self, now: Instant, turn: Turn, job: ReplyJob) {
        self.replies += 1;
        let id = ReplyId(self.replies);
        self.reply = Some(id);
        self.turn = Some(turn);
        self.timers.stop(Timer::Idle);
        self.timers
            .set(Timer::Reply, now + self.shared.agent.turn.reply_timeout);
        self.outputs.push_back(CallOutput::StartReply { id, job });
    }

    /// Stops the running reply job, if any.
    fn cancel_reply(&mut self) {
        self.timers.stop(Timer::Reply);
        if self.reply.take().is_some() {
            self.outputs.push_back(CallOutput::CancelReply);
        }
    }

    fn publish(&mut self, event: CallEvent) {
        self.outputs.push_back(CallOutput::Publish(event));
    }
}

#[cfg(test)]
mod tests;
