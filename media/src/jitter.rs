//! A sans-IO jitter buffer: RTP audio packets in, one 20 ms [`AudioFrame`] per tick out.
//!
//! Packets from the network arrive early, late, twice, out of order or not at all. The
//! [`JitterBuffer`] holds each one until its play-out time, then hands out exactly one frame
//! per 20 ms: the packet's decoded audio, or a concealment frame when it is missing. It does
//! no IO and reads no clock: every call takes `now`, so tests run it on a virtual clock.
//!
//! # Driving it
//!
//! ```text
//! loop {
//!     select! {
//!         datagram = socket.recv() => {
//!             let packet = RtpPacket::parse(&datagram)?;   // audio payload type only
//!             jitter.push(now, &packet);                   // a PushOutcome, for metrics
//!         }
//!         _ = sleep_until(jitter.poll_timeout()) => {      // None: no packet yet, wait
//!             while let Some(frame) = jitter.poll(now) {
//!                 pipeline.feed(&frame);
//!                 jitter.recycle(frame);                   // the buffer is reused
//!             }
//!         }
//!     }
//! }
//! ```
//!
//! Before the first packet [`JitterBuffer::poll_timeout`] is `None` and [`JitterBuffer::poll`]
//! gives nothing. From then on a frame is due every 20 ms, for as long as the buffer lives:
//! concealment and then silence fill any gap, so the consumer sees a steady clock. A caller
//! that polls late gets each overdue frame in turn, one per `poll`.
//!
//! # Timeline
//!
//! Frames are indexed by the extended RTP timestamp in 20 ms steps from the first packet,
//! not by sequence number, so a gap in timestamps (discontinuous transmission) is a gap in
//! play-out. Frame `k` plays at `first arrival + k × 20 ms + offset`. A packet whose frame
//! was already played is [`PushOutcome::Late`]; a second packet for a held frame is a
//! [`PushOutcome::Duplicate`]. Output frames are stamped with the play-out clock: the first
//! frame is media time 0 and each frame follows the previous one, so output time is always
//! contiguous. It equals the RTP timestamp rebased to the first packet (converted to the
//! output rate) until the buffer inserts or drops a frame or resyncs.
//!
//! # Adaptation
//!
//! Each packet's arrival delay against its schedule goes into a window of the last
//! [`JitterConfig::window`] packets. The target depth is the spread between the window's
//! slowest and fastest packet, rounded up to the next whole frame (so at least one frame of
//! headroom), clamped to `[min_depth, max_depth]`. The buffer moves toward it one frame at a
//! time and only at safe points: it grows by inserting a concealment frame, and shrinks by
//! skipping a gap in front of buffered packets or by dropping one packet (decoded and
//! discarded, so an Opus decoder stays in step). A safe point is a poll whose frame is
//! missing or whose previous frame was quiet (peak below -40 dBFS) or concealed; after
//! [`JitterConfig::adapt_patience`] polls without one, the change is made anyway. Growing
//! starts as soon as late packets show up; shrinking waits until the window is full, so a
//! spike is remembered for a whole window before the depth comes back down.
//!
//! # Concealment
//!
//! A missing frame is concealed for up to [`JitterConfig::fade_frames`] consecutive frames,
//! then the output is silence until a packet plays. G.711 and L16 repeat the last decoded
//! frame under a linear ramp that reaches zero at the end of the fade; Opus uses libopus'
//! own packet-loss concealment. A packet that fails to decode is concealed the same way.
//!
//! # Restarts
//!
//! A packet from another SSRC, or one [`JitterConfig::capacity`] frames or more ahead of or
//! behind the play-out position, is a new stream ([`PushOutcome::Resynced`]): the held
//! packets are dropped, the delay window is cleared and the schedule is re-anchored on the
//! new packet at the current depth, keeping the phase of the 20 ms output ticks. One stray
//! packet from another source therefore costs a resync; that is the price of following a
//! real restart at once.
//!
//! # What it does not do
//!
//! It does not demultiplex: push only packets of the audio payload type it was made for
//! (telephone-events go to [`DtmfReceiver`](crate::rtp::DtmfReceiver)). It ignores the
//! marker bit, does no time-stretching (it inserts and drops whole frames) and no RTCP.
//! After [`JitterBuffer::new`] it allocates nothing and takes no lock: packets are copied
//! into preallocated slots and frames come from a [`FramePool`] refilled by
//! [`JitterBuffer::recycle`].
//!
//! ```
//! use std::time::{Duration, Instant};
//! use voxgate_media::g711::Law;
//! use voxgate_media::jitter::{JitterBuffer, JitterConfig, PayloadDecoder, PushOutcome};
//! use voxgate_media::rtp::{RtpHeader, RtpPacket, Ssrc};
//! use voxgate_media::SampleRate;
//!
//! let config = JitterConfig::default();
//! let mut jitter = JitterBuffer::new(config, PayloadDecoder::G711(Law::Ulaw), SampleRate::HZ_8000)?;
//! let t0 = Instant::now(); // a driver's clock; the buffer never reads one
//! let mut datagram = [0u8; 172];
//! let len = RtpHeader::new(0, 1, 160, Ssrc(7)).write(&[0xff; 160], &mut datagram)?;
//! let packet = RtpPacket::parse(&datagram[..len])?;
//! assert_eq!(jitter.push(t0, &packet), PushOutcome::Stored);
//!
//! let due = jitter.poll_timeout().expect("a packet is held");
//! assert_eq!(due, t0 + config.initial_depth);
//! assert!(jitter.poll(t0).is_none(), "not yet");
//! let frame = jitter.poll(due).expect("due");
//! assert_eq!((frame.time().samples(), frame.samples().len()), (0, 160));
//! jitter.recycle(frame);
//! assert_eq!(jitter.poll_timeout(), Some(due + Duration::from_millis(20)));
//! # Ok::<(), voxgate_media::MediaError>(())
//! ```

use std::time::{Duration, Instant};

use crate::error::MediaError;
use crate::frame::{AudioFrame, FramePool};
use crate::rtp::RtpPacket;
use crate::time::SampleRate;

mod arrival;
mod conceal;
mod config;
mod decoder;
mod delay;
mod playout;
mod ring;
mod timeline;

#[cfg(test)]
mod tests;

pub use config::JitterConfig;
pub use decoder::PayloadDecoder;

use conceal::Concealer;
use delay::DelayWindow;
use ring::Ring;
use timeline::{Timeline, duration_us};

/// Output frames preallocated in the pool: the caller may hold this many without the pool
/// allocating.
const POOL_FRAMES: usize = 4;

/// What [`JitterBuffer::push`] did with a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushOutcome {
    /// Held until its play-out time.
    Stored,
    /// A packet for the same frame (timestamp) is already held; this one was ignored.
    Duplicate,
    /// Its play-out time has passed (its frame was played or concealed); dropped.
    Late,
    /// A new stream began with this packet: held packets were dropped, the schedule was
    /// re-anchored on it and it was stored.
    Resynced(ResyncReason),
    /// Not one 20 ms frame of the configured payload format; dropped.
    Rejected(RejectReason),
}

/// Why a packet started a new stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResyncReason {
    /// It came from another SSRC.
    SsrcChanged,
    /// Its timestamp was [`JitterConfig::capacity`] frames or more from the play-out position.
    TimestampJump,
}

/// Why a packet was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectReason {
    /// The payload length (carried) is not one 20 ms frame of G.711 or L16, or is empty or
    /// longer than 1275 bytes for Opus.
    PayloadLength(usize),
    /// The Opus packet's TOC says it holds something other than 20 ms of audio.
    FrameDuration,
}

/// Counters for metrics and tests. They always satisfy
/// `received == stored + duplicates + late + rejected` and
/// `stored == played + decode_errors + dropped + buffered`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JitterStats {
    /// Packets pushed.
    pub received: u64,
    /// Packets stored, including those that started a new stream.
    pub stored: u64,
    /// Packets ignored as duplicates.
    pub duplicates: u64,
    /// Packets that arrived after their play-out time.
    pub late: u64,
    /// Packets rejected for their payload.
    pub rejected: u64,
    /// New streams started after the first (SSRC change or timestamp jump).
    pub resyncs: u64,
    /// Frames output from a decoded packet.
    pub played: u64,
    /// Frames output without one: concealment or silence, including inserted frames.
    pub concealed: u64,
    /// Frames inserted to grow the depth (also counted in `concealed`).
    pub inserted: u64,
    /// Stored packets that failed to decode at play-out (their frames were concealed).
    pub decode_errors: u64,
    /// Stored packets never played: dropped to shrink the depth or flushed by a resync.
    pub dropped: u64,
    /// Packets held now.
    pub buffered: usize,
    /// The current play-out delay of the fastest packet in the window.
    pub depth: Duration,
    /// The depth the buffer is adapting toward.
    pub target_depth: Duration,
    /// Frames the pool had to allocate because the caller did not recycle them.
    pub allocations: u64,
}

/// A sans-IO adaptive jitter buffer for one RTP audio stream; see the [module docs](self).
#[derive(Debug)]
pub struct JitterBuffer {
    config: JitterConfig,
    rate: SampleRate,
    decoder: PayloadDecoder,
    ring: Ring,
    delay: DelayWindow,
    conceal: Concealer,
    pool: FramePool,
    /// The schedule, from the first packet on.
    timeline: Option<Timeline>,
    /// Media time of the next output frame, in samples at `rate`.
    out_samples: u64,
    /// Polls a wanted depth change has waited for a safe point.
    adapt_wait: u32,
    stats: JitterStats,
}

impl JitterBuffer {
    /// A buffer producing frames at `rate`, with every slot and frame allocated now.
    ///
    /// Fails with [`MediaError::RateMismatch`] for G.711 at any rate but 8 kHz. `config` is
    /// made consistent first (see [`JitterConfig`]).
    pub fn new(
        config: JitterConfig,
        decoder: PayloadDecoder,
        rate: SampleRate,
    ) -> Result<Self, MediaError> {
        if matches!(decoder, PayloadDecoder::G711(_)) && rate != SampleRate::HZ_8000 {
            return Err(MediaError::RateMismatch {
                expected: SampleRate::HZ_8000,
                actual: rate,
            });
        }
        let config = config.normalized();
        Ok(Self {
            ring: Ring::new(config.capacity, decoder.max_payload(rate)),
            delay: DelayWindow::new(config.window),
            conceal: Concealer::new(rate.samples_per_frame(), config.fade_frames),
            pool: FramePool::new(rate, POOL_FRAMES),
            config,
            rate,
            decoder,
            timeline: None,
            out_samples: 0,
            adapt_wait: 0,
            stats: JitterStats::default(),
        })
    }

    /// Takes a packet that arrived `now`. Copies its payload; never allocates.
    pub fn push(&mut self, now: Instant, packet: &RtpPacket<'_>) -> PushOutcome {
        let outcome = self.accept(now, packet);
        let stats = &mut self.stats;
        stats.received += 1;
        match outcome {
            PushOutcome::Stored => stats.stored += 1,
            PushOutcome::Resynced(_) => {
                stats.stored += 1;
                stats.resyncs += 1;
            }
            PushOutcome::Duplicate => stats.duplicates += 1,
            PushOutcome::Late => stats.late += 1,
            PushOutcome::Rejected(_) => stats.rejected += 1,
        }
        outcome
    }

    /// The next frame if its play-out time has come by `now`: the packet's audio, or
    /// concealment or silence when it is missing. Call again until `None`.
    pub fn poll(&mut self, now: Instant) -> Option<AudioFrame> {
        if now < self.poll_timeout()? {
            return None;
        }
        let mut timeline = self.timeline.take()?;
        let frame = self.produce(&mut timeline);
        self.timeline = Some(timeline);
        Some(frame)
    }

    /// When the next frame is due; `None` until the first packet has arrived.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timeline.as_ref().map(Timeline::deadline)
    }

    /// Gives a frame from [`JitterBuffer::poll`] back for reuse.
    pub fn recycle(&mut self, frame: AudioFrame) {
        self.pool.give(frame);
    }

    /// The counters and the current and target depth.
    pub fn stats(&self) -> JitterStats {
        let (depth, target) = match &self.timeline {
            Some(t) => (t.offset_us - self.delay.min(), self.target_depth()),
            None => {
                let initial = duration_us(self.config.initial_depth);
                (initial, initial)
            }
        };
        let micros = |us: i64| Duration::from_micros(u64::try_from(us).unwrap_or(0));
        JitterStats {
            buffered: self.ring.len(),
            depth: micros(depth),
            target_depth: micros(target),
            allocations: self.pool.allocations(),
            ..self.stats
        }
    }

    /// The sample rate of the frames produced.
    pub fn rate(&self) -> SampleRate {
        self.rate
    }

    /// The target depth in microseconds, from the delay window.
    fn target_depth(&self) -> i64 {
        let min = duration_us(self.config.min_depth);
        let max = duration_us(self.config.max_depth);
        self.delay.target_depth(min, max)
    }
}
