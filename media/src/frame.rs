//! 20 ms audio frames and the pool that recycles them.
//!
//! voxgate moves audio in frames of 20 ms of mono signed 16-bit samples, the packet time of
//! G.711 over RTP and of the frames the pipeline feeds to its VAD. A frame carries the media
//! time of its first sample. Frame buffers come from a [`FramePool`] owned by the call slot:
//! it is filled when the slot is made and refilled by returning frames, so a running call
//! does not allocate per frame.

use crate::error::MediaError;
use crate::time::{MediaTime, SampleRate};

/// Length of one frame in milliseconds.
pub const FRAME_MS: u32 = 20;

/// Samples in the largest frame: 20 ms at 48 kHz.
pub const MAX_FRAME_SAMPLES: usize = 960;

/// 20 ms of mono i16 audio and the media time of its first sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioFrame {
    time: MediaTime,
    samples: Box<[i16]>,
}

impl AudioFrame {
    /// A silent frame at `time` (its rate is `time.rate()`). Allocates: use a [`FramePool`] on
    /// the hot path.
    pub fn silent(time: MediaTime) -> Self {
        let n = time.rate().samples_per_frame();
        Self {
            time,
            samples: vec![0; n].into_boxed_slice(),
        }
    }

    /// A frame holding `samples`, which must be exactly one frame long at `time.rate()`.
    pub fn from_samples(time: MediaTime, samples: &[i16]) -> Result<Self, MediaError> {
        let mut frame = Self::silent(time);
        frame.copy_from(samples)?;
        Ok(frame)
    }

    /// The media time of the first sample.
    pub fn time(&self) -> MediaTime {
        self.time
    }

    /// Moves the frame to another media time (same rate).
    pub fn set_time(&mut self, samples: u64) {
        self.time = MediaTime::new(samples, self.time.rate());
    }

    /// The sample rate.
    pub fn rate(&self) -> SampleRate {
        self.time.rate()
    }

    /// The samples, exactly `rate().samples_per_frame()` of them.
    pub fn samples(&self) -> &[i16] {
        &self.samples
    }

    /// The samples, writable.
    pub fn samples_mut(&mut self) -> &mut [i16] {
        &mut self.samples
    }

    /// Overwrites the samples with `src`, which must be one frame long.
    pub fn copy_from(&mut self, src: &[i16]) -> Result<(), MediaError> {
        if src.len() != self.samples.len() {
            return Err(MediaError::BufferLength {
                expected: self.samples.len(),
                actual: src.len(),
            });
        }
        self.samples.copy_from_slice(src);
        Ok(())
    }

    /// Mean power in dBFS (0 dB = a full-scale square wave); `-inf` for digital silence.
    pub fn level_dbfs(&self) -> f64 {
        let sum: f64 = self.samples.iter().map(|&s| f64::from(s).powi(2)).sum();
        let mean = sum / self.samples.len() as f64;
        10.0 * (mean / (32768.0_f64 * 32768.0)).log10()
    }
}

/// A free list of frame buffers at one rate, owned by one call (no locking).
///
/// [`FramePool::take`] hands out a zeroed frame, reusing a returned buffer when there is one;
/// only when the pool runs dry does it allocate, and it counts those allocations so tests and
/// metrics can prove the steady state allocates nothing.
#[derive(Debug)]
pub struct FramePool {
    rate: SampleRate,
    free: Vec<Box<[i16]>>,
    allocations: u64,
}

impl FramePool {
    /// A pool at `rate` holding `capacity` preallocated frames.
    pub fn new(rate: SampleRate, capacity: usize) -> Self {
        let n = rate.samples_per_frame();
        let free = (0..capacity)
            .map(|_| vec![0; n].into_boxed_slice())
            .collect();
        Self {
            rate,
            free,
            allocations: 0,
        }
    }

    /// The rate of the frames in this pool.
    pub fn rate(&self) -> SampleRate {
        self.rate
    }

    /// A silent frame stamped `time`; `time` is rebased to the pool's rate if needed.
    pub fn take(&mut self, time: MediaTime) -> AudioFrame {
        let time = if time.rate() == self.rate {
            time
        } else {
            time.rebase(self.rate)
        };
        let samples = match self.free.pop() {
            Some(mut buf) => {
                buf.fill(0);
                buf
            }
            None => {
                self.allocations += 1;
                vec![0; self.rate.samples_per_frame()].into_boxed_slice()
            }
        };
        AudioFrame { time, samples }
    }

    /// Returns a frame's buffer to the pool. Frames at another rate are dropped.
    pub fn give(&mut self, frame: AudioFrame) {
        if frame.rate() == self.rate {
            self.free.push(frame.samples);
        }
    }

    /// Frames ready to hand out without allocating.
    pub fn available(&self) -> usize {
        self.free.len()
    }

    /// How many times [`FramePool::take`] had to allocate because the pool was empty.
    pub fn allocations(&self) -> u64 {
        self.allocations
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_recycles_without_allocating() {
        let mut pool = FramePool::new(SampleRate::HZ_8000, 2);
        let t0 = MediaTime::zero(SampleRate::HZ_8000);
        for _ in 0..1000 {
            let mut a = pool.take(t0);
            a.samples_mut()[0] = 7;
            let b = pool.take(t0.next_frame());
            assert_eq!(b.time().samples(), 160);
            pool.give(a);
            pool.give(b);
        }
        assert_eq!(pool.allocations(), 0);
        assert_eq!(
            pool.take(t0).samples()[0],
            0,
            "recycled frames come back zeroed"
        );
    }

    #[test]
    fn pool_counts_allocations_when_dry() {
        let mut pool = FramePool::new(SampleRate::HZ_16000, 1);
        let t0 = MediaTime::zero(SampleRate::HZ_8000);
        let a = pool.take(t0.next_frame());
        let b = pool.take(t0);
        assert_eq!(pool.allocations(), 1);
        assert_eq!(a.rate(), SampleRate::HZ_16000);
        assert_eq!(a.time().samples(), 320, "time is rebased to the pool rate");
        assert_eq!(b.samples().len(), 320);
    }

    #[test]
    fn frame_length_is_checked() {
        let t0 = MediaTime::zero(SampleRate::HZ_8000);
        let err = AudioFrame::from_samples(t0, &[0; 100]);
        assert_eq!(
            err,
            Err(MediaError::BufferLength {
                expected: 160,
                actual: 100
            })
        );
        let full = AudioFrame::from_samples(t0, &[i16::MAX; 160]).map(|f| f.level_dbfs());
        assert!(full.is_ok_and(|db| db.abs() < 0.01));
    }
}
