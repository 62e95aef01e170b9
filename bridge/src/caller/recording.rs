//! Everything the simulated carrier received, with arrival times.

use std::time::{Duration, Instant};

use crate::format::Format;

/// One message the carrier received from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// When it arrived.
    pub at: Instant,
    /// What it was.
    pub msg: ReceivedMsg,
}

/// A received message, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceivedMsg {
    /// `listening{format}`.
    Listening(Format),
    /// `sending{format}`.
    Sending(Format),
    /// `audio`, decoded at the `sending` format. `played` is false when 46elks would have
    /// ignored it (no `sending` yet, or none since the last `interrupt`).
    Audio {
        /// The decoded samples.
        samples: Vec<i16>,
        /// Whether it was queued for playout.
        played: bool,
    },
    /// `interrupt`, and how much queued audio it cleared.
    Interrupt {
        /// Audio that was still waiting to play.
        cleared: Duration,
    },
    /// `sync` (answered by the carrier when its audio has played).
    Sync,
    /// `bye`.
    Bye,
}

impl ReceivedMsg {
    /// The message's `t`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Listening(_) => "listening",
            Self::Sending(_) => "sending",
            Self::Audio { .. } => "audio",
            Self::Interrupt { .. } => "interrupt",
            Self::Sync => "sync",
            Self::Bye => "bye",
        }
    }
}

/// The carrier's log of the call so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recording {
    /// Every message received, in order.
    pub messages: Vec<Received>,
    /// Protocol violations seen (invalid JSON, unknown `t`, binary frames, audio that would
    /// be ignored); a correct server leaves this empty.
    pub violations: Vec<String>,
    /// `sync` replies the carrier has sent.
    pub syncs_answered: usize,
    /// When the socket closed, if it has.
    pub closed_at: Option<Instant>,
}

impl Recording {
    /// The `listening` format, once received.
    pub fn listening(&self) -> Option<Format> {
        self.messages.iter().find_map(|r| match r.msg {
            ReceivedMsg::Listening(f) => Some(f),
            _ => None,
        })
    }

    /// The latest `sending` format.
    pub fn sending(&self) -> Option<Format> {
        self.messages.iter().rev().find_map(|r| match r.msg {
            ReceivedMsg::Sending(f) => Some(f),
            _ => None,
        })
    }

    /// How many messages of type `kind` (`"audio"`, `"sync"`, ...) arrived.
    pub fn count(&self, kind: &str) -> usize {
        self.messages
            .iter()
            .filter(|r| r.msg.kind() == kind)
            .count()
    }

    /// The message types in order, with runs of `audio` collapsed into one, e.g.
    /// `["listening", "sending", "audio", "interrupt", "sending", "audio"]`.
    pub fn kinds(&self) -> Vec<&'static str> {
        let mut kinds: Vec<&'static str> = Vec::new();
        for kind in self.messages.iter().map(|r| r.msg.kind()) {
            if kind != "sync" && !(kind == "audio" && kinds.last() == Some(&"audio")) {
                kinds.push(kind);
            }
        }
        kinds
    }

    /// All played agent audio, as one sample vector at the `sending` rate.
    pub fn agent_audio(&self) -> Vec<i16> {
        self.played().flat_map(|(_, s)| s.iter().copied()).collect()
    }

    /// Played agent audio received after the latest `interrupt` (all of it if none).
    pub fn agent_audio_since_interrupt(&self) -> Vec<i16> {
        let start = self
            .messages
            .iter()
            .rposition(|r| matches!(r.msg, ReceivedMsg::Interrupt { .. }))
            .map_or(0, |i| i + 1);
        let tail = Self {
            messages: self.messages[start..].to_vec(),
            ..Self::default()
        };
        tail.agent_audio()
    }

    /// Samples of played agent audio received so far.
    pub fn agent_samples(&self) -> usize {
        self.played().map(|(_, s)| s.len()).sum()
    }

    /// When each played audio message arrived and how many samples it held.
    pub fn agent_audio_arrivals(&self) -> Vec<(Instant, usize)> {
        self.played().map(|(at, s)| (at, s.len())).collect()
    }

    /// When the agent audio received so far has finished playing at the carrier (queued at
    /// 1x from its arrival, cleared by `interrupt`); `None` before any played audio.
    pub fn playout_end(&self) -> Option<Instant> {
        let mut end: Option<Instant> = None;
        let mut rate = None;
        for r in &self.messages {
            match &r.msg {
                ReceivedMsg::Sending(f) => rate = Some(f.rate()),
                ReceivedMsg::Interrupt { .. } => end = end.map(|e| e.min(r.at)),
                ReceivedMsg::Audio {
                    samples,
                    played: true,
                } => {
                    let Some(rate) = rate else { continue };
                    let len = Duration::from_secs_f64(samples.len() as f64 / f64::from(rate.hz()));
                    end = Some(end.map_or(r.at, |e| e.max(r.at)) + len);
                }
                _ => {}
            }
        }
        end
    }

    /// Whether played agent audio arrived at or after `since`.
    pub fn played_since(&self, since: Instant) -> bool {
        self.played().any(|(at, _)| at >= since)
    }

    fn played(&self) -> impl Iterator<Item = (Instant, &[i16])> {
        self.messages.iter().filter_map(|r| match &r.msg {
            ReceivedMsg::Audio {
                samples,
                played: true,
            } => Some((r.at, samples.as_slice())),
            _ => None,
        })
    }
}
