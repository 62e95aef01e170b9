//! RFC 4733 DTMF out of A and into B.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use voxgate_media::rtp::{Ssrc, TelephoneEvent};

use super::link::{Net, Peer};
use super::{A, B, DTMF_PT, Event, addr, ms, params, session};
use crate::codec::{AudioCodec, Direction};
use crate::rtp::{RtpConfig, RtpSession};

#[test]
fn digits_go_out_and_come_back_once_each() {
    let t0 = Instant::now();
    let config = RtpConfig::default();
    let a = Peer::new(session(config, AudioCodec::Pcmu, B, 0xa, t0), addr(A));
    let b = Peer::new(session(config, AudioCodec::Pcmu, A, 0xb, t0), addr(B));
    let mut net = Net::new(t0, a, b);
    net.run_until(t0 + ms(100));
    net.a
        .s
        .send_dtmf(t0 + ms(100), '5', ms(100))
        .expect("negotiated");
    net.a
        .s
        .send_dtmf(t0 + ms(100), '#', ms(50))
        .expect("queued behind");
    net.run_until(t0 + ms(1000));

    assert_eq!(net.b.signals(), [Event::Dtmf('5'), Event::Dtmf('#')]);

    // A's telephone-event packets, grouped by event timestamp.
    let mut events: BTreeMap<u32, Vec<(bool, TelephoneEvent)>> = BTreeMap::new();
    for sent in net.a.rtp_sent() {
        let p = sent.rtp();
        if p.header.payload_type == DTMF_PT {
            let event = TelephoneEvent::parse(p.payload).expect("4 bytes");
            events
                .entry(p.header.timestamp)
                .or_default()
                .push((p.header.marker, event));
        }
    }
    let want = [(5u8, 5u16), (11, 3)]; // 100 ms = 5 frames, 50 ms rounds up to 3
    assert_eq!(events.len(), want.len());
    for ((_, packets), (code, frames)) in events.iter().zip(want) {
        let n = usize::from(frames);
        assert_eq!(
            packets.len(),
            n + 2,
            "event {code}: growing, then the end three times"
        );
        for (i, (marker, e)) in packets.iter().enumerate() {
            let duration = 160 * (i.min(n - 1) as u16 + 1);
            assert_eq!(e.event, code);
            assert_eq!(*marker, i == 0, "marker on the first packet only");
            assert_eq!(e.end, i >= n - 1, "E bit on the last three");
            assert_eq!(e.duration, duration, "packet {i} of event {code}");
        }
    }
    // Sequence numbers stay continuous around the events.
    let seqs: Vec<u16> = net.a.rtp_sent().map(|s| s.rtp().header.sequence).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0].wrapping_add(1)));
}

#[test]
fn refused_digits() {
    let t0 = Instant::now();
    let code = |r: Result<(), crate::SipError>| r.map_err(|e| e.code());
    let mut s = session(RtpConfig::default(), AudioCodec::Pcmu, B, 1, t0);
    assert_eq!(
        code(s.send_dtmf(t0, 'x', ms(100))),
        Err("RTP_INVALID_DIGIT")
    );
    for _ in 0..16 {
        assert_eq!(code(s.send_dtmf(t0, '1', ms(100))), Ok(()));
    }
    assert_eq!(
        code(s.send_dtmf(t0, '1', ms(100))),
        Err("RTP_DTMF_QUEUE_FULL")
    );

    let mut none = params(AudioCodec::Pcmu, B);
    none.dtmf_payload_type = None;
    let mut s = RtpSession::new(RtpConfig::default(), &none, Ssrc(1), 0, 0, t0).expect("valid");
    assert_eq!(
        code(s.send_dtmf(t0, '1', ms(100))),
        Err("RTP_DTMF_NOT_NEGOTIATED")
    );

    let mut held = params(AudioCodec::Pcmu, B);
    held.direction = Direction::Inactive;
    let mut s = RtpSession::new(RtpConfig::default(), &held, Ssrc(1), 0, 0, t0).expect("valid");
    assert_eq!(code(s.send_dtmf(t0, '1', ms(100))), Err("RTP_NOT_SENDING"));
    s.close(t0);
    assert_eq!(
        code(s.send_dtmf(t0, '1', Duration::ZERO)),
        Err("RTP_SESSION_CLOSED")
    );
}
