//! Text-to-speech with the `espeak-ng` program, run as a subprocess per sentence.
//!
//! espeak-ng is GPL-3.0: it is never linked, only run (`espeak-ng --stdout -b 1 -v VOICE
//! -s WPM`, the text on standard input), so the voxgate binary stays free of it. It is
//! installed from Debian by `scripts/setup`.
//!
//! The program writes a 22050 Hz, 16-bit mono WAV to its standard output as it synthesizes.
//! [`EspeakMouth::speak`] reads that pipe as bytes arrive and yields [`Speech`] chunks of
//! 20 to 100 ms, so the first audio leaves well before the whole sentence is synthesized.
//! Dropping the stream kills the process (`kill_on_drop`).
//!
//! # Costs
//!
//! One process per sentence: about 10 ms to start and load the voice, then about 14x faster
//! than real time on one core (4 s of speech in 0.28 s). The first chunk is measured by
//! `tests/engines_espeak.rs`. Deterministic: the same text, voice and speed give the same
//! samples.
//!
//! # Traps
//!
//! - While streaming, espeak-ng cannot know the length: the WAV header's RIFF and `data`
//!   sizes are bogus and ignored (see the `wav` module); the rate is read from the header.
//! - The pipe is block-buffered by the C library, so audio arrives in blocks of about 4 KiB
//!   (93 ms at 22050 Hz), not per phoneme.
//! - An unknown voice fails with exit status 1 and a message on stderr; [`EspeakMouth::new`]
//!   tries the voice once so that this is a configuration error at start-up.

mod wav;

use std::process::Stdio;

use futures::StreamExt as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::process::{Child, ChildStderr, ChildStdout, Command};
use voxgate_media::SampleRate;

use self::wav::WavStream;
use crate::error::PipelineError;
use crate::providers::{BoxStream, Mouth, Speech};

/// The engine's name in errors, logs and metrics.
const NAME: &str = "espeak-ng";
/// The program run.
const PROGRAM: &str = "espeak-ng";
/// The speeds espeak-ng accepts, in words per minute.
const WORDS_PER_MINUTE: std::ops::RangeInclusive<u32> = 80..=450;
/// Fewest samples per chunk, unless the sentence ends: 20 ms at 22050 Hz.
const MIN_CHUNK: usize = 441;
/// Most samples per chunk: 100 ms at 22050 Hz.
const MAX_CHUNK: usize = 2205;
/// Bytes read from the pipe at a time.
const READ_LEN: usize = 8192;
/// Most stderr kept for an error message.
const MAX_STDERR: usize = 1024;

/// Speaks with espeak-ng in one voice at one speed.
#[derive(Debug, Clone)]
pub struct EspeakMouth {
    voice: String,
    words_per_minute: u32,
}

impl EspeakMouth {
    /// A mouth speaking with `voice` (`en-us`, `en-gb`, `en-us+f3`, ...; see
    /// `espeak-ng --voices`) at `words_per_minute` (80 to 450; espeak-ng's default is 175).
    ///
    /// Runs espeak-ng once (quietly, no audio) to check that it is installed and knows the
    /// voice; this blocks for about 10 ms.
    ///
    /// # Errors
    ///
    /// [`PipelineError::Load`] if espeak-ng is not installed (run `scripts/setup`),
    /// [`PipelineError::Config`] if the speed is out of range or the voice unknown.
    pub fn new(voice: &str, words_per_minute: u32) -> Result<Self, PipelineError> {
        if !WORDS_PER_MINUTE.contains(&words_per_minute) {
            return Err(config_error(
                "espeak.words_per_minute",
                format!("{words_per_minute} is outside {WORDS_PER_MINUTE:?}"),
            ));
        }
        if voice.is_empty() || voice.starts_with('-') || voice.contains(char::is_whitespace) {
            return Err(config_error(
                "espeak.voice",
                format!("{voice:?} is not a voice name"),
            ));
        }
        check_voice(voice)?;
        Ok(Self {
            voice: voice.to_owned(),
            words_per_minute,
        })
    }

    fn command(&self) -> Command {
        let mut command = Command::new(PROGRAM);
        command
            .args(["--stdout", "-b", "1", "-v", &self.voice, "-s"])
            .arg(self.words_per_minute.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        command
    }
}

impl Mouth for EspeakMouth {
    fn speak(&self, text: &str) -> BoxStream<Result<Speech, PipelineError>> {
        if text.trim().is_empty() {
            return futures::stream::empty().boxed();
        }
        let start = State::Start {
            command: self.command(),
            text: text.to_owned(),
        };
        futures::stream::unfold(start, State::step).boxed()
    }

    /// espeak-ng always synthesizes at 22050 Hz.
    fn rate(&self) -> SampleRate {
        SampleRate::HZ_22050
    }

    fn name(&self) -> &'static str {
        NAME
    }
}

/// Where one `speak` stream is.
// One per sentence being spoken, moved only by `unfold`: boxing `Start` would cost an
// allocation to save a few hundred bytes of stack.
#[allow(clippy::large_enum_variant)]
enum State {
    /// Not started: the process is spawned on the first poll, inside the runtime.
    Start { command: Command, text: String },
    /// The process runs and its output is being read.
    Running(Box<Running>),
    /// Finished or failed.
    Done,
}

/// A running espeak-ng and what has been read from it.
struct Running {
    /// Killed when dropped (`kill_on_drop`).
    child: Child,
    stdout: ChildStdout,
    stderr: Option<ChildStderr>,
    wav: WavStream,
    /// Samples read but not yet yielded.
    samples: Vec<i16>,
    buf: Box<[u8]>,
    eof: bool,
}

impl State {
    async fn step(self) -> Option<(Result<Speech, PipelineError>, Self)> {
        let running = match self {
            Self::Start { command, text } => match Running::spawn(command, text) {
                Ok(running) => running,
                Err(e) => return Some((Err(e), Self::Done)),
            },
            Self::Running(running) => running,
            Self::Done => return None,
        };
        Running::next(running).await
    }
}

impl Running {
    fn spawn(mut command: Command, text: String) -> Result<Box<Self>, PipelineError> {
        let mut child = command.spawn().map_err(|e| spawn_error(&e))?;
        let (Some(mut stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(provider_error("no pipes to espeak-ng".to_owned()));
        };
        // Written from a task so that a long text cannot block reading the output; if the
        // process is killed the write fails and the task ends.
        tokio::spawn(async move {
            if let Err(e) = stdin.write_all(text.as_bytes()).await {
                tracing::debug!(error = %e, "espeak-ng stdin closed early");
            }
        });
        Ok(Box::new(Self {
            stderr: child.stderr.take(),
            child,
            stdout,
            wav: WavStream::new(),
            samples: Vec::with_capacity(MAX_CHUNK * 2),
            buf: vec![0; READ_LEN].into_boxed_slice(),
            eof: false,
        }))
    }

    /// The next chunk, reading the pipe until one is ready; the end once espeak-ng exited.
    async fn next(mut self: Box<Self>) -> Option<(Result<Speech, PipelineError>, State)> {
        loop {
            match self.take_chunk() {
                Ok(Some(speech)) => return Some((Ok(speech), State::Running(self))),
                Ok(None) if self.eof => {
                    return self.finish().await.err().map(|e| (Err(e), State::Done));
                }
                Ok(None) => {}
                Err(e) => return Some((Err(e), State::Done)),
            }
            if let Err(e) = self.read().await {
                return Some((Err(e), State::Done));
            }
        }
    }

    /// Reads one block from the pipe into `samples`, or notes the end of the output.
    async fn read(&mut self) -> Result<(), PipelineError> {
        let n = self
            .stdout
            .read(&mut self.buf)
            .await
            .map_err(|e| provider_error(format!("reading output: {e}")))?;
        if n == 0 {
            self.eof = true;
            return Ok(());
        }
        self.wav
            .push(&self.buf[..n], &mut self.samples)
            .map_err(|e| provider_error(e.to_string()))
    }

    /// A chunk of 20 to 100 ms if that much is buffered (any remainder at the end).
    fn take_chunk(&mut self) -> Result<Option<Speech>, PipelineError> {
        let ready = self.samples.len() >= MIN_CHUNK || (self.eof && !self.samples.is_empty());
        let Some(rate) = self.wav.rate().filter(|_| ready) else {
            return Ok(None);
        };
        let rate = SampleRate::new(rate)
            .map_err(|_| provider_error(format!("unsupported sample rate {rate} Hz")))?;
        let n = self.samples.len().min(MAX_CHUNK);
        Ok(Some(Speech {
            rate,
            samples: self.samples.drain(..n).collect(),
        }))
    }

    /// Waits for the process and reports a failure with what it wrote on stderr.
    async fn finish(mut self: Box<Self>) -> Result<(), PipelineError> {
        let status = self
            .child
            .wait()
            .await
            .map_err(|e| provider_error(format!("waiting for exit: {e}")))?;
        if status.success() && self.wav.rate().is_some() {
            return Ok(());
        }
        let mut stderr = Vec::new();
        if let Some(pipe) = self.stderr.take() {
            // Best effort: the message is only for the error text.
            let _ = pipe.take(MAX_STDERR as u64).read_to_end(&mut stderr).await;
        }
        Err(provider_error(format!(
            "{status}, no WAV output: {}",
            String::from_utf8_lossy(&stderr).trim()
        )))
    }
}

/// Runs `espeak-ng -q -v VOICE a` (no audio) to check the program and the voice.
fn check_voice(voice: &str) -> Result<(), PipelineError> {
    let output = std::process::Command::new(PROGRAM)
        .args(["-q", "-v", voice, "a"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| spawn_error(&e))?;
    if output.status.success() {
        return Ok(());
    }
    Err(config_error(
        "espeak.voice",
        format!(
            "{voice:?}: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ),
    ))
}

fn spawn_error(e: &std::io::Error) -> PipelineError {
    if e.kind() == std::io::ErrorKind::NotFound {
        PipelineError::Load {
            provider: NAME,
            reason: format!("{PROGRAM} is not installed (run scripts/setup)"),
        }
    } else {
        provider_error(format!("cannot start {PROGRAM}: {e}"))
    }
}

fn config_error(key: &str, reason: String) -> PipelineError {
    PipelineError::Config {
        key: key.to_owned(),
        reason,
    }
}

fn provider_error(reason: String) -> PipelineError {
    PipelineError::Provider {
        provider: NAME,
        reason,
    }
}
