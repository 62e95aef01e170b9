//! The push side: classifying a packet, storing it, and starting a new stream.

use std::time::Instant;

use super::timeline::{FRAME_US, Timeline, duration_us, signed_us};
use super::{JitterBuffer, PushOutcome, ResyncReason};
use crate::rtp::RtpPacket;

impl JitterBuffer {
    /// Decides what `packet` is and stores it if it will be played. No counters.
    pub(super) fn accept(&mut self, now: Instant, packet: &RtpPacket<'_>) -> PushOutcome {
        if let Err(reason) = self.decoder.check(packet.payload, self.rate) {
            return PushOutcome::Rejected(reason);
        }
        let Some(timeline) = self.timeline.as_mut() else {
            self.start(now, packet, None);
            return PushOutcome::Stored;
        };
        if timeline.ssrc != packet.header.ssrc {
            return self.resync(now, packet, ResyncReason::SsrcChanged);
        }
        let index = timeline.index_of(packet.header.timestamp);
        let next = timeline.next_index;
        let reach = self.ring.capacity();
        if index >= next.saturating_add(reach) || index < next.saturating_sub(reach) {
            return self.resync(now, packet, ResyncReason::TimestampJump);
        }
        if self.ring.contains(index) {
            return PushOutcome::Duplicate;
        }
        // Late packets count too: they are the evidence that the depth is too small.
        self.delay.record(timeline.arrival_delay(now, index));
        if index < next {
            return PushOutcome::Late;
        }
        self.ring.insert(index, packet.payload);
        PushOutcome::Stored
    }

    /// Drops what the old stream left and starts a new one with `packet`.
    fn resync(&mut self, now: Instant, packet: &RtpPacket<'_>, why: ResyncReason) -> PushOutcome {
        let depth = self.stats().depth;
        let depth = depth.clamp(self.config.min_depth, self.config.max_depth);
        let previous = self.poll_timeout().map(|due| (due, duration_us(depth)));
        self.stats.dropped += self.ring.clear() as u64;
        self.start(now, packet, previous);
        PushOutcome::Resynced(why)
    }

    /// Anchors a new schedule on `packet` (frame 0) and stores it. `previous` is the old
    /// stream's next deadline and depth, whose tick phase the new schedule keeps.
    fn start(&mut self, now: Instant, packet: &RtpPacket<'_>, previous: Option<(Instant, i64)>) {
        let ts_per_frame = self.decoder.ts_per_frame(self.rate);
        let header = &packet.header;
        let mut timeline = Timeline::new(now, header.ssrc, header.timestamp, ts_per_frame);
        (timeline.next_index, timeline.offset_us) = match previous {
            None => (0, duration_us(self.config.initial_depth)),
            Some((due, depth)) => rephase(now, due, depth),
        };
        self.delay.reset();
        self.delay.record(0);
        self.ring.insert(0, packet.payload);
        self.adapt_wait = 0;
        self.timeline = Some(timeline);
    }
}

/// The first frame index and offset of a stream starting `now` at `depth` whose output ticks
/// stay on the grid of the old deadline `due`: frames before 0 fill the wait (concealment,
/// then silence) and frame 0 lands on the first tick at least `depth` from now. An overdue
/// `due` restarts the grid at `now`.
fn rephase(now: Instant, due: Instant, depth: i64) -> (i64, i64) {
    let ahead = signed_us(due, now).max(0);
    let wait = depth.saturating_sub(ahead).max(0);
    let frames = (wait + FRAME_US - 1) / FRAME_US;
    (-frames, ahead + frames * FRAME_US)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn rephase_keeps_the_tick_grid() {
        let now = Instant::now();
        let ms = |m: u64| now + Duration::from_millis(m);
        // (old deadline from now in ms, depth in ms, first index, offset in ms)
        let table = [
            (0, 40, -2, 40),
            (5, 40, -2, 45),
            (15, 40, -2, 55),
            (40, 40, 0, 40),
            (70, 40, 0, 70),
        ];
        for (due, depth, index, offset) in table {
            assert_eq!(
                rephase(now, ms(due), depth * 1000),
                (index, offset * 1000),
                "due {due} depth {depth}"
            );
        }
        assert_eq!(rephase(ms(100), now, 40_000), (-2, 40_000), "overdue");
    }
}
