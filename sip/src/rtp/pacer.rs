//! The 20 ms send schedule and the RTP timestamps of its slots.
//!
//! Slot `n` is due at `anchor + n × 20 ms`; the anchor never moves, so lateness in the
//! driver never accumulates into drift. Each slot owns one frame of RTP timestamp whether a
//! packet goes out in it or not (RFC 3550 §5.1: the timestamp reflects the sampling instant).

use std::time::{Duration, Instant};

use super::FRAME;

/// The most packets sent back to back for overdue slots. A driver that wakes 60 ms or more
/// after a slot's time (four or more slots due) skips the oldest ones and sends the last
/// three: a longer burst would only flood the peer's jitter buffer, the grid is kept so the
/// next packets are on time, and no agent audio is lost (queued frames go out in the slots
/// that follow; only the skipped slots' timestamps are left out, which the peer takes for
/// a short loss).
pub const MAX_BURST: u64 = 3;

/// The slot to fill now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Slot {
    /// Its RTP timestamp.
    pub(super) timestamp: u32,
    /// Slots skipped just before it (the driver was late).
    pub(super) skipped: u64,
}

/// The send grid and the timestamp track.
#[derive(Debug)]
pub(super) struct Pacer {
    anchor: Instant,
    /// The next slot to fill.
    next: u64,
    /// The timestamp of slot `slot_base`; later slots add `ts_per_frame` each.
    ts_base: u32,
    slot_base: u64,
    clock_rate: u32,
    ts_per_frame: u32,
}

impl Pacer {
    /// A grid whose slot 0 is due at `anchor` with RTP timestamp `timestamp`.
    pub(super) fn new(anchor: Instant, timestamp: u32, clock_rate: u32) -> Self {
        Self {
            anchor,
            next: 0,
            ts_base: timestamp,
            slot_base: 0,
            clock_rate,
            ts_per_frame: frame_units(clock_rate),
        }
    }

    /// RTP timestamp units in one 20 ms frame.
    pub(super) fn ts_per_frame(&self) -> u32 {
        self.ts_per_frame
    }

    /// When the next slot is due (`None` only past the end of representable time).
    pub(super) fn due(&self) -> Option<Instant> {
        self.slot_time(self.next)
    }

    /// The slot to fill at `now`, if one is due, after skipping all but the last
    /// [`MAX_BURST`] overdue slots.
    pub(super) fn take(&mut self, now: Instant) -> Option<Slot> {
        let due = self.due()?;
        if now < due {
            return None;
        }
        let behind = slots_in(now.saturating_duration_since(due));
        let skipped = behind.saturating_sub(MAX_BURST - 1);
        self.next += skipped;
        let timestamp = self.timestamp_of(self.next);
        self.next += 1;
        Some(Slot { timestamp, skipped })
    }

    /// Moves to the latest slot due by `now` without counting the ones passed: for an idle
    /// stream (nothing was to be sent in them) that has something to send again.
    pub(super) fn resume(&mut self, now: Instant) {
        if let Some(due) = self.due().filter(|&due| due < now) {
            self.next += slots_in(now.saturating_duration_since(due));
        }
    }

    /// Changes the timestamp clock (a new codec) from the next slot on; timestamps go on
    /// from where the old clock left them.
    pub(super) fn set_clock(&mut self, clock_rate: u32) {
        if clock_rate == self.clock_rate {
            return;
        }
        self.ts_base = self.timestamp_of(self.next);
        self.slot_base = self.next;
        self.clock_rate = clock_rate;
        self.ts_per_frame = frame_units(clock_rate);
    }

    /// The RTP timestamp of the sampling instant `now` (for an RTCP sender report).
    pub(super) fn timestamp_at(&self, now: Instant) -> u32 {
        let Some(base_time) = self.slot_time(self.slot_base) else {
            return self.ts_base;
        };
        let units = |d: Duration| {
            let units = d.as_nanos() * u128::from(self.clock_rate) / 1_000_000_000;
            units as u32 // RTP timestamps wrap at 2^32: keeping the low bits is the intent
        };
        if now >= base_time {
            self.ts_base.wrapping_add(units(now - base_time))
        } else {
            self.ts_base.wrapping_sub(units(base_time - now))
        }
    }

    fn timestamp_of(&self, slot: u64) -> u32 {
        let frames = slot.wrapping_sub(self.slot_base);
        // Wrapping at 2^32 is what RTP timestamps do.
        let units = frames.wrapping_mul(u64::from(self.ts_per_frame)) as u32;
        self.ts_base.wrapping_add(units)
    }

    fn slot_time(&self, slot: u64) -> Option<Instant> {
        let micros = slot.checked_mul(FRAME.as_micros() as u64)?;
        self.anchor.checked_add(Duration::from_micros(micros))
    }
}

/// RTP timestamp units in 20 ms at `clock_rate`.
fn frame_units(clock_rate: u32) -> u32 {
    clock_rate / (1000 / FRAME.as_millis() as u32)
}

/// Whole 20 ms slots in `d`.
fn slots_in(d: Duration) -> u64 {
    (d.as_micros() / FRAME.as_micros()) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn slots_table() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0, u32::MAX - 159, 8000);
        // (wake at, expected slots taken as (timestamp, skipped) until None)
        let table: &[(u64, &[(u32, u64)])] = &[
            (0, &[(u32::MAX - 159, 0)]),
            (19, &[]),
            (25, &[(0, 0)]),                          // wrapped
            (45, &[(160, 0)]),                        // 5 ms late, no drift
            (100, &[(320, 0), (480, 0), (640, 0)]),   // 60 ms behind: a burst of 3
            (181, &[(960, 1), (1120, 0), (1280, 0)]), // 61 ms behind: skip 1
            (185, &[]),
        ];
        for &(at, want) in table {
            let mut got = Vec::new();
            while let Some(slot) = p.take(t0 + ms(at)) {
                got.push((slot.timestamp, slot.skipped));
            }
            assert_eq!(got, want, "at {at} ms");
        }
        assert_eq!(p.due(), Some(t0 + ms(200)));
    }

    #[test]
    fn resume_and_clock_change() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0, 1000, 8000);
        assert!(p.take(t0).is_some());
        p.resume(t0 + ms(10));
        assert_eq!(p.due(), Some(t0 + ms(20)), "not yet due: unchanged");
        p.resume(t0 + ms(1005));
        assert_eq!(p.due(), Some(t0 + ms(1000)));
        assert_eq!(p.timestamp_at(t0 + ms(1000)), 1000 + 8000);
        p.set_clock(48000);
        let slot = p.take(t0 + ms(1005)).map(|s| s.timestamp);
        assert_eq!(
            slot,
            Some(1000 + 8000),
            "the new clock starts where the old one left"
        );
        let slot = p.take(t0 + ms(1020)).map(|s| s.timestamp);
        assert_eq!(slot, Some(1000 + 8000 + 960));
        assert_eq!(p.timestamp_at(t0 + ms(1010)), 1000 + 8000 + 480);
        assert_eq!(p.timestamp_at(t0 + ms(990)), 1000 + 8000 - 480);
    }
}
