//! The estimate of agent audio buffered at the carrier.
//!
//! 46elks buffers what we send and plays it in real time (doc §1.7), so we never see the
//! buffer, only two signals:
//!
//! - **Wall time.** Once audio is queued the carrier plays it at 1x, so the amount played
//!   grows with `now`, never beyond what was sent. Idle time is not credited: the clock is
//!   brought up to date before each send, and credit is capped at what had been sent.
//! - **`sync` acks.** Every `sync_interval` of audio we send a `sync` checkpoint; the carrier
//!   answers once "all audio sent before the request has been played". On the answer we set
//!   *played = audio sent before that checkpoint*, as of `now`. That corrects the wall-clock
//!   estimate in both directions: when network and carrier start-up delay make playback lag,
//!   the late ack pulls *played* back; the remaining error is the one-way latency of the
//!   ack, on the safe side (we think a little more is buffered than is).
//!
//! `buffered = sent - played`. An `interrupt` clears the carrier's buffer, so *played* jumps
//! to *sent*. Whether 46elks still answers a `sync` pending at an `interrupt` is not
//! documented (doc §6 q7), so checkpoints from before an interrupt are kept as *stale*: an
//! ack that arrives before the oldest current checkpoint could possibly have played (its
//! `earliest` instant) is taken as the answer to a stale one; the first ack after that
//! settles the question and the stale checkpoints are dropped. This holds as long as the
//! round trip is shorter than `sync_interval`.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// At most this many unanswered checkpoints are tracked; past it no more `sync` is sent, so
/// a carrier that never answers costs nothing but the wall-clock estimate.
const MAX_OUTSTANDING: usize = 32;

/// What an incoming `sync` was taken to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ack {
    /// A current checkpoint: the estimate was corrected.
    Matched,
    /// A checkpoint from before an `interrupt`: no correction.
    Stale,
    /// No checkpoint was outstanding: ignored.
    Unsolicited,
}

#[derive(Debug, Clone, Copy)]
struct Checkpoint {
    /// Audio sent before the checkpoint.
    sent: Duration,
    /// The soonest the carrier can have played it all (by our wall-clock estimate).
    earliest: Instant,
    /// The interrupt epoch it was sent in.
    epoch: u64,
}

/// Sent, played and the outstanding checkpoints, all in audio time.
#[derive(Debug, Default)]
pub(super) struct Playout {
    sent: Duration,
    played: Duration,
    /// When `played` was last brought up to date; `None` before the first send.
    played_at: Option<Instant>,
    since_checkpoint: Duration,
    checkpoints: VecDeque<Checkpoint>,
    epoch: u64,
}

impl Playout {
    pub(super) fn new() -> Self {
        Self {
            checkpoints: VecDeque::with_capacity(MAX_OUTSTANDING),
            ..Self::default()
        }
    }

    fn played_at(&self, now: Instant) -> Duration {
        let credit = self
            .played_at
            .map_or(Duration::ZERO, |at| now.saturating_duration_since(at));
        (self.played + credit).min(self.sent)
    }

    /// The estimated audio waiting at the carrier at `now`.
    pub(super) fn buffered(&self, now: Instant) -> Duration {
        self.sent - self.played_at(now)
    }

    /// Records `audio` sent at `now`; true when a checkpoint is due (`interval` of audio
    /// since the last one).
    pub(super) fn record_sent(
        &mut self,
        now: Instant,
        audio: Duration,
        interval: Duration,
    ) -> bool {
        self.played = self.played_at(now);
        self.played_at = Some(now);
        self.sent += audio;
        self.since_checkpoint += audio;
        self.since_checkpoint >= interval
    }

    /// Records a checkpoint at `now`; false when too many are outstanding and it should
    /// not be sent.
    pub(super) fn record_checkpoint(&mut self, now: Instant) -> bool {
        self.since_checkpoint = Duration::ZERO;
        if self.checkpoints.len() >= MAX_OUTSTANDING {
            return false;
        }
        self.checkpoints.push_back(Checkpoint {
            sent: self.sent,
            earliest: now + self.buffered(now),
            epoch: self.epoch,
        });
        true
    }

    /// Takes an incoming `sync` at `now` as the answer to the oldest checkpoint.
    pub(super) fn ack(&mut self, now: Instant) -> Ack {
        let Some(front) = self.checkpoints.front().copied() else {
            return Ack::Unsolicited;
        };
        if front.epoch != self.epoch {
            let current = self.checkpoints.iter().find(|c| c.epoch == self.epoch);
            if current.is_none_or(|c| now < c.earliest) {
                self.checkpoints.pop_front();
                return Ack::Stale;
            }
            // Too late to be a stale answer: the carrier drops syncs on interrupt.
            let epoch = self.epoch;
            self.checkpoints.retain(|c| c.epoch == epoch);
        }
        let Some(matched) = self.checkpoints.pop_front() else {
            return Ack::Unsolicited;
        };
        self.played = matched.sent;
        self.played_at = Some(now);
        Ack::Matched
    }

    /// The carrier's buffer was cleared at `now` (we sent `interrupt`).
    pub(super) fn clear(&mut self, now: Instant) {
        self.played = self.sent;
        self.played_at = Some(now);
        self.since_checkpoint = Duration::ZERO;
        self.epoch += 1;
    }

    /// Checkpoints sent and not yet answered.
    #[cfg(test)]
    pub(super) fn outstanding(&self) -> usize {
        self.checkpoints.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: Duration = Duration::from_millis(20);
    const INTERVAL: Duration = Duration::from_millis(200);

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Sends `frames` frames at `now`, with checkpoints as due.
    fn burst(p: &mut Playout, now: Instant, frames: usize) {
        for _ in 0..frames {
            if p.record_sent(now, FRAME, INTERVAL) {
                p.record_checkpoint(now);
            }
        }
    }

    #[test]
    fn wall_time_drains_and_idle_is_not_credited() {
        let t0 = Instant::now();
        let mut p = Playout::new();
        assert_eq!(p.buffered(t0), Duration::ZERO);
        burst(&mut p, t0, 25);
        let table = [(0, 500), (100, 400), (499, 1), (500, 0), (5_000, 0)];
        for (at, buffered) in table {
            assert_eq!(p.buffered(t0 + ms(at)), ms(buffered), "at {at} ms");
        }
        // Long idle, then one frame: it is all still buffered.
        burst(&mut p, t0 + ms(5_000), 1);
        assert_eq!(p.buffered(t0 + ms(5_000)), FRAME);
        assert_eq!(p.buffered(t0 + ms(5_010)), ms(10));
    }

    #[test]
    fn acks_correct_the_estimate_both_ways() {
        let t0 = Instant::now();
        let mut p = Playout::new();
        burst(&mut p, t0, 50); // 1 s, checkpoints after 200, 400, ... 1000 ms.
        assert_eq!(p.outstanding(), 5);
        // The carrier started late: the first checkpoint is acked at 300 ms, not 200.
        assert_eq!(p.ack(t0 + ms(300)), Ack::Matched);
        assert_eq!(
            p.buffered(t0 + ms(300)),
            ms(800),
            "not the 700 wall time says"
        );
        // The next one comes 200 ms later, as real time says.
        assert_eq!(p.ack(t0 + ms(500)), Ack::Matched);
        assert_eq!(p.buffered(t0 + ms(500)), ms(600));
        assert_eq!(p.buffered(t0 + ms(600)), ms(500));
        assert_eq!(p.outstanding(), 3);
    }

    #[test]
    fn unsolicited_sync_is_ignored() {
        let t0 = Instant::now();
        let mut p = Playout::new();
        assert_eq!(p.ack(t0), Ack::Unsolicited);
        burst(&mut p, t0, 5); // 100 ms: no checkpoint yet.
        assert_eq!(p.ack(t0), Ack::Unsolicited);
        assert_eq!(p.buffered(t0), ms(100));
    }

    #[test]
    fn clear_resets_and_stale_acks_are_told_apart() {
        let t0 = Instant::now();
        // A carrier that answers pending syncs at once on interrupt.
        let mut p = Playout::new();
        burst(&mut p, t0, 20);
        p.clear(t0 + ms(50));
        assert_eq!(p.buffered(t0 + ms(50)), Duration::ZERO);
        burst(&mut p, t0 + ms(60), 10); // checkpoint 3: earliest 260 ms.
        assert_eq!(p.ack(t0 + ms(80)), Ack::Stale);
        assert_eq!(p.ack(t0 + ms(81)), Ack::Stale);
        assert_eq!(p.ack(t0 + ms(270)), Ack::Matched);
        assert_eq!(p.outstanding(), 0);

        // A carrier that drops them: the first ack after `earliest` is the current one.
        let mut p = Playout::new();
        burst(&mut p, t0, 20);
        p.clear(t0 + ms(50));
        burst(&mut p, t0 + ms(60), 20); // checkpoints at 260 and 460 ms.
        assert_eq!(p.outstanding(), 4);
        assert_eq!(p.ack(t0 + ms(270)), Ack::Matched);
        assert_eq!(p.outstanding(), 1);
        assert_eq!(p.buffered(t0 + ms(270)), ms(200));
    }

    #[test]
    fn outstanding_checkpoints_are_capped() {
        let t0 = Instant::now();
        let mut p = Playout::new();
        let mut sent = 0;
        for _ in 0..(MAX_OUTSTANDING + 5) * 10 {
            if p.record_sent(t0, FRAME, INTERVAL) && p.record_checkpoint(t0) {
                sent += 1;
            }
        }
        assert_eq!(sent, MAX_OUTSTANDING);
        assert_eq!(p.outstanding(), MAX_OUTSTANDING);
    }
}
