//! Symmetric RTP: where packets go, and who may move that.

use std::net::SocketAddr;
use std::time::Instant;

use voxgate_media::rtp::{RtpHeader, Ssrc};

use super::link::{Net, Peer};
use super::{A, B, addr, drain_events, ms, params, session};
use crate::codec::AudioCodec;
use crate::rtp::{RtpConfig, RtpSession};

/// A PCMU packet (payload type 0, 160 bytes) from `ssrc`.
pub(super) fn pcmu(seq: u16, ssrc: u32) -> Vec<u8> {
    let mut buf = vec![0u8; 172];
    let header = RtpHeader::new(0, seq, u32::from(seq) * 160, Ssrc(ssrc));
    let len = header.write(&[0x55; 160], &mut buf).expect("fits");
    buf.truncate(len);
    buf
}

#[test]
fn a_nat_rewritten_source_moves_the_destination() {
    let t0 = Instant::now();
    let config = RtpConfig::default();
    // A is behind a NAT: its SDP says 10.0.0.5:4000, the world sees 203.0.113.7:31000.
    let public: SocketAddr = addr("203.0.113.7:31000");
    let a = Peer::new(session(config, AudioCodec::Pcmu, B, 0xa, t0), public);
    let b = Peer::new(
        session(config, AudioCodec::Pcmu, "10.0.0.5:4000", 0xb, t0),
        addr(B),
    );
    let mut net = Net::new(t0, a, b);

    net.run_until(t0 + ms(25));
    assert_eq!(
        net.b.s.stats().remote,
        addr("10.0.0.5:4000"),
        "the SDP address first"
    );
    assert!(!net.b.s.stats().latched);
    net.run_until(t0 + ms(1000));
    let stats = net.b.s.stats();
    assert_eq!((stats.remote, stats.latched), (public, true));
    // B's first two packets (0 and 20 ms, before A's first arrived at 30 ms) were lost.
    assert_eq!(net.ba.unreachable, 2);
    assert!(net.a.audio().len() > 40, "A hears B once B follows the NAT");

    net.run_until(t0 + ms(5100));
    let stats = net.b.s.stats();
    assert_eq!(
        stats.rtcp_remote,
        addr("203.0.113.7:31001"),
        "RTCP latches too"
    );
    assert_eq!(stats.rtcp_received, 1);
}

#[test]
fn stray_packets_do_not_hijack_the_stream() {
    let t0 = Instant::now();
    let mut s = session(RtpConfig::default(), AudioCodec::Pcmu, A, 1, t0);
    let (x, y, z) = (
        addr("192.0.2.1:1000"),
        addr("192.0.2.2:2000"),
        addr("192.0.2.3:3000"),
    );
    // (at ms, from, ssrc, accepted, destination after)
    let table = [
        (0, x, 7, true, x),      // the first valid packet latches
        (20, y, 8, false, x),    // another address, another SSRC: refused
        (40, x, 9, false, x),    // another SSRC from the latched address, no gap: refused
        (60, y, 7, true, y),     // the same SSRC from a new address: NAT rebinding
        (80, x, 7, true, x),     // and back
        (2079, z, 10, false, x), // another SSRC elsewhere after 1999 ms: refused
        (2080, z, 10, true, z),  // after 2 s of silence: a new stream takes over
        (2179, z, 11, false, z), // a new SSRC at the latched address 99 ms on: refused
        (2180, z, 11, true, z),  // after 100 ms: a restarted stream
    ];
    let mut seq = 0;
    for (at, from, ssrc, accepted, destination) in table {
        let before = s.stats().packets_received;
        seq += 1;
        s.handle_rtp(t0 + ms(at), from, &pcmu(seq, ssrc));
        let stats = s.stats();
        assert_eq!(stats.packets_received > before, accepted, "at {at} ms");
        assert_eq!(stats.remote, destination, "at {at} ms");
        drain_events(&mut s);
    }
    assert_eq!(s.stats().foreign, 4);
}

#[test]
fn an_update_allows_a_new_ssrc_at_once() {
    let t0 = Instant::now();
    let mut s = session(RtpConfig::default(), AudioCodec::Pcmu, A, 1, t0);
    let x = addr("192.0.2.1:1000");
    s.handle_rtp(t0, x, &pcmu(1, 7));
    s.handle_rtp(t0 + ms(20), x, &pcmu(2, 8));
    assert_eq!(s.stats().foreign, 1);
    s.update(&params(AudioCodec::Pcmu, A), t0 + ms(30))
        .expect("same params");
    s.handle_rtp(t0 + ms(40), x, &pcmu(3, 8));
    assert_eq!((s.stats().foreign, s.stats().packets_received), (1, 2));
    // A new SDP address drops the latch: the next valid packet latches again.
    s.update(&params(AudioCodec::Pcmu, B), t0 + ms(50))
        .expect("new remote");
    assert_eq!((s.stats().remote, s.stats().latched), (addr(B), false));
    let y = addr("192.0.2.2:2000");
    s.handle_rtp(t0 + ms(60), y, &pcmu(4, 8));
    assert_eq!((s.stats().remote, s.stats().latched), (y, true));
}

#[test]
fn garbage_is_counted_and_never_latches() {
    let t0 = Instant::now();
    let mut s: RtpSession = session(RtpConfig::default(), AudioCodec::Pcmu, A, 1, t0);
    let y = addr("192.0.2.2:2000");
    let mut unknown = pcmu(1, 7);
    unknown[1] = 96; // a payload type nobody negotiated
    let mut version1 = pcmu(1, 7);
    version1[0] = 0x40;
    let datagrams: [&[u8]; 5] = [&[], &[0x80], &[0x80; 11], &version1, &unknown];
    for d in datagrams {
        s.handle_rtp(t0, y, d);
    }
    let stats = s.stats();
    assert_eq!((stats.malformed, stats.unknown_payload_type), (4, 1));
    assert_eq!(
        (stats.remote, stats.latched, stats.packets_received),
        (addr(A), false, 0)
    );
    // Comfort noise (PT 13) is a valid packet of the stream: it latches, and is not audio.
    let mut cn = pcmu(2, 7);
    cn[1] = 13;
    s.handle_rtp(t0 + ms(1), y, &cn);
    assert_eq!((s.stats().remote, s.stats().packets_received), (y, 1));
    s.handle_timeout(t0 + ms(500));
    assert!(
        drain_events(&mut s).is_empty(),
        "comfort noise is not caller audio"
    );
}
