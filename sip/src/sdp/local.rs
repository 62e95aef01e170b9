//! voxgate's side of offer/answer: what it can take and where, and the offers it makes.

use std::net::IpAddr;

use super::description::{
    AddressType, Connection, MediaDescription, Origin, RtpMap, SessionDescription, direction_from,
};
use crate::codec::{AudioCodec, Direction};

/// The dynamic payload type voxgate offers Opus on (the one most stacks use).
pub const OPUS_PAYLOAD_TYPE: u8 = 111;

/// The dynamic payload type voxgate offers RFC 4733 telephone-event on.
pub const TELEPHONE_EVENT_PAYLOAD_TYPE: u8 = 101;

/// The `s=` voxgate writes.
const SESSION_NAME: &str = "voxgate";

/// The packet time voxgate sends and asks for, in milliseconds (RFC 3551 §4.5's default for
/// G.711, and one 20 ms frame of the media pipeline).
pub const DEFAULT_PTIME_MS: u32 = 20;

/// The `a=fmtp` voxgate writes for Opus: it decodes and encodes speech at 16 kHz (see
/// [`AudioCodec::audio_rate`]), so it asks the peer not to spend bits above that
/// (RFC 7587 §6.1).
pub(super) const OPUS_FMTP: &str = "maxplaybackrate=16000;sprop-maxcapturerate=16000";

/// The `a=fmtp` voxgate writes for telephone-event: the DTMF digits 0-9, `*`, `#`, A-D and
/// flash (RFC 4733 §3.2).
pub(super) const TELEPHONE_EVENT_FMTP: &str = "0-16";

/// voxgate's media for one call: its RTP address, what it can take, and the origin of
/// the descriptions it writes. The dialog that owns the call keeps one and bumps its
/// version for each changed description it sends (RFC 3264 §8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalMedia {
    /// The address RTP is received on, written in `o=` and `c=`.
    pub address: IpAddr,
    /// The port RTP is received on.
    pub rtp_port: u16,
    /// The `o=` username. Default `-` (RFC 4566 §5.2: no user login).
    pub username: String,
    /// The `o=` session id, fixed for the call.
    pub session_id: u64,
    /// The `o=` session version. Default 1; see [`LocalMedia::bump_version`].
    pub session_version: u64,
    /// The codecs voxgate takes, in the order it offers them. Default PCMU, PCMA, Opus:
    /// G.711 first because most calls reach voxgate from the telephone network, where it
    /// needs no transcoding on the way.
    pub codecs: Vec<AudioCodec>,
    /// Whether RFC 4733 telephone-event (DTMF) is offered and accepted. Default true.
    pub telephone_event: bool,
    /// The packet time voxgate sends and asks for. Default [`DEFAULT_PTIME_MS`].
    pub ptime_ms: u32,
    /// The direction voxgate wants: `SendRecv`, or `SendOnly` while it holds the peer
    /// (RFC 3264 §8.4). Default `SendRecv`.
    pub direction: Direction,
}

impl LocalMedia {
    /// Media on `address:rtp_port` for a call with this origin session id, with the
    /// defaults documented on each field.
    pub fn new(address: IpAddr, rtp_port: u16, session_id: u64) -> Self {
        Self {
            address,
            rtp_port,
            username: "-".to_owned(),
            session_id,
            session_version: 1,
            codecs: vec![AudioCodec::Pcmu, AudioCodec::Pcma, AudioCodec::Opus],
            telephone_event: true,
            ptime_ms: DEFAULT_PTIME_MS,
            direction: Direction::SendRecv,
        }
    }

    /// Increases the origin version, as each changed description needs (RFC 3264 §8: "the
    /// version MUST be incremented"). Saturates: 2^64 descriptions are never written.
    pub fn bump_version(&mut self) {
        self.session_version = self.session_version.saturating_add(1);
    }

    /// Puts the peer on hold (RFC 3264 §8.4): stop receiving, so `sendrecv` becomes
    /// `sendonly` and `recvonly` becomes `inactive`. Bumps the version and returns true if
    /// that changed the direction; then send [`offer`] in a re-INVITE.
    pub fn hold(&mut self) -> bool {
        self.set_direction(direction_from(self.direction.sends(), false))
    }

    /// Takes the peer off hold: receive again, so `sendonly` becomes `sendrecv`. Bumps the
    /// version and returns true if that changed the direction.
    pub fn resume(&mut self) -> bool {
        self.set_direction(direction_from(self.direction.sends(), true))
    }

    /// Sets the wanted direction; bumps the version and returns true if it changed.
    pub fn set_direction(&mut self, direction: Direction) -> bool {
        if self.direction == direction {
            return false;
        }
        self.direction = direction;
        self.bump_version();
        true
    }

    /// The session part of every description voxgate writes: origin, name, connection.
    pub(super) fn session(&self) -> SessionDescription {
        let mut session = SessionDescription::new(Origin {
            username: self.username.clone(),
            session_id: self.session_id.to_string(),
            session_version: self.session_version,
            address_type: AddressType::of(self.address),
            address: self.address.to_string(),
        });
        session.session_name = SESSION_NAME.to_owned();
        session.connection = Some(Connection {
            address: self.address,
        });
        session
    }
}

/// The rtpmap voxgate writes for a codec.
pub(super) fn codec_rtpmap(codec: AudioCodec) -> RtpMap {
    RtpMap {
        encoding: codec.encoding_name().to_owned(),
        clock_rate: codec.clock_rate(),
        // RFC 7587 §7: Opus is always `opus/48000/2`.
        channels: (codec == AudioCodec::Opus).then_some(2),
    }
}

/// The telephone-event rtpmap at a clock rate.
pub(super) fn telephone_event_rtpmap(clock_rate: u32) -> RtpMap {
    RtpMap {
        encoding: "telephone-event".to_owned(),
        clock_rate,
        channels: None,
    }
}

/// Adds a payload type with its rtpmap and fmtp to a section.
pub(super) fn add_format(media: &mut MediaDescription, pt: u8, map: RtpMap, fmtp: Option<&str>) {
    media.formats.push(pt.to_string());
    media.rtpmap.insert(pt, map);
    if let Some(fmtp) = fmtp {
        media.fmtp.insert(pt, fmtp.to_owned());
    }
}

/// The offer voxgate makes for an outbound call or a re-INVITE: one `RTP/AVP` audio stream
/// with its codecs in preference order (PCMU 0, PCMA 8, Opus on
/// [`OPUS_PAYLOAD_TYPE`]), telephone-event/8000 on [`TELEPHONE_EVENT_PAYLOAD_TYPE`],
/// `a=ptime` and its direction (`a=sendonly` while holding the peer).
pub fn offer(local: &LocalMedia) -> SessionDescription {
    let mut session = local.session();
    let mut audio = MediaDescription::new("audio", local.rtp_port, "RTP/AVP");
    let mut offered = Vec::new();
    for codec in &local.codecs {
        if offered.contains(codec) {
            continue;
        }
        offered.push(*codec);
        let pt = codec.static_payload_type().unwrap_or(OPUS_PAYLOAD_TYPE);
        let fmtp = (*codec == AudioCodec::Opus).then_some(OPUS_FMTP);
        add_format(&mut audio, pt, codec_rtpmap(*codec), fmtp);
    }
    if local.telephone_event {
        let map = telephone_event_rtpmap(8000);
        let fmtp = Some(TELEPHONE_EVENT_FMTP);
        add_format(&mut audio, TELEPHONE_EVENT_PAYLOAD_TYPE, map, fmtp);
    }
    audio.ptime = Some(local.ptime_ms);
    audio.direction = Some(local.direction);
    session.media.push(audio);
    session
}
