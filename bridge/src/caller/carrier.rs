//! **IO edge**: the simulated carrier's receive task. It reads what the server sends,
//! records it, runs the playout clock and answers `sync` (and our `bye`) when it is due.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use futures::StreamExt as _;
use futures::stream::SplitStream;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::playout::{CarrierPlayout, Due, SyncOnInterrupt};
use super::recording::{Received, ReceivedMsg, Recording};
use crate::format::Format;
use crate::message::{Bye, ByeReason, Incoming, Outgoing};

pub(super) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The recording, shared between the receive task and the [`SimulatedCall`](super::SimulatedCall), and a
/// counter bumped on every change so waiters need no polling.
#[derive(Debug)]
pub(super) struct Shared {
    recording: Mutex<Recording>,
    changed: watch::Sender<u64>,
}

impl Shared {
    pub(super) fn new() -> (Arc<Self>, watch::Receiver<u64>) {
        let (changed, rx) = watch::channel(0);
        let shared = Self {
            recording: Mutex::new(Recording::default()),
            changed,
        };
        (Arc::new(shared), rx)
    }

    pub(super) fn read<T>(&self, f: impl FnOnce(&Recording) -> T) -> T {
        f(&self
            .recording
            .lock()
            .unwrap_or_else(PoisonError::into_inner))
    }

    pub(super) fn update(&self, f: impl FnOnce(&mut Recording)) {
        f(&mut self
            .recording
            .lock()
            .unwrap_or_else(PoisonError::into_inner));
        self.changed.send_modify(|n| *n += 1);
    }
}

/// The carrier's view of the server's stream.
struct Carrier {
    shared: Arc<Shared>,
    out: mpsc::UnboundedSender<Message>,
    playout: CarrierPlayout,
    /// The `sending` format while audio is accepted (`None` before `sending` and after
    /// `interrupt`, when 46elks ignores audio).
    accepting: Option<Format>,
    bytes: Vec<u8>,
}

/// Runs until the socket closes.
pub(super) async fn run(
    mut stream: SplitStream<Socket>,
    out: mpsc::UnboundedSender<Message>,
    shared: Arc<Shared>,
    policy: SyncOnInterrupt,
) {
    let mut carrier = Carrier {
        shared,
        out,
        playout: CarrierPlayout::new(policy),
        accepting: None,
        bytes: Vec::new(),
    };
    loop {
        let wake = carrier.playout.next_due();
        tokio::select! {
            msg = stream.next() => {
                let now = Instant::now();
                match msg {
                    Some(Ok(Message::Text(text))) => carrier.on_text(now, text.as_str()),
                    Some(Ok(Message::Binary(b))) => carrier.violation(format!("binary frame of {}", b.len())),
                    Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                    Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                }
            }
            () = sleep_until(wake) => carrier.on_due(Instant::now()),
        }
    }
    carrier
        .shared
        .update(|r| r.closed_at = Some(Instant::now()));
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

impl Carrier {
    fn record(&self, at: Instant, msg: ReceivedMsg) {
        self.shared
            .update(|r| r.messages.push(Received { at, msg }));
    }

    fn violation(&self, what: String) {
        tracing::warn!(what, "server broke the 46elks protocol");
        self.shared.update(|r| r.violations.push(what));
    }

    fn send(&self, msg: &Incoming<'_>) {
        // A closed writer means the socket is gone; the read side sees that too.
        let _ = self.out.send(Message::text(msg.to_json()));
    }

    fn on_text(&mut self, now: Instant, text: &str) {
        let msg = match Outgoing::parse(text) {
            Ok(msg) => msg,
            Err(e) => return self.violation(format!("{}: {text:.80}", e.code())),
        };
        match msg {
            Outgoing::Listening(f) => self.record(now, ReceivedMsg::Listening(f)),
            Outgoing::Sending(f) => {
                self.accepting = Some(f);
                self.record(now, ReceivedMsg::Sending(f));
            }
            Outgoing::Audio(data) => {
                if let Err(e) = data.decode_into(&mut self.bytes) {
                    return self.violation(format!("audio: {}", e.code()));
                }
                self.on_audio(now);
            }
            Outgoing::Interrupt => {
                self.accepting = None;
                let (cleared, answered) = self.playout.interrupt(now);
                for _ in 0..answered {
                    self.answer_sync();
                }
                self.record(now, ReceivedMsg::Interrupt { cleared });
            }
            Outgoing::Sync => {
                self.playout.sync(now);
                self.record(now, ReceivedMsg::Sync);
            }
            Outgoing::Bye => {
                self.playout.bye(now);
                self.record(now, ReceivedMsg::Bye);
            }
            Outgoing::Unknown(t) => self.violation(format!("unknown message type {t:?}")),
        }
    }

    fn on_audio(&mut self, now: Instant) {
        let Some(format) = self.accepting else {
            self.violation("audio without a current sending".into());
            let samples = Vec::new();
            return self.record(
                now,
                ReceivedMsg::Audio {
                    samples,
                    played: false,
                },
            );
        };
        let bps = format.bytes_per_sample();
        if !self.bytes.len().is_multiple_of(bps) {
            self.violation(format!("audio of {} bytes in {format}", self.bytes.len()));
        }
        let mut samples = vec![0i16; self.bytes.len() / bps];
        if let Err(e) = format.decode(&self.bytes[..samples.len() * bps], &mut samples) {
            return self.violation(format!("audio: {}", e.code()));
        }
        let duration = voxgate_media::MediaTime::new(samples.len() as u64, format.rate());
        self.playout.audio(now, duration.as_duration());
        self.record(
            now,
            ReceivedMsg::Audio {
                samples,
                played: true,
            },
        );
    }

    fn answer_sync(&self) {
        self.send(&Incoming::Sync);
        self.shared.update(|r| r.syncs_answered += 1);
    }

    fn on_due(&mut self, now: Instant) {
        while let Some(due) = self.playout.poll(now) {
            match due {
                Due::Sync => self.answer_sync(),
                Due::Bye => {
                    let bye = Bye {
                        reason: ByeReason::Done,
                        message: Some("the application hung up".into()),
                    };
                    self.send(&Incoming::Bye(bye));
                    let _ = self.out.send(Message::Close(None));
                }
            }
        }
    }
}
