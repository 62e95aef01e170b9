//! A call slot: the per-call buffers and engine state, made once and reused by every call
//! that holds the slot.
//!
//! Inbound, caller frames are resampled to 16 kHz into one reused buffer, appended to the
//! utterance ring (the last [`MAX_UTTERANCE`] of caller audio, from which a finished
//! utterance is copied for speech recognition) and cut into VAD chunks. Outbound, synthesized
//! speech is cut into 20 ms frames at its own rate, resampled to the leg's rate and queued
//! until the carrier's buffer has room. Nothing here allocates per frame once a call runs,
//! except the VAD engine's own internals.

use std::collections::VecDeque;
use std::time::Duration;

use voxgate_media::resample::Resampler;
use voxgate_media::{AudioFrame, FramePool, MediaError, MediaTime, SampleRate};

use super::vad::VadStream;
use crate::error::PipelineError;
use crate::providers::Vad;

/// The longest utterance kept for speech recognition.
pub(crate) const MAX_UTTERANCE: Duration = Duration::from_secs(20);

/// Caller audio included before the detected speech onset (VAD chunks start late).
const PRE_ROLL: Duration = Duration::from_millis(200);

/// Outbound frames preallocated (frames are made one at a time, so a few suffice).
const OUTBOUND_FRAMES: usize = 8;

/// Speech buffered per slot before any allocation: 4 s.
const PENDING_SPEECH: Duration = Duration::from_secs(4);

/// One frame.
const FRAME: Duration = Duration::from_millis(20);

/// The speech-engine rate.
const ENGINE_RATE: SampleRate = SampleRate::HZ_16000;

/// Everything one call needs, preallocated.
pub struct CallSlot {
    pub(crate) vad: VadStream,
    pub(crate) inbound: Inbound,
    pub(crate) outbound: Outbound,
}

impl std::fmt::Debug for CallSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallSlot").finish_non_exhaustive()
    }
}

impl CallSlot {
    /// A slot for calls whose caller audio arrives at `listen` and agent audio leaves at
    /// `send`, with synthesized speech at `speech`; VAD windows below `silence_floor_dbfs`
    /// (RMS) are silence without asking the VAD.
    pub fn new(
        vad: Box<dyn Vad>,
        listen: SampleRate,
        send: SampleRate,
        speech: SampleRate,
        silence_floor_dbfs: f32,
    ) -> Result<Self, PipelineError> {
        let vad = VadStream::new(vad, silence_floor_dbfs);
        let (chunk_len, vad_rate) = (vad.chunk_len(), vad.rate());
        Ok(Self {
            vad,
            inbound: Inbound::new(listen, vad_rate, chunk_len)?,
            outbound: Outbound::new(speech, send)?,
        })
    }

    /// Makes the slot ready for a new call.
    pub(crate) fn reset(&mut self) {
        self.vad.reset();
        self.inbound.reset();
        self.outbound.clear();
    }
}

/// Caller audio: resampling to 16 kHz, the utterance ring and VAD chunking (at the VAD's
/// rate: the caller's own 8 kHz samples when the VAD listens at 8 kHz, else 16 kHz).
pub(crate) struct Inbound {
    resampler: Resampler,
    frame16: Vec<i16>,
    ring: Vec<i16>,
    /// Samples written to the ring since the call started.
    written: u64,
    /// The VAD listens to the caller's frames as they are (else to `frame16`).
    vad_native: bool,
    vad_rate: SampleRate,
    /// Samples given to the VAD since the call started.
    vad_written: u64,
    chunk: Vec<i16>,
    chunk_len: usize,
}

impl Inbound {
    fn new(listen: SampleRate, vad_rate: SampleRate, chunk_len: usize) -> Result<Self, MediaError> {
        let ring_len = ENGINE_RATE.samples_in(MAX_UTTERANCE) as usize;
        let vad_native = vad_rate == listen && vad_rate != ENGINE_RATE;
        Ok(Self {
            resampler: Resampler::new(listen, ENGINE_RATE)?,
            frame16: vec![0; ENGINE_RATE.samples_per_frame()],
            ring: vec![0; ring_len],
            written: 0,
            vad_native,
            vad_rate: if vad_native { vad_rate } else { ENGINE_RATE },
            vad_written: 0,
            chunk: Vec::with_capacity(chunk_len),
            chunk_len,
        })
    }

    fn reset(&mut self) {
        self.resampler.reset();
        self.written = 0;
        self.vad_written = 0;
        self.chunk.clear();
    }

    /// How long one VAD chunk lasts.
    pub(crate) fn chunk_duration(&self) -> Duration {
        MediaTime::new(self.chunk_len as u64, self.vad_rate).as_duration()
    }

    /// Takes one caller frame; calls `on_chunk(chunk_end, chunk)` for each full VAD chunk.
    pub(crate) fn push(
        &mut self,
        frame: &AudioFrame,
        mut on_chunk: impl FnMut(Duration, &[i16]),
    ) -> Result<(), MediaError> {
        self.resampler
            .process_into(frame.samples(), &mut self.frame16)?;
        for &s in &self.frame16 {
            let at = (self.written % self.ring.len() as u64) as usize;
            self.ring[at] = s;
            self.written += 1;
        }
        let vad_input = if self.vad_native {
            frame.samples()
        } else {
            &self.frame16
        };
        for &s in vad_input {
            self.chunk.push(s);
            self.vad_written += 1;
            if self.chunk.len() == self.chunk_len {
                let end = MediaTime::new(self.vad_written, self.vad_rate).as_duration();
                on_chunk(end, &self.chunk);
                self.chunk.clear();
            }
        }
        Ok(())
    }

    /// Caller audio time so far.
    pub(crate) fn now(&self) -> Duration {
        MediaTime::new(self.written, ENGINE_RATE).as_duration()
    }

    /// Copies the utterance `onset..end` (caller audio time, plus pre-roll) out of the ring,
    /// as far as the ring still holds it.
    pub(crate) fn utterance(&self, onset: Duration, end: Duration) -> Vec<i16> {
        let oldest = self.written.saturating_sub(self.ring.len() as u64);
        let from = ENGINE_RATE
            .samples_in(onset.saturating_sub(PRE_ROLL))
            .max(oldest);
        let to = ENGINE_RATE.samples_in(end).min(self.written);
        (from..to)
            .map(|i| self.ring[(i % self.ring.len() as u64) as usize])
            .collect()
    }
}

/// Agent audio: synthesized speech waits at its own rate and is framed and resampled to
/// the leg's rate one frame at a time, as the carrier's buffer takes it. So a long chunk of
/// speech (a whole sentence from a fast mouth) costs the first frame one resampling, not
/// the whole sentence's.
pub(crate) struct Outbound {
    resampler: Resampler,
    /// Speech samples not yet framed, at the speech rate.
    pending: VecDeque<i16>,
    /// One frame of speech, taken from `pending` for the resampler.
    input: Vec<i16>,
    pool: FramePool,
}

impl Outbound {
    fn new(speech: SampleRate, send: SampleRate) -> Result<Self, MediaError> {
        let pending = speech.samples_in(PENDING_SPEECH) as usize;
        Ok(Self {
            resampler: Resampler::new(speech, send)?,
            pending: VecDeque::with_capacity(pending),
            input: Vec::with_capacity(speech.samples_per_frame()),
            pool: FramePool::new(send, OUTBOUND_FRAMES),
        })
    }

    /// The rate synthesized speech must arrive at.
    pub(crate) fn speech_rate(&self) -> SampleRate {
        self.resampler.from_rate()
    }

    fn frame_len(&self) -> usize {
        self.resampler.input_len()
    }

    /// Queues synthesized speech; returns how much audio became whole frames.
    pub(crate) fn push_speech(&mut self, samples: &[i16]) -> Duration {
        let n = self.frame_len();
        let before = self.pending.len() / n;
        self.pending.extend(samples);
        FRAME * u32::try_from(self.pending.len() / n - before).unwrap_or(u32::MAX)
    }

    /// Pads the last partial frame with silence (end of a reply); returns the audio added.
    pub(crate) fn flush(&mut self) -> Duration {
        let n = self.frame_len();
        let partial = self.pending.len() % n;
        if partial == 0 {
            return Duration::ZERO;
        }
        self.pending.extend(std::iter::repeat_n(0, n - partial));
        FRAME
    }

    /// Takes the next frame to send, resampled now if none is ready; give it back with
    /// [`recycle`](Self::recycle) once sent.
    pub(crate) fn take_frame(&mut self) -> Result<Option<AudioFrame>, MediaError> {
        let n = self.frame_len();
        if self.pending.len() < n {
            return Ok(None);
        }
        self.input.clear();
        self.input.extend(self.pending.drain(..n));
        let mut frame = self.pool.take(MediaTime::zero(self.pool.rate()));
        if let Err(e) = self
            .resampler
            .process_into(&self.input, frame.samples_mut())
        {
            self.pool.give(frame);
            return Err(e);
        }
        Ok(Some(frame))
    }

    /// Whether a frame can be sent (one is ready or can be made).
    pub(crate) fn has_frame(&self) -> bool {
        self.pending.len() >= self.frame_len()
    }

    /// Gives back a frame taken with [`take_frame`](Self::take_frame), for reuse.
    pub(crate) fn recycle(&mut self, frame: AudioFrame) {
        self.pool.give(frame);
    }

    /// True when nothing waits to be sent.
    pub(crate) fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Drops everything queued (barge-in) and forgets the resampler's history.
    pub(crate) fn clear(&mut self) {
        self.pending.clear();
        self.resampler.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A slot for a G.711 leg (8 kHz both ways, espeak-rate speech) whose VAD listens at
    /// `vad` and always hears speech.
    fn slot(vad: SampleRate) -> CallSlot {
        CallSlot::new(
            Box::new(Loud(vad)),
            SampleRate::HZ_8000,
            SampleRate::HZ_8000,
            SampleRate::HZ_22050,
            -55.0,
        )
        .expect("slot")
    }

    struct Loud(SampleRate);
    impl Vad for Loud {
        fn rate(&self) -> SampleRate {
            self.0
        }
        fn chunk_len(&self) -> usize {
            if self.0 == SampleRate::HZ_8000 {
                256
            } else {
                512
            }
        }
        fn submit(&mut self, _: &[i16]) -> Result<(), PipelineError> {
            Ok(())
        }
        fn try_result(&mut self) -> Option<Result<f32, PipelineError>> {
            Some(Ok(1.0))
        }
        fn poll_result(
            &mut self,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Result<f32, PipelineError>> {
            std::task::Poll::Ready(Ok(1.0))
        }
        fn reset(&mut self) {}
    }

    #[test]
    fn inbound_chunks_and_keeps_the_utterance() {
        let mut slot = slot(SampleRate::HZ_16000);
        let mut chunks = Vec::new();
        for i in 0..50u64 {
            let frame = AudioFrame::from_samples(
                MediaTime::new(i * 160, SampleRate::HZ_8000),
                &[1000; 160],
            )
            .expect("frame");
            slot.inbound
                .push(&frame, |end, c| chunks.push((end, c.len())))
                .expect("push");
        }
        // 1 s at 16 kHz = 16000 samples = 31 chunks of 512.
        assert_eq!(chunks.len(), 31);
        assert_eq!(chunks[0], (Duration::from_millis(32), 512));
        assert_eq!(slot.inbound.now(), Duration::from_secs(1));
        let u = slot
            .inbound
            .utterance(Duration::from_millis(500), Duration::from_millis(900));
        assert_eq!(u.len(), 16 * 600, "400 ms plus 200 ms pre-roll");
    }

    #[test]
    fn an_8khz_vad_hears_the_callers_own_samples() {
        let mut slot = slot(SampleRate::HZ_8000);
        assert_eq!(slot.inbound.chunk_duration(), Duration::from_millis(32));
        let mut chunks = Vec::new();
        for i in 0..50u64 {
            let samples: Vec<i16> = (0..160).map(|j| (i * 160 + j) as i16).collect();
            let frame =
                AudioFrame::from_samples(MediaTime::new(i * 160, SampleRate::HZ_8000), &samples)
                    .expect("frame");
            slot.inbound
                .push(&frame, |end, c| chunks.push((end, c[0], c.len())))
                .expect("push");
        }
        // 8000 samples = 31 chunks of 256, untouched by any resampler.
        assert_eq!(chunks.len(), 31);
        assert_eq!(chunks[0], (Duration::from_millis(32), 0, 256));
        assert_eq!(chunks[1], (Duration::from_millis(64), 256, 256));
        // The ring for speech recognition is still at 16 kHz.
        assert_eq!(slot.inbound.now(), Duration::from_secs(1));
    }

    #[test]
    fn outbound_frames_speech_and_flushes() {
        let mut slot = slot(SampleRate::HZ_16000);
        let out = &mut slot.outbound;
        assert_eq!(
            out.push_speech(&[100; 441 * 2 + 10]),
            Duration::from_millis(40)
        );
        assert_eq!(out.flush(), Duration::from_millis(20));
        assert_eq!(out.flush(), Duration::ZERO, "already whole");
        let mut n = 0;
        while let Some(f) = out.take_frame().expect("resamples") {
            assert_eq!(f.samples().len(), 160);
            out.recycle(f);
            n += 1;
        }
        assert_eq!(n, 3);
        assert!(out.is_empty() && !out.has_frame());
        assert_eq!(out.pool.allocations(), 0);
        // A long sentence is framed on demand: one frame resampled per frame sent.
        out.push_speech(&[100; 441 * 100]);
        assert!(out.has_frame());
        let frame = out.take_frame().expect("resamples").expect("a frame");
        assert_eq!(
            out.pending.len(),
            441 * 99,
            "only the frame taken was resampled"
        );
        out.recycle(frame);
        out.clear();
        assert!(out.is_empty());
    }
}
