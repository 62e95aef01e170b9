//! Two sessions back to back through a simulated network with delay, jitter and loss, on a
//! virtual clock.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::{Event, RtpSession, Sent, drain_events, drain_transmit};

/// One side of the call.
pub(super) struct Peer {
    pub(super) s: RtpSession,
    /// The address the other side sees this peer's RTP come from, and must send to (its
    /// RTCP is on the next port). Behind a NAT it is not the one in the SDP.
    pub(super) public: SocketAddr,
    /// Agent audio still to give to `send_audio`, paced by `can_send` like the pipeline.
    pub(super) to_send: VecDeque<Vec<i16>>,
    pub(super) events: Vec<(Instant, Event)>,
    pub(super) sent: Vec<Sent>,
}

impl Peer {
    pub(super) fn new(s: RtpSession, public: SocketAddr) -> Self {
        Self {
            s,
            public,
            to_send: VecDeque::new(),
            events: Vec::new(),
            sent: Vec::new(),
        }
    }

    /// The caller frames received, in order.
    pub(super) fn audio(&self) -> Vec<&[i16]> {
        let frames = self.events.iter().filter_map(|(_, e)| match e {
            Event::Audio(samples) => Some(samples.as_slice()),
            _ => None,
        });
        frames.collect()
    }

    /// The events other than caller audio, in order.
    pub(super) fn signals(&self) -> Vec<Event> {
        let signals = self.events.iter().map(|(_, e)| e);
        signals
            .filter(|e| !matches!(e, Event::Audio(_)))
            .cloned()
            .collect()
    }

    /// The RTP packets sent (not RTCP).
    pub(super) fn rtp_sent(&self) -> impl Iterator<Item = &Sent> {
        self.sent.iter().filter(|s| !s.is_rtcp())
    }

    fn pump(&mut self, now: Instant) {
        while self.s.can_send(now) {
            let Some(frame) = self.to_send.pop_front() else {
                break;
            };
            self.s.send_audio(now, &frame).expect("a frame that fits");
        }
    }
}

/// One direction of the network.
pub(super) struct Link {
    pub(super) delay: Duration,
    /// Whether the n-th datagram (from 0) is lost.
    pub(super) loss: fn(u64) -> bool,
    /// The extra delay of the n-th datagram.
    pub(super) jitter: fn(u64) -> Duration,
    count: u64,
    /// (arrival, source address, datagram).
    in_flight: Vec<(Instant, SocketAddr, Sent)>,
    /// Datagrams sent to an address nobody listens on.
    pub(super) unreachable: u64,
}

impl Link {
    pub(super) fn new(delay: Duration) -> Self {
        Self {
            delay,
            loss: |_| false,
            jitter: |_| Duration::ZERO,
            count: 0,
            in_flight: Vec::new(),
            unreachable: 0,
        }
    }

    fn send(&mut self, from: SocketAddr, sent: Sent) {
        let n = self.count;
        self.count += 1;
        if !(self.loss)(n) {
            let at = sent.at + self.delay + (self.jitter)(n);
            self.in_flight.push((at, from, sent));
        }
    }

    fn next(&self) -> Option<Instant> {
        self.in_flight.iter().map(|(at, _, _)| *at).min()
    }

    /// Datagrams arrived by `now`, in arrival order.
    fn arrived(&mut self, now: Instant) -> Vec<(Instant, SocketAddr, Sent)> {
        let (mut due, keep) = self.in_flight.drain(..).partition(|(at, _, _)| *at <= now);
        self.in_flight = keep;
        let due: &mut Vec<_> = &mut due;
        due.sort_by_key(|(at, _, _)| *at);
        std::mem::take(due)
    }
}

/// A and B and the links between them.
pub(super) struct Net {
    pub(super) a: Peer,
    pub(super) b: Peer,
    pub(super) ab: Link,
    pub(super) ba: Link,
    pub(super) now: Instant,
}

impl Net {
    /// Two peers with 30 ms links each way.
    pub(super) fn new(t0: Instant, a: Peer, b: Peer) -> Self {
        Self {
            a,
            b,
            ab: Link::new(Duration::from_millis(30)),
            ba: Link::new(Duration::from_millis(30)),
            now: t0,
        }
    }

    /// Runs both sessions, waking at every deadline and arrival, until `until`.
    pub(super) fn run_until(&mut self, until: Instant) {
        let mut stalls = 0;
        loop {
            let deadlines = [
                self.a.s.poll_timeout(),
                self.b.s.poll_timeout(),
                self.ab.next(),
                self.ba.next(),
            ];
            let next = deadlines
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(until)
                .min(until);
            stalls = if next <= self.now { stalls + 1 } else { 0 };
            assert!(
                stalls < 100,
                "the sessions keep asking for {next:?} without moving on"
            );
            self.now = self.now.max(next);
            self.service();
            if next >= until {
                return;
            }
        }
    }

    /// Everything at `self.now`: arrivals, timers, agent audio, events and transmissions.
    fn service(&mut self) {
        let now = self.now;
        for (at, from, d) in self.ab.arrived(now) {
            deliver(&mut self.b, at, from, &d, &mut self.ab.unreachable);
        }
        for (at, from, d) in self.ba.arrived(now) {
            deliver(&mut self.a, at, from, &d, &mut self.ba.unreachable);
        }
        for (peer, link) in [(&mut self.a, &mut self.ab), (&mut self.b, &mut self.ba)] {
            peer.s.handle_timeout(now);
            peer.pump(now);
            let events = drain_events(&mut peer.s);
            peer.events.extend(events.into_iter().map(|e| (now, e)));
            for sent in drain_transmit(&mut peer.s, now) {
                let from = source(peer.public, sent.t.rtcp);
                peer.sent.push(sent.clone());
                link.send(from, sent);
            }
        }
    }
}

/// The address a datagram leaves from: the RTP port, or the next for RTCP.
fn source(public: SocketAddr, rtcp: bool) -> SocketAddr {
    let mut from = public;
    if rtcp {
        from.set_port(public.port() + 1);
    }
    from
}

/// Hands a datagram to `peer` if it was sent to one of its sockets.
fn deliver(peer: &mut Peer, at: Instant, from: SocketAddr, d: &Sent, unreachable: &mut u64) {
    if d.t.to != source(peer.public, d.t.rtcp) {
        *unreachable += 1;
    } else if d.t.rtcp {
        peer.s.handle_rtcp(at, from, &d.bytes);
    } else {
        peer.s.handle_rtp(at, from, &d.bytes);
    }
}
