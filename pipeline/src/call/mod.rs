//! The per-call voice loop and the [`Pipeline`] that runs one per 46elks call.
//!
//! [`Pipeline`] is the bridge's [`CallHandler`]: for each accepted WebSocket (and each SIP
//! call, through [`Pipeline::run_leg`]) it runs one call task. The task (`task.rs`) is a
//! thin driver: everything that decides what happens on the call is the sans-IO
//! [`CallCore`] (the slot's buffers and `VadStream` (the `vad` module), the
//! [`TurnController`](crate::turn::TurnController), the conversation, the reply in progress
//! and the call's timers), which the driver feeds with the leg's events, the VAD's answers,
//! the reply job's progress and the time. Nothing of a call is shared with another call but
//! the engines (loaded once) and the slot pool (touched twice per call).
//!
//! The flow of one call:
//!
//! 1. `hello`: a slot is taken from the pool. With none free the call is refused at once
//!    (`bye`, then close when the carrier answers) and counted; never left in silence.
//! 2. The greeting is synthesized and played.
//! 3. Caller audio is re-framed by the session, resampled to 16 kHz by the slot and cut into
//!    VAD chunks; each probability goes to the turn controller.
//! 4. End of turn: the utterance is copied out of the slot's ring and a reply task
//!    (the `reply` module) transcribes it, streams the brain's text, cuts it into sentences and
//!    synthesizes each while the brain keeps writing.
//! 5. Reply audio is framed and resampled into the slot's preallocated queue and sent as
//!    fast as the carrier's buffer cap allows (`max_buffered`, 1 s by default).
//! 6. Barge-in: the reply task is dropped (cancelling brain and mouth), the queue is
//!    flushed, `interrupt` is sent, and the transcript keeps only what the caller heard.
//! 7. `bye` from either side, a lost socket, a dead carrier or a caller silent for the
//!    agent's `turn.idle_timeout` ends the call; the slot goes back to the pool at once.

pub mod core;
mod end;
mod heard;
mod reply;
mod slot;
mod task;
mod vad;

use std::sync::Arc;

use futures::FutureExt as _;
use futures::future::BoxFuture;
use voxgate_bridge::SessionConfig;
use voxgate_bridge::ws::{CallHandler, WsLeg};

use crate::agent::AgentConfig;
use crate::context::CallContexts;
use crate::error::PipelineError;
use crate::events::EventBus;
use crate::leg::{ElksLeg, Leg};
use crate::metrics::Metrics;
use crate::providers::{Brain, Ears, Mouth, VadFactory};
use crate::slots::SlotPool;

pub use self::core::{CallCore, CallInput, CallOutput, CallShared, ReplyEvent, ReplyId};
pub use end::EndReason;
pub use reply::ReplyJob;
pub use slot::CallSlot;

/// The engines an agent runs with, loaded once and shared by every call.
#[derive(Clone)]
pub struct Engines {
    /// Makes each slot's voice activity detector.
    pub vad: Arc<dyn VadFactory>,
    /// Speech-to-text.
    pub ears: Arc<dyn Ears>,
    /// The brain.
    pub brain: Arc<dyn Brain>,
    /// Text-to-speech.
    pub mouth: Arc<dyn Mouth>,
}

impl std::fmt::Debug for Engines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engines")
            .field("vad", &self.vad.name())
            .field("ears", &self.ears.name())
            .field("brain", &self.brain.name())
            .field("mouth", &self.mouth.name())
            .finish()
    }
}

/// The pipeline's own settings (the agent's are in [`AgentConfig`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineConfig {
    /// Concurrent calls: the slot pool's capacity. Default 32 per CPU core (64 on a 2-core
    /// machine): with local speech engines the cores, not the slots, are the limit, and a
    /// refused call is better than 64 callers waiting on one transcription queue. Env
    /// `VOXGATE_PIPELINE_SLOTS`.
    pub slots: usize,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Self { slots: 32 * cores }
    }
}

/// What every call of one pipeline shares.
struct Shared {
    /// What each call's core is made with.
    call: CallShared,
    session: SessionConfig,
    engines: Arc<Engines>,
    bus: Arc<dyn EventBus>,
    /// Where each call's agent settings and history come from (none: the agent above).
    contexts: std::sync::OnceLock<Arc<dyn CallContexts>>,
}

/// Answers 46elks calls with one agent: the bridge's [`CallHandler`].
#[derive(Clone)]
pub struct Pipeline {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("agent", &self.shared.call.agent.name)
            .field("engines", &self.shared.engines)
            .field("slots", &self.shared.call.slots.capacity())
            .finish()
    }
}

impl Pipeline {
    /// A pipeline answering with `agent` on `engines`, with `config.slots` slots built now
    /// (each with its VAD, resamplers and buffers). `session` sets the 46elks session; its
    /// formats are replaced by the agent's.
    ///
    /// # Errors
    ///
    /// [`PipelineError::Config`] for zero slots or invalid turn settings; whatever building
    /// a slot's VAD or resamplers returns.
    pub fn new(
        agent: AgentConfig,
        mut session: SessionConfig,
        config: &PipelineConfig,
        engines: Engines,
        bus: Arc<dyn EventBus>,
    ) -> Result<Self, PipelineError> {
        if config.slots == 0 {
            return Err(PipelineError::Config {
                key: "pipeline.slots".to_owned(),
                reason: "must be at least 1".to_owned(),
            });
        }
        agent.turn.validate()?;
        session.listen_format = agent.listen_format;
        session.send_format = agent.send_format;
        let (listen, send, speech) = (
            agent.listen_format.rate(),
            agent.send_format.rate(),
            engines.mouth.rate(),
        );
        let slots = SlotPool::try_new(config.slots, || {
            CallSlot::new(
                engines.vad.make(listen)?,
                listen,
                send,
                speech,
                agent.turn.silence_floor_dbfs,
            )
        })?;
        tracing::info!(agent = %agent.name, slots = config.slots, ?engines, "pipeline ready");
        Ok(Self {
            shared: Arc::new(Shared {
                call: CallShared {
                    agent: Arc::new(agent),
                    slots,
                    metrics: Arc::new(Metrics::default()),
                    looks_up_context: false,
                },
                session,
                engines: Arc::new(engines),
                bus,
                contexts: std::sync::OnceLock::new(),
            }),
        })
    }

    /// The counters and histograms of every call so far.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.shared.call.metrics
    }

    /// The Prometheus text exposition of [`metrics`](Self::metrics) and the slot gauges.
    pub fn render_metrics(&self) -> String {
        let call = &self.shared.call;
        call.metrics
            .render(call.slots.in_use(), call.slots.capacity())
    }

    /// Takes each call's prompt, greeting and history from `contexts` (see
    /// [`crate::context`]). Set once, before calls arrive; later calls are ignored.
    pub fn set_contexts(&self, contexts: Arc<dyn CallContexts>) {
        if self.shared.contexts.set(contexts).is_err() {
            tracing::warn!("call contexts were set already; keeping the first");
        }
    }

    /// Slots in use now.
    pub fn slots_in_use(&self) -> usize {
        self.shared.call.slots.in_use()
    }

    /// Slots in all.
    pub fn slots_capacity(&self) -> usize {
        self.shared.call.slots.capacity()
    }
}

impl Pipeline {
    /// Runs one call on `leg` (a SIP call's RTP stream, say) until it ends, in this
    /// pipeline's slots and with its agent.
    pub async fn run_leg<L: Leg>(&self, leg: L) {
        task::run(Arc::clone(&self.shared), leg).await;
    }
}

impl CallHandler for Pipeline {
    fn handle(&self, socket: WsLeg) -> BoxFuture<'static, ()> {
        let leg = ElksLeg::new(self.shared.session.clone(), socket);
        task::run(Arc::clone(&self.shared), leg).boxed()
    }
}
