//! The RFC 3261 timer values (§17, table 4 of Appendix A) and RFC 6026's Timers L and M.
//!
//! [`Timers`] holds the base values `T1`, `T2`, `T4`, Timer D and the 100 Trying delay; the
//! lettered timers are derived from them exactly as the RFCs define, so shortening `T1` in
//! a test or on a LAN shortens everything that hangs off it.

use std::time::{Duration, Instant};

/// RTT estimate (RFC 3261 §17.1.1.1): the first retransmission interval.
pub const T1: Duration = Duration::from_millis(500);
/// The longest retransmission interval for non-INVITE requests and INVITE responses.
pub const T2: Duration = Duration::from_secs(4);
/// The longest a message stays in the network (RFC 3261 §17.1.2.2).
pub const T4: Duration = Duration::from_secs(5);
/// Timer D on an unreliable transport: "at least 32 seconds" (RFC 3261 §17.1.1.2).
pub const TIMER_D_UDP: Duration = Duration::from_secs(32);
/// A server INVITE transaction sends 100 Trying unless the TU answers within 200 ms
/// (RFC 3261 §17.2.1).
pub const TRYING_DELAY: Duration = Duration::from_millis(200);

/// How many T1 the transaction timeouts B, F, H, J, L and M last.
const TIMEOUT_T1S: u32 = 64;

/// Transaction timer configuration. `Default` is the RFC values for UDP; tests and LAN
/// deployments may shorten them. A zero `t1` or `t2` turns retransmission off (and a zero
/// `t1` makes every transaction time out at once): keep them non-zero on UDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    /// T1, the RTT estimate. Default [`T1`] (500 ms, RFC 3261 §17.1.1.1).
    pub t1: Duration,
    /// T2, the cap on retransmission intervals. Default [`T2`] (4 s, RFC 3261 §17.1.2.2).
    pub t2: Duration,
    /// T4, the maximum message lifetime. Default [`T4`] (5 s, RFC 3261 §17.1.2.2).
    pub t4: Duration,
    /// Timer D, how long a client INVITE transaction absorbs retransmitted non-2xx finals.
    /// Default [`TIMER_D_UDP`] (32 s, RFC 3261 §17.1.1.2).
    pub timer_d: Duration,
    /// How long a server INVITE transaction waits for the TU before sending 100 Trying.
    /// Default [`TRYING_DELAY`] (200 ms, RFC 3261 §17.2.1).
    pub trying: Duration,
}

impl Default for Timers {
    fn default() -> Self {
        Self {
            t1: T1,
            t2: T2,
            t4: T4,
            timer_d: TIMER_D_UDP,
            trying: TRYING_DELAY,
        }
    }
}

impl Timers {
    /// Timer A's first interval, T1; it doubles on each INVITE retransmission.
    pub fn a(&self) -> Duration {
        self.t1
    }

    /// Timer B, the INVITE transaction timeout: 64×T1.
    pub fn b(&self) -> Duration {
        self.timeout()
    }

    /// Timer D, the wait for non-2xx retransmissions after the ACK.
    pub fn d(&self) -> Duration {
        self.timer_d
    }

    /// Timer E's first interval, T1 (capped at T2); it doubles up to T2.
    pub fn e(&self) -> Duration {
        self.t1.min(self.t2)
    }

    /// Timer F, the non-INVITE transaction timeout: 64×T1.
    pub fn f(&self) -> Duration {
        self.timeout()
    }

    /// Timer G's first interval, T1 (capped at T2); it doubles up to T2.
    pub fn g(&self) -> Duration {
        self.t1.min(self.t2)
    }

    /// Timer H, the wait for the ACK to a non-2xx: 64×T1.
    pub fn h(&self) -> Duration {
        self.timeout()
    }

    /// Timer I, the wait for ACK retransmissions: T4.
    pub fn i(&self) -> Duration {
        self.t4
    }

    /// Timer J, the wait for non-INVITE request retransmissions: 64×T1.
    pub fn j(&self) -> Duration {
        self.timeout()
    }

    /// Timer K, the wait for non-INVITE response retransmissions: T4.
    pub fn k(&self) -> Duration {
        self.t4
    }

    /// RFC 6026 Timer L, how long a server INVITE transaction stays `Accepted`: 64×T1.
    pub fn l(&self) -> Duration {
        self.timeout()
    }

    /// RFC 6026 Timer M, how long a client INVITE transaction stays `Accepted`: 64×T1.
    pub fn m(&self) -> Duration {
        self.timeout()
    }

    /// 64×T1, saturating: an absurd T1 never fires rather than overflowing.
    fn timeout(&self) -> Duration {
        self.t1.checked_mul(TIMEOUT_T1S).unwrap_or(Duration::MAX)
    }
}

/// `now + after`, or `None` (never) when that is past the end of `Instant`.
pub(super) fn deadline(now: Instant, after: Duration) -> Option<Instant> {
    now.checked_add(after)
}

/// Whether an optional deadline has passed at `now`.
pub(super) fn due(deadline: Option<Instant>, now: Instant) -> bool {
    deadline.is_some_and(|at| at <= now)
}

/// The earliest of some optional deadlines.
pub(super) fn earliest<const N: usize>(deadlines: [Option<Instant>; N]) -> Option<Instant> {
    deadlines.into_iter().flatten().min()
}

/// A retransmission timer (A, E, G): when it fires next and the interval that got it there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Retransmit {
    /// When the next retransmission is due; `None`: never.
    pub(super) at: Option<Instant>,
    /// The interval that led to `at`.
    interval: Duration,
    /// The cap on the interval (T2 for E and G), or `None` (A doubles without limit).
    cap: Option<Duration>,
}

impl Retransmit {
    /// A timer first due `first` after `now`, doubling up to `cap`.
    /// A zero interval never fires: it would retransmit on every poll.
    pub(super) fn start(now: Instant, first: Duration, cap: Option<Duration>) -> Self {
        Self {
            at: deadline(now, first).filter(|_| !first.is_zero()),
            interval: first,
            cap,
        }
    }

    /// A timer that is not running.
    pub(super) fn idle() -> Self {
        Self {
            at: None,
            interval: Duration::ZERO,
            cap: None,
        }
    }

    /// Reschedules after firing: the next deadline counts from the one that fired, not from
    /// a late `now`, so the schedule is the RFC's even when the driver is late.
    pub(super) fn fired(&mut self) {
        let doubled = self.interval.checked_mul(2).unwrap_or(Duration::MAX);
        self.interval = self.cap.map_or(doubled, |cap| doubled.min(cap));
        self.at = self
            .at
            .and_then(|at| at.checked_add(self.interval))
            .filter(|_| !self.interval.is_zero());
    }

    /// Pins the interval to `interval` from now on (Timer E in `Proceeding` uses T2).
    pub(super) fn pin(&mut self, interval: Duration) {
        self.interval = interval;
        self.cap = Some(interval);
    }
}
