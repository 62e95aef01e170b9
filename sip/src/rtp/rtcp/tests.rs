//! RTCP parse and write tables.

use super::*;

fn block(ssrc: u32, cumulative_lost: i32) -> ReportBlock {
    ReportBlock {
        ssrc: Ssrc(ssrc),
        fraction_lost: 25,
        cumulative_lost,
        highest_seq: 0x0001_0005,
        jitter: 80,
        last_sr: 0x1234_5678,
        delay_since_last_sr: 65536,
    }
}

fn kind_of(bytes: &[u8]) -> Result<(), Kind> {
    match Compound::parse(bytes) {
        Ok(_) => Ok(()),
        Err(SipError::RtpSession { kind }) => Err(kind),
        Err(other) => panic!("an RTCP error, not {other:?}"),
    }
}

/// SR with two blocks, SDES CNAME, BYE: what voxgate sends when closing, and more.
fn full() -> Vec<u8> {
    let mut buf = vec![0u8; 300];
    let mut w = RtcpWriter::new(&mut buf);
    let info = SenderInfo {
        ntp: 0x0000_0005_8000_0000,
        rtp_timestamp: 40_000,
        packets: 250,
        octets: 40_000,
    };
    w.sender_report(Ssrc(0xa), &info, &[block(0xb, 3), block(0xc, -5)])
        .expect("fits");
    w.cname(Ssrc(0xa), b"voxgate-0000000a").expect("fits");
    w.bye(Ssrc(0xa)).expect("fits");
    let len = w.len();
    buf.truncate(len);
    buf
}

#[test]
fn written_compounds_read_back() {
    let bytes = full();
    assert_eq!(
        bytes.len(),
        28 + 48 + 28 + 8,
        "SR with two blocks, SDES, BYE"
    );
    let c = Compound::parse(&bytes).expect("valid");
    assert_eq!(c.sender(), Some(Ssrc(0xa)));
    let packets: Vec<RtcpPacket<'_>> = c.packets().collect();
    assert_eq!(packets.len(), 3);
    let RtcpPacket::SenderReport {
        ssrc,
        info,
        reports,
    } = packets[0]
    else {
        panic!("an SR first: {:?}", packets[0]);
    };
    assert_eq!(
        (ssrc, info.ntp, info.rtp_timestamp),
        (Ssrc(0xa), 0x0000_0005_8000_0000, 40_000)
    );
    assert_eq!((info.packets, info.octets), (250, 40_000));
    let blocks: Vec<ReportBlock> = reports.iter().collect();
    assert_eq!(
        blocks,
        [block(0xb, 3), block(0xc, -5)],
        "negative loss keeps its sign"
    );
    let RtcpPacket::SourceDescription(sdes) = packets[1] else {
        panic!("SDES second");
    };
    assert_eq!(sdes.cname(), Some((Ssrc(0xa), &b"voxgate-0000000a"[..])));
    let RtcpPacket::Bye(bye) = packets[2] else {
        panic!("BYE last");
    };
    assert_eq!(
        (bye.ssrcs().collect::<Vec<_>>(), bye.reason()),
        (vec![Ssrc(0xa)], None)
    );
}

#[test]
fn receiver_report_and_limits() {
    let mut buf = [0u8; 64];
    let mut w = RtcpWriter::new(&mut buf);
    w.receiver_report(Ssrc(9), &[block(1, 0x7fff_ffff)])
        .expect("fits");
    let len = w.len();
    let c = Compound::parse(&buf[..len]).expect("valid");
    let Some(RtcpPacket::ReceiverReport { ssrc, reports }) = c.packets().next() else {
        panic!("an RR");
    };
    assert_eq!(ssrc, Ssrc(9));
    let lost = reports.iter().next().map(|b| b.cumulative_lost);
    assert_eq!(lost, Some(0x7f_ffff), "clamped to 24 bits");

    let mut small = [0u8; 40];
    let mut w = RtcpWriter::new(&mut small);
    w.receiver_report(Ssrc(9), &[block(1, 0)])
        .expect("32 bytes fit");
    let more = w.cname(Ssrc(9), b"abc").map_err(|e| e.code());
    assert_eq!(more, Err("RTCP_OUTPUT_TOO_SMALL"));
    assert_eq!(w.len(), 32, "what fitted stays");
    let many = vec![block(1, 0); 32];
    let mut big = [0u8; 1024];
    let too_many = RtcpWriter::new(&mut big)
        .receiver_report(Ssrc(9), &many)
        .map_err(|e| e.code());
    assert_eq!(too_many, Err("RTCP_BAD_COUNT"));
}

#[test]
fn malformed_compounds_table() {
    use Kind as K;
    let rr_one_block = |count: u8, words: u8| {
        let mut b = vec![0x80 | count, PT_RR, 0, words, 0, 0, 0, 9];
        b.resize(4 + usize::from(words) * 4, 0);
        b
    };
    let table: Vec<(&str, Vec<u8>, Result<(), K>)> = vec![
        ("empty", vec![], Err(K::RtcpTooShort)),
        ("three bytes", vec![0x80, PT_RR, 0], Err(K::RtcpTooShort)),
        (
            "version 1",
            vec![0x40, PT_RR, 0, 1, 0, 0, 0, 9],
            Err(K::RtcpBadVersion),
        ),
        (
            "length past the end",
            vec![0x80, PT_RR, 0, 2, 0, 0, 0, 9],
            Err(K::RtcpBadLength),
        ),
        (
            "RR without SSRC",
            vec![0x80, PT_RR, 0, 0],
            Err(K::RtcpTooShort),
        ),
        ("RR, no blocks", rr_one_block(0, 1), Ok(())),
        ("RR, one block", rr_one_block(1, 7), Ok(())),
        (
            "RR, two blocks claimed",
            rr_one_block(2, 7),
            Err(K::RtcpBadCount),
        ),
        ("RR, extension after", rr_one_block(1, 9), Ok(())),
        (
            "SR too short",
            vec![0x80, PT_SR, 0, 1, 0, 0, 0, 9],
            Err(K::RtcpTooShort),
        ),
        (
            "padding",
            vec![0xa0, PT_RR, 0, 2, 0, 0, 0, 9, 0, 0, 0, 4],
            Ok(()),
        ),
        (
            "padding zero",
            vec![0xa0, PT_RR, 0, 2, 0, 0, 0, 9, 0, 0, 0, 0],
            Err(K::RtcpBadPadding),
        ),
        (
            "padding too big",
            vec![0xa0, PT_RR, 0, 1, 0, 0, 0, 9],
            Err(K::RtcpBadPadding),
        ),
        (
            "padding not last",
            vec![
                0xa0, PT_RR, 0, 2, 0, 0, 0, 9, 0, 0, 0, 4, 0x80, PT_RR, 0, 1, 0, 0, 0, 9,
            ],
            Err(K::RtcpBadPadding),
        ),
        ("lone BYE", vec![0x81, PT_BYE, 0, 1, 0, 0, 0, 9], Ok(())),
        (
            "BYE, two claimed",
            vec![0x82, PT_BYE, 0, 1, 0, 0, 0, 9],
            Err(K::RtcpBadCount),
        ),
        (
            "BYE with reason",
            vec![0x81, PT_BYE, 0, 2, 0, 0, 0, 9, 2, b'o', b'k', 0],
            Ok(()),
        ),
        (
            "BYE, reason overruns",
            vec![0x81, PT_BYE, 0, 2, 0, 0, 0, 9, 7, b'o', b'k', 0],
            Err(K::RtcpBadCount),
        ),
        (
            "SDES item overruns",
            vec![0x81, PT_SDES, 0, 2, 0, 0, 0, 9, 1, 9, b'a', b'b'],
            Err(K::RtcpBadCount),
        ),
        (
            "SDES, no terminator",
            vec![0x81, PT_SDES, 0, 1, 0, 0, 0, 9],
            Err(K::RtcpBadCount),
        ),
        (
            "SDES, empty chunk",
            vec![0x81, PT_SDES, 0, 2, 0, 0, 0, 9, 0, 0, 0, 0],
            Ok(()),
        ),
        ("APP skipped", vec![0x80, 204, 0, 1, 1, 2, 3, 4], Ok(())),
        (
            "trailing byte",
            [full(), vec![0]].concat(),
            Err(K::RtcpTooShort),
        ),
    ];
    for (name, bytes, want) in table {
        assert_eq!(kind_of(&bytes), want, "{name}");
    }
}

#[test]
fn every_truncation_is_refused_or_whole_packets() {
    let bytes = full();
    // The compound's packet boundaries: a cut there leaves whole packets, which parse.
    let boundaries = [28 + 48, 28 + 48 + 28, bytes.len()];
    for cut in 0..=bytes.len() {
        let parsed = Compound::parse(&bytes[..cut]);
        assert_eq!(parsed.is_ok(), boundaries.contains(&cut), "cut at {cut}");
    }
}

#[test]
fn bye_reason_and_other_types_read() {
    let bytes = [
        0x81, PT_BYE, 0, 2, 0, 0, 0, 9, 2, b'o', b'k', 0, 0x80, 205, 0, 0,
    ];
    let c = Compound::parse(&bytes).expect("valid");
    let packets: Vec<_> = c.packets().collect();
    let RtcpPacket::Bye(bye) = packets[0] else {
        panic!("a BYE");
    };
    assert_eq!(bye.reason(), Some(&b"ok"[..]));
    assert_eq!(packets[1], RtcpPacket::Other { packet_type: 205 });
    assert_eq!(packets[1].ssrc(), None);
}
