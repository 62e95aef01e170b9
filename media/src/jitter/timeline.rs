//! The play-out schedule of one RTP stream: which frame plays next, and when.
//!
//! Frame indices count 20 ms frames from the stream's first packet (index 0), from the
//! extended RTP timestamp. Frame `k` plays at `anchor + k × 20 ms + offset`, where `anchor`
//! is when the first packet arrived and `offset` is the play-out delay; deadlines are
//! computed from that formula each time, so they never drift.

use std::time::{Duration, Instant};

use crate::rtp::{Ssrc, TimestampExtender};

/// One frame, in microseconds (`FRAME_MS` = 20 ms).
pub(super) const FRAME_US: i64 = 20_000;

/// The schedule of the current stream.
#[derive(Debug)]
pub(super) struct Timeline {
    /// The stream's source; another SSRC is another stream.
    pub(super) ssrc: Ssrc,
    ts: TimestampExtender,
    /// The extended timestamp of frame 0.
    base_ts: i64,
    ts_per_frame: i64,
    /// When frame 0 arrived.
    anchor: Instant,
    /// The frame the next poll plays.
    pub(super) next_index: i64,
    /// The play-out delay relative to `anchor`, in microseconds.
    pub(super) offset_us: i64,
}

impl Timeline {
    /// A schedule whose frame 0 is the packet with timestamp `ts`, arriving `now`.
    pub(super) fn new(now: Instant, ssrc: Ssrc, ts: u32, ts_per_frame: i64) -> Self {
        let mut extender = TimestampExtender::new();
        let base_ts = extender.extend(ts);
        Self {
            ssrc,
            ts: extender,
            base_ts,
            ts_per_frame: ts_per_frame.max(1),
            anchor: now,
            next_index: 0,
            offset_us: 0,
        }
    }

    /// The frame index of timestamp `ts`, rounded to the nearest frame.
    pub(super) fn index_of(&mut self, ts: u32) -> i64 {
        let delta = self.ts.extend(ts) - self.base_ts;
        (delta + self.ts_per_frame / 2).div_euclid(self.ts_per_frame)
    }

    /// How far behind its schedule frame `index` arrived `now` (see [`super::delay`]).
    pub(super) fn arrival_delay(&self, now: Instant, index: i64) -> i64 {
        signed_us(now, self.anchor).saturating_sub(index.saturating_mul(FRAME_US))
    }

    /// When frame `next_index` is due.
    pub(super) fn deadline(&self) -> Instant {
        let due = self.next_index.saturating_mul(FRAME_US);
        at(self.anchor, due.saturating_add(self.offset_us))
    }

    /// The next frame was played or concealed.
    pub(super) fn advance(&mut self) {
        self.next_index += 1;
    }

    /// A frame was inserted before the next one: everything plays one frame later.
    pub(super) fn hold(&mut self) {
        self.offset_us += FRAME_US;
    }

    /// The next frame was dropped: everything after it plays one frame earlier.
    pub(super) fn skip(&mut self) {
        self.next_index += 1;
        self.offset_us -= FRAME_US;
    }
}

/// `a - b` in microseconds, negative when `a` is earlier.
pub(super) fn signed_us(a: Instant, b: Instant) -> i64 {
    match a.checked_duration_since(b) {
        Some(d) => duration_us(d),
        None => duration_us(b.saturating_duration_since(a)).saturating_neg(),
    }
}

/// `d` in microseconds, saturating.
pub(super) fn duration_us(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// `base + us` (which may be negative); `base` itself if that is not representable.
pub(super) fn at(base: Instant, us: i64) -> Instant {
    let d = Duration::from_micros(us.unsigned_abs());
    let shifted = if us >= 0 {
        base.checked_add(d)
    } else {
        base.checked_sub(d)
    };
    shifted.unwrap_or(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_arithmetic() {
        let t0 = Instant::now();
        let mut t = Timeline::new(t0, Ssrc(1), u32::MAX - 159, 160);
        t.offset_us = 40_000;
        // (timestamp, index): wraps, rounding to the nearest frame, reordering before 0.
        for (ts, index) in [(0, 1), (160, 2), (239, 2), (240, 3), (u32::MAX - 319, -1)] {
            assert_eq!(t.index_of(ts), index, "ts {ts}");
        }
        assert_eq!(t.deadline(), t0 + Duration::from_millis(40));
        t.skip();
        t.hold();
        assert_eq!(t.deadline(), t0 + Duration::from_millis(60));
        let late = t0 + Duration::from_millis(65);
        assert_eq!(t.arrival_delay(late, 3), 5_000);
        assert_eq!(t.arrival_delay(t0, 1), -20_000);
        assert_eq!(signed_us(t0, late), -65_000);
        assert_eq!(at(late, -65_000), t0);
    }
}
