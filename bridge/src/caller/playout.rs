//! The simulated carrier's playout clock, sans-IO: what 46elks does with the audio we send.
//!
//! Audio is queued and played at 1x from when it arrives (doc §1.7); a `sync` is answered
//! once everything queued before it has played (doc §1.5); `interrupt` clears the queue; our
//! `bye` is answered with the carrier's own `bye` once the queue has played out (doc §1.5,
//! third-party note). Whether a `sync` pending at an `interrupt` is answered is not
//! documented, so it is a policy.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// What the simulated carrier does with `sync` requests still pending at an `interrupt`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SyncOnInterrupt {
    /// Forget them (their audio was never played). The default.
    #[default]
    Drop,
    /// Answer them at once (their audio is gone, so "all audio before it" is done).
    AnswerNow,
}

/// Something the carrier must send now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Answer a `sync`.
    Sync,
    /// Send the carrier's `bye` (after ours) and close.
    Bye,
}

/// The carrier's playout queue, `sync` answers and `bye`, on the caller's clock; see the
/// `caller` module's docs. Used by the simulated carrier and by virtual-clock call tests.
#[derive(Debug)]
pub struct CarrierPlayout {
    policy: SyncOnInterrupt,
    /// When the queued audio finishes playing.
    end: Option<Instant>,
    /// When each pending `sync` is due, in order.
    pending: VecDeque<Instant>,
    bye_due: Option<Instant>,
}

impl CarrierPlayout {
    /// An empty queue answering `sync`s pending at an `interrupt` by `policy`.
    pub fn new(policy: SyncOnInterrupt) -> Self {
        Self {
            policy,
            end: None,
            pending: VecDeque::new(),
            bye_due: None,
        }
    }

    fn end_at(&self, now: Instant) -> Instant {
        self.end.map_or(now, |end| end.max(now))
    }

    /// Audio queued at the carrier at `now`.
    pub fn buffered(&self, now: Instant) -> Duration {
        self.end_at(now) - now
    }

    /// `audio` arrived at `now` and is queued.
    pub fn audio(&mut self, now: Instant, audio: Duration) {
        self.end = Some(self.end_at(now) + audio);
    }

    /// A `sync` arrived at `now`.
    pub fn sync(&mut self, now: Instant) {
        let due = self.end_at(now);
        self.pending.push_back(due);
    }

    /// An `interrupt` at `now`: returns the audio cleared and how many syncs to answer now.
    pub fn interrupt(&mut self, now: Instant) -> (Duration, usize) {
        let cleared = self.buffered(now);
        self.end = Some(now);
        let answered = match self.policy {
            SyncOnInterrupt::Drop => 0,
            SyncOnInterrupt::AnswerNow => self.pending.len(),
        };
        self.pending.clear();
        (cleared, answered)
    }

    /// Our `bye` at `now`: the carrier's comes when the queue has played.
    pub fn bye(&mut self, now: Instant) {
        self.bye_due = Some(self.end_at(now));
    }

    /// When [`poll`](Self::poll) next has something.
    pub fn next_due(&self) -> Option<Instant> {
        match (self.pending.front().copied(), self.bye_due) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The next thing due at `now`.
    pub fn poll(&mut self, now: Instant) -> Option<Due> {
        if self.pending.front().is_some_and(|&due| due <= now) {
            self.pending.pop_front();
            return Some(Due::Sync);
        }
        if self.bye_due.is_some_and(|due| due <= now) {
            self.bye_due = None;
            return Some(Due::Bye);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn syncs_are_answered_when_their_audio_has_played() {
        let t0 = Instant::now();
        let mut p = CarrierPlayout::new(SyncOnInterrupt::Drop);
        p.sync(t0);
        assert_eq!(p.poll(t0), Some(Due::Sync), "nothing queued: at once");
        p.audio(t0, ms(100));
        p.sync(t0);
        p.audio(t0 + ms(50), ms(100));
        p.sync(t0 + ms(50));
        assert_eq!(p.next_due(), Some(t0 + ms(100)));
        assert_eq!(p.poll(t0 + ms(99)), None);
        assert_eq!(p.poll(t0 + ms(100)), Some(Due::Sync));
        assert_eq!(p.next_due(), Some(t0 + ms(200)));
        assert_eq!(p.buffered(t0 + ms(150)), ms(50));
        assert_eq!(p.poll(t0 + ms(200)), Some(Due::Sync));
        assert_eq!(p.poll(t0 + ms(200)), None);
        // Idle time is not playout: new audio starts when it arrives.
        p.audio(t0 + ms(1_000), ms(20));
        assert_eq!(p.buffered(t0 + ms(1_000)), ms(20));
    }

    #[test]
    fn interrupt_clears_and_applies_the_policy() {
        let t0 = Instant::now();
        for (policy, answered) in [(SyncOnInterrupt::Drop, 0), (SyncOnInterrupt::AnswerNow, 2)] {
            let mut p = CarrierPlayout::new(policy);
            p.audio(t0, ms(500));
            p.sync(t0);
            p.sync(t0);
            assert_eq!(p.interrupt(t0 + ms(100)), (ms(400), answered));
            assert_eq!(p.next_due(), None);
            assert_eq!(p.buffered(t0 + ms(100)), Duration::ZERO);
        }
    }

    #[test]
    fn bye_waits_for_the_queue() {
        let t0 = Instant::now();
        let mut p = CarrierPlayout::new(SyncOnInterrupt::Drop);
        p.audio(t0, ms(300));
        p.bye(t0 + ms(100));
        assert_eq!(p.next_due(), Some(t0 + ms(300)));
        assert_eq!(p.poll(t0 + ms(300)), Some(Due::Bye));
        assert_eq!(p.next_due(), None);
    }
}
