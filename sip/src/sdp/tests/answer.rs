//! Answering offers real peers send (RFC 3264 §6).

use std::net::{IpAddr, SocketAddr};

use super::fixtures::{
    ASTERISK, AVPF_IPV6, BARESIP, CISCO, G729_AND_T38, HOLD_INACTIVE, HOLD_SENDONLY,
    HOLD_ZERO_ADDRESS, SAVP_ONLY, SAVP_THEN_AVP, SIPP_UAC_PCAP, VIDEO_AND_AUDIO,
};
use super::{refusal, sdp};
use crate::codec::{AudioCodec, Direction, MediaParams};
use crate::sdp::{LocalMedia, SdpErrorKind, SessionDescription, answer};

fn local() -> LocalMedia {
    let address: IpAddr = "198.51.100.77".parse().expect("an address");
    LocalMedia::new(address, 30000, 42)
}

fn remote(text: &str) -> SocketAddr {
    text.parse().expect("a test socket address")
}

fn params(
    codec: AudioCodec,
    payload_type: u8,
    dtmf: Option<u8>,
    remote_at: &str,
    direction: Direction,
) -> MediaParams {
    MediaParams {
        codec,
        payload_type,
        dtmf_payload_type: dtmf,
        ptime_ms: 20,
        remote: remote(remote_at),
        direction,
    }
}

#[test]
fn answers_real_offers() {
    use AudioCodec::{Opus, Pcma, Pcmu};
    use Direction::{Inactive, RecvOnly, SendRecv};
    // (offer, the media it settles, the answer's m= ports in order)
    let table: Vec<(&str, MediaParams, Vec<u16>)> = vec![
        (
            BARESIP,
            params(Opus, 96, Some(101), "192.168.1.50:10266", SendRecv),
            vec![30000],
        ),
        (
            SIPP_UAC_PCAP,
            params(Pcma, 8, Some(101), "127.0.0.1:6000", SendRecv),
            vec![30000],
        ),
        (
            ASTERISK,
            params(Pcmu, 0, Some(101), "10.0.0.5:17632", SendRecv),
            vec![30000],
        ),
        (
            CISCO,
            params(Opus, 114, Some(101), "172.16.1.20:24580", SendRecv),
            vec![30000],
        ),
        (
            VIDEO_AND_AUDIO,
            params(Pcmu, 0, Some(101), "192.0.2.8:7078", SendRecv),
            vec![0, 30000],
        ),
        (
            SAVP_THEN_AVP,
            params(Pcmu, 0, Some(101), "203.0.113.1:16002", SendRecv),
            vec![0, 30000],
        ),
        (
            HOLD_SENDONLY,
            params(Pcmu, 0, Some(101), "10.0.0.5:17632", RecvOnly),
            vec![30000],
        ),
        (
            HOLD_ZERO_ADDRESS,
            params(Pcma, 8, None, "0.0.0.0:5004", RecvOnly),
            vec![30000],
        ),
        (
            HOLD_INACTIVE,
            params(Pcmu, 0, None, "198.51.100.9:5004", Inactive),
            vec![30000],
        ),
        (
            AVPF_IPV6,
            params(Opus, 111, None, "[2001:db8::1]:40000", Direction::SendOnly),
            vec![30000],
        ),
    ];
    for (offer_text, expected, ports) in table {
        let offer = sdp(offer_text);
        let (reply, settled) = answer(&offer, &local()).expect("an answer");
        assert_eq!(settled.as_ref(), Some(&expected), "{offer_text}");
        let got: Vec<u16> = reply.media.iter().map(|m| m.port).collect();
        assert_eq!(got, ports, "{offer_text}");
        // The answer is what the settled media says, and it parses back.
        let reparsed = sdp(&reply.to_string());
        assert_eq!(reparsed, reply);
        let audio = reply
            .media
            .iter()
            .find(|m| m.port != 0)
            .expect("an answered stream");
        let mut formats = vec![expected.payload_type.to_string()];
        formats.extend(expected.dtmf_payload_type.map(|pt| pt.to_string()));
        assert_eq!(audio.formats, formats, "{offer_text}");
        assert_eq!(audio.direction, Some(expected.direction), "{offer_text}");
        assert_eq!(audio.ptime, Some(20));
    }
}

#[test]
fn the_answer_keeps_the_offer_s_numbers_and_transport() {
    let (reply, _) = answer(&sdp(CISCO), &local()).expect("an answer");
    let text = reply.to_string();
    let expected = "v=0\r\n\
        o=- 42 1 IN IP4 198.51.100.77\r\n\
        s=voxgate\r\n\
        c=IN IP4 198.51.100.77\r\n\
        t=0 0\r\n\
        m=audio 30000 RTP/AVP 114 101\r\n\
        a=rtpmap:114 opus/48000/2\r\n\
        a=fmtp:114 maxplaybackrate=16000;sprop-maxcapturerate=16000\r\n\
        a=rtpmap:101 telephone-event/8000\r\n\
        a=fmtp:101 0-16\r\n\
        a=ptime:20\r\n\
        a=sendrecv\r\n";
    assert_eq!(text, expected);

    let (reply, _) = answer(&sdp(AVPF_IPV6), &local()).expect("an answer");
    let audio = reply.media.first().expect("the audio stream");
    assert_eq!(audio.proto, "RTP/AVPF");
}

#[test]
fn rejected_streams_keep_media_transport_and_formats() {
    let (reply, _) = answer(&sdp(VIDEO_AND_AUDIO), &local()).expect("an answer");
    let video = reply.media.first().expect("the video stream");
    assert_eq!(
        (video.media.as_str(), video.port, video.proto.as_str()),
        ("video", 0, "RTP/AVP")
    );
    assert_eq!(video.formats, ["96", "97"]);
    assert!(video.rtpmap.is_empty() && video.attributes.is_empty());
}

#[test]
fn the_codec_follows_the_offer_order_among_ours() {
    let mut g711_only = local();
    g711_only.codecs = vec![AudioCodec::Pcma, AudioCodec::Pcmu];
    let (_, settled) = answer(&sdp(CISCO), &g711_only).expect("an answer");
    let settled = settled.expect("media");
    assert_eq!((settled.codec, settled.payload_type), (AudioCodec::Pcmu, 0));

    let mut no_dtmf = local();
    no_dtmf.telephone_event = false;
    let (reply, settled) = answer(&sdp(ASTERISK), &no_dtmf).expect("an answer");
    assert_eq!(settled.expect("media").dtmf_payload_type, None);
    assert_eq!(
        reply.media.first().map(|m| m.formats.clone()),
        Some(vec!["0".to_owned()])
    );
}

#[test]
fn telephone_event_at_the_codec_s_clock_rate_is_preferred() {
    let offer = "v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IP4 192.0.2.1\r\n\
        m=audio 4000 RTP/AVP 111 101 102\r\n\
        a=rtpmap:111 opus/48000/2\r\n\
        a=rtpmap:101 telephone-event/8000\r\n\
        a=rtpmap:102 telephone-event/48000\r\n";
    let (reply, settled) = answer(&sdp(offer), &local()).expect("an answer");
    assert_eq!(settled.expect("media").dtmf_payload_type, Some(102));
    let audio = reply.media.first().expect("the audio stream");
    assert_eq!(audio.rtpmap.get(&102).map(|m| m.clock_rate), Some(48000));
}

#[test]
fn hold_while_we_hold_narrows_the_answer() {
    let mut holding = local();
    assert!(holding.hold());
    let (reply, settled) = answer(&sdp(ASTERISK), &holding).expect("an answer");
    assert_eq!(settled.expect("media").direction, Direction::SendOnly);
    assert_eq!(
        reply.media.first().and_then(|m| m.direction),
        Some(Direction::SendOnly)
    );
    let (_, settled) = answer(&sdp(HOLD_SENDONLY), &holding).expect("an answer");
    assert_eq!(settled.expect("media").direction, Direction::Inactive);
}

#[test]
fn offers_with_nothing_for_us_are_refused() {
    for offer in [SAVP_ONLY, G729_AND_T38] {
        let got = refusal(answer(&sdp(offer), &local()));
        assert_eq!(got, (SdpErrorKind::NoAcceptableMedia, 0), "{offer}");
    }
    let mut opus_only = local();
    opus_only.codecs = vec![AudioCodec::Opus];
    let got = refusal(answer(&sdp(SIPP_UAC_PCAP), &opus_only));
    assert_eq!(got, (SdpErrorKind::NoAcceptableMedia, 0));
}

#[test]
fn an_offer_with_no_active_stream_settles_no_media() {
    let table = [
        "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\n",
        "v=0\r\no=- 1 1 IN IP4 h\r\nm=audio 0 RTP/AVP 0\r\nm=video 0 RTP/AVP 96\r\n",
    ];
    for offer in table {
        let offer = sdp(offer);
        let (reply, settled) = answer(&offer, &local()).expect("an answer");
        assert_eq!(settled, None);
        assert_eq!(reply.media.len(), offer.media.len());
        assert!(reply.media.iter().all(|m| m.port == 0));
        let _: SessionDescription = sdp(&reply.to_string());
    }
}
