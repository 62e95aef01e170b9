//! The Twilio Media Streams leg: the carrier side Pipecat's Twilio serializer expects.
//!
//! Protocol (twilio.com/docs/voice/media-streams/websocket-messages): the carrier sends
//! `connected`, `start` (stream and call ids, `audio/x-mulaw` at 8 kHz), then `media` events
//! with base64 μ-law payloads, and `stop` when the call ends. The bot sends `media` (agent
//! audio, played at 1x in arrival order), `clear` (flush the queue: barge-in) and `mark`
//! (echoed back by the carrier once the audio before it has played).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use futures::StreamExt as _;
use serde_json::json;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use voxgate_bridge::caller::socket::{self, Socket};

use crate::leg::{CallLog, CallerLeg, Heard, paced};

/// 20 ms of μ-law silence.
const SILENCE: [u8; 160] = [0xff; 160];
/// μ-law at 8 kHz: one byte per sample.
const BYTES_PER_SECOND: u64 = 8000;

#[derive(Debug, Default)]
struct State {
    heard: Vec<Heard>,
    violations: usize,
    closed: bool,
    /// Marks waiting for the audio before them to play: (name, due).
    marks: Vec<(String, Instant)>,
    playout_end: Option<Instant>,
}

/// One Twilio Media Streams call.
#[derive(Debug)]
pub struct TwilioLeg {
    out: mpsc::UnboundedSender<Message>,
    state: Arc<Mutex<State>>,
    stream_sid: String,
    sequence: Mutex<u64>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl TwilioLeg {
    /// Connects to the bot at `url` and starts the stream for call `call_sid`.
    ///
    /// # Errors
    ///
    /// When the WebSocket cannot be opened.
    pub async fn connect(url: &str, call_sid: &str) -> anyhow::Result<Self> {
        let Socket {
            out,
            incoming: mut stream,
            writer,
        } = socket::open(url).await?;
        let state = Arc::new(Mutex::new(State::default()));
        let stream_sid = format!("MZ{call_sid}");
        let reader = {
            let state = Arc::clone(&state);
            let out = out.clone();
            let sid = stream_sid.clone();
            tokio::spawn(async move {
                while let Some(Ok(msg)) = stream.next().await {
                    let now = Instant::now();
                    match msg {
                        Message::Text(text) => on_text(&state, &out, &sid, now, text.as_str()),
                        Message::Close(_) => break,
                        Message::Binary(_) => lock(&state).violations += 1,
                        _ => {}
                    }
                }
                lock(&state).closed = true;
            })
        };
        let leg = Self {
            out,
            state,
            stream_sid,
            sequence: Mutex::new(0),
            tasks: vec![writer, reader],
        };
        leg.send(&json!({"event": "connected", "protocol": "Call", "version": "1.0.0"}));
        let seq = leg.next_sequence();
        leg.send(&json!({
            "event": "start",
            "sequenceNumber": seq.to_string(),
            "start": {
                "streamSid": leg.stream_sid,
                "accountSid": "ACvoxgatebench",
                "callSid": call_sid,
                "tracks": ["inbound"],
                "customParameters": {},
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            },
            "streamSid": leg.stream_sid,
        }));
        Ok(leg)
    }

    fn send(&self, value: &serde_json::Value) {
        let _ = self.out.send(Message::text(value.to_string()));
    }

    fn next_sequence(&self) -> u64 {
        let mut seq = self.sequence.lock().unwrap_or_else(PoisonError::into_inner);
        *seq += 1;
        *seq
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

fn on_text(
    state: &Mutex<State>,
    out: &mpsc::UnboundedSender<Message>,
    sid: &str,
    now: Instant,
    text: &str,
) {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
        lock(state).violations += 1;
        return;
    };
    let mut s = lock(state);
    // Marks whose audio has played are echoed, as Twilio does.
    // Marks are queued in playout order: echo the ones whose audio has played.
    while s.marks.first().is_some_and(|(_, at)| *at <= now) {
        let (name, _) = s.marks.remove(0);
        let _ = out.send(Message::text(
            json!({"event": "mark", "streamSid": sid, "mark": {"name": name}}).to_string(),
        ));
    }
    match value.get("event").and_then(|e| e.as_str()) {
        Some("media") => {
            let payload = value
                .pointer("/media/payload")
                .and_then(|p| p.as_str())
                .and_then(|p| base64::engine::general_purpose::STANDARD.decode(p).ok());
            let Some(bytes) = payload else {
                s.violations += 1;
                return;
            };
            let len = Duration::from_secs_f64(bytes.len() as f64 / BYTES_PER_SECOND as f64);
            s.heard.push(Heard::Audio { at: now, len });
            s.playout_end = Some(s.playout_end.map_or(now, |e| e.max(now)) + len);
        }
        Some("clear") => {
            s.heard.push(Heard::Interrupt { at: now });
            s.playout_end = s.playout_end.map(|e| e.min(now));
            s.marks.clear();
        }
        Some("mark") => {
            let name = value
                .pointer("/mark/name")
                .and_then(|n| n.as_str())
                .unwrap_or_default()
                .to_owned();
            let at = s.playout_end.unwrap_or(now).max(now);
            s.marks.push((name, at));
        }
        _ => s.violations += 1,
    }
}

impl CallerLeg for TwilioLeg {
    async fn stream(&self, bytes: &[u8]) -> anyhow::Result<Instant> {
        paced(bytes, BYTES_PER_SECOND, |chunk| {
            let seq = self.next_sequence();
            let payload = base64::engine::general_purpose::STANDARD.encode(chunk);
            self.send(&json!({
                "event": "media",
                "sequenceNumber": seq.to_string(),
                "media": {"track": "inbound", "chunk": seq.to_string(), "timestamp": (seq * 20).to_string(), "payload": payload},
                "streamSid": self.stream_sid,
            }));
            anyhow::ensure!(!self.out.is_closed(), "the socket closed");
            Ok(())
        })
        .await
    }

    fn silence(&self) -> &[u8] {
        &SILENCE
    }

    fn audio_since(&self, since: Instant) -> bool {
        lock(&self.state)
            .heard
            .iter()
            .rev()
            .take_while(|h| h.at() >= since)
            .any(|h| matches!(h, Heard::Audio { .. }))
    }

    fn playout_end_since(&self, since: Instant) -> Option<Instant> {
        let s = lock(&self.state);
        let first = s.heard.partition_point(|h| h.at() < since);
        crate::leg::playout_end(s.heard[first..].iter().copied(), since)
    }

    fn last_flush(&self) -> Option<Instant> {
        lock(&self.state).heard.iter().rev().find_map(|h| match *h {
            Heard::Interrupt { at } => Some(at),
            Heard::Audio { .. } => None,
        })
    }

    fn closed(&self) -> bool {
        lock(&self.state).closed
    }

    async fn finish(self) -> CallLog {
        let seq = self.next_sequence();
        self.send(&json!({"event": "stop", "sequenceNumber": seq.to_string(), "streamSid": self.stream_sid, "stop": {"accountSid": "ACvoxgatebench", "callSid": "bench"}}));
        let _ = self.out.send(Message::Close(None));
        for task in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(2), task).await;
        }
        let s = lock(&self.state);
        CallLog {
            heard: s.heard.clone(),
            violations: s.violations,
        }
    }
}
