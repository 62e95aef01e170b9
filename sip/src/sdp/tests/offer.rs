//! voxgate's offers, re-offers for hold and resume, and checking the peer's answer.

use std::net::IpAddr;

use super::{refusal, sdp};
use crate::codec::{AudioCodec, Direction};
use crate::sdp::{LocalMedia, SdpErrorKind, accept_answer, answer, offer};

fn local() -> LocalMedia {
    let address: IpAddr = "198.51.100.77".parse().expect("an address");
    LocalMedia::new(address, 30000, 42)
}

const OFFER: &str = "v=0\r\n\
    o=- 42 1 IN IP4 198.51.100.77\r\n\
    s=voxgate\r\n\
    c=IN IP4 198.51.100.77\r\n\
    t=0 0\r\n\
    m=audio 30000 RTP/AVP 0 8 111 101\r\n\
    a=rtpmap:0 PCMU/8000\r\n\
    a=rtpmap:8 PCMA/8000\r\n\
    a=rtpmap:111 opus/48000/2\r\n\
    a=fmtp:111 maxplaybackrate=16000;sprop-maxcapturerate=16000\r\n\
    a=rtpmap:101 telephone-event/8000\r\n\
    a=fmtp:101 0-16\r\n\
    a=ptime:20\r\n\
    a=sendrecv\r\n";

#[test]
fn the_offer() {
    let ours = offer(&local());
    assert_eq!(ours.to_string(), OFFER);
    assert_eq!(sdp(OFFER), ours);

    let mut g711 = local();
    g711.codecs = vec![AudioCodec::Pcma, AudioCodec::Pcmu, AudioCodec::Pcma];
    g711.telephone_event = false;
    let audio = offer(&g711)
        .media
        .into_iter()
        .next()
        .expect("one audio stream");
    assert_eq!(audio.formats, ["8", "0"], "in preference order, once each");
}

#[test]
fn hold_and_resume_bump_the_version_once_per_change() {
    let mut media = local();
    // (step, changed, direction, version)
    type Step = fn(&mut LocalMedia) -> bool;
    let steps: [(Step, bool, Direction, u64); 4] = [
        (LocalMedia::hold, true, Direction::SendOnly, 2),
        (LocalMedia::hold, false, Direction::SendOnly, 2),
        (LocalMedia::resume, true, Direction::SendRecv, 3),
        (LocalMedia::resume, false, Direction::SendRecv, 3),
    ];
    for (step, changed, direction, version) in steps {
        assert_eq!(step(&mut media), changed);
        let reoffer = offer(&media);
        assert_eq!(reoffer.origin.session_version, version);
        assert_eq!(
            reoffer.origin.session_id, "42",
            "the id is fixed for the call"
        );
        let audio = reoffer.media.first().expect("one audio stream");
        assert_eq!(audio.direction, Some(direction));
    }
    media.direction = Direction::RecvOnly;
    assert!(media.hold());
    assert_eq!(media.direction, Direction::Inactive, "RFC 3264 §8.4");
    media.bump_version();
    assert_eq!(media.session_version, 5);
}

#[test]
fn accepts_answers_to_our_offer() {
    let ours = sdp(OFFER);
    // (the peer's answer's media section and c=, codec, payload type, dtmf, direction)
    let table: &[(&str, AudioCodec, u8, Option<u8>, Direction)] = &[
        (
            "m=audio 5000 RTP/AVP 8 101\r\na=rtpmap:101 telephone-event/8000\r\n",
            AudioCodec::Pcma,
            8,
            Some(101),
            Direction::SendRecv,
        ),
        (
            "m=audio 5000 RTP/AVP 0\r\n",
            AudioCodec::Pcmu,
            0,
            None,
            Direction::SendRecv,
        ),
        // Opus on the peer's own number: we send with the number it wants to receive.
        (
            "m=audio 5000 RTP/AVP 96 97\r\na=rtpmap:96 OPUS/48000/2\r\na=rtpmap:97 telephone-event/48000\r\n",
            AudioCodec::Opus,
            96,
            Some(97),
            Direction::SendRecv,
        ),
        // Comfort noise and an unknown codec before the one we offered are skipped.
        (
            "m=audio 5000 RTP/AVP 13 18 0\r\n",
            AudioCodec::Pcmu,
            0,
            None,
            Direction::SendRecv,
        ),
        (
            "m=audio 5000 RTP/AVP 0\r\na=recvonly\r\n",
            AudioCodec::Pcmu,
            0,
            None,
            Direction::SendOnly,
        ),
        (
            "m=audio 5000 RTP/AVP 0\r\na=inactive\r\n",
            AudioCodec::Pcmu,
            0,
            None,
            Direction::Inactive,
        ),
    ];
    for (media, codec, pt, dtmf, direction) in table {
        let reply = sdp(&format!(
            "v=0\r\no=peer 9 9 IN IP4 203.0.113.5\r\nc=IN IP4 203.0.113.5\r\n{media}"
        ));
        let settled = accept_answer(&ours, &reply).unwrap_or_else(|e| panic!("{media}: {e:?}"));
        assert_eq!(
            (
                settled.codec,
                settled.payload_type,
                settled.dtmf_payload_type,
                settled.direction
            ),
            (*codec, *pt, *dtmf, *direction),
            "{media}"
        );
        assert_eq!(
            settled.remote,
            "203.0.113.5:5000".parse().expect("an address")
        );
        assert_eq!(settled.ptime_ms, 20);
    }
}

#[test]
fn refuses_answers_that_do_not_fit_our_offer() {
    let ours = sdp(OFFER);
    let head = "v=0\r\no=peer 9 9 IN IP4 203.0.113.5\r\nc=IN IP4 203.0.113.5\r\n";
    let table: &[(&str, SdpErrorKind)] = &[
        ("", SdpErrorKind::AnswerMismatch),
        (
            "m=audio 5000 RTP/AVP 0\r\nm=video 0 RTP/AVP 96\r\n",
            SdpErrorKind::AnswerMismatch,
        ),
        ("m=video 5000 RTP/AVP 96\r\n", SdpErrorKind::AnswerMismatch),
        ("m=audio 0 RTP/AVP 0\r\n", SdpErrorKind::AnswerRejected),
        (
            "m=audio 5000 RTP/AVP 18\r\n",
            SdpErrorKind::AnswerCodecNotOffered,
        ),
        (
            "m=audio 5000 RTP/AVP 96\r\na=rtpmap:96 iLBC/8000\r\n",
            SdpErrorKind::AnswerCodecNotOffered,
        ),
        (
            "m=audio 5000 RTP/AVP 101\r\na=rtpmap:101 telephone-event/8000\r\n",
            SdpErrorKind::AnswerCodecNotOffered,
        ),
    ];
    for (media, kind) in table {
        let reply = sdp(&format!("{head}{media}"));
        assert_eq!(refusal(accept_answer(&ours, &reply)), (*kind, 0), "{media}");
    }

    let mut no_opus = local();
    no_opus.codecs = vec![AudioCodec::Pcmu];
    let opus_answer = sdp(&format!(
        "{head}m=audio 5000 RTP/AVP 111\r\na=rtpmap:111 opus/48000/2\r\n"
    ));
    let got = refusal(accept_answer(&offer(&no_opus), &opus_answer));
    assert_eq!(got, (SdpErrorKind::AnswerCodecNotOffered, 0));
}

#[test]
fn two_voxgates_agree() {
    let caller = local();
    let mut callee = LocalMedia::new("192.0.2.200".parse().expect("an address"), 40000, 7);
    callee.codecs = vec![AudioCodec::Opus, AudioCodec::Pcma];
    let ours = offer(&caller);
    let (reply, callee_side) = answer(&ours, &callee).expect("an answer");
    let callee_side = callee_side.expect("media");
    let caller_side = accept_answer(&ours, &sdp(&reply.to_string())).expect("accepted");
    // PCMU is not the callee's, so the first of the offer's it has is PCMA.
    assert_eq!(
        (caller_side.codec, callee_side.codec),
        (AudioCodec::Pcma, AudioCodec::Pcma)
    );
    assert_eq!(caller_side.dtmf_payload_type, Some(101));
    assert_eq!(
        caller_side.remote,
        "192.0.2.200:40000".parse().expect("an address")
    );
    assert_eq!(
        callee_side.remote,
        "198.51.100.77:30000".parse().expect("an address")
    );

    // The caller holds: the callee's answer makes the callee receive only.
    let mut holding = caller;
    holding.hold();
    let hold_offer = offer(&holding);
    let (reply, callee_side) = answer(&hold_offer, &callee).expect("an answer");
    assert_eq!(callee_side.expect("media").direction, Direction::RecvOnly);
    let caller_side = accept_answer(&hold_offer, &reply).expect("accepted");
    assert_eq!(caller_side.direction, Direction::SendOnly);
}
