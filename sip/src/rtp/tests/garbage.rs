//! Property tests: no datagram, however mangled, makes the session panic.

use std::time::Instant;

use proptest::prelude::*;
use voxgate_media::rtp::Ssrc;

use super::latching::pcmu;
use super::{A, addr, drain_events, drain_transmit, ms, session};
use crate::codec::AudioCodec;
use crate::rtp::RtpConfig;
use crate::rtp::rtcp::{Compound, ReportBlock, RtcpPacket, RtcpWriter, SenderInfo};

/// A valid compound (SR with a block, SDES, BYE) to mangle.
fn compound() -> Vec<u8> {
    let mut buf = vec![0u8; 200];
    let mut w = RtcpWriter::new(&mut buf);
    let block = ReportBlock {
        ssrc: Ssrc(1),
        fraction_lost: 3,
        cumulative_lost: -2,
        highest_seq: 70_000,
        jitter: 12,
        last_sr: 5,
        delay_since_last_sr: 6,
    };
    w.sender_report(Ssrc(7), &SenderInfo::default(), &[block])
        .expect("fits");
    w.cname(Ssrc(7), b"x@y").expect("fits");
    w.bye(Ssrc(7)).expect("fits");
    let len = w.len();
    buf.truncate(len);
    buf
}

/// Reads everything a parsed compound offers.
fn read_all(bytes: &[u8]) {
    if let Ok(c) = Compound::parse(bytes) {
        let _ = c.sender();
        for p in c.packets() {
            match p {
                RtcpPacket::SenderReport { reports, .. }
                | RtcpPacket::ReceiverReport { reports, .. } => {
                    let _ = reports.iter().count();
                }
                RtcpPacket::SourceDescription(sdes) => {
                    let _ = sdes.cname();
                }
                RtcpPacket::Bye(bye) => {
                    let _ = (bye.ssrcs().count(), bye.reason());
                }
                RtcpPacket::Other { .. } => {}
            }
        }
    }
}

/// Up to 8 datagrams of up to 300 arbitrary bytes.
fn datagrams() -> impl Strategy<Value = Vec<Vec<u8>>> {
    proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 1..8)
}

/// Valid datagrams with some bytes overwritten.
fn mangled() -> impl Strategy<Value = Vec<u8>> {
    let base = prop_oneof![Just(pcmu(1, 7)), Just(compound())];
    (
        base,
        proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
        any::<usize>(),
    )
        .prop_map(|(mut bytes, edits, cut)| {
            for (at, value) in edits {
                let n = bytes.len();
                bytes[at % n] = value;
            }
            bytes.truncate(cut % (bytes.len() + 1));
            bytes
        })
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(datagrams in datagrams()) {
        let t0 = Instant::now();
        let mut s = session(RtpConfig::default(), AudioCodec::Pcmu, A, 1, t0);
        for (i, d) in datagrams.iter().enumerate() {
            let at = t0 + ms(i as u64 * 7);
            s.handle_rtp(at, addr("192.0.2.1:1000"), d);
            s.handle_rtcp(at, addr("192.0.2.1:1001"), d);
            read_all(d);
        }
        s.handle_timeout(t0 + ms(100));
        drain_events(&mut s);
        drain_transmit(&mut s, t0 + ms(100));
    }

    #[test]
    fn mangled_packets_never_panic(datagrams in proptest::collection::vec(mangled(), 1..8)) {
        let t0 = Instant::now();
        let mut s = session(RtpConfig::default(), AudioCodec::Pcmu, A, 1, t0);
        s.handle_rtp(t0, addr("192.0.2.1:1000"), &pcmu(0, 7));
        for (i, d) in datagrams.iter().enumerate() {
            let at = t0 + ms(i as u64 * 20);
            s.handle_rtp(at, addr("192.0.2.1:1000"), d);
            s.handle_rtcp(at, addr("192.0.2.1:1001"), d);
            read_all(d);
        }
        s.handle_timeout(t0 + ms(300));
        drain_events(&mut s);
        drain_transmit(&mut s, t0 + ms(300));
    }
}
