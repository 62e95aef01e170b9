//! The turn controller: who has the floor, decided from VAD probabilities. Sans-IO.
//!
//! It sees one VAD result per chunk of caller audio (`handle_vad`) plus what the agent is
//! doing (`handle_agent_*`), and yields [`TurnOutput`]s: the caller started speaking, the
//! caller's turn ended (endpointing), or the caller barged in on the agent. Time is the
//! caller's audio time (how far into the call's inbound audio a chunk ends), not wall time,
//! so the same audio always gives the same decisions, in tests as on a live call.
//!
//! States: `Listening` (nobody talks) -> `UserSpeaking` (speech lasted `min_speech`) ->
//! `Thinking` (end of turn: `end_silence` of silence; STT and brain run) -> `Speaking` (agent
//! audio is playing) -> `Listening` (playout done). Caller speech that spans `barge_in_min`
//! (at least half of it voiced) while the agent is `Thinking` or `Speaking` is a barge-in:
//! the call task cancels the reply, flushes the carrier's buffer and the controller goes to
//! `UserSpeaking`.

use std::collections::VecDeque;
use std::time::Duration;

use crate::error::PipelineError;

/// Turn-taking parameters; each crate owns its config, the server composes them.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TurnConfig {
    /// VAD probability at or above which a chunk counts as speech. Default 0.5 (Silero's own
    /// recommended threshold).
    pub threshold: f32,
    /// Speech must last this long before it counts as the caller talking (filters clicks and
    /// breaths). Default 100 ms.
    #[serde(with = "millis")]
    pub min_speech: Duration,
    /// Silence after speech that ends the caller's turn. Default 300 ms.
    #[serde(with = "millis")]
    pub end_silence: Duration,
    /// Caller speech while the agent talks that interrupts it. Default 200 ms.
    #[serde(with = "millis")]
    pub barge_in_min: Duration,
    /// VAD windows quieter than this (RMS, dBFS) are silence without asking the VAD: a
    /// phone line's idle noise sits at -60 to -70 dBFS, the softest speech near -40, and
    /// the VAD's answer there is always "no speech". Half of a call is the caller
    /// listening, so this halves the VAD's cost. Default -55; -120 asks the VAD always.
    pub silence_floor_dbfs: f32,
    /// The agent hangs up (end reason `idle`) when nobody has spoken for this long: the
    /// caller said nothing and no reply is playing. Default 60 s; 0 never.
    #[serde(with = "millis")]
    pub idle_timeout: Duration,
    /// A reply that shows no progress (no transcript, brain text or audio) for this long is
    /// given up and the agent listens again, so a dead provider never holds the call in
    /// silence. Default 20 s (a local model's first token on a loaded machine takes a few).
    #[serde(with = "millis")]
    pub reply_timeout: Duration,
}

impl Default for TurnConfig {
    fn default() -> Self {
        Self {
            threshold: 0.5,
            min_speech: Duration::from_millis(100),
            end_silence: Duration::from_millis(300),
            barge_in_min: Duration::from_millis(200),
            silence_floor_dbfs: -55.0,
            idle_timeout: Duration::from_secs(60),
            reply_timeout: Duration::from_secs(20),
        }
    }
}

impl TurnConfig {
    /// Refuses settings that would make turn-taking silently wrong.
    ///
    /// # Errors
    ///
    /// [`PipelineError::Config`] naming the key: `threshold` outside `(0, 1]`, or a
    /// `silence_floor_dbfs` that is not a number or is above -20 dBFS (it would silence
    /// ordinary speech).
    pub fn validate(&self) -> Result<(), PipelineError> {
        let bad = |key: &str, reason: String| {
            Err(PipelineError::Config {
                key: format!("turn.{key}"),
                reason,
            })
        };
        if !(self.threshold > 0.0 && self.threshold <= 1.0) {
            return bad("threshold", format!("{} is outside (0, 1]", self.threshold));
        }
        if !(self.silence_floor_dbfs.is_finite() && self.silence_floor_dbfs <= -20.0) {
            return bad(
                "silence_floor_dbfs",
                format!(
                    "{} must be a level at or below -20 dBFS",
                    self.silence_floor_dbfs
                ),
            );
        }
        if self.reply_timeout.is_zero() {
            return bad("reply_timeout", "must be more than 0".to_owned());
        }
        Ok(())
    }
}

/// Durations in config files are whole milliseconds (`end_silence = 300`).
mod millis {
    use std::time::Duration;

    use serde::Deserialize;

    pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

/// Who has the floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TurnState {
    /// Nobody is talking; waiting for the caller.
    Listening,
    /// The caller is talking.
    UserSpeaking,
    /// The caller's turn ended; the agent's reply is being prepared.
    Thinking,
    /// The agent's reply is playing.
    Speaking,
}

/// What the controller decided. Times are caller audio time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TurnOutput {
    /// The caller started speaking at `onset`.
    SpeechStarted {
        /// Start of the first speech chunk.
        onset: Duration,
    },
    /// The caller's turn ended: the utterance spans `onset..end`.
    EndOfTurn {
        /// Start of the utterance.
        onset: Duration,
        /// End of its last speech chunk.
        end: Duration,
    },
    /// The caller interrupted the agent; their speech began at `onset`.
    BargeIn {
        /// Start of the interrupting speech.
        onset: Duration,
    },
}

/// The turn-taking state machine.
#[derive(Debug, Clone)]
pub struct TurnController {
    config: TurnConfig,
    state: TurnState,
    /// Start of the current run of speech, if any.
    onset: Option<Duration>,
    /// Speech within the current run.
    voiced: Duration,
    /// End of the last speech chunk of the current run.
    last_voiced_end: Duration,
    outputs: VecDeque<TurnOutput>,
}

impl TurnController {
    /// A controller in `Listening`.
    pub fn new(config: TurnConfig) -> Self {
        Self {
            config,
            state: TurnState::Listening,
            onset: None,
            voiced: Duration::ZERO,
            last_voiced_end: Duration::ZERO,
            outputs: VecDeque::with_capacity(4),
        }
    }

    /// The current state.
    pub fn state(&self) -> TurnState {
        self.state
    }

    /// One VAD result: the chunk ending at caller audio time `end`, lasting `len`, had
    /// speech probability `probability`.
    pub fn handle_vad(&mut self, end: Duration, len: Duration, probability: f32) {
        if probability >= self.config.threshold {
            self.on_voiced(end, len);
        } else {
            self.on_unvoiced(end);
        }
    }

    /// The agent's first reply audio (or the greeting) went out: the agent has the floor.
    pub fn handle_agent_speaking(&mut self) {
        if matches!(self.state, TurnState::Thinking | TurnState::Listening) {
            self.state = TurnState::Speaking;
        }
    }

    /// The agent's reply has played out (or was empty): back to listening.
    pub fn handle_agent_done(&mut self) {
        if matches!(self.state, TurnState::Thinking | TurnState::Speaking) {
            self.state = TurnState::Listening;
        }
    }

    /// The next decision, if any.
    pub fn poll(&mut self) -> Option<TurnOutput> {
        self.outputs.pop_front()
    }

    fn on_voiced(&mut self, end: Duration, len: Duration) {
        let onset = *self.onset.get_or_insert(end.saturating_sub(len));
        self.voiced += len;
        self.last_voiced_end = end;
        match self.state {
            TurnState::Listening if self.voiced >= self.config.min_speech => {
                self.state = TurnState::UserSpeaking;
                self.outputs.push_back(TurnOutput::SpeechStarted { onset });
            }
            // Barge-in counts the span of the caller's speech, not only its voiced chunks:
            // the pauses between words are part of speaking. Half of it must be voiced, so
            // two clicks some way apart are not a barge-in.
            TurnState::Thinking | TurnState::Speaking
                if end.saturating_sub(onset) >= self.config.barge_in_min
                    && self.voiced >= self.config.barge_in_min / 2 =>
            {
                self.state = TurnState::UserSpeaking;
                self.outputs.push_back(TurnOutput::BargeIn { onset });
            }
            _ => {}
        }
    }

    fn on_unvoiced(&mut self, end: Duration) {
        let Some(onset) = self.onset else { return };
        if end.saturating_sub(self.last_voiced_end) < self.config.end_silence {
            return;
        }
        if self.state == TurnState::UserSpeaking {
            self.state = TurnState::Thinking;
            let end = self.last_voiced_end;
            self.outputs.push_back(TurnOutput::EndOfTurn { onset, end });
        }
        self.onset = None;
        self.voiced = Duration::ZERO;
    }
}

#[cfg(test)]
mod tests;
