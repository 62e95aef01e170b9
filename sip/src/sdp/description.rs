//! The parsed shape of a session description (RFC 4566 §5).

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::codec::{AudioCodec, Direction};

/// A session description: the session-level lines, then one [`MediaDescription`] per
/// `m=` line, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription {
    /// The `o=` line (RFC 4566 §5.2).
    pub origin: Origin,
    /// The `s=` line; `-` when a peer left it out or empty.
    pub session_name: String,
    /// The session-level `c=` line, the default for media sections without one.
    pub connection: Option<Connection>,
    /// A session-level `a=sendrecv|sendonly|recvonly|inactive`, the default for media
    /// sections without one (RFC 4566 §6).
    pub direction: Option<Direction>,
    /// Session-level lines this module does not model (`i= u= e= p= b= t= r= z= k=` and
    /// unknown types), in RFC 4566 §5 order. The parser adds `t=0 0` when a peer sent no
    /// `t=` line.
    pub lines: Vec<Line>,
    /// Session-level attributes other than the direction, in order.
    pub attributes: Vec<Attribute>,
    /// The media sections, in `m=` line order.
    pub media: Vec<MediaDescription>,
}

/// The `o=` line: who made the description and which version of it this is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The user's login on the originating host, `-` when it has none.
    pub username: String,
    /// The session id, a numeric string (kept as text: some peers use more than 64 bits).
    pub session_id: String,
    /// The version, increased for each changed description (RFC 3264 §8).
    pub session_version: u64,
    /// The address type.
    pub address_type: AddressType,
    /// The originating host: an address or a name (the only place SDP allows a name here).
    pub address: String,
}

/// The address type of an `o=` or `c=` line (the network type is always `IN`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressType {
    /// `IP4`.
    Ip4,
    /// `IP6`.
    Ip6,
}

impl AddressType {
    /// As SDP writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ip4 => "IP4",
            Self::Ip6 => "IP6",
        }
    }

    /// The type of an address.
    pub fn of(address: IpAddr) -> Self {
        match address {
            IpAddr::V4(_) => Self::Ip4,
            IpAddr::V6(_) => Self::Ip6,
        }
    }
}

/// A `c=` line: where media goes. Only unicast literal addresses (no TTL, no names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Connection {
    /// The address; `0.0.0.0` is the RFC 2543 way to put a call on hold (RFC 3264 §8.4).
    pub address: IpAddr,
}

impl Connection {
    /// Whether this is the unspecified address, meaning "do not send to me".
    pub fn is_hold(self) -> bool {
        self.address.is_unspecified()
    }
}

/// A line this module keeps without interpreting it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The type letter.
    pub kind: char,
    /// Everything after `=`, trimmed.
    pub value: String,
}

/// An `a=` line this module keeps without interpreting it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// The name: everything before the first `:`.
    pub name: String,
    /// The value after `:`, `None` for a flag attribute such as `a=rtcp-mux`.
    pub value: Option<String>,
}

/// An `a=rtpmap` line: what a dynamic (or remapped static) payload type carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpMap {
    /// The encoding name as the peer wrote it (compare case-insensitively).
    pub encoding: String,
    /// The RTP clock rate in Hz.
    pub clock_rate: u32,
    /// The channel count, when given.
    pub channels: Option<u16>,
}

impl RtpMap {
    /// The voxgate codec this is, if any: `PCMU/8000`, `PCMA/8000` (mono) or
    /// `opus/48000[/2]` (RFC 7587 §7 says the channel count is always 2; it is not
    /// insisted on).
    pub fn audio_codec(&self) -> Option<AudioCodec> {
        let mono = matches!(self.channels, None | Some(1));
        [AudioCodec::Pcmu, AudioCodec::Pcma, AudioCodec::Opus]
            .into_iter()
            .find(|codec| {
                self.encoding.eq_ignore_ascii_case(codec.encoding_name())
                    && self.clock_rate == codec.clock_rate()
                    && (mono || *codec == AudioCodec::Opus)
            })
    }

    /// Whether this is RFC 4733 `telephone-event` (DTMF) at any clock rate.
    pub fn is_telephone_event(&self) -> bool {
        self.encoding.eq_ignore_ascii_case("telephone-event")
    }
}

/// The `a=rtcp` attribute (RFC 3605): where the peer wants RTCP when not on port + 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rtcp {
    /// The RTCP port.
    pub port: u16,
    /// The RTCP address, when not the media's.
    pub connection: Option<Connection>,
}

/// One media section: an `m=` line and the lines after it up to the next `m=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaDescription {
    /// The media type: `audio`, `video`, `application`, `image`, ...
    pub media: String,
    /// The transport port; 0 rejects or disables the stream (RFC 3264 §6, §8.2).
    pub port: u16,
    /// The number of ports after `/`, when given.
    pub port_count: Option<u16>,
    /// The transport protocol: `RTP/AVP`, `RTP/AVPF`, `RTP/SAVP`, `UDP/TLS/RTP/SAVPF`, ...
    pub proto: String,
    /// The formats: payload type numbers for RTP, opaque tokens otherwise.
    pub formats: Vec<String>,
    /// The media-level `c=` line.
    pub connection: Option<Connection>,
    /// `a=rtpmap` by payload type.
    pub rtpmap: BTreeMap<u8, RtpMap>,
    /// `a=fmtp` parameters by payload type.
    pub fmtp: BTreeMap<u8, String>,
    /// `a=ptime`: the packet time, in milliseconds, the writer wants to receive.
    pub ptime: Option<u32>,
    /// `a=maxptime`: the longest packet time, in milliseconds, the writer can receive.
    pub maxptime: Option<u32>,
    /// The media-level direction attribute.
    pub direction: Option<Direction>,
    /// `a=rtcp`.
    pub rtcp: Option<Rtcp>,
    /// Media-level lines this module does not model (`i= b= k=` and others), in order.
    pub lines: Vec<Line>,
    /// Media-level attributes not modelled above, in order.
    pub attributes: Vec<Attribute>,
}

impl MediaDescription {
    /// A section with no formats, connection or attributes yet.
    pub fn new(media: &str, port: u16, proto: &str) -> Self {
        Self {
            media: media.to_owned(),
            port,
            port_count: None,
            proto: proto.to_owned(),
            formats: Vec::new(),
            connection: None,
            rtpmap: BTreeMap::new(),
            fmtp: BTreeMap::new(),
            ptime: None,
            maxptime: None,
            direction: None,
            rtcp: None,
            lines: Vec::new(),
            attributes: Vec::new(),
        }
    }

    /// Whether the transport is RTP (any profile), so the formats are payload types.
    pub fn is_rtp(&self) -> bool {
        self.proto
            .split('/')
            .any(|part| part.eq_ignore_ascii_case("RTP"))
    }

    /// The formats that are payload types, in order.
    pub fn payload_types(&self) -> impl Iterator<Item = u8> + '_ {
        self.formats.iter().filter_map(|f| f.parse::<u8>().ok())
    }

    /// What a payload type carries: its `a=rtpmap`, else the RFC 3551 §6 static
    /// assignment of the audio payload types voxgate can name.
    pub fn rtpmap_of(&self, payload_type: u8) -> Option<RtpMap> {
        if let Some(map) = self.rtpmap.get(&payload_type) {
            return Some(map.clone());
        }
        let (encoding, clock_rate) = match payload_type {
            0 => ("PCMU", 8000),
            3 => ("GSM", 8000),
            4 => ("G723", 8000),
            8 => ("PCMA", 8000),
            9 => ("G722", 8000),
            13 => ("CN", 8000),
            18 => ("G729", 8000),
            _ => return None,
        };
        Some(RtpMap {
            encoding: encoding.to_owned(),
            clock_rate,
            channels: None,
        })
    }
}

impl SessionDescription {
    /// A description with an origin, session name `-`, `t=0 0` and nothing else.
    pub fn new(origin: Origin) -> Self {
        Self {
            origin,
            session_name: "-".to_owned(),
            connection: None,
            direction: None,
            lines: vec![Line {
                kind: 't',
                value: "0 0".to_owned(),
            }],
            attributes: Vec::new(),
            media: Vec::new(),
        }
    }

    /// The direction that holds for a media section: its own attribute, else the
    /// session's, else `sendrecv` (RFC 4566 §6). A `c=0.0.0.0` connection takes the
    /// receiving half away: the writer asked not to be sent anything (RFC 3264 §8.4).
    pub fn direction_of(&self, media: &MediaDescription) -> Direction {
        let direction = media.direction.or(self.direction).unwrap_or_default();
        match self.connection_of(media) {
            Some(c) if c.is_hold() => direction_from(direction.sends(), false),
            _ => direction,
        }
    }

    /// The connection that holds for a media section: its own, else the session's.
    pub fn connection_of(&self, media: &MediaDescription) -> Option<Connection> {
        media.connection.or(self.connection)
    }
}

/// The direction with these halves.
pub(crate) fn direction_from(sends: bool, receives: bool) -> Direction {
    match (sends, receives) {
        (true, true) => Direction::SendRecv,
        (true, false) => Direction::SendOnly,
        (false, true) => Direction::RecvOnly,
        (false, false) => Direction::Inactive,
    }
}
