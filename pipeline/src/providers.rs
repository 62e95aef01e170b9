//! The provider traits: VAD, ears (speech-to-text), brain (LLM) and mouth (text-to-speech).
//!
//! Each is chosen per agent and implemented in [`crate::engines`]. The call task owns one
//! [`Vad`] per call (it is stateful and cheap); ears, brain and mouth are shared by every call
//! (`Arc<dyn ...>`), loaded once, and bound their own concurrency.
//!
//! Brain and mouth stream: the brain yields text as tokens arrive, the mouth yields audio as
//! it is synthesized, so the first reply audio can leave before the brain has finished.
//! Cancelling is dropping the stream; implementations must stop work promptly when dropped
//! (kill the subprocess, close the HTTP response, stop generating).

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use futures::future::BoxFuture;
use voxgate_media::SampleRate;

use crate::error::PipelineError;

/// A boxed, sendable stream, as the streaming providers return.
pub type BoxStream<T> = Pin<Box<dyn Stream<Item = T> + Send + 'static>>;

/// Voice activity detection over mono audio at 8 or 16 kHz; one per call slot.
///
/// Detection is submitted and answered, not called: a detector may answer at once
/// (earshot) or from an inference thread that batches the windows of many calls (Silero),
/// so the call task submits each chunk and takes the probabilities as they come, in
/// submission order ([`try_result`](Vad::try_result) right after submitting,
/// [`poll_result`](Vad::poll_result) from its event loop).
pub trait Vad: Send {
    /// The rate the detector listens at: 8 kHz only when it runs natively on 8 kHz legs.
    fn rate(&self) -> SampleRate;
    /// Samples per prediction at [`rate`](Vad::rate): 512 (or 256 at 8 kHz) for Silero,
    /// 256 for earshot.
    fn chunk_len(&self) -> usize;
    /// Submits the next chunk (exactly [`chunk_len`](Vad::chunk_len) samples).
    fn submit(&mut self, chunk: &[i16]) -> Result<(), PipelineError>;
    /// The probability in `[0, 1]` that the oldest unanswered chunk holds speech, if it is
    /// known yet.
    fn try_result(&mut self) -> Option<Result<f32, PipelineError>>;
    /// Waits for the oldest unanswered chunk's probability. Only call it with a chunk
    /// outstanding: with none it stays pending.
    fn poll_result(&mut self, cx: &mut Context<'_>) -> Poll<Result<f32, PipelineError>>;
    /// Forgets all state, as for a new call; unanswered chunks are dropped.
    fn reset(&mut self);
    /// Submits `chunk` and blocks the thread until its probability is known: for tests and
    /// benches, never on a runtime thread.
    fn predict(&mut self, chunk: &[i16]) -> Result<f32, PipelineError> {
        self.submit(chunk)?;
        futures::executor::block_on(std::future::poll_fn(|cx| self.poll_result(cx)))
    }
}

/// Makes a [`Vad`] for each call slot. Shared by all slots.
pub trait VadFactory: Send + Sync {
    /// A new detector with fresh state, for caller audio arriving at `rate` (a detector
    /// that cannot listen at that rate listens at 16 kHz).
    fn make(&self, rate: SampleRate) -> Result<Box<dyn Vad>, PipelineError>;
    /// The engine's name for logs and metrics (`silero`, `earshot`).
    fn name(&self) -> &'static str;
}

/// Speech-to-text over one finished utterance.
pub trait Ears: Send + Sync {
    /// Transcribes `pcm` (16 kHz mono). Returns the text, trimmed; empty for no speech.
    fn transcribe(&self, pcm: Vec<i16>) -> BoxFuture<'static, Result<String, PipelineError>>;
    /// The engine's name for logs and metrics.
    fn name(&self) -> &'static str;
}

/// Who said a message in the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The agent's instructions.
    System,
    /// The caller.
    User,
    /// The agent (only what the caller actually heard).
    Assistant,
}

/// One message of the conversation the brain sees.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Message {
    /// Who said it.
    pub role: Role,
    /// What was said.
    pub content: String,
}

impl Message {
    /// A message from `role` with `content`.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
        }
    }
}

/// What a brain's reply stream yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrainEvent {
    /// More reply text (a token or several), to be appended to what came before.
    Text(String),
    /// The agent ends the call once the text so far has been spoken.
    Hangup,
}

/// The language model (or rules) that writes the agent's replies.
pub trait Brain: Send + Sync {
    /// Streams the reply to the conversation so far (`history` starts with the system
    /// prompt and ends with the caller's latest utterance).
    fn reply(&self, history: &[Message]) -> BoxStream<Result<BrainEvent, PipelineError>>;
    /// The engine's name for logs and metrics.
    fn name(&self) -> &'static str;
}

/// A piece of synthesized speech.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Speech {
    /// Its sample rate.
    pub rate: SampleRate,
    /// Mono samples.
    pub samples: Vec<i16>,
}

/// Text-to-speech.
pub trait Mouth: Send + Sync {
    /// Streams the audio for `text` (one sentence or clause) as it is synthesized.
    fn speak(&self, text: &str) -> BoxStream<Result<Speech, PipelineError>>;
    /// The rate of every [`Speech`] this mouth yields: call slots size their outbound
    /// resampler for it once, when the pool is built.
    fn rate(&self) -> SampleRate;
    /// The engine's name for logs and metrics.
    fn name(&self) -> &'static str;
}
