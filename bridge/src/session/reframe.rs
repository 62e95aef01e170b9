//! Caller audio, re-framed: chunks of any size in, exact 20 ms frames out.
//!
//! 46elks does not document the size or cadence of its `audio` chunks (doc §1.6: "don't
//! assume 20 ms. Buffer and re-frame yourself"), so a chunk may end mid-frame, and for PCM
//! even mid-sample: the odd byte is kept until the next chunk completes the sample.

use std::collections::VecDeque;

use voxgate_media::{AudioFrame, FramePool, MediaTime};

use super::{Event, Output};
use crate::error::BridgeError;
use crate::format::Format;

/// Turns decoded wire bytes into 20 ms frames stamped from the first caller sample.
#[derive(Debug)]
pub(super) struct Reframer {
    format: Format,
    pool: FramePool,
    /// The frame being filled, taken from the pool on its first sample.
    current: Option<AudioFrame>,
    /// Samples already in `current`.
    filled: usize,
    /// Media time of the next frame to start.
    next_time: MediaTime,
    /// The low byte of a PCM sample whose high byte has not arrived yet.
    half: Option<u8>,
}

impl Reframer {
    /// A reframer for `format` whose pool starts with `pool_frames` buffers.
    pub(super) fn new(format: Format, pool_frames: usize) -> Self {
        Self {
            format,
            pool: FramePool::new(format.rate(), pool_frames),
            current: None,
            filled: 0,
            next_time: MediaTime::zero(format.rate()),
            half: None,
        }
    }

    /// Adds one chunk of wire bytes, pushing every completed frame to `out`.
    pub(super) fn push(
        &mut self,
        mut bytes: &[u8],
        out: &mut VecDeque<Output>,
    ) -> Result<(), BridgeError> {
        if let Some(lo) = self.half.take() {
            let Some((&hi, rest)) = bytes.split_first() else {
                self.half = Some(lo);
                return Ok(());
            };
            self.fill(&[lo, hi], out)?;
            bytes = rest;
        }
        let whole = bytes.len() - bytes.len() % self.format.bytes_per_sample();
        self.fill(&bytes[..whole], out)?;
        if let Some(&odd) = bytes.get(whole) {
            self.half = Some(odd);
        }
        Ok(())
    }

    /// Decodes `bytes` (a whole number of samples) into frames.
    fn fill(&mut self, mut bytes: &[u8], out: &mut VecDeque<Output>) -> Result<(), BridgeError> {
        let bps = self.format.bytes_per_sample();
        let per_frame = self.format.samples_per_frame();
        while !bytes.is_empty() {
            let frame = match &mut self.current {
                Some(frame) => frame,
                None => self.current.insert(self.pool.take(self.next_time)),
            };
            let n = (per_frame - self.filled).min(bytes.len() / bps);
            let (now, rest) = bytes.split_at(n * bps);
            self.format
                .decode(now, &mut frame.samples_mut()[self.filled..self.filled + n])?;
            self.filled += n;
            bytes = rest;
            if self.filled == per_frame {
                if let Some(done) = self.current.take() {
                    out.push_back(Output::Event(Event::CallerAudio(done)));
                }
                self.filled = 0;
                self.next_time = self.next_time.next_frame();
            }
        }
        Ok(())
    }

    /// Takes a frame back into the pool.
    pub(super) fn recycle(&mut self, frame: AudioFrame) {
        self.pool.give(frame);
    }

    /// How many times the pool had to allocate (the caller did not recycle fast enough).
    pub(super) fn allocations(&self) -> u64 {
        self.pool.allocations()
    }
}
