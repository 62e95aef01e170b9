//! The jitter buffer on a virtual clock: tables of packets `(seq, timestamp)` arriving at a
//! time in ms, each with the push outcome it must have and the frames due then.
//!
//! Every L16 packet holds the constant `seq × UNIT`, so a frame names the packet it came
//! from ([`Out`]). The stats invariants are checked after every push and every poll, and
//! output media time must be contiguous throughout.

use std::time::{Duration, Instant};

use self::Ev::{Push, PushFrom, Tick};
use self::Out::{Fade, Play, Silence};
use super::{JitterBuffer, JitterConfig, PayloadDecoder, PushOutcome};
use crate::opus::MAX_PACKET;
use crate::rtp::{HEADER_LEN, RtpHeader, RtpPacket, Ssrc};
use crate::time::SampleRate;
use PushOutcome::{Duplicate, Late, Rejected, Resynced, Stored};

mod adapt;
mod codecs;
mod playout;

/// Sample value of packet 1; packet `seq` holds `seq × UNIT`.
const UNIT: i16 = 1000;
/// The stream's source.
const SSRC: Ssrc = Ssrc(0x5eed);
/// `JitterConfig::default().fade_frames`, which these tables assume.
const FADE: u32 = 3;

/// What a frame holds, as far as a table cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Out {
    /// Packet `seq`'s audio.
    Play(i16),
    /// Frame `n` (1-based) of the faded repeat of packet `seq`.
    Fade(i16, u32),
    /// Digital silence.
    Silence,
    /// Anything else: its first and last sample.
    Other(i16, i16),
}

/// What happens at a row's time, between draining the frames due before and after it.
#[derive(Debug, Clone, Copy)]
enum Ev {
    /// L16 packet `(seq, ts)` from [`SSRC`], and the outcome its push must have.
    Push(u16, u32, PushOutcome),
    /// The same from another SSRC.
    PushFrom(u32, u16, u32, PushOutcome),
    /// Nothing arrives.
    Tick,
}

/// Checks the invariants documented on [`super::JitterStats`].
fn check(jb: &JitterBuffer) {
    let s = jb.stats();
    assert_eq!(
        s.received,
        s.stored + s.duplicates + s.late + s.rejected,
        "{s:?}"
    );
    let gone = s.played + s.decode_errors + s.dropped;
    assert_eq!(s.stored, gone + s.buffered as u64, "{s:?}");
}

/// Every frame due by `now` as (media time, samples), each recycled and checked after.
fn drain(jb: &mut JitterBuffer, now: Instant) -> Vec<(u64, Vec<i16>)> {
    let mut out = Vec::new();
    while let Some(frame) = jb.poll(now) {
        assert!(out.len() < 10_000, "poll never runs dry");
        out.push((frame.time().samples(), frame.samples().to_vec()));
        jb.recycle(frame);
        check(jb);
    }
    assert!(
        jb.poll_timeout().is_none_or(|due| due > now),
        "a due frame was held back"
    );
    out
}

/// One L16 frame at 8 kHz whose samples are all `value`, big-endian.
fn l16(value: i16) -> [u8; 320] {
    let mut payload = [0; 320];
    for pair in payload.chunks_exact_mut(2) {
        pair.copy_from_slice(&value.to_be_bytes());
    }
    payload
}

/// Names a frame: a constant one is a packet's, a falling ramp that matches the documented
/// fade (full scale at the start of frame 1, zero at the end of frame `FADE`) is a fade.
fn describe(samples: &[i16]) -> Out {
    let (first, last) = (samples[0], samples[samples.len() - 1]);
    if samples.iter().all(|&s| s == first) {
        return match first {
            0 => Silence,
            v if v % UNIT == 0 => Play(v / UNIT),
            _ => Out::Other(first, last),
        };
    }
    let falling = samples.windows(2).all(|w| w[1] <= w[0]);
    let len = samples.len() as f64;
    let fade = (1..=32i16).flat_map(|seq| (1..=FADE).map(move |n| (seq, n)));
    let found = fade.into_iter().find(|&(seq, n)| {
        let (v, f) = (f64::from(seq * UNIT), f64::from(FADE));
        let start = v * f64::from(FADE + 1 - n) / f;
        let end = v * f64::from(FADE - n) / f;
        (f64::from(first) - start).abs() <= v / (f * len) + 1.0
            && (f64::from(last) - end).abs() <= 1.0
    });
    match found {
        Some((seq, n)) if falling => Fade(seq, n),
        _ => Out::Other(first, last),
    }
}

/// A buffer on a virtual clock starting at `t0`.
struct Rig {
    jb: JitterBuffer,
    t0: Instant,
    /// Media time (in samples) the next frame must carry.
    next_time: u64,
}

impl Rig {
    fn new(config: JitterConfig, decoder: PayloadDecoder, rate: SampleRate) -> Self {
        let jb = JitterBuffer::new(config, decoder, rate).expect("a valid buffer");
        Self {
            jb,
            t0: Instant::now(),
            next_time: 0,
        }
    }

    fn l16(config: JitterConfig) -> Self {
        Self::new(config, PayloadDecoder::L16, SampleRate::HZ_8000)
    }

    fn at(&self, ms: u64) -> Instant {
        self.t0 + Duration::from_millis(ms)
    }

    /// Pushes a packet carrying `payload` that arrives at `ms`.
    fn push(&mut self, ms: u64, ssrc: Ssrc, seq: u16, ts: u32, payload: &[u8]) -> PushOutcome {
        let mut datagram = [0u8; HEADER_LEN + MAX_PACKET + 1];
        let header = RtpHeader::new(96, seq, ts, ssrc);
        let len = header.write(payload, &mut datagram).expect("fits");
        let packet = RtpPacket::parse(&datagram[..len]).expect("parses");
        let outcome = self.jb.push(self.at(ms), &packet);
        check(&self.jb);
        outcome
    }

    /// The frames due at `ms`, whose media time must follow on from the last frame's.
    fn drain(&mut self, ms: u64) -> Vec<Vec<i16>> {
        let now = self.at(ms);
        let frames = drain(&mut self.jb, now);
        let mut out = Vec::new();
        for (time, samples) in frames {
            assert_eq!(time, self.next_time, "media time of a frame at {ms} ms");
            self.next_time += samples.len() as u64;
            out.push(samples);
        }
        out
    }

    /// Runs a table: at each row's time the due frames are drained, its packet is pushed
    /// and the due frames are drained again; all those frames must be the row's.
    fn run(&mut self, table: &[(u64, Ev, &[Out])]) {
        for &(ms, ev, want) in table {
            let mut frames = self.drain(ms);
            let pushed = match ev {
                Push(seq, ts, outcome) => Some((SSRC, seq, ts, outcome)),
                PushFrom(ssrc, seq, ts, outcome) => Some((Ssrc(ssrc), seq, ts, outcome)),
                Tick => None,
            };
            if let Some((ssrc, seq, ts, outcome)) = pushed {
                let value = i16::try_from(seq).expect("small seq") * UNIT;
                let got = self.push(ms, ssrc, seq, ts, &l16(value));
                assert_eq!(got, outcome, "push of {seq} at {ms} ms");
            }
            frames.extend(self.drain(ms));
            let got: Vec<Out> = frames.iter().map(|f| describe(f)).collect();
            assert_eq!(got, want, "frames at {ms} ms");
        }
    }
}

fn ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}
