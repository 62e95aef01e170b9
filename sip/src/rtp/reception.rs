//! What voxgate measures about the peer's stream: RFC 3550 A.3 loss and A.8 jitter.

use std::time::{Duration, Instant};

use voxgate_media::rtp::{SeqExtender, Ssrc};

use super::rtcp::ReportBlock;

/// Reception statistics of one source, from its first packet on.
#[derive(Debug)]
pub(super) struct Reception {
    ssrc: Ssrc,
    clock_rate: u32,
    /// The origin of arrival times in RTP units; any fixed instant does (A.8 only uses
    /// differences).
    epoch: Instant,
    seq: SeqExtender,
    base: i64,
    max: i64,
    received: u64,
    expected_prior: i64,
    received_prior: u64,
    /// Relative transit time of the previous audio packet.
    transit: Option<u32>,
    /// Interarrival jitter × 16, in RTP units (A.8 keeps it scaled to avoid rounding). 64
    /// bits: a peer with wild timestamps can push it past 2^32.
    jitter_q4: u64,
}

impl Reception {
    /// Statistics of `ssrc`, whose first packet has sequence number `seq` and arrived at
    /// `now`; the packet itself is counted by [`Reception::record`].
    pub(super) fn new(ssrc: Ssrc, seq: u16, clock_rate: u32, now: Instant) -> Self {
        let mut ext = SeqExtender::new();
        let first = ext.extend(seq);
        Self {
            ssrc,
            clock_rate,
            epoch: now,
            seq: ext,
            base: first,
            max: first,
            received: 0,
            expected_prior: 0,
            received_prior: 0,
            transit: None,
            jitter_q4: 0,
        }
    }

    /// The source.
    pub(super) fn ssrc(&self) -> Ssrc {
        self.ssrc
    }

    /// Counts a packet; `audio` packets also feed the jitter estimate (telephone-events
    /// repeat one timestamp, so their transit times say nothing about jitter).
    pub(super) fn record(&mut self, now: Instant, seq: u16, timestamp: u32, audio: bool) {
        let ext = self.seq.extend(seq);
        self.max = self.max.max(ext);
        self.base = self.base.min(ext);
        self.received += 1;
        if audio {
            self.update_jitter(now, timestamp);
        }
    }

    /// A.8: `J += (|D| - J) / 16`, with D the change in relative transit time.
    fn update_jitter(&mut self, now: Instant, timestamp: u32) {
        let elapsed = now.saturating_duration_since(self.epoch).as_nanos();
        // Arrival time in RTP units; it wraps at 2^32 exactly as timestamps do.
        let arrival = (elapsed * u128::from(self.clock_rate) / 1_000_000_000) as u32;
        let transit = arrival.wrapping_sub(timestamp);
        if let Some(previous) = self.transit {
            let d = u64::from((transit.wrapping_sub(previous) as i32).unsigned_abs());
            let j = self.jitter_q4;
            // (j + 8) >> 4 never exceeds j, so this cannot underflow; and j stays below
            // 16 × 2^31, so it cannot overflow either.
            self.jitter_q4 = j + d - ((j + 8) >> 4);
        }
        self.transit = Some(transit);
    }

    /// Packets expected minus packets received since the first (A.3).
    pub(super) fn lost(&self) -> i64 {
        self.expected() - self.received as i64
    }

    /// The interarrival jitter in RTP units.
    pub(super) fn jitter_units(&self) -> u32 {
        u32::try_from(self.jitter_q4 >> 4).unwrap_or(u32::MAX)
    }

    /// The interarrival jitter as a duration.
    pub(super) fn jitter(&self) -> Duration {
        let micros = u64::from(self.jitter_units()) * 1_000_000 / u64::from(self.clock_rate.max(1));
        Duration::from_micros(micros)
    }

    fn expected(&self) -> i64 {
        self.max - self.base + 1
    }

    /// A report block about this source; starts the next interval for `fraction_lost`.
    pub(super) fn report_block(&mut self, last_sr: u32, delay_since_last_sr: u32) -> ReportBlock {
        let expected = self.expected();
        let expected_interval = expected - self.expected_prior;
        let received_interval = self.received as i64 - self.received_prior as i64;
        self.expected_prior = expected;
        self.received_prior = self.received;
        let lost_interval = expected_interval - received_interval;
        let fraction_lost = if expected_interval <= 0 || lost_interval <= 0 {
            0
        } else {
            u8::try_from((lost_interval << 8) / expected_interval).unwrap_or(u8::MAX)
        };
        ReportBlock {
            ssrc: self.ssrc,
            fraction_lost,
            cumulative_lost: self.lost().clamp(-0x80_0000, 0x7f_ffff) as i32,
            highest_seq: self.max as u32, // the low 32 bits: cycles << 16 | seq
            jitter: self.jitter_units(),
            last_sr,
            delay_since_last_sr,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loss_table() {
        let t0 = Instant::now();
        let mut r = Reception::new(Ssrc(1), 65534, 8000, t0);
        /// (cumulative lost, fraction lost, extended highest sequence number)
        type Want = (i32, u8, u32);
        // (sequence numbers received, the report block after them)
        let table: &[(&[u16], Want)] = &[
            (&[65534, 65535, 0, 1], (0, 0, 65537)),
            (&[3, 4, 5, 6], (1, 51, 65542)), // 1 lost out of 5 expected: 256 / 5
            (&[7, 7, 8], (0, 0, 65544)),     // a duplicate makes up for it
            (&[12], (3, 192, 65548)),        // 3 of 4 lost
        ];
        for (i, &(seqs, want)) in table.iter().enumerate() {
            for &seq in seqs {
                r.record(t0, seq, 0, false);
            }
            let b = r.report_block(0, 0);
            assert_eq!(
                (b.cumulative_lost, b.fraction_lost, b.highest_seq),
                want,
                "row {i}"
            );
        }
    }

    #[test]
    fn jitter_follows_a8() {
        let t0 = Instant::now();
        let mut r = Reception::new(Ssrc(1), 0, 8000, t0);
        // Packets 20 ms apart in timestamp, arriving alternately on time and 10 ms late.
        for n in 0..400u32 {
            let late = if n % 2 == 1 { 10 } else { 0 };
            let at = t0 + Duration::from_millis(u64::from(n) * 20 + late);
            r.record(at, n as u16, n * 160, true);
        }
        // |D| is always 80 units (10 ms at 8 kHz); J converges to 80 (79 after A.8's rounding).
        assert!(
            (78..=80).contains(&r.jitter_units()),
            "{}",
            r.jitter_units()
        );
        assert_eq!(r.jitter().as_millis(), 9);
        let mut steady = Reception::new(Ssrc(2), 0, 8000, t0);
        for n in 0..50u32 {
            steady.record(
                t0 + Duration::from_millis(u64::from(n) * 20),
                n as u16,
                n * 160,
                true,
            );
        }
        assert_eq!(steady.jitter_units(), 0);
        // Wild timestamps (half the clock apart every packet) saturate, never overflow.
        let mut wild = Reception::new(Ssrc(3), 0, 48_000, t0);
        for n in 0..1000u32 {
            wild.record(t0, n as u16, n.wrapping_mul(1 << 31), true);
        }
        assert!(wild.jitter_units() > 1 << 30, "{}", wild.jitter_units());
    }
}
