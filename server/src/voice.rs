//! The voice of `call-message`: the mouth the call pipeline speaks with, turned to whole
//! messages as WAV files.
//!
//! A message is cut into sentences as replies are (the pipeline's [`SentenceSplitter`]),
//! each is synthesized in turn, and the pieces are joined with a short pause, after a short
//! lead-in so that the first syllable is not lost while the callee's phone settles on
//! answer. The WAV keeps the mouth's own rate: the carrier transcodes it for the line once,
//! and resampling here would only add a second pass.

use std::io::Cursor;
use std::sync::Arc;

use futures::StreamExt as _;
use futures::future::BoxFuture;
use voxgate_control_api::phone::message::{MessageVoice, SpokenAudio};
use voxgate_pipeline::providers::Mouth;
use voxgate_pipeline::sentences::SentenceSplitter;

/// Silence before the first sentence.
const LEAD_IN_MS: u32 = 300;
/// Silence between sentences.
const PAUSE_MS: u32 = 250;

/// [`MessageVoice`] over the pipeline's mouth.
pub(crate) struct MouthVoice {
    mouth: Arc<dyn Mouth>,
}

impl MouthVoice {
    pub(crate) fn new(mouth: Arc<dyn Mouth>) -> Self {
        Self { mouth }
    }
}

impl std::fmt::Debug for MouthVoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MouthVoice")
            .field("mouth", &self.mouth.name())
            .finish()
    }
}

/// `text` cut where the pipeline would cut a reply.
fn sentences(text: &str) -> Vec<String> {
    let mut splitter = SentenceSplitter::new();
    splitter.push(text);
    let mut pieces = Vec::new();
    while let Some(piece) = splitter.next_piece() {
        pieces.push(piece);
    }
    pieces.extend(splitter.finish());
    pieces
}

/// Mono 16-bit PCM as a WAV file.
fn wav(samples: &[i16], hz: u32) -> Result<Vec<u8>, String> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: hz,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = Cursor::new(Vec::with_capacity(44 + samples.len() * 2));
    let mut writer = hound::WavWriter::new(&mut out, spec).map_err(|e| e.to_string())?;
    for &s in samples {
        writer.write_sample(s).map_err(|e| e.to_string())?;
    }
    writer.finalize().map_err(|e| e.to_string())?;
    Ok(out.into_inner())
}

impl MessageVoice for MouthVoice {
    fn mouth(&self) -> &str {
        self.mouth.name()
    }

    fn synthesize(&self, text: &str) -> BoxFuture<'static, Result<SpokenAudio, String>> {
        let mouth = Arc::clone(&self.mouth);
        let pieces = sentences(text);
        Box::pin(async move {
            let rate = mouth.rate();
            let hz = rate.hz();
            let silence = |ms: u32| std::iter::repeat_n(0i16, (hz * ms / 1000) as usize);
            let mut samples: Vec<i16> = silence(LEAD_IN_MS).collect();
            for (i, piece) in pieces.iter().enumerate() {
                if i > 0 {
                    samples.extend(silence(PAUSE_MS));
                }
                let mut speech = mouth.speak(piece);
                while let Some(part) = speech.next().await {
                    let part = part.map_err(|e| format!("{}: {e}", mouth.name()))?;
                    if part.rate != rate {
                        return Err(format!(
                            "{} spoke at {} Hz, not its {hz} Hz",
                            mouth.name(),
                            part.rate.hz()
                        ));
                    }
                    samples.extend_from_slice(&part.samples);
                }
            }
            let duration_ms = i64::try_from(samples.len() as u64 * 1000 / u64::from(hz))
                .map_err(|e| e.to_string())?;
            Ok(SpokenAudio {
                wav: wav(&samples, hz)?,
                duration_ms,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use voxgate_pipeline::engines::ToneMouth;

    use super::*;

    #[tokio::test]
    async fn a_message_is_spoken_sentence_by_sentence_into_one_wav() {
        let tone = Duration::from_millis(500);
        let voice = MouthVoice::new(Arc::new(ToneMouth::new(tone).expect("tone")));
        let spoken = voice
            .synthesize("Your table is booked. See you at eight! Bye")
            .await
            .expect("spoken");
        // Lead-in, three 500 ms tones, two pauses.
        assert_eq!(spoken.duration_ms, 300 + 3 * 500 + 2 * 250);
        let reader = hound::WavReader::new(Cursor::new(&spoken.wav)).expect("a WAV");
        let spec = reader.spec();
        assert_eq!((spec.channels, spec.bits_per_sample), (1, 16));
        let samples: Vec<i16> = reader
            .into_samples::<i16>()
            .collect::<Result<_, _>>()
            .expect("samples");
        let rate = usize::try_from(spec.sample_rate).expect("rate");
        assert_eq!(samples.len(), rate * 2300 / 1000);
        let loud = |from_ms: usize, to_ms: usize| {
            samples[rate * from_ms / 1000..rate * to_ms / 1000]
                .iter()
                .any(|s| s.unsigned_abs() > 1000)
        };
        assert!(!loud(0, 300), "the lead-in is silent");
        assert!(loud(300, 800), "the first sentence");
        assert!(!loud(810, 1040), "the pause between sentences is silent");
        assert!(loud(1050, 1550), "the second sentence");
    }

    #[test]
    fn messages_are_cut_where_replies_are() {
        assert_eq!(
            sentences("One. Two? Three"),
            ["One.", "Two?", "Three"].map(str::to_owned)
        );
        assert!(sentences("   ").is_empty());
    }
}
