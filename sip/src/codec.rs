//! What offer/answer settles for one call's audio, shared by [`sdp`](crate::sdp) (which
//! produces it) and [`rtp`](crate::rtp) (which runs it).

use std::net::SocketAddr;

use voxgate_media::SampleRate;
use voxgate_media::g711::Law;

/// The audio codecs voxgate speaks on a SIP leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AudioCodec {
    /// G.711 μ-law, static payload type 0 (RFC 3551 §6).
    Pcmu,
    /// G.711 A-law, static payload type 8.
    Pcma,
    /// Opus (RFC 7587), a dynamic payload type; `opus/48000/2` in SDP whatever it carries.
    Opus,
}

impl AudioCodec {
    /// The encoding name as SDP writes it in `a=rtpmap` (case-insensitive on input).
    pub fn encoding_name(self) -> &'static str {
        match self {
            Self::Pcmu => "PCMU",
            Self::Pcma => "PCMA",
            Self::Opus => "opus",
        }
    }

    /// The RTP clock rate: 8 kHz for G.711, 48 kHz for Opus (RFC 7587 §4.1).
    pub fn clock_rate(self) -> u32 {
        match self {
            Self::Pcmu | Self::Pcma => 8000,
            Self::Opus => 48000,
        }
    }

    /// The static payload type, for codecs that have one.
    pub fn static_payload_type(self) -> Option<u8> {
        match self {
            Self::Pcmu => Some(0),
            Self::Pcma => Some(8),
            Self::Opus => None,
        }
    }

    /// The G.711 law, for G.711 codecs.
    pub fn law(self) -> Option<Law> {
        match self {
            Self::Pcmu => Some(Law::Ulaw),
            Self::Pcma => Some(Law::Alaw),
            Self::Opus => None,
        }
    }

    /// The rate voxgate decodes this codec's audio at and encodes it from: 8 kHz for G.711
    /// (what it carries), 16 kHz for Opus (what the speech engines want; libopus decodes
    /// and encodes at any of its rates without a resampler of ours).
    pub fn audio_rate(self) -> SampleRate {
        match self {
            Self::Pcmu | Self::Pcma => SampleRate::HZ_8000,
            Self::Opus => SampleRate::HZ_16000,
        }
    }
}

/// Which way media flows, from the point of view of the side that wrote the description
/// (RFC 3264 §5.1, §6.1; RFC 4566 §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// Both ways (the default when a description names none).
    #[default]
    SendRecv,
    /// The writer sends only (the other side is put on hold).
    SendOnly,
    /// The writer receives only.
    RecvOnly,
    /// Neither way (hold).
    Inactive,
}

impl Direction {
    /// The attribute name as SDP writes it.
    pub fn attribute(self) -> &'static str {
        match self {
            Self::SendRecv => "sendrecv",
            Self::SendOnly => "sendonly",
            Self::RecvOnly => "recvonly",
            Self::Inactive => "inactive",
        }
    }

    /// The direction an answer takes to an offer with this one (RFC 3264 §6.1): a
    /// `sendonly` offer is answered `recvonly` and so on, when the answerer is willing to
    /// send and receive.
    pub fn answer(self) -> Self {
        match self {
            Self::SendRecv => Self::SendRecv,
            Self::SendOnly => Self::RecvOnly,
            Self::RecvOnly => Self::SendOnly,
            Self::Inactive => Self::Inactive,
        }
    }

    /// Whether the side with this direction sends media.
    pub fn sends(self) -> bool {
        matches!(self, Self::SendRecv | Self::SendOnly)
    }

    /// Whether the side with this direction receives media.
    pub fn receives(self) -> bool {
        matches!(self, Self::SendRecv | Self::RecvOnly)
    }
}

/// The settled media of one call, as seen from voxgate: what it sends, how, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaParams {
    /// The one audio codec both sides use.
    pub codec: AudioCodec,
    /// Its payload type on this call (static for G.711; the offerer's number for Opus).
    pub payload_type: u8,
    /// The RFC 4733 telephone-event payload type, if both sides support it.
    pub dtmf_payload_type: Option<u8>,
    /// Packet time in milliseconds; voxgate sends 20 and asks for 20.
    pub ptime_ms: u32,
    /// Where the peer said to send RTP (the connection address and the media port). The
    /// RTP session latches onto the address packets really come from (symmetric RTP).
    pub remote: SocketAddr,
    /// voxgate's direction on this call (`SendRecv` unless on hold).
    pub direction: Direction,
}
