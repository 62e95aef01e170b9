//! RFC 3264 offer/answer for one audio stream: answering a peer's offer, and checking a
//! peer's answer to voxgate's offer.
//!
//! Choices this module makes where RFC 3264 leaves one:
//!
//! - **Which stream.** The first `m=audio` line with a non-zero port, `RTP/AVP` or
//!   `RTP/AVPF` transport and a codec in common is taken; every other `m=` line (video,
//!   `RTP/SAVP`-only audio, a second audio stream) is rejected with port 0, keeping the
//!   offer's line count and order (§6).
//! - **Which codec.** The first payload type *in the offer's order* that voxgate supports
//!   ([`LocalMedia::codecs`] is a set here, not a ranking): §6.1 lets the answerer follow
//!   the offerer's preference, and the offerer knows best what its network carries
//!   without transcoding. One codec is answered, so the call never switches mid-stream.
//! - **Payload types.** The offer's numbers are answered unchanged, dynamic ones included
//!   (§6.1 recommends it; some gateways only take their own numbers back).
//! - **DTMF.** `telephone-event` at the chosen codec's clock rate if offered, else at
//!   8000 Hz, with the offer's payload type.
//! - **Hold.** A `sendonly`/`recvonly`/`inactive` offer, or a `c=0.0.0.0` one (the
//!   RFC 2543 hold of §8.4, read as "do not send to me"), is answered with the mirrored
//!   direction, narrowed further by [`LocalMedia::direction`].

use std::net::SocketAddr;

use super::SdpErrorKind;
use super::description::{MediaDescription, SessionDescription, direction_from};
use super::local::{
    LocalMedia, OPUS_FMTP, TELEPHONE_EVENT_FMTP, add_format, codec_rtpmap, telephone_event_rtpmap,
};
use crate::SipError;
use crate::codec::{AudioCodec, Direction, MediaParams};

/// The packet time assumed when our own offer named none.
const DEFAULT_PTIME_MS: u32 = super::local::DEFAULT_PTIME_MS;

/// Answers a peer's offer (RFC 3264 §6). Returns the answer, with as many `m=` lines as
/// the offer, and the call's media; the media is `None` only when the offer has no active
/// stream at all (no `m=` lines, or all on port 0: the peer is pausing every stream, §8.2).
///
/// An offer with active streams none of which voxgate can take is refused with
/// [`SdpErrorKind::NoAcceptableMedia`]; answer the INVITE with 488 Not Acceptable Here.
pub fn answer(
    offer: &SessionDescription,
    local: &LocalMedia,
) -> Result<(SessionDescription, Option<MediaParams>), SipError> {
    let mut answer = local.session();
    let mut params = None;
    let mut active = false;
    for media in &offer.media {
        active |= media.port != 0;
        let accepted = match params {
            None => accept_stream(offer, media, local),
            Some(_) => None,
        };
        match accepted {
            Some((section, settled)) => {
                answer.media.push(section);
                params = Some(settled);
            }
            None => answer.media.push(rejected(media)),
        }
    }
    if active && params.is_none() {
        return Err(SdpErrorKind::NoAcceptableMedia.at(0));
    }
    Ok((answer, params))
}

/// Checks the peer's answer to voxgate's offer (RFC 3264 §5, §6) and settles the call's
/// media: the same number of `m=` lines, the audio stream not rejected, a codec voxgate
/// offered. The payload type is the answer's (what the peer expects to receive, §5.1).
pub fn accept_answer(
    offer: &SessionDescription,
    answer: &SessionDescription,
) -> Result<MediaParams, SipError> {
    if offer.media.len() != answer.media.len() {
        return Err(SdpErrorKind::AnswerMismatch.at(0));
    }
    let pair = offer
        .media
        .iter()
        .zip(&answer.media)
        .find(|(ours, _)| ours.port != 0 && is_audio_rtp(ours));
    let Some((ours, theirs)) = pair else {
        return Err(SdpErrorKind::NoAcceptableMedia.at(0));
    };
    if !theirs.media.eq_ignore_ascii_case(&ours.media) {
        return Err(SdpErrorKind::AnswerMismatch.at(0));
    }
    if theirs.port == 0 {
        return Err(SdpErrorKind::AnswerRejected.at(0));
    }
    let offered = |codec: AudioCodec| codec_in(ours, |c| c == codec).is_some();
    let (codec, payload_type) =
        codec_in(theirs, offered).ok_or(SdpErrorKind::AnswerCodecNotOffered.at(0))?;
    let dtmf_offered = telephone_event(ours, codec.clock_rate()).is_some();
    let dtmf = telephone_event(theirs, codec.clock_rate()).filter(|_| dtmf_offered);
    let connection = answer
        .connection_of(theirs)
        .ok_or(SdpErrorKind::MissingConnection.at(0))?;
    let direction = intersect(
        answer.direction_of(theirs).answer(),
        offer.direction_of(ours),
    );
    Ok(MediaParams {
        codec,
        payload_type,
        dtmf_payload_type: dtmf.map(|(pt, _)| pt),
        ptime_ms: ours.ptime.unwrap_or(DEFAULT_PTIME_MS),
        remote: SocketAddr::new(connection.address, theirs.port),
        direction,
    })
}

/// The answer to one offered stream and the media it settles, if voxgate takes it.
fn accept_stream(
    offer: &SessionDescription,
    media: &MediaDescription,
    local: &LocalMedia,
) -> Option<(MediaDescription, MediaParams)> {
    if media.port == 0 || !is_audio_rtp(media) {
        return None;
    }
    let (codec, pt) = codec_in(media, |c| local.codecs.contains(&c))?;
    let connection = offer.connection_of(media)?;
    let dtmf = telephone_event(media, codec.clock_rate()).filter(|_| local.telephone_event);
    let direction = intersect(offer.direction_of(media).answer(), local.direction);

    let mut section = MediaDescription::new("audio", local.rtp_port, &media.proto);
    let fmtp = (codec == AudioCodec::Opus).then_some(OPUS_FMTP);
    add_format(&mut section, pt, codec_rtpmap(codec), fmtp);
    if let Some((dtmf_pt, clock_rate)) = dtmf {
        let map = telephone_event_rtpmap(clock_rate);
        add_format(&mut section, dtmf_pt, map, Some(TELEPHONE_EVENT_FMTP));
    }
    section.ptime = Some(local.ptime_ms);
    section.direction = Some(direction);
    let params = MediaParams {
        codec,
        payload_type: pt,
        dtmf_payload_type: dtmf.map(|(pt, _)| pt),
        ptime_ms: local.ptime_ms,
        remote: SocketAddr::new(connection.address, media.port),
        direction,
    };
    Some((section, params))
}

/// An offered stream rejected (RFC 3264 §6): same media and transport, port 0, the
/// offer's formats (SDP needs at least one) and nothing else.
fn rejected(media: &MediaDescription) -> MediaDescription {
    let mut section = MediaDescription::new(&media.media, 0, &media.proto);
    section.formats = media.formats.clone();
    section
}

/// An `m=audio` line on plain RTP: `RTP/AVP`, or `RTP/AVPF` whose feedback voxgate can
/// ignore. Secure profiles (`RTP/SAVP`, `UDP/TLS/RTP/SAVPF`) need keys voxgate lacks.
fn is_audio_rtp(media: &MediaDescription) -> bool {
    media.media.eq_ignore_ascii_case("audio")
        && (media.proto.eq_ignore_ascii_case("RTP/AVP")
            || media.proto.eq_ignore_ascii_case("RTP/AVPF"))
}

/// The first codec in a section's format order that `wanted` takes, and its payload type.
fn codec_in(
    media: &MediaDescription,
    wanted: impl Fn(AudioCodec) -> bool,
) -> Option<(AudioCodec, u8)> {
    media.payload_types().find_map(|pt| {
        let codec = media.rtpmap_of(pt)?.audio_codec()?;
        wanted(codec).then_some((codec, pt))
    })
}

/// The telephone-event payload type and clock rate of a section: the one at `clock_rate`
/// (RFC 4733 §2.1 asks for the audio's), else the one at 8000 Hz.
fn telephone_event(media: &MediaDescription, clock_rate: u32) -> Option<(u8, u32)> {
    let at = |wanted: u32| {
        media.payload_types().find_map(|pt| {
            let map = media.rtpmap_of(pt)?;
            (map.is_telephone_event() && map.clock_rate == wanted).then_some((pt, wanted))
        })
    };
    at(clock_rate).or_else(|| at(8000))
}

/// The direction both allow.
fn intersect(a: Direction, b: Direction) -> Direction {
    direction_from(a.sends() && b.sends(), a.receives() && b.receives())
}
