//! Sample rates and media time.
//!
//! Media time counts samples at a clock rate, never wall-clock time: a frame's time says where
//! in the stream its first sample sits, so resampling, RTP timestamps and jitter buffering can
//! all be reasoned about exactly, without floating point.

use std::time::Duration;

use crate::error::MediaError;
use crate::frame::FRAME_MS;

/// A sample rate in Hz that holds a whole number of samples in 20 ms (a multiple of 50 Hz),
/// from 8 kHz to 48 kHz. Parse, don't validate: a `SampleRate` is always usable for framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SampleRate(u32);

impl SampleRate {
    /// 8 kHz: G.711 narrowband telephony and 46elks `pcm_8000`/`ulaw`/`alaw`.
    pub const HZ_8000: Self = Self(8_000);
    /// 16 kHz: the rate VAD and speech recognition run at; 46elks `pcm_16000`.
    pub const HZ_16000: Self = Self(16_000);
    /// 22.05 kHz: espeak-ng and Piper output.
    pub const HZ_22050: Self = Self(22_050);
    /// 24 kHz: 46elks `pcm_24000`, common TTS output.
    pub const HZ_24000: Self = Self(24_000);
    /// 48 kHz: Opus' native rate.
    pub const HZ_48000: Self = Self(48_000);

    /// Checks that `hz` is between 8 and 48 kHz and a multiple of 50 Hz.
    pub const fn new(hz: u32) -> Result<Self, MediaError> {
        if hz < 8_000 || hz > 48_000 || !hz.is_multiple_of(50) {
            return Err(MediaError::UnsupportedRate(hz));
        }
        Ok(Self(hz))
    }

    /// The rate in Hz.
    pub const fn hz(self) -> u32 {
        self.0
    }

    /// Samples in one 20 ms frame at this rate (160 at 8 kHz, 960 at 48 kHz).
    pub const fn samples_per_frame(self) -> usize {
        (self.0 as usize) * (FRAME_MS as usize) / 1000
    }

    /// Samples in `d` at this rate, rounded down.
    pub const fn samples_in(self, d: Duration) -> u64 {
        (d.as_nanos() * self.0 as u128 / 1_000_000_000) as u64
    }
}

impl std::fmt::Display for SampleRate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} Hz", self.0)
    }
}

/// A position in a media stream: a sample count at a clock rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MediaTime {
    samples: u64,
    rate: SampleRate,
}

impl MediaTime {
    /// The start of a stream at `rate`.
    pub const fn zero(rate: SampleRate) -> Self {
        Self { samples: 0, rate }
    }

    /// `samples` samples into a stream at `rate`.
    pub const fn new(samples: u64, rate: SampleRate) -> Self {
        Self { samples, rate }
    }

    /// The sample count.
    pub const fn samples(self) -> u64 {
        self.samples
    }

    /// The clock rate.
    pub const fn rate(self) -> SampleRate {
        self.rate
    }

    /// This time `n` samples later.
    pub const fn add_samples(self, n: u64) -> Self {
        Self {
            samples: self.samples + n,
            rate: self.rate,
        }
    }

    /// This time one 20 ms frame later.
    pub const fn next_frame(self) -> Self {
        self.add_samples(self.rate.samples_per_frame() as u64)
    }

    /// The same instant counted at another rate, rounded down to a whole sample.
    pub const fn rebase(self, rate: SampleRate) -> Self {
        let samples = (self.samples as u128 * rate.0 as u128 / self.rate.0 as u128) as u64;
        Self { samples, rate }
    }

    /// The time from the start of the stream.
    pub const fn as_duration(self) -> Duration {
        let nanos = self.samples as u128 * 1_000_000_000 / self.rate.0 as u128;
        Duration::from_nanos(nanos as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_checked() {
        for hz in [8_000, 16_000, 22_050, 24_000, 44_100, 48_000] {
            assert_eq!(SampleRate::new(hz).map(SampleRate::hz), Ok(hz));
        }
        for hz in [0, 7_999, 11_025, 48_050, 96_000] {
            assert_eq!(SampleRate::new(hz), Err(MediaError::UnsupportedRate(hz)));
        }
    }

    #[test]
    fn frame_sizes() {
        let table = [
            (8_000, 160),
            (16_000, 320),
            (22_050, 441),
            (24_000, 480),
            (48_000, 960),
        ];
        for (hz, n) in table {
            assert_eq!(
                SampleRate::new(hz).map(SampleRate::samples_per_frame),
                Ok(n)
            );
        }
    }

    #[test]
    fn media_time_arithmetic() {
        let t = MediaTime::zero(SampleRate::HZ_8000)
            .next_frame()
            .next_frame();
        assert_eq!(t.samples(), 320);
        assert_eq!(t.as_duration(), Duration::from_millis(40));
        assert_eq!(t.rebase(SampleRate::HZ_48000).samples(), 1920);
        assert_eq!(
            SampleRate::HZ_16000.samples_in(Duration::from_millis(20)),
            320
        );
    }
}
