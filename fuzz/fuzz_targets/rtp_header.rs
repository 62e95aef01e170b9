//! `RtpPacket::parse` never panics, and a packet it accepts writes back to bytes that parse
//! to the same header and payload.
//!
//! `RtpHeader::write` emits neither a header extension nor padding, so the rewritten packet
//! is never longer than the input and parses with no extension.

#![no_main]

use libfuzzer_sys::fuzz_target;
use voxgate_media::rtp::{HEADER_LEN, RtpPacket};

fuzz_target!(|data: &[u8]| {
    let Ok(packet) = RtpPacket::parse(data) else {
        return;
    };
    let header = packet.header;
    assert!(header.payload_type < 128);
    assert!(header.csrcs().len() <= 15);
    assert_eq!(header.len(), HEADER_LEN + 4 * header.csrcs().len());
    let extension = packet.extension.map_or(0, |e| 4 + e.data.len());
    assert!(header.len() + extension + packet.payload.len() <= data.len());

    let mut out = vec![0u8; data.len()];
    let len = header
        .write(packet.payload, &mut out)
        .expect("a parsed packet fits in the bytes it came from");
    assert_eq!(len, header.len() + packet.payload.len());
    let again = RtpPacket::parse(&out[..len]).expect("a written packet parses");
    assert_eq!(again.header, header);
    assert_eq!(again.header.csrcs(), header.csrcs());
    assert_eq!(again.payload, packet.payload);
    assert_eq!(again.extension, None);
});
