//! Session tests on a virtual clock: two sessions back to back through a simulated link,
//! or one session and a hand-driven clock.

mod audio;
mod control;
mod dtmf;
mod garbage;
mod hold;
mod latching;
mod link;
mod pacing;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use voxgate_media::rtp::{RtpPacket, Ssrc};

use super::{RtpConfig, RtpEvent, RtpSession, Transmit};
use crate::codec::{AudioCodec, Direction, MediaParams};

/// Where A's RTP socket is (and what its SDP says).
const A: &str = "192.0.2.10:4000";
/// Where B's RTP socket is.
const B: &str = "198.51.100.20:6000";
/// The telephone-event payload type both sides use.
const DTMF_PT: u8 = 101;

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("a test address")
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Media params for `codec` sending to `remote`.
fn params(codec: AudioCodec, remote: &str) -> MediaParams {
    MediaParams {
        codec,
        payload_type: codec.static_payload_type().unwrap_or(111),
        dtmf_payload_type: Some(DTMF_PT),
        ptime_ms: 20,
        remote: addr(remote),
        direction: Direction::SendRecv,
    }
}

/// A session for `codec` toward `remote`, SSRC `ssrc`, started at `t0`.
fn session(
    config: RtpConfig,
    codec: AudioCodec,
    remote: &str,
    ssrc: u32,
    t0: Instant,
) -> RtpSession {
    RtpSession::new(config, &params(codec, remote), Ssrc(ssrc), 1000, 50_000, t0)
        .expect("a valid session")
}

/// One datagram a session sent.
#[derive(Debug, Clone)]
struct Sent {
    at: Instant,
    t: Transmit,
    bytes: Vec<u8>,
}

impl Sent {
    /// Whether it is RTCP (by its second byte, RFC 5761 §4).
    fn is_rtcp(&self) -> bool {
        self.bytes.get(1).is_some_and(|b| (192..=223).contains(b))
    }

    fn rtp(&self) -> RtpPacket<'_> {
        RtpPacket::parse(&self.bytes).expect("the session writes valid RTP")
    }
}

/// Everything due from `s` at `now`.
fn drain_transmit(s: &mut RtpSession, now: Instant) -> Vec<Sent> {
    let mut buf = [0u8; 1500];
    std::iter::from_fn(|| {
        let t = s.poll_transmit(now, &mut buf)?;
        let bytes = buf.get(..t.len).expect("len within the buffer").to_vec();
        Some(Sent { at: now, t, bytes })
    })
    .collect()
}

/// Every event ready, frames recycled after their samples were copied out.
fn drain_events(s: &mut RtpSession) -> Vec<Event> {
    let mut out = Vec::new();
    while let Some(event) = s.poll_event() {
        out.push(match event {
            RtpEvent::CallerAudio(frame) => {
                let samples = frame.samples().to_vec();
                s.recycle(frame);
                Event::Audio(samples)
            }
            RtpEvent::Dtmf(d) => Event::Dtmf(d),
            RtpEvent::RemoteBye => Event::Bye,
            RtpEvent::MediaTimeout => Event::Timeout,
        });
    }
    out
}

/// An event with the frame's samples copied, so tests can keep it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    Audio(Vec<i16>),
    Dtmf(char),
    Bye,
    Timeout,
}

/// What a session did while running alone.
#[derive(Debug, Default)]
struct Run {
    sent: Vec<Sent>,
    events: Vec<(Instant, Event)>,
}

/// Runs one session alone from `from` to `until`, waking exactly at its deadlines.
fn run_alone(s: &mut RtpSession, from: Instant, until: Instant) -> Run {
    let mut run = Run {
        sent: drain_transmit(s, from),
        events: Vec::new(),
    };
    let (mut now, mut last) = (from, None);
    while let Some(at) = s.poll_timeout().filter(|&at| at <= until) {
        now = at.max(now);
        s.handle_timeout(now);
        let events = drain_events(s);
        let more = drain_transmit(s, now);
        let moved = !more.is_empty() || !events.is_empty() || last != Some(at);
        assert!(moved, "stuck at a deadline that does not move");
        last = Some(at);
        run.events.extend(events.into_iter().map(|e| (now, e)));
        run.sent.extend(more);
    }
    run
}

/// A recognisable frame: a ramp offset by `n`, at `len` samples.
fn ramp(n: usize, len: usize) -> Vec<i16> {
    (0..len)
        .map(|i| ((i * 97 + n * 1013) % 16_000) as i16 - 8000)
        .collect()
}
