//! The peer's packets in: latching (symmetric RTP), demultiplexing, DTMF and the jitter
//! buffer.
//!
//! # Latching, and the rule against hijacking
//!
//! RTP goes to the SDP address until the peer's packets show its real one (RFC 4961; behind
//! NAT the SDP address is often private). Only a valid packet moves the destination: it
//! parses as RTP version 2 and carries a negotiated payload type (audio, telephone-event)
//! or comfort noise. Then:
//!
//! - the first valid packet latches its source address (also the first after an
//!   [`update`](Inbound::update) that changed the SDP address);
//! - a packet with the SSRC being received is accepted from any address and moves the latch
//!   at once: that is a NAT rebinding, and the SSRC is a 32-bit secret to anyone off the
//!   path;
//! - a new SSRC from the latched address is accepted once the old stream has been silent
//!   for [`SSRC_SWITCH_GAP`] (a peer restarting its stream, a B2BUA switching legs), or at
//!   once as the first packet after an `update` (a re-INVITE often restarts the stream);
//! - a new SSRC from another address is accepted only after the stream has been silent for
//!   [`RELATCH_AFTER`], so a stray or forged packet cannot take over a live call.
//!
//! Everything else is counted and dropped.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use voxgate_media::SampleRate;
use voxgate_media::jitter::{JitterBuffer, JitterConfig, JitterStats, PayloadDecoder};
use voxgate_media::opus::OpusDecoder;
use voxgate_media::rtp::{DtmfReceiver, RtpHeader, RtpPacket, TelephoneEvent};

use super::reception::Reception;
use crate::SipError;
use crate::codec::{AudioCodec, MediaParams};

/// How long the current stream must have been silent before a packet with another SSRC from
/// another address takes the latch.
pub const RELATCH_AFTER: Duration = Duration::from_secs(2);

/// How long the current stream must have been silent before another SSRC from the latched
/// address replaces it (five packet times: a restart, not two streams interleaved).
pub const SSRC_SWITCH_GAP: Duration = Duration::from_millis(100);

/// Comfort noise (RFC 3389), static payload type 13: keeps the stream alive, else ignored.
const COMFORT_NOISE: u8 = 13;

/// Counters of the inbound stream.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct ReceiveStats {
    pub(super) packets: u64,
    pub(super) octets: u64,
    pub(super) malformed: u64,
    pub(super) unknown_payload_type: u64,
    pub(super) foreign: u64,
    /// The counters of jitter buffers replaced by a codec change.
    pub(super) jitter_before: JitterCounters,
}

/// What the jitter buffers did with the audio, summed over codec changes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct JitterCounters {
    pub(super) late: u64,
    /// Rejected, duplicate or dropped packets: not played.
    pub(super) dropped: u64,
    pub(super) concealed: u64,
    /// Frames the pool allocated because the driver did not recycle them.
    pub(super) allocations: u64,
}

impl JitterCounters {
    fn plus(self, s: &JitterStats) -> Self {
        Self {
            late: self.late + s.late,
            dropped: self.dropped + s.rejected + s.duplicates + s.dropped,
            concealed: self.concealed + s.concealed,
            allocations: self.allocations + s.allocations,
        }
    }
}

/// The stream being received.
#[derive(Debug)]
struct Stream {
    reception: Reception,
    last_heard: Instant,
}

/// What a payload type is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Audio,
    Dtmf,
    ComfortNoise,
}

/// The inbound half of the session.
#[derive(Debug)]
pub(super) struct Inbound {
    audio_pt: u8,
    dtmf_pt: Option<u8>,
    clock_rate: u32,
    receiving: bool,
    pub(super) jitter: JitterBuffer,
    dtmf: DtmfReceiver,
    /// Where RTP goes: the SDP address until a packet latched another.
    destination: SocketAddr,
    latched: bool,
    stream: Option<Stream>,
    /// The next accepted packet may bring a new SSRC from the latched address.
    ssrc_change_allowed: bool,
    /// The next accepted packet starts new reception statistics (a new codec clock).
    restart_reception: bool,
    pub(super) stats: ReceiveStats,
}

impl Inbound {
    /// The inbound stream for `params`, with its jitter buffer.
    pub(super) fn new(params: &MediaParams, jitter: JitterConfig) -> Result<Self, SipError> {
        Ok(Self {
            audio_pt: params.payload_type,
            dtmf_pt: params.dtmf_payload_type,
            clock_rate: params.codec.clock_rate(),
            receiving: params.direction.receives(),
            jitter: new_jitter(params.codec, jitter)?,
            dtmf: DtmfReceiver::new(),
            destination: params.remote,
            latched: false,
            stream: None,
            ssrc_change_allowed: false,
            restart_reception: false,
            stats: ReceiveStats::default(),
        })
    }

    /// Takes new media parameters (a re-INVITE). A new SDP address drops the latch; a new
    /// codec gets a new jitter buffer.
    pub(super) fn update(
        &mut self,
        params: &MediaParams,
        old: &MediaParams,
        jitter: JitterConfig,
    ) -> Result<(), SipError> {
        if params.codec != old.codec {
            let replaced = std::mem::replace(&mut self.jitter, new_jitter(params.codec, jitter)?);
            self.stats.jitter_before = self.stats.jitter_before.plus(&replaced.stats());
            self.clock_rate = params.codec.clock_rate();
            self.restart_reception = true;
        }
        if params.remote != old.remote {
            self.destination = params.remote;
            self.latched = false;
        }
        self.audio_pt = params.payload_type;
        self.dtmf_pt = params.dtmf_payload_type;
        self.receiving = params.direction.receives();
        self.ssrc_change_allowed = true;
        Ok(())
    }

    /// Where RTP goes now, and whether a packet of the peer chose it.
    pub(super) fn destination(&self) -> (SocketAddr, bool) {
        (self.destination, self.latched)
    }

    /// The SSRC being received.
    pub(super) fn peer_ssrc(&self) -> Option<voxgate_media::rtp::Ssrc> {
        self.stream.as_ref().map(|s| s.reception.ssrc())
    }

    /// When the last packet was accepted.
    pub(super) fn last_heard(&self) -> Option<Instant> {
        self.stream.as_ref().map(|s| s.last_heard)
    }

    /// The reception statistics of the stream, for a report block.
    pub(super) fn reception_mut(&mut self) -> Option<&mut Reception> {
        self.stream.as_mut().map(|s| &mut s.reception)
    }

    /// The reception statistics of the stream.
    pub(super) fn reception(&self) -> Option<&Reception> {
        self.stream.as_ref().map(|s| &s.reception)
    }

    /// Takes one RTP datagram; returns a DTMF digit when an event starts.
    pub(super) fn handle(
        &mut self,
        now: Instant,
        from: SocketAddr,
        datagram: &[u8],
    ) -> Option<char> {
        let Ok(packet) = RtpPacket::parse(datagram) else {
            self.stats.malformed += 1;
            return None;
        };
        let header = packet.header;
        let Some(kind) = self.kind(header.payload_type) else {
            self.stats.unknown_payload_type += 1;
            return None;
        };
        if !self.admit(now, from, &header) {
            self.stats.foreign += 1;
            return None;
        }
        self.stats.packets += 1;
        self.stats.octets += packet.payload.len() as u64;
        if let Some(stream) = &mut self.stream {
            let audio = kind == Kind::Audio;
            stream
                .reception
                .record(now, header.sequence, header.timestamp, audio);
        }
        if !self.receiving {
            return None;
        }
        match kind {
            Kind::Audio => {
                // The outcome is in the jitter buffer's own counters.
                self.jitter.push(now, &packet);
                None
            }
            Kind::Dtmf => {
                let event = TelephoneEvent::parse(packet.payload).ok()?;
                self.dtmf.handle(header.timestamp, &event)
            }
            Kind::ComfortNoise => None,
        }
    }

    /// Whether a datagram with this second byte is RTCP on the RTP port (RFC 5761 §4):
    /// RTCP packet types 192-223 read as RTP are payload types 64-95 with the marker set.
    pub(super) fn is_muxed_rtcp(&self, second_byte: u8) -> bool {
        (192..=223).contains(&second_byte) && self.kind(second_byte & 0x7f).is_none()
    }

    fn kind(&self, payload_type: u8) -> Option<Kind> {
        if payload_type == self.audio_pt {
            Some(Kind::Audio)
        } else if Some(payload_type) == self.dtmf_pt {
            Some(Kind::Dtmf)
        } else if payload_type == COMFORT_NOISE {
            Some(Kind::ComfortNoise)
        } else {
            None
        }
    }

    /// The latching rule of the module docs; on acceptance the latch and the stream follow
    /// the packet.
    fn admit(&mut self, now: Instant, from: SocketAddr, header: &RtpHeader) -> bool {
        let accept = match &self.stream {
            None => true,
            Some(_) if !self.latched => true,
            Some(s) if s.reception.ssrc() == header.ssrc => true,
            Some(s) => {
                let silent = now.saturating_duration_since(s.last_heard);
                if from == self.destination {
                    self.ssrc_change_allowed || silent >= SSRC_SWITCH_GAP
                } else {
                    silent >= RELATCH_AFTER
                }
            }
        };
        if !accept {
            return false;
        }
        let restart = self.restart_reception
            || self
                .stream
                .as_ref()
                .is_none_or(|s| s.reception.ssrc() != header.ssrc);
        if restart {
            let reception = Reception::new(header.ssrc, header.sequence, self.clock_rate, now);
            self.stream = Some(Stream {
                reception,
                last_heard: now,
            });
        }
        if let Some(stream) = &mut self.stream {
            stream.last_heard = now;
        }
        self.restart_reception = false;
        self.ssrc_change_allowed = false;
        self.destination = from;
        self.latched = true;
        true
    }

    /// The jitter buffer's counters with those of the buffers it replaced.
    pub(super) fn jitter_counters(&self) -> JitterCounters {
        self.stats.jitter_before.plus(&self.jitter.stats())
    }
}

/// The jitter buffer for `codec`: G.711 at 8 kHz, Opus decoded at 16 kHz.
fn new_jitter(codec: AudioCodec, config: JitterConfig) -> Result<JitterBuffer, SipError> {
    let rate: SampleRate = codec.audio_rate();
    let decoder = match codec.law() {
        Some(law) => PayloadDecoder::G711(law),
        None => PayloadDecoder::Opus(OpusDecoder::new(rate)?),
    };
    Ok(JitterBuffer::new(config, decoder, rate)?)
}
