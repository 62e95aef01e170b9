//! `SessionDescription::parse_bytes` never panics; a description it accepts writes back to
//! text that parses to the same description, and answering it never panics.

#![no_main]

use libfuzzer_sys::fuzz_target;
use voxgate_sip::sdp::{LocalMedia, SessionDescription, answer};

fuzz_target!(|data: &[u8]| {
    let Ok(offer) = SessionDescription::parse_bytes(data) else {
        return;
    };
    let again = SessionDescription::parse(&offer.to_string()).expect("written SDP parses");
    assert_eq!(again, offer);
    let local = LocalMedia::new("127.0.0.1".parse().expect("ip"), 20000, 1);
    if let Ok((answer, _)) = answer(&offer, &local) {
        assert_eq!(answer.media.len(), offer.media.len(), "one answer line per offer line");
    }
});
