//! RFC 4733 telephone-events: `TelephoneEvent::parse` never panics, accepts exactly 4 bytes
//! and writes them back with the reserved R bit cleared; `DtmfReceiver` reports a digit only
//! for a new timestamp.
//!
//! Input: records of 8 bytes, a big-endian RTP timestamp then a 4-byte payload; a short tail
//! is parsed on its own.

#![no_main]

use libfuzzer_sys::fuzz_target;
use voxgate_media::rtp::{DtmfReceiver, TelephoneEvent, dtmf_digit, dtmf_event};

/// The R bit of the second payload byte (RFC 4733 §2.3): sent as zero, ignored on receipt.
const RESERVED: u8 = 0x40;

fuzz_target!(|data: &[u8]| {
    let parsed = TelephoneEvent::parse(data);
    assert_eq!(parsed.is_ok(), data.len() == 4);

    let mut receiver = DtmfReceiver::new();
    let mut last_timestamp = None;
    for record in data.chunks_exact(8) {
        let (ts, payload) = record.split_at(4);
        let ts = u32::from_be_bytes([ts[0], ts[1], ts[2], ts[3]]);
        let event = TelephoneEvent::parse(payload).expect("4 bytes parse");
        let mut expected = [payload[0], payload[1] & !RESERVED, payload[2], payload[3]];
        assert_eq!(event.write(), expected);
        expected[1] |= payload[1] & RESERVED;
        assert_eq!(expected, payload, "only the R bit is lost");

        assert_eq!(event.digit(), dtmf_digit(event.event));
        if let Some(digit) = event.digit() {
            assert_eq!(dtmf_event(digit), Some(event.event));
        }
        let reported = receiver.handle(ts, &event);
        if last_timestamp == Some(ts) {
            assert_eq!(reported, None, "an update of the same event");
        } else {
            assert_eq!(reported, event.digit(), "a new event");
        }
        last_timestamp = Some(ts);
    }
});
