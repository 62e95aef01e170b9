//! The jitter buffer never panics whatever arrives and whenever it is polled, keeps the
//! counter invariants of `JitterStats`, and hands out one whole frame per 20 ms tick with
//! contiguous media time.
//!
//! Input: a config and codec header (6 bytes), then operations on a virtual clock, each an
//! opcode byte and its arguments: push a packet built from the input (sequence, timestamp
//! and SSRC moves, payload length and bytes), or advance the clock and drain every due frame.

#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use voxgate_media::g711::Law;
use voxgate_media::jitter::{JitterBuffer, JitterConfig, PayloadDecoder, PushOutcome};
use voxgate_media::opus::{MAX_PACKET, OpusDecoder};
use voxgate_media::rtp::{RtpHeader, RtpPacket, Ssrc};
use voxgate_media::{AudioFrame, SampleRate};

/// Frames the harness keeps instead of recycling, to exercise the pool running dry.
const MAX_KEPT: usize = 8;

/// Reads the input front to back; runs dry as zeros-then-`None`.
struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&first, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(first)
    }

    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head
    }
}

/// A buffer, the stream the pushes continue, and what the output must look like.
struct Harness {
    jitter: JitterBuffer,
    now: Instant,
    ssrc: u32,
    seq: u16,
    ts: u32,
    ts_per_frame: u32,
    /// The payload length of one frame of the codec (Opus: none, taken from the input).
    frame_bytes: Option<usize>,
    next_time: u64,
    kept: Vec<AudioFrame>,
}

impl Harness {
    /// The config and codec from the first 6 bytes; `normalized` repairs whatever they say.
    fn new(input: &mut Input<'_>) -> Option<Self> {
        let mut b = [0u8; 6];
        for slot in &mut b {
            *slot = input.byte()?;
        }
        let ms = |x: u8| Duration::from_millis(u64::from(x) * 10);
        let config = JitterConfig {
            min_depth: ms(b[0] & 0x1f),
            max_depth: ms(b[1]),
            initial_depth: ms(b[2]),
            capacity: usize::from(b[3] & 0x3f),
            window: usize::from(b[4]),
            fade_frames: u32::from(b[5] & 0x0f),
            adapt_patience: u32::from(b[5] >> 4),
        };
        let (decoder, rate, ts_per_frame, frame_bytes) = match b[3] >> 6 {
            0 => (
                PayloadDecoder::G711(Law::Ulaw),
                SampleRate::HZ_8000,
                160,
                Some(160),
            ),
            1 => (
                PayloadDecoder::G711(Law::Alaw),
                SampleRate::HZ_8000,
                160,
                Some(160),
            ),
            2 => (PayloadDecoder::L16, SampleRate::HZ_16000, 320, Some(640)),
            _ => {
                let opus = OpusDecoder::new(SampleRate::HZ_16000).expect("a supported rate");
                (PayloadDecoder::Opus(opus), SampleRate::HZ_16000, 960, None)
            }
        };
        let jitter = JitterBuffer::new(config, decoder, rate).expect("a matching rate");
        Some(Self {
            jitter,
            now: Instant::now(),
            ssrc: 1,
            seq: 0,
            ts: 0,
            ts_per_frame,
            frame_bytes,
            next_time: 0,
            kept: Vec::new(),
        })
    }

    /// Moves the stream on as `op` says, builds a packet from the input and pushes it.
    fn push(&mut self, op: u8, input: &mut Input<'_>) {
        self.now += Duration::from_millis(u64::from(input.byte().unwrap_or(0)));
        let moves = input.byte().unwrap_or(1);
        if op & 0x40 != 0 {
            self.ssrc = self.ssrc.wrapping_add(1);
        }
        // Sequence and timestamp move together by -8..=7 frames; a timestamp may also jump
        // by a large amount or drift off the frame grid.
        let frames = i32::from(moves & 0x0f) - 8;
        self.seq = self.seq.wrapping_add_signed(frames as i16);
        self.ts = self
            .ts
            .wrapping_add_signed(frames * self.ts_per_frame as i32);
        if op & 0x20 != 0 {
            self.ts = self.ts.wrapping_add(u32::from(moves) << 16);
        }
        if op & 0x10 != 0 {
            self.ts = self.ts.wrapping_add(u32::from(moves >> 4));
        }
        let len_byte = input.byte().unwrap_or(0);
        let mut payload = [0u8; MAX_PACKET + 8];
        let len = match self.frame_bytes {
            // Mostly the right length, sometimes not.
            Some(n) if op & 0x08 == 0 => n,
            Some(n) => (n + usize::from(len_byte)).saturating_sub(128),
            None => usize::from(len_byte) * 5 + usize::from(op & 0x07),
        };
        let len = len.min(payload.len());
        let bytes = input.bytes(len.min(64));
        for (i, slot) in payload[..len].iter_mut().enumerate() {
            *slot = bytes
                .get(i % bytes.len().max(1))
                .copied()
                .unwrap_or(len_byte);
        }
        let header = RtpHeader::new(0, self.seq, self.ts, Ssrc(self.ssrc));
        let packet = RtpPacket {
            header,
            extension: None,
            payload: &payload[..len],
        };
        let before = self.jitter.stats();
        let outcome = self.jitter.push(self.now, &packet);
        let after = self.jitter.stats();
        assert_eq!(after.received, before.received + 1);
        if let PushOutcome::Resynced(_) = outcome {
            assert_eq!(after.resyncs, before.resyncs + 1);
        }
        // The schedule starts with the first stored packet and then runs for good.
        assert_eq!(self.jitter.poll_timeout().is_some(), after.stored > 0);
    }

    /// Advances the clock and drains every due frame, keeping a few instead of recycling.
    fn poll(&mut self, op: u8, input: &mut Input<'_>) {
        let step = u64::from(input.byte().unwrap_or(0));
        let scale = if op & 0x40 != 0 { 40 } else { 1 };
        self.now += Duration::from_millis(step * scale);
        let rate = self.jitter.rate();
        while let Some(frame) = self.jitter.poll(self.now) {
            assert_eq!(
                frame.time().samples(),
                self.next_time,
                "contiguous media time"
            );
            assert_eq!(frame.rate(), rate);
            assert_eq!(frame.samples().len(), rate.samples_per_frame());
            self.next_time += rate.samples_per_frame() as u64;
            if op & 0x20 != 0 && self.kept.len() < MAX_KEPT {
                self.kept.push(frame);
            } else {
                self.jitter.recycle(frame);
            }
            check(&self.jitter);
        }
        assert!(self.jitter.poll_timeout().is_none_or(|due| due > self.now));
        if op & 0x10 != 0 {
            for frame in self.kept.drain(..) {
                self.jitter.recycle(frame);
            }
        }
    }
}

/// The invariants documented on `JitterStats`.
fn check(jitter: &JitterBuffer) {
    let s = jitter.stats();
    assert_eq!(
        s.received,
        s.stored + s.duplicates + s.late + s.rejected,
        "{s:?}"
    );
    let gone = s.played + s.decode_errors + s.dropped;
    assert_eq!(s.stored, gone + s.buffered as u64, "{s:?}");
    assert!(s.inserted <= s.concealed, "{s:?}");
    assert!(s.resyncs < s.stored.max(1), "{s:?}");
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let Some(mut harness) = Harness::new(&mut input) else {
        return;
    };
    while let Some(op) = input.byte() {
        if op & 0x80 == 0 {
            harness.push(op, &mut input);
        } else {
            harness.poll(op, &mut input);
        }
        check(&harness.jitter);
    }
});
