//! Streaming sample-rate conversion between the telephony and speech-engine rates.
//!
//! [`Resampler`] converts one 20 ms frame at a time with rubato's synchronous FFT resampler:
//! for the fixed ratios voxgate needs (8, 16, 24, 48 kHz, and 22.05 kHz TTS output) it is
//! both the cheapest and the cleanest choice. Each 20 ms frame is one FFT block. Smaller
//! blocks would cut the delay but widen the filter's transition band: measured 8 -> 16 kHz,
//! whole-frame blocks are flat to 3.4 kHz (-10 dB at 3.7 kHz) with 10 ms of delay, while
//! half-frame blocks lose 10 dB at 3.4 kHz and quarter-frame blocks 18 dB at 3 kHz, which
//! would cut the telephone band. See `docs/decisions.md`.
//!
//! The shape is rubato's: `process_into(&input, &mut output)` into caller-owned buffers. All
//! scratch space is allocated in [`Resampler::new`]; processing allocates nothing. The delay
//! the filter adds is reported by [`Resampler::delay`] so latency accounting can include it.

use std::time::Duration;

use rubato::audioadapter_buffers::direct::SequentialSlice;
use rubato::{Fft, FixedSync, Resampler as _, WindowFunction};

use crate::error::MediaError;
use crate::frame::AudioFrame;
use crate::time::SampleRate;

/// Converts 20 ms frames from one rate to another.
pub struct Resampler {
    from: SampleRate,
    to: SampleRate,
    /// `None` when both rates are the same: frames are copied through.
    fft: Option<Fft<f32>>,
    scratch_in: Vec<f32>,
    scratch_out: Vec<f32>,
}

impl std::fmt::Debug for Resampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resampler")
            .field("from", &self.from)
            .field("to", &self.to)
            .field("delay", &self.delay())
            .finish_non_exhaustive()
    }
}

impl Resampler {
    /// A resampler from `from` to `to`, with all its buffers allocated.
    pub fn new(from: SampleRate, to: SampleRate) -> Result<Self, MediaError> {
        let (n_in, n_out) = (from.samples_per_frame(), to.samples_per_frame());
        let fft = if from == to {
            None
        } else {
            Some(build_fft(from, to)?)
        };
        Ok(Self {
            from,
            to,
            fft,
            scratch_in: vec![0.0; n_in],
            scratch_out: vec![0.0; n_out],
        })
    }

    /// The input rate.
    pub fn from_rate(&self) -> SampleRate {
        self.from
    }

    /// The output rate.
    pub fn to_rate(&self) -> SampleRate {
        self.to
    }

    /// Input samples per call: one 20 ms frame at the input rate.
    pub fn input_len(&self) -> usize {
        self.from.samples_per_frame()
    }

    /// Output samples per call: one 20 ms frame at the output rate.
    pub fn output_len(&self) -> usize {
        self.to.samples_per_frame()
    }

    /// The delay the filter adds, in output samples.
    pub fn delay_samples(&self) -> usize {
        self.fft.as_ref().map_or(0, |f| f.output_delay())
    }

    /// The delay the filter adds.
    pub fn delay(&self) -> Duration {
        let samples = self.delay_samples() as u64;
        Duration::from_nanos(samples * 1_000_000_000 / u64::from(self.to.hz()))
    }

    /// Converts one frame: `input` holds [`input_len`](Self::input_len) samples and `output`
    /// receives [`output_len`](Self::output_len) samples.
    pub fn process_into(&mut self, input: &[i16], output: &mut [i16]) -> Result<(), MediaError> {
        expect_len(self.input_len(), input.len())?;
        expect_len(self.output_len(), output.len())?;
        let Some(fft) = self.fft.as_mut() else {
            output.copy_from_slice(input);
            return Ok(());
        };
        for (f, &s) in self.scratch_in.iter_mut().zip(input) {
            *f = f32::from(s) / 32768.0;
        }
        let n_in = self.scratch_in.len();
        let n_out = self.scratch_out.len();
        let adapter_in = SequentialSlice::new(&self.scratch_in[..], 1, n_in)
            .map_err(|e| MediaError::Resampler(e.to_string()))?;
        let mut adapter_out = SequentialSlice::new_mut(&mut self.scratch_out[..], 1, n_out)
            .map_err(|e| MediaError::Resampler(e.to_string()))?;
        let (_, written) = fft
            .process_into_buffer(&adapter_in, &mut adapter_out, None)
            .map_err(|e| MediaError::Resampler(e.to_string()))?;
        expect_len(n_out, written)?;
        for (o, &f) in output.iter_mut().zip(&self.scratch_out) {
            // `as` saturates on overflow, which is the clipping we want.
            *o = (f * 32768.0).round() as i16;
        }
        Ok(())
    }

    /// Converts `input` into `output` and stamps `output` with the same media time rebased to
    /// the output rate (the filter delay is not subtracted: it is reported by [`delay`]).
    ///
    /// [`delay`]: Self::delay
    pub fn process_frame(
        &mut self,
        input: &AudioFrame,
        output: &mut AudioFrame,
    ) -> Result<(), MediaError> {
        for (expected, actual) in [(self.from, input.rate()), (self.to, output.rate())] {
            if expected != actual {
                return Err(MediaError::RateMismatch { expected, actual });
            }
        }
        self.process_into(input.samples(), output.samples_mut())?;
        output.set_time(input.time().rebase(self.to).samples());
        Ok(())
    }

    /// Forgets the signal history, as at the start of a new stream.
    pub fn reset(&mut self) {
        if let Some(fft) = self.fft.as_mut() {
            fft.reset();
        }
    }
}

/// Builds the FFT resampler with one block per 20 ms frame. Both rates are multiples of
/// 50 Hz, so a frame is always a whole number of rubato's minimum blocks and every call turns
/// exactly one input frame into exactly one output frame.
fn build_fft(from: SampleRate, to: SampleRate) -> Result<Fft<f32>, MediaError> {
    let chunk = from.samples_per_frame();
    let fft = Fft::<f32>::new_custom(
        from.hz() as usize,
        to.hz() as usize,
        chunk,
        1,
        1,
        WindowFunction::BlackmanHarris2,
        FixedSync::Input,
    )
    .map_err(|e| MediaError::Resampler(e.to_string()))?;
    if fft.fft_size_in() == chunk {
        Ok(fft)
    } else {
        Err(MediaError::Resampler(format!(
            "{from} -> {to}: FFT block of {} samples does not match the {chunk}-sample frame",
            fft.fft_size_in()
        )))
    }
}

fn expect_len(expected: usize, actual: usize) -> Result<(), MediaError> {
    if expected == actual {
        Ok(())
    } else {
        Err(MediaError::BufferLength { expected, actual })
    }
}

#[cfg(test)]
mod tests;
