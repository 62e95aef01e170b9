//! **IO edge, test support** (feature `caller`): a simulated 46elks, the carrier side of the
//! protocol, for integration tests and the latency harness.
//!
//! [`SimulatedCall::connect`] opens the WebSocket as 46elks would; [`SimulatedCall::hello`] sends `hello`
//! and waits for `listening` and `sending`; [`SimulatedCall::stream`] sends caller audio paced in
//! real time, in chunks of any duration or byte count; a background task records every
//! message the server sends with its arrival time ([`Recording`]), plays received audio on a
//! simulated real-time playout clock, answers each `sync` when the audio before it has
//! played, clears the queue on `interrupt` and ignores audio until the next `sending`, and
//! answers our `bye` with its own once the queue has played (doc §1.5, §1.7). Streaming
//! takes `&self`, so a test can barge in: stream a second utterance while agent audio is
//! still arriving.
//!
//! Caller audio given at another rate than the `listening` format's is resampled with
//! `voxgate_media`'s [`Resampler`] (which adds its filter delay); at the same rate it is sent
//! as is.

mod carrier;
mod playout;
mod recording;
pub mod socket;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use voxgate_media::SampleRate;
use voxgate_media::resample::Resampler;

use crate::error::BridgeError;
use crate::format::Format;
use crate::message::{Bye, ByeReason, Hello, Incoming, write_audio_json};

use carrier::Shared;

pub use playout::{CarrierPlayout, Due, SyncOnInterrupt};
pub use recording::{Received, ReceivedMsg, Recording};

/// How the simulated carrier behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerConfig {
    /// What happens to `sync` requests pending at an `interrupt`. Default: dropped.
    pub sync_on_interrupt: SyncOnInterrupt,
    /// How long [`SimulatedCall::wait_for`] waits before failing. Default 10 s.
    pub wait_timeout: Duration,
}

impl Default for CallerConfig {
    fn default() -> Self {
        Self {
            sync_on_interrupt: SyncOnInterrupt::Drop,
            wait_timeout: Duration::from_secs(10),
        }
    }
}

/// How caller audio is cut into `audio` messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunking {
    /// Chunks of this much audio (20 ms is the usual; 7 ms, 33 ms or 1 s test re-framing).
    Duration(Duration),
    /// Chunks of this many bytes (odd counts split PCM samples across messages).
    Bytes(usize),
}

impl Chunking {
    fn bytes(self, format: Format) -> usize {
        let n = match self {
            Self::Duration(d) => format.rate().samples_in(d) as usize * format.bytes_per_sample(),
            Self::Bytes(n) => n,
        };
        n.max(1)
    }
}

/// What [`SimulatedCall::stream`] sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Streamed {
    /// When streaming started (the first sample's capture time).
    pub start: Instant,
    /// When the last chunk was sent.
    pub end: Instant,
    /// Samples sent, at the `listening` rate.
    pub samples: usize,
}

/// A simulated 46elks call on one WebSocket.
#[derive(Debug)]
pub struct SimulatedCall {
    config: CallerConfig,
    out: mpsc::UnboundedSender<Message>,
    shared: Arc<Shared>,
    changed: watch::Receiver<u64>,
    tasks: [JoinHandle<()>; 2],
    /// When `hello` was sent.
    hello_at: Option<Instant>,
}

impl SimulatedCall {
    /// Connects to `url` (e.g. `ws://127.0.0.1:8080/api/webhooks/46elks/voice/ws?token=...`).
    pub async fn connect(url: &str) -> Result<Self, BridgeError> {
        Self::connect_with(url, CallerConfig::default()).await
    }

    /// Connects with a non-default carrier behaviour.
    pub async fn connect_with(url: &str, config: CallerConfig) -> Result<Self, BridgeError> {
        let socket::Socket {
            out,
            incoming: stream,
            writer,
        } = socket::open(url).await?;
        let (shared, changed) = Shared::new();
        let policy = config.sync_on_interrupt;
        let reader = tokio::spawn(carrier::run(stream, out.clone(), shared.clone(), policy));
        Ok(Self {
            config,
            out,
            shared,
            changed,
            tasks: [writer, reader],
            hello_at: None,
        })
    }

    /// Sends `hello` and waits for `listening` and `sending`; returns their formats.
    pub async fn hello(
        &mut self,
        callid: &str,
        from: &str,
        to: &str,
    ) -> Result<(Format, Format), BridgeError> {
        let hello = Hello {
            callid: callid.into(),
            from: from.into(),
            to: to.into(),
        };
        self.hello_at = Some(Instant::now());
        self.send_text(Incoming::Hello(hello).to_json())?;
        self.wait_for("listening and sending", |r| {
            r.listening().is_some() && r.sending().is_some()
        })
        .await?;
        self.shared
            .read(|r| r.listening().zip(r.sending()))
            .ok_or(BridgeError::WaitTimeout("listening and sending"))
    }

    /// The `listening` format, once received.
    pub fn listening(&self) -> Option<Format> {
        self.shared.read(Recording::listening)
    }

    /// Streams `samples` (at `rate`) as caller audio in the `listening` format, in real
    /// time: each chunk leaves when its last sample would have been spoken.
    pub async fn stream(
        &self,
        samples: &[i16],
        rate: SampleRate,
        chunking: Chunking,
    ) -> Result<Streamed, BridgeError> {
        let format = self.listening().ok_or(BridgeError::NotActive)?;
        let wire = convert(samples, rate, format.rate())?;
        let mut bytes = vec![0u8; wire.len() * format.bytes_per_sample()];
        format.encode(&wire, &mut bytes)?;
        self.stream_bytes(&bytes, format, chunking).await
    }

    /// Streams already-encoded `bytes` in `format`, paced in real time.
    pub async fn stream_bytes(
        &self,
        bytes: &[u8],
        format: Format,
        chunking: Chunking,
    ) -> Result<Streamed, BridgeError> {
        let bytes_per_second = u64::from(format.rate().hz()) * format.bytes_per_sample() as u64;
        let start = tokio::time::Instant::now();
        let mut offset = 0u64;
        let mut text = String::new();
        for piece in bytes.chunks(chunking.bytes(format)) {
            offset += piece.len() as u64;
            let due = start + Duration::from_nanos(offset * 1_000_000_000 / bytes_per_second);
            tokio::time::sleep_until(due).await;
            text.clear();
            write_audio_json(piece, &mut text);
            self.send_text(text.clone())?;
        }
        Ok(Streamed {
            start: start.into_std(),
            end: Instant::now(),
            samples: bytes.len() / format.bytes_per_sample(),
        })
    }

    /// Listens on an open line: streams silence in 20 ms chunks, as a phone line carries
    /// between utterances, until the agent has spoken (audio received after this call
    /// began) and its audio has finished playing at the carrier for `quiet`. Fails with
    /// [`BridgeError::WaitTimeout`] after `max`, or when the socket closes first.
    pub async fn listen_until_answered(
        &self,
        quiet: Duration,
        max: Duration,
    ) -> Result<(), BridgeError> {
        self.listen_until_answered_since(Instant::now(), quiet, max)
            .await
    }

    /// [`listen_until_answered`](Self::listen_until_answered) for the greeting: agent
    /// audio since `hello` counts, however fast it came.
    pub async fn listen_until_greeted(
        &self,
        quiet: Duration,
        max: Duration,
    ) -> Result<(), BridgeError> {
        let since = self.hello_at.ok_or(BridgeError::NotActive)?;
        self.listen_until_answered_since(since, quiet, max).await
    }

    /// [`listen_until_answered`](Self::listen_until_answered), counting agent audio that
    /// arrived at or after `since` (e.g. when the caller started speaking: an instant agent
    /// may answer before the caller's trailing silence has been sent).
    pub async fn listen_until_answered_since(
        &self,
        since: Instant,
        quiet: Duration,
        max: Duration,
    ) -> Result<(), BridgeError> {
        const STEP: Duration = Duration::from_millis(100);
        let format = self.listening().ok_or(BridgeError::NotActive)?;
        let silence = vec![0i16; format.rate().samples_in(STEP) as usize];
        let start = since;
        let waited = Instant::now();
        loop {
            // An agent that answers and then hangs up also answered: the carrier closes
            // only once the audio has played.
            let (answered, closed) = self.shared.read(|r| {
                let closed = r.closed_at.is_some();
                let played = r
                    .playout_end()
                    .is_some_and(|end| Instant::now() >= end + quiet);
                (r.played_since(start) && (closed || played), closed)
            });
            if answered {
                return Ok(());
            }
            if closed {
                return Err(BridgeError::SocketLost);
            }
            if waited.elapsed() > max {
                return Err(BridgeError::WaitTimeout("the agent's answer"));
            }
            let chunks = Chunking::Duration(Duration::from_millis(20));
            if let Err(e) = self.stream(&silence, format.rate(), chunks).await {
                // Closed under us: the writer stops as soon as the socket closes (or as our
                // own `bye` goes out), before the receive task has seen the close. Wait for
                // it to record the close; the next check then tells an answer from a lost
                // call.
                if self.wait_closed().await.is_err() {
                    return Err(e);
                }
            }
        }
    }

    /// Sends any text frame (for bad-input tests).
    pub fn send_text(&self, text: String) -> Result<(), BridgeError> {
        self.out
            .send(Message::text(text))
            .map_err(|_| BridgeError::SocketLost)
    }

    /// Sends a binary frame (never valid on this protocol).
    pub fn send_binary(&self, bytes: Vec<u8>) -> Result<(), BridgeError> {
        self.out
            .send(Message::binary(bytes))
            .map_err(|_| BridgeError::SocketLost)
    }

    /// The caller hangs up: `bye{reason:"hangup"}`.
    pub fn hangup(&self) -> Result<(), BridgeError> {
        self.bye(ByeReason::Hangup, Some("the caller hung up"))
    }

    /// Sends the carrier's `bye`.
    pub fn bye(&self, reason: ByeReason, message: Option<&str>) -> Result<(), BridgeError> {
        let message = message.map(str::to_owned);
        self.send_text(Incoming::Bye(Bye { reason, message }).to_json())
    }

    /// A copy of everything received so far.
    pub fn recording(&self) -> Recording {
        self.shared.read(Recording::clone)
    }

    /// All played agent audio so far, at the `sending` rate.
    pub fn agent_audio(&self) -> Vec<i16> {
        self.shared.read(Recording::agent_audio)
    }

    /// Arrival time and sample count of each played agent audio message.
    pub fn agent_audio_arrivals(&self) -> Vec<(Instant, usize)> {
        self.shared.read(Recording::agent_audio_arrivals)
    }

    /// Looks at the recording so far without copying it (a [`recording`](Self::recording)
    /// copies every sample received).
    pub fn inspect<R>(&self, f: impl FnOnce(&Recording) -> R) -> R {
        self.shared.read(f)
    }

    /// Waits until `done` holds for the recording, or fails after the configured timeout.
    pub async fn wait_for(
        &self,
        what: &'static str,
        done: impl Fn(&Recording) -> bool,
    ) -> Result<(), BridgeError> {
        let mut changed = self.changed.clone();
        let deadline = tokio::time::Instant::now() + self.config.wait_timeout;
        loop {
            changed.borrow_and_update();
            if self.shared.read(&done) {
                return Ok(());
            }
            match tokio::time::timeout_at(deadline, changed.changed()).await {
                Ok(Ok(())) => {}
                // The recorder is gone: nothing will change any more.
                Ok(Err(_)) | Err(_) => {
                    return match self.shared.read(&done) {
                        true => Ok(()),
                        false => Err(BridgeError::WaitTimeout(what)),
                    };
                }
            }
        }
    }

    /// Waits until the server has closed the socket.
    pub async fn wait_closed(&self) -> Result<(), BridgeError> {
        self.wait_for("close", |r| r.closed_at.is_some()).await
    }

    /// Closes the socket from the carrier's side and stops the tasks.
    pub async fn close(self) {
        let _ = self.out.send(Message::Close(None));
        let [writer, reader] = self.tasks;
        let _ = writer.await;
        reader.abort();
    }
}

/// `samples` at `from`, resampled to `to` (copied when equal). The resampler works in
/// 20 ms frames, so the output is padded to a whole frame.
pub fn convert(samples: &[i16], from: SampleRate, to: SampleRate) -> Result<Vec<i16>, BridgeError> {
    if from == to {
        return Ok(samples.to_vec());
    }
    let mut resampler = Resampler::new(from, to)?;
    let (n_in, n_out) = (from.samples_per_frame(), to.samples_per_frame());
    let mut input = vec![0i16; n_in];
    let mut out = vec![0i16; samples.len().div_ceil(n_in) * n_out];
    for (chunk, frame) in samples.chunks(n_in).zip(out.chunks_mut(n_out)) {
        input.fill(0);
        input[..chunk.len()].copy_from_slice(chunk);
        resampler.process_into(&input, frame)?;
    }
    Ok(out)
}
