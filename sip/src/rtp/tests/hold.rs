//! Hold and resume (RFC 3264 §8.4), and the media timeout.

use std::time::Instant;

use voxgate_media::rtp::Ssrc;

use super::latching::pcmu;
use super::link::{Net, Peer};
use super::{A, B, Event, addr, ms, params, ramp, run_alone, session};
use crate::codec::{AudioCodec, Direction};
use crate::rtp::{RtpConfig, RtpSession};

#[test]
fn nothing_goes_out_while_our_direction_does_not_send() {
    for direction in [Direction::RecvOnly, Direction::Inactive] {
        let t0 = Instant::now();
        let config = RtpConfig::default();
        let a = Peer::new(session(config, AudioCodec::Pcmu, B, 0xa, t0), addr(A));
        let b = Peer::new(session(config, AudioCodec::Pcmu, A, 0xb, t0), addr(B));
        let mut net = Net::new(t0, a, b);
        net.run_until(t0 + ms(1000));
        let mut held = params(AudioCodec::Pcmu, B);
        held.direction = direction;
        net.a.s.update(&held, t0 + ms(1000)).expect("valid");
        net.a.to_send.extend((0..20).map(|n| ramp(n, 160)));
        net.run_until(t0 + ms(3000));

        let during = net.a.rtp_sent().filter(|s| s.at > t0 + ms(1000)).count();
        assert_eq!(during, 0, "{direction:?}: no RTP on hold");
        let stats = net.a.s.stats();
        assert_eq!(
            (stats.discarded_frames, net.a.s.buffered(t0)),
            (20, ms(0)),
            "{direction:?}"
        );

        net.a
            .s
            .update(&params(AudioCodec::Pcmu, B), t0 + ms(3000))
            .expect("resume");
        net.run_until(t0 + ms(3100));
        let packets: Vec<_> = net.a.rtp_sent().map(|s| (s.at, s.rtp().header)).collect();
        let (before, after) = packets.split_at(51); // slots 0-50, up to 1000 ms
        let (last, first) = (before[50].1, after[0].1);
        assert_eq!(
            after[0].0,
            t0 + ms(3000),
            "{direction:?}: on the resume slot"
        );
        assert!(first.marker, "{direction:?}: a new stream");
        assert_eq!(
            first.sequence,
            last.sequence.wrapping_add(1),
            "{direction:?}"
        );
        assert_eq!(
            first.timestamp - last.timestamp,
            100 * 160,
            "{direction:?}: 2 s later"
        );
        assert_eq!(net.a.s.stats().skipped_slots, 0, "{direction:?}");
    }
}

#[test]
fn an_unspecified_address_is_hold() {
    let t0 = Instant::now();
    let p = params(AudioCodec::Pcmu, "0.0.0.0:0");
    let mut s = RtpSession::new(RtpConfig::default(), &p, Ssrc(1), 0, 0, t0).expect("valid");
    s.send_audio(t0, &ramp(0, 160)).expect("fits");
    let run = run_alone(&mut s, t0, t0 + ms(6000));
    assert!(
        run.sent.is_empty(),
        "neither RTP nor RTCP: {:?}",
        run.sent.len()
    );
    assert_eq!(s.stats().discarded_frames, 1);
}

/// The instants `MediaTimeout` came at.
fn timeouts(events: &[(Instant, Event)]) -> Vec<Instant> {
    let timeouts = events.iter().filter(|(_, e)| *e == Event::Timeout);
    timeouts.map(|(at, _)| *at).collect()
}

#[test]
fn media_timeout_comes_once_and_rearms() {
    let t0 = Instant::now();
    let mut s = session(RtpConfig::default(), AudioCodec::Pcmu, B, 1, t0);
    let run = run_alone(&mut s, t0, t0 + ms(65_000));
    assert_eq!(timeouts(&run.events), [t0 + ms(30_000)]);

    s.handle_rtp(t0 + ms(65_000), addr(B), &pcmu(1, 7));
    let run = run_alone(&mut s, t0 + ms(65_000), t0 + ms(130_000));
    assert_eq!(
        timeouts(&run.events),
        [t0 + ms(95_000)],
        "30 s after the last packet"
    );
}

#[test]
fn no_media_timeout_on_hold() {
    for direction in [
        Direction::SendOnly,
        Direction::RecvOnly,
        Direction::Inactive,
    ] {
        let t0 = Instant::now();
        let mut p = params(AudioCodec::Pcmu, B);
        p.direction = direction;
        let mut s = RtpSession::new(RtpConfig::default(), &p, Ssrc(1), 0, 0, t0).expect("valid");
        let run = run_alone(&mut s, t0, t0 + ms(40_000));
        assert_eq!(timeouts(&run.events), [], "{direction:?}");
        // Resuming arms it, counted from the resume.
        s.update(&params(AudioCodec::Pcmu, B), t0 + ms(40_000))
            .expect("resume");
        let run = run_alone(&mut s, t0 + ms(40_000), t0 + ms(80_000));
        assert_eq!(timeouts(&run.events), [t0 + ms(70_000)], "{direction:?}");
    }
}
