//! The poll side: one frame per tick, and the one-frame depth changes made at safe points.

use super::JitterBuffer;
use super::timeline::{FRAME_US, Timeline};
use crate::frame::AudioFrame;
use crate::time::MediaTime;

/// What one tick does besides producing a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Play (or conceal) the next frame.
    Play,
    /// Grow: output a concealment frame and play the next frame one tick later.
    Insert,
    /// Shrink: skip a gap or drop one packet, then play.
    Shrink,
}

impl JitterBuffer {
    /// Produces the frame due now on `timeline`.
    pub(super) fn produce(&mut self, timeline: &mut Timeline) -> AudioFrame {
        let time = MediaTime::new(self.out_samples, self.rate);
        self.out_samples += self.rate.samples_per_frame() as u64;
        let mut frame = self.pool.take(time);
        match self.step(timeline) {
            Step::Insert => {
                timeline.hold();
                self.stats.inserted += 1;
                self.stats.concealed += 1;
                self.conceal.conceal(&mut self.decoder, frame.samples_mut());
            }
            Step::Shrink => {
                self.shrink(timeline);
                self.play(timeline, frame.samples_mut());
            }
            Step::Play => self.play(timeline, frame.samples_mut()),
        }
        frame
    }

    /// How far the offset is above the target, in microseconds (negative: below).
    fn surplus(&self, timeline: &Timeline) -> i64 {
        let target = self.delay.min().saturating_add(self.target_depth());
        timeline.offset_us.saturating_sub(target)
    }

    /// Chooses this tick's step: a wanted depth change happens at a safe point (the next
    /// frame is missing, or the last one output was quiet or concealed) or once it has
    /// waited `adapt_patience` polls.
    fn step(&mut self, timeline: &Timeline) -> Step {
        let surplus = self.surplus(timeline);
        let want = if surplus < 0 {
            Step::Insert
        } else if surplus >= FRAME_US && self.delay.is_full() {
            Step::Shrink
        } else {
            self.adapt_wait = 0;
            return Step::Play;
        };
        let safe = !self.ring.contains(timeline.next_index)
            || self.conceal.is_quiet()
            || self.adapt_wait >= self.config.adapt_patience;
        if safe {
            self.adapt_wait = 0;
            want
        } else {
            self.adapt_wait += 1;
            Step::Play
        }
    }

    /// Makes the buffer shallower: drops the next packet if it is held, else skips missing
    /// frames in front of held ones while the depth is still a frame above target. Never
    /// skips into an empty buffer: that would only make the next packets late.
    fn shrink(&mut self, timeline: &mut Timeline) {
        if let Some(payload) = self.ring.take(timeline.next_index) {
            self.conceal.discard(&mut self.decoder, payload);
            self.stats.dropped += 1;
            timeline.skip();
            return;
        }
        while self.surplus(timeline) >= FRAME_US
            && !self.ring.contains(timeline.next_index)
            && self.ring.has_after(timeline.next_index)
        {
            timeline.skip();
        }
    }

    /// Plays the next frame into `out` (zeroed): decoded if held and decodable, else
    /// concealed.
    fn play(&mut self, timeline: &mut Timeline, out: &mut [i16]) {
        let index = timeline.next_index;
        timeline.advance();
        if let Some(payload) = self.ring.take(index) {
            if self.decoder.decode(payload, out).is_ok() {
                self.conceal.played(out);
                self.stats.played += 1;
                return;
            }
            self.stats.decode_errors += 1;
            out.fill(0);
        }
        self.stats.concealed += 1;
        self.conceal.conceal(&mut self.decoder, out);
    }
}
