//! Providers that take no time: fixed-text ears and a tone mouth.
//!
//! They exist to measure what voxgate itself costs. With them (and the scripted brain) a
//! turn spends nothing in speech engines, so the latency harness (`voxgate-bench --providers
//! fixed`) sees only transport, codecs, resampling, VAD, turn logic and pacing. They are
//! real providers, chosen by configuration (`ears.engine = "fixed"`, `mouth.engine =
//! "tone"`), never a fallback: a report made with them says so.
//!
//! - [`FixedEars`] answers every utterance with the same configured text, at once.
//! - [`ToneMouth`] answers every sentence with the same precomputed sine tone, in one piece,
//!   at once, at 24 kHz (the rate of most neural TTS voices, so replies are resampled to the
//!   call's rate as real ones would be).

use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt as _;
use futures::StreamExt as _;
use futures::future::BoxFuture;
use voxgate_media::SampleRate;

use crate::error::PipelineError;
use crate::providers::{BoxStream, Ears, Mouth, Speech};

/// Ears that hear the same text in every utterance.
#[derive(Debug, Clone)]
pub struct FixedEars {
    text: Arc<str>,
}

impl FixedEars {
    /// Ears that transcribe every utterance as `text`.
    pub fn new(text: &str) -> Self {
        Self {
            text: Arc::from(text.trim()),
        }
    }
}

impl Ears for FixedEars {
    fn transcribe(&self, _pcm: Vec<i16>) -> BoxFuture<'static, Result<String, PipelineError>> {
        futures::future::ready(Ok(self.text.to_string())).boxed()
    }

    fn name(&self) -> &'static str {
        "fixed"
    }
}

/// The tone's rate.
const TONE_RATE: SampleRate = SampleRate::HZ_24000;
/// The tone's pitch.
const TONE_HZ: f64 = 440.0;
/// The tone's level: -12 dBFS peak.
const TONE_PEAK: f64 = 8_192.0;
/// Longest tone: a sentence of speech is rarely longer.
const MAX_TONE: Duration = Duration::from_secs(30);

/// A mouth that says every sentence as the same tone.
#[derive(Debug, Clone)]
pub struct ToneMouth {
    tone: Arc<[i16]>,
}

impl ToneMouth {
    /// A mouth answering each sentence with a 440 Hz tone of `length`.
    ///
    /// # Errors
    ///
    /// [`PipelineError::Config`] if `length` is zero or longer than 30 s.
    pub fn new(length: Duration) -> Result<Self, PipelineError> {
        if length.is_zero() || length > MAX_TONE {
            return Err(PipelineError::Config {
                key: "mouth.tone_ms".to_owned(),
                reason: format!("{} ms is outside 1..=30000", length.as_millis()),
            });
        }
        let n = TONE_RATE.samples_in(length) as usize;
        let step = std::f64::consts::TAU * TONE_HZ / f64::from(TONE_RATE.hz());
        let tone = (0..n)
            .map(|i| ((i as f64 * step).sin() * TONE_PEAK) as i16)
            .collect();
        Ok(Self { tone })
    }
}

impl Mouth for ToneMouth {
    fn speak(&self, text: &str) -> BoxStream<Result<Speech, PipelineError>> {
        if text.trim().is_empty() {
            return futures::stream::empty().boxed();
        }
        let speech = Speech {
            rate: TONE_RATE,
            samples: self.tone.to_vec(),
        };
        futures::stream::once(futures::future::ready(Ok(speech))).boxed()
    }

    fn rate(&self) -> SampleRate {
        TONE_RATE
    }

    fn name(&self) -> &'static str {
        "tone"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn ears_hear_the_configured_text() {
        let ears = FixedEars::new("  what are your opening hours ");
        let text = ears.transcribe(vec![0; 1600]).await.expect("text");
        assert_eq!(text, "what are your opening hours");
        assert_eq!(ears.transcribe(Vec::new()).await.expect("text"), text);
    }

    #[tokio::test]
    async fn the_mouth_says_one_tone_per_sentence() {
        let mouth = ToneMouth::new(Duration::from_millis(500)).expect("valid");
        let pieces: Vec<_> = mouth.speak("Hello there.").collect().await;
        assert_eq!(pieces.len(), 1);
        let speech = pieces.into_iter().next().expect("one").expect("ok");
        assert_eq!(speech.rate, SampleRate::HZ_24000);
        assert_eq!(speech.samples.len(), 12_000);
        let peak = speech.samples.iter().map(|s| s.unsigned_abs()).max();
        assert_eq!(peak, Some(8_192));
        assert!(mouth.speak("  ").collect::<Vec<_>>().await.is_empty());
    }

    #[test]
    fn tone_length_is_bounded() {
        assert!(ToneMouth::new(Duration::ZERO).is_err());
        assert!(ToneMouth::new(Duration::from_secs(31)).is_err());
        assert!(ToneMouth::new(Duration::from_secs(30)).is_ok());
    }
}
