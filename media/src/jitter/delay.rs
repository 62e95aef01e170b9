//! Arrival delay relative to media time, over a sliding window of packets.
//!
//! A packet for frame `k` that arrives at `a` has arrival delay `d = a - anchor - k × 20 ms`,
//! where `anchor` is the arrival of the stream's first packet: how far behind its own
//! schedule it came. A buffer whose play-out offset is `o` plays frame `k` at
//! `anchor + k × 20 ms + o`, so the packet is on time exactly when `d <= o`. The window keeps
//! the last few `d`, and the target depth is taken from the spread between its fastest and
//! slowest packet. (RFC 3550 §6.4.1 smooths the same transit differences into one mean
//! deviation; a window's extremes react to a burst at once and forget it on a known
//! schedule, which is what a play-out delay needs.)

use super::timeline::FRAME_US;

/// The last `capacity` arrival delays, in microseconds, with their extremes.
#[derive(Debug)]
pub(super) struct DelayWindow {
    values: Box<[i64]>,
    /// Entries filled: grows to `values.len()` and stays there.
    len: usize,
    /// Where the next entry goes.
    next: usize,
    min: i64,
    max: i64,
}

impl DelayWindow {
    /// An empty window of `capacity` (at least 1) packets.
    pub(super) fn new(capacity: usize) -> Self {
        Self {
            values: vec![0; capacity.max(1)].into_boxed_slice(),
            len: 0,
            next: 0,
            min: 0,
            max: 0,
        }
    }

    /// Forgets every entry (a new stream).
    pub(super) fn reset(&mut self) {
        self.len = 0;
        self.next = 0;
        self.min = 0;
        self.max = 0;
    }

    /// Adds one packet's arrival delay, pushing out the oldest once full.
    pub(super) fn record(&mut self, delay_us: i64) {
        self.values[self.next] = delay_us;
        self.next = (self.next + 1) % self.values.len();
        self.len = (self.len + 1).min(self.values.len());
        let filled = &self.values[..self.len];
        self.min = filled.iter().copied().min().unwrap_or(0);
        self.max = filled.iter().copied().max().unwrap_or(0);
    }

    /// Whether the window has seen `capacity` packets (shrinking waits for that).
    pub(super) fn is_full(&self) -> bool {
        self.len == self.values.len()
    }

    /// The smallest delay in the window: the fastest packet.
    pub(super) fn min(&self) -> i64 {
        self.min
    }

    /// The depth that would have played every packet in the window on time, with headroom:
    /// the smallest whole number of frames strictly greater than the spread, clamped to
    /// `[min_us, max_us]`.
    pub(super) fn target_depth(&self, min_us: i64, max_us: i64) -> i64 {
        let spread = self.max.saturating_sub(self.min);
        let frames = spread / FRAME_US + 1;
        frames.saturating_mul(FRAME_US).clamp(min_us, max_us)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_follows_the_window() {
        let mut w = DelayWindow::new(3);
        let (lo, hi) = (20_000, 200_000);
        // (recorded delay, full, min, target depth), applied in order.
        let table = [
            (0, false, 0, 20_000),
            (19_999, false, 0, 20_000),
            (20_000, true, 0, 40_000),
            (-5_000, true, -5_000, 40_000),
            (500_000, true, -5_000, 200_000),
            (0, true, -5_000, 200_000),
            (0, true, 0, 200_000),
            (1_000, true, 0, 20_000),
        ];
        for (d, full, min, target) in table {
            w.record(d);
            assert_eq!(
                (w.is_full(), w.min(), w.target_depth(lo, hi)),
                (full, min, target),
                "after {d}"
            );
        }
        w.reset();
        assert!(!w.is_full());
    }
}
