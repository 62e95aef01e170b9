//! Silero VAD v5 on ONNX Runtime, batched across calls.
//!
//! # Design
//!
//! Silero costs about 135 us per 32 ms window when run alone, almost all of it ONNX Runtime's
//! fixed cost per run; in batches of 32 or more it costs about 53 us per window at 16 kHz
//! and 32 us at 8 kHz (measured on this project's 2-core machine; see
//! `docs/latency-budget.md`). So no call runs the model itself. Each call's [`SileroVad`]
//! copies its windows into a lock-free queue of one of a few inference threads (one per two
//! cores, up to four: fewer threads make bigger batches and keep one copy of the weights
//! hot); each thread gathers windows for up to 4 ms or 32 windows, runs every waiting window
//! of every call in one ONNX run (one per sample rate), keeps each call's recurrent state
//! and context, and hands each probability back to its call through a bounded channel.
//! Windows of one call are run one at a time, in order (the model is recurrent). A window
//! is answered at most ~4 ms plus one run after it is complete; Silero decides in 32 ms
//! steps, so turn-taking moves by at most one eighth of a step.
//!
//! The model is the Silero v5 ONNX file (MIT), installed by `scripts/setup` from the pinned
//! `silero-vad` wheel into `models/silero/silero_vad.onnx`, byte-identical to the model the
//! `voice_activity_detector` crate embeds. Unlike that crate, each window is preceded by the
//! last samples of the previous one (64 at 16 kHz, 32 at 8 kHz), as Silero v5 expects:
//! without that context it misses most of the speech of a telephone-band voice.
//!
//! 8 kHz legs (G.711) run the model at 8 kHz on the caller's own samples (256 per 32 ms
//! window): Silero is trained for it, it is cheaper, and no resampling stands between the
//! caller and the decision.
//!
//! # Traps
//!
//! - `ort` 2.0.0-rc.10 needs ONNX Runtime **1.22**: it panics when the library is older. The
//!   path must be the 1.22.1 library that `scripts/setup` installs.
//! - ONNX Runtime can be loaded only once per process, from one path; a second factory with a
//!   different path is refused.
//! - `ort` may panic on a broken runtime: loading runs one batch while the factory is built
//!   so that this fails there, with an error; an inference thread that fails later answers
//!   its calls with [`PipelineError::Provider`] rather than hanging them.

use std::panic::catch_unwind;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::task::{Context, Poll};
use std::thread::{JoinHandle, Thread};
use std::time::{Duration, Instant};

use crossbeam_queue::ArrayQueue;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::TensorRef;
use tokio::sync::mpsc;
use voxgate_media::SampleRate;

use crate::error::PipelineError;
use crate::providers::{Vad, VadFactory};

/// The engine's name in errors, logs and metrics.
const NAME: &str = "silero";
/// Samples per window at 16 kHz (32 ms), and the context before it.
const WINDOW_16K: usize = 512;
const CONTEXT_16K: usize = 64;
/// Samples per window at 8 kHz (32 ms), and the context before it.
const WINDOW_8K: usize = 256;
const CONTEXT_8K: usize = 32;
/// Floats of recurrent state per stream (2 x 128).
const STATE_LEN: usize = 256;
/// Windows waiting per inference thread before a call is told the VAD is overloaded:
/// about 4 s of audio for 1000 calls.
const QUEUE_LEN: usize = 4096;
/// Answers waiting per call: 8 s of windows. A call task that has not read its answers for
/// that long is stuck; later answers would be dropped.
const RESULTS_LEN: usize = 256;
/// Largest batch in one run.
const MAX_BATCH: usize = 512;
/// A batch this big runs at once: the cost per window has flattened by then.
const TARGET_BATCH: usize = 32;
/// Longest a window waits for others to share its run. Silero decides in 32 ms steps;
/// 4 ms more buys runs of many windows (a third of the cost per window) under load.
const MAX_WAIT: Duration = Duration::from_millis(4);
/// Inference threads at most.
const MAX_THREADS: usize = 4;

/// The one attempt this process made to load ONNX Runtime: `ort` keeps the first library
/// path for good, so a failed load cannot be retried with another path.
static RUNTIME: Mutex<Option<Attempt>> = Mutex::new(None);

/// A load of ONNX Runtime: from where, and why it failed if it did.
#[derive(Debug)]
struct Attempt {
    path: PathBuf,
    failure: Option<String>,
}

/// Makes a [`SileroVad`] per call slot; owns the inference threads.
#[derive(Debug)]
pub struct SileroVadFactory {
    shards: Vec<Arc<Shard>>,
    threads: Vec<JoinHandle<()>>,
    next_stream: AtomicU32,
}

impl SileroVadFactory {
    /// Loads ONNX Runtime from `ort_dylib` (once per process) and the model from `model`,
    /// and starts one inference thread per two cores (at least one, up to four), each
    /// checked with one run.
    ///
    /// # Errors
    ///
    /// [`PipelineError::Load`] if the library or model is missing (run `scripts/setup`),
    /// cannot be loaded, the library is older than 1.22, or another library was loaded
    /// before.
    pub fn new(ort_dylib: &Path, model: &Path) -> Result<Self, PipelineError> {
        let threads =
            (std::thread::available_parallelism().map_or(1, usize::from) / 2).clamp(1, MAX_THREADS);
        load_runtime(ort_dylib)?;
        let bytes = std::fs::read(model).map_err(|e| {
            load_error(format!(
                "model {}: {e} (run scripts/setup)",
                model.display()
            ))
        })?;
        let mut shards = Vec::with_capacity(threads);
        let mut handles = Vec::with_capacity(threads);
        for i in 0..threads {
            let mut engine = Engine::new(&bytes)?;
            engine.check()?;
            let shard = Arc::new(Shard::new());
            let worker = Arc::clone(&shard);
            let handle = std::thread::Builder::new()
                .name(format!("silero-{i}"))
                .spawn(move || engine.run(&worker))
                .map_err(|e| load_error(format!("starting an inference thread: {e}")))?;
            shard.set_thread(handle.thread().clone());
            shards.push(shard);
            handles.push(handle);
        }
        tracing::info!(threads, model = %model.display(), "Silero VAD ready");
        Ok(Self {
            shards,
            threads: handles,
            next_stream: AtomicU32::new(0),
        })
    }
}

impl Drop for SileroVadFactory {
    fn drop(&mut self) {
        for shard in &self.shards {
            shard.stop.store(true, Ordering::Release);
            shard.wake();
        }
        for handle in self.threads.drain(..) {
            let _ = handle.join();
        }
    }
}

impl VadFactory for SileroVadFactory {
    fn make(&self, rate: SampleRate) -> Result<Box<dyn Vad>, PipelineError> {
        let rate = if rate == SampleRate::HZ_8000 {
            SampleRate::HZ_8000
        } else {
            SampleRate::HZ_16000
        };
        let id = self.next_stream.fetch_add(1, Ordering::Relaxed);
        let shard = Arc::clone(&self.shards[id as usize % self.shards.len()]);
        let (tx, rx) = mpsc::channel(RESULTS_LEN);
        let stream = id as usize / self.shards.len();
        shard.register(stream, rate, tx);
        Ok(Box::new(SileroVad {
            shard,
            stream: u32::try_from(stream).unwrap_or(u32::MAX),
            rate,
            generation: 0,
            results: rx,
        }))
    }

    fn name(&self) -> &'static str {
        NAME
    }
}

/// One call slot's Silero stream: 32 ms windows at 8 or 16 kHz, answered by an inference
/// thread.
#[derive(Debug)]
pub struct SileroVad {
    shard: Arc<Shard>,
    stream: u32,
    rate: SampleRate,
    /// Bumped by [`reset`](Vad::reset): answers to older windows are dropped.
    generation: u32,
    results: mpsc::Receiver<Answer>,
}

impl SileroVad {
    fn window_len(&self) -> usize {
        window_len(self.rate)
    }

    /// The next answer of this generation, skipping stale ones.
    fn accept(&self, answer: Answer) -> Option<Result<f32, PipelineError>> {
        (answer.generation == self.generation).then(|| {
            answer
                .probability
                .map_err(|reason| PipelineError::Provider {
                    provider: NAME,
                    reason: reason.to_owned(),
                })
        })
    }
}

impl Vad for SileroVad {
    fn rate(&self) -> SampleRate {
        self.rate
    }

    fn chunk_len(&self) -> usize {
        self.window_len()
    }

    fn submit(&mut self, chunk: &[i16]) -> Result<(), PipelineError> {
        if chunk.len() != self.window_len() {
            return Err(PipelineError::ChunkLength {
                provider: NAME,
                expected: self.window_len(),
                got: chunk.len(),
            });
        }
        let mut samples = [0i16; WINDOW_16K];
        samples[..chunk.len()].copy_from_slice(chunk);
        let job = Job::Window {
            stream: self.stream,
            generation: self.generation,
            samples,
        };
        self.shard
            .queue
            .push(job)
            .map_err(|_| PipelineError::Provider {
                provider: NAME,
                reason: "inference queue full: the VAD threads cannot keep up".to_owned(),
            })?;
        // Wake the thread to start a batch's clock, or when a batch is full; otherwise it
        // is already waiting for more windows (no syscall per window).
        let queued = self.shard.queue.len();
        if queued == 1 || queued >= TARGET_BATCH {
            self.shard.wake();
        }
        Ok(())
    }

    fn try_result(&mut self) -> Option<Result<f32, PipelineError>> {
        while let Ok(answer) = self.results.try_recv() {
            if let Some(r) = self.accept(answer) {
                return Some(r);
            }
        }
        None
    }

    fn poll_result(&mut self, cx: &mut Context<'_>) -> Poll<Result<f32, PipelineError>> {
        loop {
            match self.results.poll_recv(cx) {
                Poll::Ready(Some(answer)) => {
                    if let Some(r) = self.accept(answer) {
                        return Poll::Ready(r);
                    }
                }
                // The inference thread is gone (the factory was dropped): nothing will come.
                Poll::Ready(None) => {
                    return Poll::Ready(Err(PipelineError::Provider {
                        provider: NAME,
                        reason: "the inference thread has stopped".to_owned(),
                    }));
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    fn reset(&mut self) {
        self.generation = self.generation.wrapping_add(1);
        while self.results.try_recv().is_ok() {}
        let job = Job::Reset {
            stream: self.stream,
            generation: self.generation,
        };
        // A full queue means the thread is far behind; the generation still drops every
        // stale answer, and the thread zeroes the state when it sees the new generation.
        let _ = self.shard.queue.push(job);
        self.shard.wake();
    }
}

fn window_len(rate: SampleRate) -> usize {
    if rate == SampleRate::HZ_8000 {
        WINDOW_8K
    } else {
        WINDOW_16K
    }
}

fn context_len(rate: SampleRate) -> usize {
    if rate == SampleRate::HZ_8000 {
        CONTEXT_8K
    } else {
        CONTEXT_16K
    }
}

/// A probability (or why there is none) for one window of one generation.
#[derive(Debug, Clone, Copy)]
struct Answer {
    generation: u32,
    probability: Result<f32, &'static str>,
}

/// Work for an inference thread.
// Windows travel by value through the preallocated queue; boxing them would allocate once
// per window on the audio path.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum Job {
    /// One window of a stream (the first `window_len` samples are used).
    Window {
        stream: u32,
        generation: u32,
        samples: [i16; WINDOW_16K],
    },
    /// Forget the stream's state: a new call.
    Reset { stream: u32, generation: u32 },
}

/// A new stream for an inference thread.
#[derive(Debug)]
struct Registration {
    stream: usize,
    rate: SampleRate,
    answers: mpsc::Sender<Answer>,
}

/// One inference thread's inbox.
#[derive(Debug)]
struct Shard {
    queue: ArrayQueue<Job>,
    /// New streams, taken by the thread when `registered` is set (slot pools are built at
    /// start-up, so this lock is not on the audio path).
    registrations: Mutex<Vec<Registration>>,
    registered: AtomicBool,
    stop: AtomicBool,
    thread: OnceLock<Thread>,
}

impl Shard {
    fn new() -> Self {
        Self {
            queue: ArrayQueue::new(QUEUE_LEN),
            registrations: Mutex::new(Vec::new()),
            registered: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            thread: OnceLock::new(),
        }
    }

    fn set_thread(&self, thread: Thread) {
        let _ = self.thread.set(thread);
        self.wake();
    }

    /// Unparks the thread: an atomic store when it is busy, a futex wake when it sleeps.
    fn wake(&self) {
        if let Some(thread) = self.thread.get() {
            thread.unpark();
        }
    }

    fn register(&self, stream: usize, rate: SampleRate, answers: mpsc::Sender<Answer>) {
        self.registrations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Registration {
                stream,
                rate,
                answers,
            });
        self.registered.store(true, Ordering::Release);
        self.wake();
    }
}

/// One stream's state, kept by its inference thread.
#[derive(Debug)]
struct StreamState {
    rate: SampleRate,
    generation: u32,
    state: [f32; STATE_LEN],
    context: [f32; CONTEXT_16K],
    answers: mpsc::Sender<Answer>,
}

/// A batch being built for one rate.
#[derive(Debug)]
struct Batch {
    rate: SampleRate,
    /// (stream, generation) per row.
    rows: Vec<(usize, u32)>,
    input: Vec<f32>,
    state: Vec<f32>,
    probabilities: Vec<f32>,
}

impl Batch {
    fn new(rate: SampleRate) -> Self {
        let row = window_len(rate) + context_len(rate);
        Self {
            rate,
            rows: Vec::with_capacity(MAX_BATCH),
            input: vec![0.0; MAX_BATCH * row],
            state: vec![0.0; MAX_BATCH * STATE_LEN],
            probabilities: vec![0.0; MAX_BATCH],
        }
    }

    fn is_full(&self) -> bool {
        self.rows.len() == MAX_BATCH
    }

    /// Adds `samples` of `s` as the next row, with its context.
    fn push(&mut self, stream: usize, s: &mut StreamState, samples: &[i16]) {
        let (window, context) = (window_len(self.rate), context_len(self.rate));
        let row = window + context;
        let b = self.rows.len();
        let input = &mut self.input[b * row..(b + 1) * row];
        input[..context].copy_from_slice(&s.context[..context]);
        for (x, &v) in input[context..].iter_mut().zip(&samples[..window]) {
            *x = f32::from(v) / 32_768.0;
        }
        s.context[..context].copy_from_slice(&input[row - context..]);
        self.rows.push((stream, s.generation));
    }

    /// Runs the rows, updates each stream's state and answers it.
    fn run(&mut self, session: &mut Session, streams: &mut [Option<StreamState>]) {
        let n = self.rows.len();
        if n == 0 {
            return;
        }

        // State layout [2, batch, 128]: gather, run, scatter.
        for (b, &(stream, _)) in self.rows.iter().enumerate() {
            if let Some(Some(s)) = streams.get(stream) {
                for half in 0..2 {
                    let at = (half * n + b) * 128;
                    self.state[at..at + 128]
                        .copy_from_slice(&s.state[half * 128..(half + 1) * 128]);
                }
            }
        }
        let outcome = infer(
            session,
            self.rate,
            n,
            &self.input,
            &mut self.state,
            &mut self.probabilities,
        );
        if let Err(reason) = &outcome {
            tracing::error!(%reason, batch = n, "Silero batch failed");
        }
        for (b, &(stream, generation)) in self.rows.iter().enumerate() {
            let Some(Some(s)) = streams.get_mut(stream) else {
                continue;
            };
            let probability = match &outcome {
                Ok(()) => {
                    for half in 0..2 {
                        let at = (half * n + b) * 128;
                        s.state[half * 128..(half + 1) * 128]
                            .copy_from_slice(&self.state[at..at + 128]);
                    }
                    Ok(self.probabilities[b])
                }
                Err(_) => Err("inference failed"),
            };
            // A full channel means the call stopped reading; its answers are dropped.
            let _ = s.answers.try_send(Answer {
                generation,
                probability,
            });
        }
        self.rows.clear();
    }
}

/// An inference thread's model, streams and buffers (all allocated once).
struct Engine {
    session: Session,
    streams: Vec<Option<StreamState>>,
    /// Jobs taken from the queue, in arrival order, not yet done.
    pending: Vec<Job>,
    /// Jobs put off to the next round (a stream's second window waits for its first).
    deferred: Vec<Job>,
    /// Whether a stream already has a job in this round.
    in_round: Vec<bool>,
    batches: [Batch; 2],
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("streams", &self.streams.len())
            .finish_non_exhaustive()
    }
}

impl Engine {
    fn new(model: &[u8]) -> Result<Self, PipelineError> {
        let session = catch_unwind(|| {
            Session::builder()
                .and_then(|b| b.with_optimization_level(GraphOptimizationLevel::Level3))
                .and_then(|b| b.with_intra_threads(1))
                .and_then(|b| b.with_inter_threads(1))
                .and_then(|b| b.commit_from_memory(model))
                .map_err(|e| e.to_string())
        })
        .map_err(|panic| panic_message(panic.as_ref()))
        .and_then(|r| r)
        .map_err(|reason| load_error(format!("building the ONNX session: {reason}")))?;
        Ok(Self {
            session,
            streams: Vec::new(),
            pending: Vec::with_capacity(QUEUE_LEN),
            deferred: Vec::with_capacity(QUEUE_LEN),
            in_round: Vec::new(),
            batches: [
                Batch::new(SampleRate::HZ_8000),
                Batch::new(SampleRate::HZ_16000),
            ],
        })
    }

    /// One run on silence at each rate: a broken runtime or model fails here, at load.
    fn check(&mut self) -> Result<(), PipelineError> {
        for batch in &mut self.batches {
            batch.input.fill(0.0);
            batch.state.fill(0.0);
            infer(
                &mut self.session,
                batch.rate,
                1,
                &batch.input,
                &mut batch.state,
                &mut batch.probabilities,
            )
            .map_err(|reason| load_error(format!("a first run failed: {reason}")))?;
        }
        Ok(())
    }

    /// The thread's loop: wait for work, gather a batch (up to [`TARGET_BATCH`] windows
    /// or [`MAX_WAIT`] after the first), run it, answer.
    fn run(mut self, shard: &Shard) {
        let mut first_at: Option<Instant> = None;
        loop {
            if shard.stop.load(Ordering::Acquire) {
                return;
            }
            while let Some(job) = shard.queue.pop() {
                self.pending.push(job);
            }
            // Registrations are taken after the queue is drained: a stream is registered
            // before its first window is queued, so every window popped above finds its
            // stream. (Taken first, a stream made between the two steps lost its first
            // windows as "never registered", and its call waited for answers forever.)
            if shard.registered.swap(false, Ordering::AcqRel) {
                self.take_registrations(shard);
            }
            let Some(since) = first_at.or_else(|| (!self.pending.is_empty()).then(Instant::now))
            else {
                std::thread::park_timeout(Duration::from_millis(100));
                continue;
            };
            first_at = Some(since);
            let waited = since.elapsed();
            if self.pending.len() < TARGET_BATCH && waited < MAX_WAIT {
                std::thread::park_timeout(MAX_WAIT - waited);
                continue;
            }
            first_at = None;
            while !self.pending.is_empty() {
                self.round();
            }
        }
    }

    fn take_registrations(&mut self, shard: &Shard) {
        let new = std::mem::take(
            &mut *shard
                .registrations
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        for r in new {
            if self.streams.len() <= r.stream {
                self.streams.resize_with(r.stream + 1, || None);
                self.in_round.resize(r.stream + 1, false);
            }
            self.streams[r.stream] = Some(StreamState {
                rate: r.rate,
                generation: 0,
                state: [0.0; STATE_LEN],
                context: [0.0; CONTEXT_16K],
                answers: r.answers,
            });
        }
    }

    /// One round: every stream's next job (resets applied, windows batched by rate), then
    /// one run per rate. Later jobs of a stream wait for the next round, in order.
    fn round(&mut self) {
        for job in self.pending.drain(..) {
            let stream = job.stream();
            let Some(Some(s)) = self.streams.get_mut(stream) else {
                continue; // never registered: nobody to answer
            };
            if self.in_round[stream] {
                self.deferred.push(job);
                continue;
            }
            match &job {
                Job::Reset { generation, .. } => s.restart(*generation),
                Job::Window {
                    generation,
                    samples,
                    ..
                } => {
                    let generation = *generation;
                    if generation != s.generation {
                        if generation.wrapping_sub(s.generation) > u32::MAX / 2 {
                            continue; // stale: its call has been reset since
                        }
                        // The reset was lost (queue full): start afresh.
                        s.restart(generation);
                    }
                    let batch = &mut self.batches[usize::from(s.rate != SampleRate::HZ_8000)];
                    self.in_round[stream] = true;
                    if batch.is_full() {
                        self.deferred.push(job);
                    } else {
                        batch.push(stream, s, samples);
                    }
                }
            }
        }
        for batch in &mut self.batches {
            batch.run(&mut self.session, &mut self.streams);
        }
        self.in_round.fill(false);
        std::mem::swap(&mut self.pending, &mut self.deferred);
    }
}

impl Job {
    fn stream(&self) -> usize {
        match self {
            Self::Window { stream, .. } | Self::Reset { stream, .. } => *stream as usize,
        }
    }
}

impl StreamState {
    fn restart(&mut self, generation: u32) {
        self.generation = generation;
        self.state = [0.0; STATE_LEN];
        self.context = [0.0; CONTEXT_16K];
    }
}

/// One ONNX run of `n` rows of `input` at `rate`; `state` holds `[2, n, 128]` in and out.
fn infer(
    session: &mut Session,
    rate: SampleRate,
    n: usize,
    input: &[f32],
    state: &mut [f32],
    probabilities: &mut [f32],
) -> Result<(), String> {
    let row = window_len(rate) + context_len(rate);
    let sr = [i64::from(rate.hz())];
    let run = || -> ort::Result<()> {
        let outputs = session.run(ort::inputs![
            "input" => TensorRef::from_array_view(([n, row], &input[..n * row]))?,
            "state" => TensorRef::from_array_view(([2, n, 128], &state[..n * STATE_LEN]))?,
            "sr" => TensorRef::from_array_view(((), &sr[..]))?,
        ])?;
        let (_, p) = outputs["output"].try_extract_tensor::<f32>()?;
        probabilities[..n].copy_from_slice(&p[..n]);
        let (_, s) = outputs["stateN"].try_extract_tensor::<f32>()?;
        state[..n * STATE_LEN].copy_from_slice(&s[..n * STATE_LEN]);
        Ok(())
    };
    match catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(panic) => Err(panic_message(panic.as_ref())),
    }
}

/// Loads ONNX Runtime from `path` unless this process already did.
fn load_runtime(path: &Path) -> Result<(), PipelineError> {
    if !path.is_file() {
        return Err(load_error(format!(
            "ONNX Runtime library {} not found (run scripts/setup)",
            path.display()
        )));
    }
    let mut attempt = RUNTIME.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(previous) = attempt.as_ref() {
        return previous_outcome(previous, path);
    }
    let failure = first_load(path).err();
    if failure.is_none() {
        tracing::info!(path = %path.display(), "ONNX Runtime loaded for Silero VAD");
    }
    previous_outcome(
        attempt.insert(Attempt {
            path: path.to_owned(),
            failure,
        }),
        path,
    )
}

/// Initialises `ort` from `path`; `ort` panics (does not return an error) when the library
/// cannot be opened or is too old, so panics are caught here.
fn first_load(path: &Path) -> Result<(), String> {
    let outcome = catch_unwind(|| -> Result<(), String> {
        ort::init_from(path.display().to_string())
            .with_name("voxgate")
            .commit()
            .map_err(|e| e.to_string())?;
        // Building any session proves the library loads and is recent enough.
        Session::builder().map_err(|e| e.to_string())?;
        Ok(())
    });
    match outcome {
        Ok(result) => result,
        Err(panic) => Err(format!(
            "{} (it must be ONNX Runtime 1.22, as scripts/setup installs)",
            panic_message(panic.as_ref())
        )),
    }
}

/// What a factory asking for `path` gets, given the process's one load attempt.
fn previous_outcome(previous: &Attempt, path: &Path) -> Result<(), PipelineError> {
    if !same_file(&previous.path, path) {
        return Err(load_error(format!(
            "ONNX Runtime was already loaded from {}; one runtime per process, cannot load {}",
            previous.path.display(),
            path.display()
        )));
    }
    match &previous.failure {
        None => Ok(()),
        Some(reason) => Err(load_error(format!("{}: {reason}", path.display()))),
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

fn load_error(reason: String) -> PipelineError {
    PipelineError::Load {
        provider: NAME,
        reason,
    }
}

/// The text of a panic payload (`panic!` gives a `&str` or a `String`).
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "panicked".to_owned()
    }
}
