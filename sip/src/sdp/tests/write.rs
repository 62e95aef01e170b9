//! The writer: canonical output, and parse(write(d)) == d for every fixture.

use super::fixtures::{
    ASTERISK, AVPF_IPV6, BARESIP, CISCO, G729_AND_T38, HOLD_INACTIVE, HOLD_SENDONLY,
    HOLD_ZERO_ADDRESS, SAVP_ONLY, SAVP_THEN_AVP, SIPP_UAC_PCAP, VIDEO_AND_AUDIO,
};
use super::{crlf, sdp};
use crate::sdp::{Line, SessionDescription};

const ALL: &[&str] = &[
    BARESIP,
    SIPP_UAC_PCAP,
    ASTERISK,
    CISCO,
    VIDEO_AND_AUDIO,
    SAVP_ONLY,
    SAVP_THEN_AVP,
    HOLD_SENDONLY,
    HOLD_ZERO_ADDRESS,
    HOLD_INACTIVE,
    AVPF_IPV6,
    G729_AND_T38,
];

#[test]
fn every_fixture_round_trips() {
    for fixture in ALL {
        let parsed = sdp(fixture);
        let written = parsed.to_string();
        assert!(
            written.ends_with("\r\n") && !written.contains("\r\n\r\n"),
            "{written}"
        );
        assert!(!written.replace("\r\n", "").contains('\n'), "{written}");
        let again = sdp(&written);
        assert_eq!(again, parsed, "{written}");
        assert_eq!(again.to_string(), written);
        assert_eq!(sdp(&crlf(fixture)), parsed, "line ends do not matter");
    }
}

#[test]
fn canonical_form_of_a_canonical_offer_is_itself() {
    // Already in canonical order and attribute placement: written back byte for byte.
    for fixture in [ASTERISK, SIPP_UAC_PCAP, HOLD_SENDONLY, HOLD_ZERO_ADDRESS] {
        assert_eq!(sdp(fixture).to_string(), crlf(fixture));
    }
}

#[test]
fn writes_in_rfc_4566_order() {
    let sloppy = "v=0\n\
        o=- 1 2 IN IP4 192.0.2.1\n\
        t=0 0\n\
        b=AS:64\n\
        c=IN IP4 192.0.2.1\n\
        i=info\n\
        a=tool:x\n\
        m=audio 4000/2 RTP/AVP 101 0\n\
        a=sendonly\n\
        a=fmtp:101 0-15\n\
        a=custom\n\
        a=ptime:30\n\
        b=AS:80\n\
        a=rtpmap:101 telephone-event/8000\n\
        a=rtpmap:99 unlisted/8000\n\
        i=media info\n\
        c=IN IP6 2001:db8::2\n\
        a=rtcp:4003 IN IP4 192.0.2.9\n";
    let expected = "v=0\r\n\
        o=- 1 2 IN IP4 192.0.2.1\r\n\
        s=-\r\n\
        i=info\r\n\
        c=IN IP4 192.0.2.1\r\n\
        b=AS:64\r\n\
        t=0 0\r\n\
        a=tool:x\r\n\
        m=audio 4000/2 RTP/AVP 101 0\r\n\
        i=media info\r\n\
        c=IN IP6 2001:db8::2\r\n\
        b=AS:80\r\n\
        a=rtpmap:101 telephone-event/8000\r\n\
        a=fmtp:101 0-15\r\n\
        a=rtpmap:99 unlisted/8000\r\n\
        a=ptime:30\r\n\
        a=rtcp:4003 IN IP4 192.0.2.9\r\n\
        a=sendonly\r\n\
        a=custom\r\n";
    let parsed = sdp(sloppy);
    assert_eq!(parsed.to_string(), expected);
    assert_eq!(sdp(expected), parsed);
}

#[test]
fn a_hand_built_description_gets_its_mandatory_lines() {
    let mut d = sdp(SIPP_UAC_PCAP);
    d.session_name.clear();
    d.lines = vec![Line {
        kind: 'z',
        value: "0 0".into(),
    }];
    let written = d.to_string();
    assert!(
        written.contains("s=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nz=0 0\r\n"),
        "{written}"
    );
    assert!(SessionDescription::parse(&written).is_ok());
}
