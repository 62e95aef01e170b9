//! The parser: what it reads from real offers, what it forgives, what it refuses.

use std::net::IpAddr;

use super::fixtures::{ASTERISK, CISCO, SIPP_UAC_PCAP, VIDEO_AND_AUDIO};
use super::{crlf, refusal, sdp};
use crate::codec::{AudioCodec, Direction};
use crate::sdp::{
    AddressType, Attribute, Connection, MAX_SDP_LEN, Rtcp, RtpMap, SdpErrorKind, SessionDescription,
};

const HEAD: &str = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n";

fn ip(text: &str) -> IpAddr {
    text.parse().expect("a test address")
}

#[test]
fn reads_the_fields_of_an_asterisk_offer() {
    let d = sdp(&crlf(ASTERISK));
    assert_eq!(d.origin.username, "-");
    assert_eq!(d.origin.session_id, "1637235553");
    assert_eq!(d.origin.session_version, 1_637_235_555);
    assert_eq!(d.origin.address_type, AddressType::Ip4);
    assert_eq!(d.origin.address, "10.0.0.5");
    assert_eq!(d.session_name, "Asterisk");
    assert_eq!(
        d.connection,
        Some(Connection {
            address: ip("10.0.0.5")
        })
    );
    let [audio] = d.media.as_slice() else {
        panic!("one media section, got {}", d.media.len());
    };
    assert_eq!(audio.media, "audio");
    assert_eq!(audio.port, 17632);
    assert_eq!(audio.proto, "RTP/AVP");
    assert_eq!(audio.formats, ["0", "8", "3", "111", "101"]);
    let opus = RtpMap {
        encoding: "opus".into(),
        clock_rate: 48000,
        channels: Some(2),
    };
    assert_eq!(audio.rtpmap.get(&111), Some(&opus));
    assert_eq!(opus.audio_codec(), Some(AudioCodec::Opus));
    assert_eq!(audio.fmtp.get(&101).map(String::as_str), Some("0-16"));
    assert_eq!((audio.ptime, audio.maxptime), (Some(20), Some(150)));
    assert_eq!(audio.direction, Some(Direction::SendRecv));
    assert!(audio.attributes.is_empty(), "{:?}", audio.attributes);
}

#[test]
fn sipp_offer_with_bare_newlines() {
    let d = sdp(SIPP_UAC_PCAP);
    let audio = d.media.first().expect("an audio section");
    assert_eq!(audio.formats, ["8", "101"]);
    assert_eq!(audio.fmtp.get(&101).map(String::as_str), Some("0-11,16"));
    assert_eq!(d.direction_of(audio), Direction::SendRecv);
}

#[test]
fn media_level_lines_and_rtcp() {
    let d = sdp(&crlf(CISCO));
    let audio = d.media.first().expect("an audio section");
    assert_eq!(
        audio.connection,
        Some(Connection {
            address: ip("172.16.1.20")
        })
    );
    assert_eq!(
        d.connection_of(audio).map(|c| c.address),
        Some(ip("172.16.1.20"))
    );
    assert_eq!(
        audio.rtcp,
        Some(Rtcp {
            port: 24581,
            connection: None
        })
    );
    assert_eq!(audio.lines.len(), 1, "the media b= line is kept");
    let kinds: Vec<char> = d.lines.iter().map(|l| l.kind).collect();
    assert_eq!(kinds, ['b', 'b', 't']);
    assert_eq!(
        audio.rtpmap_of(0).and_then(|m| m.audio_codec()),
        Some(AudioCodec::Pcmu)
    );
}

#[test]
fn keeps_unknown_attributes_in_order() {
    let d = sdp(VIDEO_AND_AUDIO);
    let ice = Attribute {
        name: "ice-pwd".into(),
        value: Some("4ce5bd1e9d5d1a7a".into()),
    };
    assert_eq!(d.attributes, [ice]);
    let video = d.media.first().expect("a video section");
    let fb = Attribute {
        name: "rtcp-fb".into(),
        value: Some("* nack pli".into()),
    };
    assert_eq!(video.attributes, [fb]);
    // No rtpmap for the static types: they come from RFC 3551.
    let audio = d.media.get(1).expect("an audio section");
    assert_eq!(
        audio.rtpmap_of(8).map(|m| m.encoding),
        Some("PCMA".to_owned())
    );
    assert_eq!(audio.rtpmap_of(96), None);
}

#[test]
fn forgives_what_real_peers_get_wrong() {
    let table: &[(&str, &str)] = &[
        (
            "bare newlines",
            "v=0\no=- 1 1 IN IP4 h\nc=IN IP4 192.0.2.1\nm=audio 1 RTP/AVP 0\n",
        ),
        (
            "blank lines and trailing spaces",
            "\r\nv=0 \r\no=- 1 1 IN IP4 h\t\r\n\r\n\r\nc=IN IP4 192.0.2.1  \r\nm=audio 1 RTP/AVP 0   \r\n\r\n",
        ),
        (
            "no s= or t=",
            "v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IP4 192.0.2.1\r\nm=audio 1 RTP/AVP 0\r\n",
        ),
        (
            "doubled spaces",
            "v=0\r\no=-  1 1  IN IP4 h\r\nc=IN  IP4 192.0.2.1\r\nm=audio  1  RTP/AVP  0\r\n",
        ),
        (
            "lower-case IN ip4",
            "v=0\r\no=- 1 1 in ip4 h\r\nc=in ip4 192.0.2.1\r\nm=audio 1 RTP/AVP 0\r\n",
        ),
        (
            "a rejected stream with no formats or c=",
            "v=0\r\no=- 1 1 IN IP4 h\r\nm=video 0 RTP/AVP\r\n",
        ),
        (
            "unknown line types",
            "v=0\r\no=- 1 1 IN IP4 h\r\nx=whatever\r\nc=IN IP4 192.0.2.1\r\nm=audio 1 RTP/AVP 0\r\ny=more\r\n",
        ),
        (
            "no final newline",
            "v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IP4 192.0.2.1\r\nm=audio 1 RTP/AVP 0",
        ),
    ];
    for (why, text) in table {
        let d = SessionDescription::parse(text).unwrap_or_else(|e| panic!("{why}: {e:?}"));
        assert_eq!(d.session_name, "-", "{why}");
        assert!(
            d.lines.iter().any(|l| l.kind == 't' && l.value == "0 0"),
            "{why}"
        );
    }
}

#[test]
fn hints_that_do_not_parse_are_kept_as_attributes() {
    let d = sdp(&format!(
        "{HEAD}m=audio 1 RTP/AVP 0\r\na=ptime:20.5\r\na=rtcp:x\r\na=fmtp:* any\r\n"
    ));
    let audio = d.media.first().expect("an audio section");
    assert_eq!((audio.ptime, audio.rtcp), (None, None));
    let names: Vec<&str> = audio.attributes.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["ptime", "rtcp", "fmtp"]);
}

#[test]
fn refusals_name_the_kind_and_line() {
    use SdpErrorKind as K;
    let o = "o=- 1 1 IN IP4 h\r\n";
    let c = "c=IN IP4 192.0.2.1\r\n";
    let table: Vec<(String, SdpErrorKind, u32)> = vec![
        (String::new(), K::MissingVersion, 0),
        ("\r\n\r\n".into(), K::MissingVersion, 0),
        ("hello world".into(), K::BadLine, 1),
        ("v=0\r\n=0\r\n".into(), K::BadLine, 2),
        ("v=0\r\nab=0\r\n".into(), K::BadLine, 2),
        ("v=0\r\n1=0\r\n".into(), K::BadLine, 2),
        (format!("{o}v=0\r\n"), K::MissingVersion, 1),
        ("v=1\r\n".into(), K::BadVersion, 1),
        ("v=0\r\ns=-\r\n".into(), K::MissingOrigin, 0),
        (
            format!("v=0\r\ns=-\r\n{c}m=audio 1 RTP/AVP 0\r\n"),
            K::MissingOrigin,
            4,
        ),
        ("v=0\r\no=- 1 1 IN IP4\r\n".into(), K::BadOrigin, 2),
        ("v=0\r\no=- x 1 IN IP4 h\r\n".into(), K::BadOrigin, 2),
        ("v=0\r\no=- 1 -1 IN IP4 h\r\n".into(), K::BadOrigin, 2),
        (
            "v=0\r\no=- 1 99999999999999999999 IN IP4 h\r\n".into(),
            K::BadOrigin,
            2,
        ),
        ("v=0\r\no=- 1 1 ATM NSAP h\r\n".into(), K::BadOrigin, 2),
        ("v=0\r\no=- 1 1 IN IP5 h\r\n".into(), K::BadOrigin, 2),
        (format!("v=0\r\n{o}v=0\r\n"), K::DuplicateLine, 3),
        (format!("v=0\r\n{o}{o}"), K::DuplicateLine, 3),
        (format!("v=0\r\n{o}s=a\r\ns=b\r\n"), K::DuplicateLine, 4),
        (format!("v=0\r\n{o}{c}{c}"), K::DuplicateLine, 4),
        (
            format!("v=0\r\n{o}c=IN IP4 999.1.1.1\r\n"),
            K::BadConnection,
            3,
        ),
        (format!("v=0\r\n{o}c=IN IP4 ::1\r\n"), K::BadConnection, 3),
        (
            format!("v=0\r\n{o}c=IN IP6 192.0.2.1\r\n"),
            K::BadConnection,
            3,
        ),
        (
            format!("v=0\r\n{o}c=IN IP4 224.2.1.1/127\r\n"),
            K::BadConnection,
            3,
        ),
        (
            format!("v=0\r\n{o}c=IN IP4 pbx.example.com\r\n"),
            K::BadConnection,
            3,
        ),
        (format!("v=0\r\n{o}c=IN IP4\r\n"), K::BadConnection, 3),
        (
            format!("v=0\r\n{o}m=audio 1 RTP/AVP 0\r\n"),
            K::MissingConnection,
            3,
        ),
        (format!("v=0\r\n{o}m=audio\r\n"), K::BadMedia, 3),
        (
            format!("v=0\r\n{o}m=audio 70000 RTP/AVP 0\r\n"),
            K::BadMedia,
            3,
        ),
        (
            format!("v=0\r\n{o}m=audio -1 RTP/AVP 0\r\n"),
            K::BadMedia,
            3,
        ),
        (
            format!("v=0\r\n{o}m=audio 1/x RTP/AVP 0\r\n"),
            K::BadMedia,
            3,
        ),
        (
            format!("v=0\r\n{o}m=audio 1 RTP/AVP 128\r\n"),
            K::BadMedia,
            3,
        ),
        (
            format!("v=0\r\n{o}m=audio 1 RTP/AVP PCMU\r\n"),
            K::BadMedia,
            3,
        ),
        (
            format!("{HEAD}m=audio 1 RTP/AVP 96\r\na=rtpmap:96 opus\r\n"),
            K::BadAttribute,
            7,
        ),
        (
            format!("{HEAD}m=audio 1 RTP/AVP 96\r\na=rtpmap:96 opus/x\r\n"),
            K::BadAttribute,
            7,
        ),
        (
            format!("{HEAD}m=audio 1 RTP/AVP 96\r\na=rtpmap:96 opus/0\r\n"),
            K::BadAttribute,
            7,
        ),
        (
            format!("{HEAD}m=audio 1 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2/1\r\n"),
            K::BadAttribute,
            7,
        ),
        (
            format!("{HEAD}m=audio 1 RTP/AVP 96\r\na=rtpmap:200 x/8000\r\n"),
            K::BadAttribute,
            7,
        ),
        (
            format!("{HEAD}m=audio 1 RTP/AVP 96\r\na=fmtp:300 x\r\n"),
            K::BadAttribute,
            7,
        ),
        ("v=0\r\no=- 1 1 IN IP4 h\0\r\n".into(), K::BadCharacter, 2),
        ("v=0\r\no=- 1 1\r IN IP4 h\r\n".into(), K::BadCharacter, 2),
        (format!("v=0\r\n{o}s=\u{7}bell\r\n"), K::BadCharacter, 3),
        ("x".repeat(MAX_SDP_LEN + 1), K::TooLarge, 0),
    ];
    for (text, kind, line) in table {
        let got = refusal(SessionDescription::parse(&text));
        assert_eq!(got, (kind, line), "{text:?}");
    }
}

#[test]
fn size_limits() {
    let media = "m=audio 0 RTP/AVP 0\r\n".repeat(65);
    let got = refusal(SessionDescription::parse(&format!("{HEAD}{media}")));
    assert_eq!(got, (SdpErrorKind::TooManyMedia, 5 + 65));
    let sixty_four = "m=audio 0 RTP/AVP 0\r\n".repeat(64);
    assert_eq!(sdp(&format!("{HEAD}{sixty_four}")).media.len(), 64);

    let formats: Vec<String> = (0..129).map(|pt| (pt % 128).to_string()).collect();
    let text = format!("{HEAD}m=audio 1 RTP/AVP {}\r\n", formats.join(" "));
    let got = refusal(SessionDescription::parse(&text));
    assert_eq!(got, (SdpErrorKind::TooManyFormats, 6));
}

#[test]
fn bytes_must_be_utf8() {
    let mut bytes = crlf(ASTERISK).into_bytes();
    assert!(SessionDescription::parse_bytes(&bytes).is_ok());
    let third_line = bytes.iter().position(|b| *b == b'A').expect("s=Asterisk");
    if let Some(b) = bytes.get_mut(third_line) {
        *b = 0xff;
    }
    let got = refusal(SessionDescription::parse_bytes(&bytes));
    assert_eq!(got, (SdpErrorKind::NotUtf8, 3));
    let got = refusal(SessionDescription::parse_bytes(&[0xc3]));
    assert_eq!(got, (SdpErrorKind::NotUtf8, 1));
    let huge = vec![b'a'; MAX_SDP_LEN + 1];
    assert_eq!(
        refusal(SessionDescription::parse_bytes(&huge)),
        (SdpErrorKind::TooLarge, 0)
    );
}

#[test]
fn garbage_is_refused() {
    let table: &[&[u8]] = &[
        b"\x00\x01\x02\x03",
        b"\xff\xfe\xfd",
        b"INVITE sip:bob@example.com SIP/2.0\r\n",
        b"v=0\r\no=\r\n",
        b"v=0\r\no=- 1 1 IN IP4 h\r\nm=\r\n",
        b"v=0\r\no=- 1 1 IN IP4 h\r\nc=\r\n",
        b"v==\r\n",
        b"\r\r\r",
        b"=\n=\n=",
    ];
    for bytes in table {
        let err = SessionDescription::parse_bytes(bytes).expect_err("garbage");
        assert!(err.code().starts_with("SDP_"), "{bytes:?}: {err:?}");
    }
}
