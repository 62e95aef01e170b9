//! The `earshot` voice activity detector: pure Rust, weights embedded, no runtime to load.
//!
//! It predicts on 256-sample frames (16 ms at 16 kHz) from 40 mel features over three frames
//! of context and a small network. It segments speech much like Silero on the clips tried,
//! and is the default when ONNX Runtime is not wanted.
//!
//! # Costs
//!
//! About 30 µs per frame (7 s of audio in 7 ms) and about 8 KiB of state per detector, kept
//! on the heap. No locks, no allocation per frame, nothing shared between calls.
//!
//! # Traps
//!
//! - The frame must be exactly 256 samples; `earshot` itself returns -1 otherwise, which this
//!   wrapper turns into [`PipelineError::ChunkLength`].
//! - The detector is large for the stack (`Detector` is about 8 KiB): it is boxed.

use std::collections::VecDeque;
use std::task::{Context, Poll};

use ::earshot::Detector;
use voxgate_media::SampleRate;

use crate::error::PipelineError;
use crate::providers::{Vad, VadFactory};

/// The engine's name in errors, logs and metrics.
const NAME: &str = "earshot";
/// `earshot` predicts on exactly 256 samples at 16 kHz.
const CHUNK_LEN: usize = 256;

/// Makes an [`EarshotVad`] per call. Stateless.
#[derive(Debug, Default, Clone, Copy)]
pub struct EarshotVadFactory;

impl EarshotVadFactory {
    /// A factory; there is nothing to load.
    pub fn new() -> Self {
        Self
    }
}

impl VadFactory for EarshotVadFactory {
    fn make(&self, _rate: SampleRate) -> Result<Box<dyn Vad>, PipelineError> {
        Ok(Box::new(EarshotVad::new()))
    }

    fn name(&self) -> &'static str {
        NAME
    }
}

/// One call's `earshot` detector: 256-sample chunks at 16 kHz.
pub struct EarshotVad {
    detector: Box<Detector>,
    /// Answers not yet taken (earshot answers at once).
    answers: VecDeque<f32>,
}

impl EarshotVad {
    /// A detector with fresh state.
    pub fn new() -> Self {
        Self {
            detector: Detector::default_boxed(),
            answers: VecDeque::with_capacity(8),
        }
    }
}

impl Default for EarshotVad {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for EarshotVad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EarshotVad").finish_non_exhaustive()
    }
}

impl Vad for EarshotVad {
    fn chunk_len(&self) -> usize {
        CHUNK_LEN
    }

    fn rate(&self) -> SampleRate {
        SampleRate::HZ_16000
    }

    fn submit(&mut self, chunk: &[i16]) -> Result<(), PipelineError> {
        if chunk.len() != CHUNK_LEN {
            return Err(PipelineError::ChunkLength {
                provider: NAME,
                expected: CHUNK_LEN,
                got: chunk.len(),
            });
        }
        let p = self.detector.predict_i16(chunk);
        self.answers.push_back(p);
        Ok(())
    }

    fn try_result(&mut self) -> Option<Result<f32, PipelineError>> {
        self.answers.pop_front().map(Ok)
    }

    fn poll_result(&mut self, _cx: &mut Context<'_>) -> Poll<Result<f32, PipelineError>> {
        // Answers exist only after a submit, made by the same task before it waits.
        match self.answers.pop_front() {
            Some(p) => Poll::Ready(Ok(p)),
            None => Poll::Pending,
        }
    }

    fn reset(&mut self) {
        self.detector.reset();
        self.answers.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_a_chunk_of_the_wrong_length() {
        let mut vad = EarshotVad::new();
        let err = vad.predict(&[0; 255]).expect_err("short chunk");
        assert!(
            matches!(
                err,
                PipelineError::ChunkLength {
                    expected: 256,
                    got: 255,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn silence_is_not_speech() {
        let mut vad = EarshotVad::new();
        for _ in 0..20 {
            let p = vad.predict(&[0; CHUNK_LEN]).expect("predict");
            assert!((0.0..0.5).contains(&p), "{p}");
        }
    }
}
