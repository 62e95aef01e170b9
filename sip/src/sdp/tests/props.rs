//! Properties: no input panics the parser, and anything it accepts survives a write and a
//! parse unchanged.

use proptest::prelude::*;

use super::fixtures::{ASTERISK, BARESIP, CISCO, SIPP_UAC_PCAP, VIDEO_AND_AUDIO};
use crate::sdp::{LocalMedia, SessionDescription, answer};

const FIXTURES: [&str; 5] = [ASTERISK, BARESIP, CISCO, SIPP_UAC_PCAP, VIDEO_AND_AUDIO];

/// Text a value might hold: printable ASCII and some non-ASCII, spaces, `:` and `/`.
fn text() -> impl Strategy<Value = String> {
    prop_oneof!["[ -~]{0,16}", "[a-z0-9 :/=;,.*-]{0,16}", "\\PC{0,8}",]
}

/// A line the parser accepts on its own (it may still clash with another one).
fn good_line() -> impl Strategy<Value = String> {
    let direction = prop_oneof![
        Just("sendrecv"),
        Just("sendonly"),
        Just("recvonly"),
        Just("inactive")
    ];
    let rtp = prop_oneof![Just("audio"), Just("video"), Just("AUDIO")];
    let proto = prop_oneof![Just("RTP/AVP"), Just("RTP/AVPF"), Just("RTP/SAVP")];
    let port = prop_oneof![3 => 1u16..=u16::MAX, 1 => Just(0u16)];
    let encoding = prop_oneof![
        Just("PCMU"),
        Just("PCMA"),
        Just("opus"),
        Just("telephone-event"),
        Just("X")
    ];
    let count = prop_oneof![4 => Just(""), 1 => Just("/2")];
    let pt = prop_oneof![Just(0u8), Just(8), Just(96), Just(101), 0u8..128];
    prop_oneof![
        4 => (rtp, port.clone(), count, proto, prop::collection::vec(pt.clone(), 0..6)).prop_map(
            |(m, port, count, proto, pts)| {
                let pts: Vec<String> = pts.iter().map(u8::to_string).collect();
                format!("m={m} {port}{count} {proto} {}", pts.join(" "))
            }
        ),
        1 => port.prop_map(|port| format!("m=image {port} udptl t38")),
        1 => prop_oneof![Just("IP4 192.0.2.1"), Just("IP4 0.0.0.0"), Just("IP6 2001:db8::1")]
            .prop_map(|a| format!("c=IN {a}")),
        6 => (pt.clone(), encoding, 1u32..50_000, prop::option::of(0u16..3)).prop_map(
            |(pt, enc, clock, ch)| match ch {
                Some(ch) => format!("a=rtpmap:{pt} {enc}/{clock}/{ch}"),
                None => format!("a=rtpmap:{pt} {enc}/{clock}"),
            }
        ),
        2 => (prop_oneof![pt.prop_map(|pt| pt.to_string()), Just("*".to_owned())], text())
            .prop_map(|(pt, p)| format!("a=fmtp:{pt} {p}")),
        2 => ("[a-z-]{0,8}", prop::option::of(text())).prop_map(|(n, v)| match v {
            Some(v) => format!("a={n}:{v}"),
            None => format!("a={n}"),
        }),
        2 => (prop_oneof![Just("ptime"), Just("maxptime"), Just("rtcp")], text())
            .prop_map(|(name, v)| format!("a={name}:{v}")),
        1 => (any::<u16>(), prop::option::of(Just("IN IP4 192.0.2.2")))
            .prop_map(|(port, a)| match a {
                Some(a) => format!("a=rtcp:{port} {a}"),
                None => format!("a=rtcp:{port}"),
            }),
        2 => direction.prop_map(|d| format!("a={d}")),
        2 => ("[b-ln-rt-uw-zA-Z]", text()).prop_map(|(k, v)| format!("{k}={v}")),
        1 => Just(String::new()),
    ]
}

/// A line that is likely refused: out-of-range numbers, bad addresses, junk.
fn bad_line() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u32..70_000, "[0-9a-z*]{1,4}")
            .prop_map(|(port, f)| format!("m=audio {port} RTP/AVP {f}")),
        prop_oneof![Just("IP4 ::1"), Just("IP4 x"), Just("IP4 224.0.0.1/2")]
            .prop_map(|a| format!("c=IN {a}")),
        (0u32..300, text()).prop_map(|(pt, rest)| format!("a=rtpmap:{pt} {rest}")),
        ("[a-z]{0,2}", text()).prop_map(|(k, v)| format!("{k}={v}")),
        text(),
    ]
}

/// A description-shaped text: a valid head, then mostly good lines, with mixed line ends
/// and padding.
fn description() -> impl Strategy<Value = String> {
    let end = prop_oneof![Just("\r\n"), Just("\n"), Just(" \r\n"), Just("\t\n")];
    let line = prop_oneof![40 => good_line(), 1 => bad_line()];
    let head = prop_oneof![
        3 => Just("v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IP4 192.0.2.1\r\n"),
        1 => Just("v=0\r\no=- 1 1 IN IP4 h\r\n"),
    ];
    (head, prop::collection::vec((line, end), 0..24)).prop_map(|(head, lines)| {
        let mut text = String::from(head);
        for (line, end) in lines {
            text.push_str(&line);
            text.push_str(end);
        }
        text
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn parse_never_panics(text in "\\PC{0,200}|[ -~\r\n\t\0]{0,200}") {
        let _ = SessionDescription::parse(&text);
    }

    #[test]
    fn parse_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = SessionDescription::parse_bytes(&bytes);
    }

    #[test]
    fn corrupted_offers_never_panic(
        which in 0..FIXTURES.len(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut bytes = FIXTURES.get(which).copied().unwrap_or_default().as_bytes().to_vec();
        for (at, byte) in edits {
            let at = at.index(bytes.len());
            if let Some(b) = bytes.get_mut(at) {
                *b = byte;
            }
        }
        if let Ok(parsed) = SessionDescription::parse_bytes(&bytes) {
            let again = SessionDescription::parse(&parsed.to_string());
            prop_assert_eq!(again, Ok(parsed));
        }
    }

    #[test]
    fn write_then_parse_is_stable(text in description()) {
        if let Ok(parsed) = SessionDescription::parse(&text) {
            let written = parsed.to_string();
            let again = SessionDescription::parse(&written);
            prop_assert_eq!(again.as_ref(), Ok(&parsed), "{}", written);
            prop_assert_eq!(again.map(|d| d.to_string()), Ok(written));
        }
    }

    #[test]
    fn answers_are_well_formed(text in description()) {
        let local = LocalMedia::new([192, 0, 2, 9].into(), 4000, 1);
        let Ok(offer) = SessionDescription::parse(&text) else {
            return Ok(());
        };
        if let Ok((reply, _)) = answer(&offer, &local) {
            prop_assert_eq!(reply.media.len(), offer.media.len());
            let reparsed = SessionDescription::parse(&reply.to_string());
            prop_assert_eq!(reparsed, Ok(reply));
        }
    }
}
