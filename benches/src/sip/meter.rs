//! What voxgate's RTP stream to one caller looked like when it arrived: sans-IO, fed each
//! datagram with the time it arrived ([`StreamMeter::handle`]), read once at the end
//! ([`StreamMeter::finish`]).
//!
//! voxgate sends one packet per 20 ms slot on a fixed grid, encoded silence when the agent
//! has nothing to say (`RtpConfig::idle_silence`), and leaves a slot's timestamp out when its
//! call task woke 60 ms or more late (`MAX_BURST` in `voxgate-sip`). So on a clean stream every
//! packet's sequence number and timestamp follow the last one's by 1 and 160, and its
//! arrival follows the grid. What is counted:
//!
//! - **lost**: sequence numbers that never arrived;
//! - **skipped slots**: timestamps voxgate left out (its pacer gave up on late slots);
//! - **lateness**: each packet's arrival after the grid, the grid placed by the stream's most
//!   punctual packet (`(arrival - first arrival) - (timestamp - first timestamp) / 8 kHz`,
//!   minus its minimum): 0 for a packet exactly on time;
//! - **gaps**: arrivals more than [`GAP`] after the previous one;
//! - **jitter**: the RFC 3550 §6.4.1 interarrival jitter estimate, its mean and maximum;
//! - **agent audio** and **holes in it**: frames louder than [`AGENT_DBFS`] are the agent
//!   speaking (voxgate's idle silence is digital zero); a run of 1 to [`MAX_HOLE_FRAMES`]
//!   quiet or missing frames between two agent frames is a hole, an underrun of the reply
//!   (longer runs are the pause between two replies).

use std::time::{Duration, Instant};

use voxgate_media::g711::Law;
use voxgate_media::rtp::{RtpPacket, SeqExtender, TimestampExtender};

/// An inter-arrival time counted as a gap: two packet times.
pub const GAP: Duration = Duration::from_millis(40);
/// A frame louder than this (RMS, dBFS) is agent audio. The fixed providers' tone is at
/// -15 dBFS RMS; encoded silence decodes to zero.
pub const AGENT_DBFS: f64 = -45.0;
/// The longest run of quiet or missing frames between two agent frames that counts as a
/// hole in the agent's audio (100 ms); anything longer is a pause between replies.
pub const MAX_HOLE_FRAMES: u32 = 5;
/// G.711's clock: samples per second, and per 20 ms packet.
const CLOCK_HZ: f64 = 8000.0;
const SAMPLES_PER_FRAME: i64 = 160;
/// RFC 3550 §6.4.1: the jitter estimate moves 1/16 of the way to each new difference.
const JITTER_GAIN: f64 = 1.0 / 16.0;

/// The meter of one stream.
#[derive(Debug, Default)]
pub struct StreamMeter {
    seq: SeqExtender,
    ts: TimestampExtender,
    first: Option<(Instant, i64)>,
    last: Option<Last>,
    stats: StreamStats,
    /// Each packet's arrival minus its grid time, seconds (from the first packet).
    offsets: Vec<f64>,
    jitter: f64,
    jitter_sum: f64,
    /// Frames since the last agent frame (none before the first).
    since_agent: Option<u32>,
}

#[derive(Debug, Clone, Copy)]
struct Last {
    at: Instant,
    seq: i64,
    ts: i64,
    offset: f64,
}

/// What one stream measured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamStats {
    /// RTP packets received.
    pub packets: u64,
    /// Sequence numbers skipped over (never arrived).
    pub lost: u64,
    /// Packets older than one already received (not timed).
    pub reordered: u64,
    /// 20 ms slots whose timestamp voxgate left out.
    pub skipped_slots: u64,
    /// Arrivals more than [`GAP`] after the previous one.
    pub gaps: u64,
    /// When each of those arrived.
    pub gap_times: Vec<Instant>,
    /// Each timed packet's lateness against the stream's grid.
    pub lateness: Vec<Duration>,
    /// Mean of the RFC 3550 jitter estimate over the stream, ms.
    pub jitter_mean_ms: f64,
    /// Its largest value, ms.
    pub jitter_max_ms: f64,
    /// Frames of agent audio.
    pub agent_frames: u64,
    /// Holes in the agent's audio.
    pub agent_holes: u64,
    /// First to last arrival.
    pub span: Duration,
}

impl StreamMeter {
    /// A meter that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether a packet has arrived.
    pub fn started(&self) -> bool {
        self.first.is_some()
    }

    /// One datagram from voxgate's RTP port, arrived `at`. Anything that is not G.711 RTP is
    /// ignored.
    pub fn handle(&mut self, at: Instant, datagram: &[u8]) {
        let Ok(packet) = RtpPacket::parse(datagram) else {
            return;
        };
        let law = match packet.header.payload_type {
            0 => Law::Ulaw,
            8 => Law::Alaw,
            _ => return,
        };
        let seq = self.seq.extend(packet.header.sequence);
        let ts = self.ts.extend(packet.header.timestamp);
        self.stats.packets += 1;
        let (first_at, first_ts) = *self.first.get_or_insert((at, ts));
        let offset = at.saturating_duration_since(first_at).as_secs_f64()
            - (ts - first_ts) as f64 / CLOCK_HZ;
        let mut slots = 1;
        if let Some(last) = self.last {
            if seq <= last.seq {
                self.stats.reordered += 1;
                return;
            }
            self.stats.lost += (seq - last.seq - 1) as u64;
            slots = ((ts - last.ts) / SAMPLES_PER_FRAME).max(1);
            self.stats.skipped_slots += (slots - (seq - last.seq)).max(0) as u64;
            if at.saturating_duration_since(last.at) > GAP {
                self.stats.gaps += 1;
                self.stats.gap_times.push(at);
            }
            let d = (offset - last.offset).abs();
            self.jitter += (d - self.jitter) * JITTER_GAIN;
            self.jitter_sum += self.jitter;
            self.stats.jitter_max_ms = self.stats.jitter_max_ms.max(self.jitter * 1e3);
        }
        self.last = Some(Last {
            at,
            seq,
            ts,
            offset,
        });
        self.offsets.push(offset);
        self.stats.span = at.saturating_duration_since(first_at);
        // Frames that never came are quiet frames for the agent's audio.
        let missing = u32::try_from(slots - 1).unwrap_or(u32::MAX);
        self.frame(loud(law, packet.payload), missing);
    }

    fn frame(&mut self, agent: bool, missing_before: u32) {
        if !agent {
            self.since_agent = self
                .since_agent
                .map(|n| n.saturating_add(missing_before).saturating_add(1));
            return;
        }
        self.stats.agent_frames += 1;
        let quiet = self.since_agent.map(|n| n.saturating_add(missing_before));
        if quiet.is_some_and(|n| (1..=MAX_HOLE_FRAMES).contains(&n)) {
            self.stats.agent_holes += 1;
        }
        self.since_agent = Some(0);
    }

    /// The figures of the stream so far.
    pub fn finish(mut self) -> StreamStats {
        let earliest = self.offsets.iter().copied().fold(f64::INFINITY, f64::min);
        self.stats.lateness = self
            .offsets
            .iter()
            .map(|o| Duration::from_secs_f64((o - earliest).max(0.0)))
            .collect();
        let timed = self.offsets.len().saturating_sub(1).max(1);
        self.stats.jitter_mean_ms = self.jitter_sum / timed as f64 * 1e3;
        self.stats
    }
}

/// Whether a G.711 payload is louder than [`AGENT_DBFS`].
fn loud(law: Law, payload: &[u8]) -> bool {
    if payload.is_empty() {
        return false;
    }
    let decode = match law {
        Law::Ulaw => voxgate_media::g711::ulaw_decode,
        Law::Alaw => voxgate_media::g711::alaw_decode,
    };
    let energy: f64 = payload
        .iter()
        .map(|&c| f64::from(decode(c)).powi(2))
        .sum::<f64>()
        / payload.len() as f64;
    let full_scale = f64::from(i16::MAX).powi(2);
    10.0 * (energy / full_scale).log10() > AGENT_DBFS
}

#[cfg(test)]
mod tests {
    use super::*;
    use voxgate_media::rtp::{RtpHeader, Ssrc};

    /// A PCMA packet: `tone` is agent audio, else silence.
    fn packet(seq: u16, ts: u32, tone: bool) -> Vec<u8> {
        let payload: Vec<u8> = (0..160u8)
            .map(|i| {
                let x = if tone {
                    (8000.0 * (f64::from(i) * 0.345).sin()) as i16
                } else {
                    0
                };
                voxgate_media::g711::alaw_encode(x)
            })
            .collect();
        let mut out = vec![0u8; 12 + 160];
        RtpHeader::new(8, seq, ts, Ssrc(7))
            .write(&payload, &mut out)
            .expect("fits");
        out
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Feeds (arrival ms, sequence, timestamp frames, agent audio) and finishes.
    fn meter(packets: &[(u64, u16, u32, bool)]) -> StreamStats {
        let t0 = Instant::now();
        let mut m = StreamMeter::new();
        for &(at, seq, frame, tone) in packets {
            m.handle(t0 + ms(at), &packet(seq, 1000 + frame * 160, tone));
        }
        m.finish()
    }

    #[test]
    fn a_paced_stream_is_clean() {
        let packets: Vec<_> = (0..50u16)
            .map(|i| {
                (
                    u64::from(i) * 20,
                    65530u16.wrapping_add(i),
                    u32::from(i),
                    i > 10,
                )
            })
            .collect();
        let s = meter(&packets);
        assert_eq!(
            (s.packets, s.lost, s.skipped_slots, s.gaps, s.agent_holes),
            (50, 0, 0, 0, 0)
        );
        assert_eq!(s.agent_frames, 39);
        assert!(s.lateness.iter().all(|l| *l < ms(1)));
        assert!(s.jitter_max_ms < 0.1);
        assert_eq!(s.span, ms(980));
    }

    #[test]
    fn late_lost_skipped_and_holes_are_counted() {
        let s = meter(&[
            (0, 1, 0, true),
            (20, 2, 1, true),
            (85, 3, 2, true),   // 45 ms late: a gap of 65 ms
            (86, 4, 3, true),   // the burst catching up
            (100, 6, 5, true),  // sequence 5 lost: a one-frame hole
            (160, 7, 8, true),  // two slots skipped: a two-frame hole
            (180, 8, 9, false), // the reply ends: a long pause follows
            (200, 9, 10, false),
            (220, 10, 11, false),
            (240, 11, 12, false),
            (260, 12, 13, false),
            (280, 13, 14, false),
            (300, 14, 15, true), // six quiet frames: a new reply, not a hole
            (300, 13, 14, true), // a duplicate, not timed
        ]);
        assert_eq!((s.packets, s.lost, s.reordered), (14, 1, 1));
        assert_eq!((s.skipped_slots, s.gaps, s.gap_times.len()), (2, 2, 2));
        assert_eq!((s.agent_frames, s.agent_holes), (7, 2));
        let late: Vec<f64> = s
            .lateness
            .iter()
            .map(|d| (d.as_secs_f64() * 1e3).round())
            .collect();
        let expected = [
            0.0, 0.0, 45.0, 26.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
        ];
        assert_eq!(late, expected);
        assert!(s.jitter_max_ms > 2.0, "{}", s.jitter_max_ms);
    }

    #[test]
    fn anything_but_g711_rtp_is_ignored() {
        let t0 = Instant::now();
        let mut m = StreamMeter::new();
        m.handle(t0, b"not rtp");
        let mut dtmf = packet(1, 0, false);
        dtmf[1] = 101;
        m.handle(t0, &dtmf);
        assert!(!m.started());
        assert_eq!(m.finish(), StreamStats::default());
    }
}
