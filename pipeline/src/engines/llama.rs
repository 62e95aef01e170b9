//! A local language model in GGUF format on llama.cpp, through `llama-cpp-2` (feature
//! `llama`).
//!
//! The default model is SmolLM2-135M-Instruct (Q4_1, 98 MB, Apache-2.0), unpacked into
//! `models/smollm2/` by `scripts/setup`. [`LlamaBrain::load`] starts one worker thread that
//! loads the model and one context (KV cache) and keeps them for good; replies are queued to
//! it and generated one at a time. For each reply the worker formats the conversation with
//! the model's own chat template (ChatML for SmolLM2:
//! `<|im_start|>user\n...<|im_end|>\n<|im_start|>assistant\n`), evaluates the prompt,
//! then samples greedily, sending each piece of text over a channel that the returned stream
//! reads. It stops at an end-of-generation token (`<|im_end|>`, EOS), after `max_tokens`,
//! or as soon as the stream is dropped (the channel closes; the worker checks before every
//! token). Dropping the [`LlamaBrain`] stops the current reply and joins the worker, so no
//! llama.cpp call is still running when the process exits (one would crash in its global
//! destructors).
//!
//! # Costs
//!
//! SmolLM2-135M Q4_1 on 2 threads: about 0.2 s to load, 150 MB resident, about 70 tokens/s
//! when generating (see `tests/engines_llama.rs` for the measured figures). One reply at a
//! time: a second caller waits for the first reply to finish or be dropped.
//!
//! # Traps
//!
//! - Building llama.cpp from source takes about 5 minutes on 2 cores (cmake, libclang).
//! - The llama.cpp backend can be initialised once per process; it is kept in a static.
//! - A token can end in the middle of a UTF-8 character: bytes are held back until the
//!   character is complete.
//! - A 135M model gives coherent but generic answers: a smoke test and a local default, not
//!   something to assert on.
//! - The context holds [`N_CTX`] tokens; the oldest turns after the system prompt are dropped
//!   until the prompt and `max_tokens` fit.

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, mpsc};
use std::thread::JoinHandle;
use std::time::Instant;

use futures::StreamExt as _;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use tokio::sync::mpsc as async_mpsc;

use crate::error::PipelineError;
use crate::providers::{BoxStream, Brain, BrainEvent, Message, Role};

/// The engine's name in errors, logs and metrics.
const NAME: &str = "llama";
/// Tokens the context holds (prompt and reply).
pub const N_CTX: u32 = 2048;
/// Pieces of text buffered between the worker and a slow reader.
const CHANNEL_LEN: usize = 64;
/// How long the worker sleeps when the reader has not taken [`CHANNEL_LEN`] pieces yet.
const FULL_WAIT: std::time::Duration = std::time::Duration::from_millis(5);
/// The ChatML end-of-turn marker, also checked when the model does not flag it as EOG.
const IM_END: &str = "<|im_end|>";

/// What the worker sends for one reply.
type Event = Result<BrainEvent, PipelineError>;

/// A local GGUF model generating replies on its own thread.
#[derive(Debug)]
pub struct LlamaBrain {
    jobs: mpsc::Sender<Job>,
    /// Set on drop: the worker stops the reply it is generating.
    stop: Arc<AtomicBool>,
    worker: Option<JoinHandle<()>>,
}

/// One reply to generate.
struct Job {
    history: Vec<Message>,
    events: async_mpsc::Sender<Event>,
}

impl LlamaBrain {
    /// Loads the GGUF model at `model_path` on a new worker thread generating with `threads`
    /// threads, at most `max_tokens` tokens per reply. Blocks until the model is loaded.
    ///
    /// # Errors
    ///
    /// [`PipelineError::Config`] if `threads` or `max_tokens` is 0 or `max_tokens` leaves no
    /// room in the context, [`PipelineError::Load`] if the file is missing (run
    /// `scripts/setup`) or llama.cpp cannot load it.
    pub fn load(model_path: &Path, threads: usize, max_tokens: u32) -> Result<Self, PipelineError> {
        let threads = i32::try_from(threads)
            .ok()
            .filter(|&t| t > 0)
            .ok_or_else(|| config_error("llama.threads", "must be between 1 and 2^31"))?;
        if max_tokens == 0 || max_tokens >= N_CTX / 2 {
            return Err(config_error(
                "llama.max_tokens",
                "must be at least 1 and less than half the context (1024)",
            ));
        }
        if !model_path.is_file() {
            return Err(load_error(format!(
                "{} not found (run scripts/setup)",
                model_path.display()
            )));
        }
        let (jobs, queue) = mpsc::channel();
        let (ready_tx, ready) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let settings = Settings {
            path: model_path.to_owned(),
            threads,
            max_tokens,
            stop: stop.clone(),
        };
        let worker = std::thread::Builder::new()
            .name("llama".to_owned())
            .spawn(move || worker(&settings, &ready_tx, &queue))
            .map_err(|e| load_error(format!("cannot start the worker thread: {e}")))?;
        ready
            .recv()
            .map_err(|_| load_error("the worker thread died while loading".to_owned()))??;
        Ok(Self {
            jobs,
            stop,
            worker: Some(worker),
        })
    }
}

impl Drop for LlamaBrain {
    /// Stops the reply being generated (within one token), closes the queue and waits for
    /// the worker to free the model.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Replacing the only sender closes the queue: the worker's loop ends.
        drop(std::mem::replace(&mut self.jobs, mpsc::channel().0));
        if let Some(worker) = self.worker.take()
            && worker.join().is_err()
        {
            tracing::error!("the llama worker thread panicked");
        }
    }
}

impl Brain for LlamaBrain {
    fn reply(&self, history: &[Message]) -> BoxStream<Result<BrainEvent, PipelineError>> {
        let (events, mut received) = async_mpsc::channel(CHANNEL_LEN);
        let job = Job {
            history: history.to_vec(),
            events,
        };
        if self.jobs.send(job).is_err() {
            let err = provider_error("the generation thread has stopped".to_owned());
            return futures::stream::iter([Err(err)]).boxed();
        }
        futures::stream::poll_fn(move |cx| received.poll_recv(cx)).boxed()
    }

    fn name(&self) -> &'static str {
        NAME
    }
}

/// How the worker loads and runs the model.
struct Settings {
    path: PathBuf,
    threads: i32,
    max_tokens: u32,
    stop: Arc<AtomicBool>,
}

/// The worker thread: loads, reports, then generates each queued reply in turn until every
/// [`LlamaBrain`] handle is dropped.
fn worker(
    settings: &Settings,
    ready: &mpsc::Sender<Result<(), PipelineError>>,
    queue: &mpsc::Receiver<Job>,
) {
    let started = Instant::now();
    let loaded = backend().and_then(|backend| {
        let model =
            LlamaModel::load_from_file(backend, &settings.path, &LlamaModelParams::default())
                .map_err(|e| load_error(format!("{}: {e}", settings.path.display())))?;
        Ok((backend, model))
    });
    let (backend, model) = match loaded {
        Ok(loaded) => loaded,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let mut generator = match Generator::new(backend, &model, settings) {
        Ok(generator) => generator,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    tracing::info!(
        model = %settings.path.display(),
        load_ms = started.elapsed().as_millis(),
        "llama model loaded"
    );
    let _ = ready.send(Ok(()));
    for job in queue {
        if job.events.is_closed() || settings.stop.load(Ordering::Relaxed) {
            continue;
        }
        if let Err(e) = generator.generate(&job) {
            // The reader may be gone; nothing else to tell.
            let _ = job.events.blocking_send(Err(e));
        }
    }
}

/// The llama.cpp backend, initialised once per process; its logs go to `tracing`.
fn backend() -> Result<&'static LlamaBackend, PipelineError> {
    static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            llama_cpp_2::send_logs_to_tracing(llama_cpp_2::LogOptions::default());
            LlamaBackend::init().map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| load_error(format!("llama.cpp backend: {e}")))
}

/// The model's context and chat template, reused for every reply.
struct Generator<'m> {
    model: &'m LlamaModel,
    ctx: LlamaContext<'m>,
    template: LlamaChatTemplate,
    /// `<|im_end|>` as one token, if the vocabulary has it.
    im_end: Option<LlamaToken>,
    max_tokens: u32,
    stop: Arc<AtomicBool>,
}

impl<'m> Generator<'m> {
    fn new(
        backend: &LlamaBackend,
        model: &'m LlamaModel,
        settings: &Settings,
    ) -> Result<Self, PipelineError> {
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(N_CTX))
            .with_n_batch(N_CTX)
            .with_n_threads(settings.threads)
            .with_n_threads_batch(settings.threads);
        let ctx = model
            .new_context(backend, params)
            .map_err(|e| load_error(format!("context: {e}")))?;
        // The model's own template; ChatML (what SmolLM2 and many others use) if it has none.
        let template = match model.chat_template(None) {
            Ok(template) => template,
            Err(_) => LlamaChatTemplate::new("chatml").map_err(|e| load_error(e.to_string()))?,
        };
        let im_end = match model.vocab().tokenize(IM_END.as_bytes(), false, true)[..] {
            [token] => Some(token),
            _ => None,
        };
        Ok(Self {
            model,
            ctx,
            template,
            im_end,
            max_tokens: settings.max_tokens,
            stop: settings.stop.clone(),
        })
    }

    /// Generates one reply into `job.events`; stops early when the reader is gone.
    fn generate(&mut self, job: &Job) -> Result<(), PipelineError> {
        let started = Instant::now();
        let prompt = self.prompt_tokens(&job.history)?;
        self.ctx.clear_kv_cache();
        let mut batch = LlamaBatch::new(prompt.len().max(1), 1);
        let last = prompt.len() - 1;
        for ((i, &token), pos) in prompt.iter().enumerate().zip(0_i32..) {
            batch
                .add(token, pos, &[0], i == last)
                .map_err(|e| provider_error(e.to_string()))?;
        }
        self.decode(&mut batch)?;
        let first_token_ms = started.elapsed().as_millis();
        let mut sampler = LlamaSampler::greedy();
        let mut text = Utf8Pieces::default();
        let mut pos = i32::try_from(prompt.len()).map_err(|e| provider_error(e.to_string()))?;
        let mut generated = 0;
        while generated < self.max_tokens
            && !job.events.is_closed()
            && !self.stop.load(Ordering::Relaxed)
        {
            let token = sampler.sample(&self.ctx, batch.n_tokens() - 1);
            if self.model.vocab().is_eog(token) || Some(token) == self.im_end {
                break;
            }
            generated += 1;
            let bytes = self.model.vocab().token_to_piece(token, false, None);
            if let Some(piece) = text.push(&bytes)
                && !self.send(job, piece)
            {
                break;
            }
            batch.clear();
            batch
                .add(token, pos, &[0], true)
                .map_err(|e| provider_error(e.to_string()))?;
            pos += 1;
            self.decode(&mut batch)?;
        }
        tracing::debug!(
            prompt_tokens = prompt.len(),
            generated,
            first_token_ms,
            total_ms = started.elapsed().as_millis(),
            "llama reply"
        );
        Ok(())
    }

    /// Sends one piece, waiting while the reader is behind (the channel is full) but not
    /// past a stop; false when the reader is gone or the brain is being dropped.
    fn send(&self, job: &Job, piece: String) -> bool {
        let mut event = Ok(BrainEvent::Text(piece));
        loop {
            match job.events.try_send(event) {
                Ok(()) => return true,
                Err(async_mpsc::error::TrySendError::Closed(_)) => return false,
                Err(async_mpsc::error::TrySendError::Full(back)) => {
                    if self.stop.load(Ordering::Relaxed) {
                        return false;
                    }
                    event = back;
                    std::thread::sleep(FULL_WAIT);
                }
            }
        }
    }

    /// The templated conversation as tokens, dropping the oldest turns after the system
    /// prompt until it fits in the context with room for the reply.
    fn prompt_tokens(&self, history: &[Message]) -> Result<Vec<LlamaToken>, PipelineError> {
        let room = (N_CTX - self.max_tokens) as usize;
        let mut messages: Vec<&Message> = history.iter().collect();
        loop {
            let prompt = self.apply_template(&messages)?;
            let tokens = self.model.vocab().tokenize(prompt.as_bytes(), true, true);
            if tokens.len() <= room && !tokens.is_empty() {
                return Ok(tokens);
            }
            let first_turn = usize::from(messages.first().is_some_and(|m| m.role == Role::System));
            if tokens.is_empty() || messages.len() <= first_turn + 1 {
                return Err(provider_error(format!(
                    "the prompt does not fit in the context ({} tokens, room for {room})",
                    tokens.len()
                )));
            }
            messages.remove(first_turn);
        }
    }

    fn apply_template(&self, messages: &[&Message]) -> Result<String, PipelineError> {
        let chat = messages
            .iter()
            .map(|m| {
                LlamaChatMessage::new(role_name(m.role).to_owned(), m.content.replace('\0', ""))
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| provider_error(e.to_string()))?;
        self.model
            .apply_chat_template(&self.template, &chat, true)
            .map_err(|e| provider_error(format!("chat template: {e}")))
    }

    fn decode(&mut self, batch: &mut LlamaBatch<'_>) -> Result<(), PipelineError> {
        self.ctx
            .decode(batch)
            .map_err(|e| provider_error(format!("decode: {e}")))
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
    }
}

/// Joins token bytes into text, holding back an incomplete UTF-8 character at the end.
#[derive(Debug, Default)]
struct Utf8Pieces {
    pending: Vec<u8>,
}

impl Utf8Pieces {
    /// The complete text that `bytes` adds, if any. Invalid bytes become U+FFFD.
    fn push(&mut self, bytes: &[u8]) -> Option<String> {
        self.pending.extend_from_slice(bytes);
        let complete = match std::str::from_utf8(&self.pending) {
            Ok(_) => self.pending.len(),
            // `error_len() == None`: the end is a character cut short; wait for the rest.
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => self.pending.len(),
        };
        let piece: Vec<u8> = self.pending.drain(..complete).collect();
        let piece = String::from_utf8_lossy(&piece).into_owned();
        (!piece.is_empty()).then_some(piece)
    }
}

fn config_error(key: &str, reason: &str) -> PipelineError {
    PipelineError::Config {
        key: key.to_owned(),
        reason: reason.to_owned(),
    }
}

fn load_error(reason: String) -> PipelineError {
    PipelineError::Load {
        provider: NAME,
        reason,
    }
}

fn provider_error(reason: String) -> PipelineError {
    PipelineError::Provider {
        provider: NAME,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_back_a_split_character() {
        let mut text = Utf8Pieces::default();
        let smile = "\u{1f600}".as_bytes();
        assert_eq!(text.push(b"a"), Some("a".to_owned()));
        assert_eq!(text.push(&smile[..1]), None);
        assert_eq!(text.push(&smile[1..3]), None);
        assert_eq!(text.push(&smile[3..]), Some("\u{1f600}".to_owned()));
        assert_eq!(text.push(&[0xff, b'b']), Some("\u{fffd}b".to_owned()));
        assert_eq!(text.push(b""), None);
    }

    #[test]
    fn a_missing_model_is_a_load_error() {
        let err = LlamaBrain::load(Path::new("/nonexistent/model.gguf"), 2, 64).expect_err("x");
        assert!(err.to_string().contains("scripts/setup"), "{err}");
    }
}
