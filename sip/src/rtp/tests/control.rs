//! RTCP between two sessions: reports, round trip, loss, BYE and rtcp-mux.

use std::time::{Duration, Instant};

use voxgate_media::rtp::Ssrc;

use super::latching::pcmu;
use super::link::{Net, Peer};
use super::{A, B, Event, Sent, addr, drain_events, drain_transmit, ms, session};
use crate::codec::AudioCodec;
use crate::rtp::rtcp::{Compound, ReportBlock, RtcpPacket, RtcpWriter};
use crate::rtp::{RtpConfig, RtpSessionErrorKind};

fn pair(t0: Instant) -> Net {
    let config = RtpConfig::default();
    let a = Peer::new(session(config, AudioCodec::Pcmu, B, 0xa, t0), addr(A));
    let b = Peer::new(session(config, AudioCodec::Pcmu, A, 0xb, t0), addr(B));
    Net::new(t0, a, b)
}

/// The RTCP compounds a peer sent.
fn rtcp(sent: &[Sent]) -> Vec<&Sent> {
    sent.iter().filter(|s| s.is_rtcp()).collect()
}

/// The report block about `about` in a compound, and whether the report was an SR.
fn block(bytes: &[u8], about: u32) -> (bool, Option<ReportBlock>) {
    let compound = Compound::parse(bytes).expect("the session writes valid RTCP");
    let first = compound.packets().next();
    let (sr, reports) = match first {
        Some(RtcpPacket::SenderReport { reports, .. }) => (true, reports),
        Some(RtcpPacket::ReceiverReport { reports, .. }) => (false, reports),
        other => panic!("a report first, not {other:?}"),
    };
    (sr, reports.iter().find(|b| b.ssrc == Ssrc(about)))
}

#[test]
fn reports_go_both_ways_and_measure_the_round_trip() {
    let t0 = Instant::now();
    let mut net = pair(t0);
    net.run_until(t0 + ms(11_000));

    let sent = rtcp(&net.a.sent);
    let times: Vec<Duration> = sent.iter().map(|s| s.at - t0).collect();
    assert_eq!(times, [ms(5000), ms(10_000)], "every rtcp_interval");
    assert!(
        sent.iter()
            .all(|s| s.t.rtcp && s.t.to == addr("198.51.100.20:6001"))
    );
    let compound = Compound::parse(&sent[0].bytes).expect("valid");
    let cname = compound.packets().find_map(|p| match p {
        RtcpPacket::SourceDescription(sdes) => sdes.cname(),
        _ => None,
    });
    assert_eq!(cname, Some((Ssrc(0xa), &b"voxgate-0000000a"[..])));
    let (sr, about_b) = block(&sent[1].bytes, 0xb);
    let about_b = about_b.expect("a block about B");
    assert!(sr, "A sent RTP, so an SR");
    assert_eq!((about_b.cumulative_lost, about_b.fraction_lost), (0, 0));
    assert_ne!(about_b.last_sr, 0, "B's SR of 5 s was echoed");
    assert_eq!(
        about_b.delay_since_last_sr,
        4970 * 65536 / 1000,
        "held 4.97 s"
    );

    for peer in [&net.a, &net.b] {
        let rtt = peer.s.stats().round_trip.expect("measured");
        assert!(rtt.abs_diff(ms(60)) < ms(1), "two 30 ms links: {rtt:?}");
        assert_eq!(peer.s.stats().rtcp_received, 2);
    }
}

#[test]
fn loss_shows_in_the_receiver_report() {
    let t0 = Instant::now();
    let mut net = pair(t0);
    net.ab.loss = |n| n % 10 == 3;
    net.run_until(t0 + ms(10_000));

    let (_, about_a) = block(&rtcp(&net.b.sent)[1].bytes, 0xa);
    let about_a = about_a.expect("a block about A");
    // 250 packets between the reports, one in ten lost: 25/250 of 256 is 25.6.
    assert!((24..=27).contains(&about_a.fraction_lost), "{about_a:?}");
    assert!((48..=52).contains(&about_a.cumulative_lost), "{about_a:?}");
    assert_eq!(i64::from(about_a.cumulative_lost), net.b.s.stats().lost);
}

#[test]
fn close_sends_bye_and_the_peer_hears_it_once() {
    let t0 = Instant::now();
    let mut net = pair(t0);
    net.run_until(t0 + ms(1000));
    net.a.s.close(t0 + ms(1000));
    let last = drain_transmit(&mut net.a.s, t0 + ms(1000));
    assert_eq!(last.len(), 1, "the BYE compound, and no RTP");
    let kinds: Vec<&str> = Compound::parse(&last[0].bytes)
        .expect("valid")
        .packets()
        .map(|p| match p {
            RtcpPacket::SenderReport { .. } => "SR",
            RtcpPacket::ReceiverReport { .. } => "RR",
            RtcpPacket::SourceDescription(_) => "SDES",
            RtcpPacket::Bye(_) => "BYE",
            RtcpPacket::Other { .. } => "other",
        })
        .collect();
    assert_eq!(kinds, ["SR", "SDES", "BYE"]);
    assert_eq!(net.a.s.poll_timeout(), None, "nothing more to do");
    let closed = net
        .a
        .s
        .send_audio(t0 + ms(1000), &[0; 160])
        .map_err(|e| e.code());
    assert_eq!(closed, Err(RtpSessionErrorKind::Closed.code()));

    // Deliver it (twice: a retransmission must not give a second event).
    for _ in 0..2 {
        net.b
            .s
            .handle_rtcp(t0 + ms(1030), addr("192.0.2.10:4001"), &last[0].bytes);
    }
    let events = drain_events(&mut net.b.s);
    let byes = events.iter().filter(|e| **e == Event::Bye).count();
    assert_eq!(byes, 1);
}

#[test]
fn rtcp_on_the_rtp_port_switches_to_mux() {
    let t0 = Instant::now();
    let mut s = session(RtpConfig::default(), AudioCodec::Pcmu, A, 1, t0);
    let x = addr("192.0.2.1:1000");
    s.handle_rtp(t0, x, &pcmu(1, 7));
    let mut buf = [0u8; 200];
    let mut w = RtcpWriter::new(&mut buf);
    w.receiver_report(Ssrc(7), &[]).expect("fits");
    w.bye(Ssrc(7)).expect("fits");
    let len = w.len();
    s.handle_rtp(t0 + ms(10), x, &buf[..len]);
    let stats = s.stats();
    assert_eq!(
        (stats.rtcp_received, stats.malformed, stats.rtcp_remote),
        (1, 0, x)
    );
    let events = drain_events(&mut s);
    assert!(events.contains(&Event::Bye));

    let report = drain_transmit(&mut s, t0 + ms(5000))
        .into_iter()
        .find(Sent::is_rtcp)
        .expect("a report at 5 s");
    assert_eq!(
        (report.t.to, report.t.rtcp),
        (x, false),
        "sent on the RTP port"
    );
}

#[test]
fn rtcp_from_another_stream_is_refused() {
    let t0 = Instant::now();
    let mut s = session(RtpConfig::default(), AudioCodec::Pcmu, A, 1, t0);
    let x = addr("192.0.2.1:1000");
    s.handle_rtp(t0, x, &pcmu(1, 7));
    let mut buf = [0u8; 200];
    let mut w = RtcpWriter::new(&mut buf);
    w.bye(Ssrc(99)).expect("fits");
    let len = w.len();
    s.handle_rtcp(t0 + ms(10), addr("192.0.2.66:1001"), &buf[..len]);
    s.handle_rtcp(t0 + ms(10), x, &[0x80, 201, 0, 5, 1, 2]);
    let stats = s.stats();
    assert_eq!((stats.rtcp_received, stats.rtcp_refused), (0, 2));
    assert_eq!(
        stats.rtcp_remote,
        addr("192.0.2.10:4001"),
        "still the SDP's"
    );
    assert!(!drain_events(&mut s).contains(&Event::Bye));
}
