//! RTCP (RFC 3550 §6) as voxgate speaks it: compound packets of SR, RR, SDES CNAME and BYE.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |V=2|P|    RC   |      PT       |  length (32-bit words - 1)    |
//! ```
//!
//! [`Compound::parse`] checks a whole datagram before anything in it is used (RFC 3550
//! A.2, leniently: any packet may come first, so a lone BYE is read): version 2 everywhere,
//! every length inside the datagram, padding only on the last packet, and every report,
//! chunk and source count inside its packet. Parsing borrows from the datagram, never
//! allocates and never panics; a refusal is a [`SipError::RtpSession`] with an `RTCP_*`
//! code. [`RtcpWriter`] writes a compound packet into a caller-owned buffer. Packet types
//! other than the four are kept as [`RtcpPacket::Other`] and skipped (APP, RFC 4585
//! feedback, XR).

use voxgate_media::rtp::Ssrc;

use super::{RtpSessionErrorKind as Kind, error};
use crate::SipError;

mod write;

#[cfg(test)]
mod tests;

pub use write::RtcpWriter;

/// Sender report (RFC 3550 §6.4.1).
pub const PT_SR: u8 = 200;
/// Receiver report (§6.4.2).
pub const PT_RR: u8 = 201;
/// Source description (§6.5).
pub const PT_SDES: u8 = 202;
/// Goodbye (§6.6).
pub const PT_BYE: u8 = 203;

/// The common header.
const HEADER_LEN: usize = 4;
/// One report block.
const BLOCK_LEN: usize = 24;
/// The sender info of an SR.
const SENDER_INFO_LEN: usize = 20;
/// The SDES item type of a CNAME.
const CNAME: u8 = 1;

/// One reception report block: what a receiver says about one source (RFC 3550 §6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportBlock {
    /// The source reported on.
    pub ssrc: Ssrc,
    /// Packets lost since the previous report, as a fraction of 256.
    pub fraction_lost: u8,
    /// Packets lost since reception began (24-bit signed on the wire).
    pub cumulative_lost: i32,
    /// Extended highest sequence number received (cycles in the high 16 bits).
    pub highest_seq: u32,
    /// Interarrival jitter in timestamp units.
    pub jitter: u32,
    /// The middle 32 bits of the NTP timestamp of the last SR from the source (0: none).
    pub last_sr: u32,
    /// Delay since that SR was received, in 1/65536 s.
    pub delay_since_last_sr: u32,
}

/// The sender info of an SR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SenderInfo {
    /// NTP timestamp: seconds in the high 32 bits, fraction in the low 32.
    pub ntp: u64,
    /// The same instant in the stream's RTP clock.
    pub rtp_timestamp: u32,
    /// Packets sent since the stream began (wraps).
    pub packets: u32,
    /// Payload octets sent since the stream began (wraps).
    pub octets: u32,
}

/// The report blocks of an SR or RR, checked to be whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportBlocks<'a> {
    bytes: &'a [u8],
}

impl<'a> ReportBlocks<'a> {
    /// Number of blocks.
    pub fn len(&self) -> usize {
        self.bytes.len() / BLOCK_LEN
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The blocks in order.
    pub fn iter(&self) -> impl Iterator<Item = ReportBlock> + 'a {
        self.bytes.chunks_exact(BLOCK_LEN).map(parse_block)
    }
}

/// A source description: chunks of (SSRC, items), checked to be whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sdes<'a> {
    count: u8,
    body: &'a [u8],
}

impl<'a> Sdes<'a> {
    /// The first CNAME (item type 1) and the source it names.
    pub fn cname(&self) -> Option<(Ssrc, &'a [u8])> {
        let mut rest = self.body;
        for _ in 0..self.count {
            let (chunk, next) = split_chunk(rest).ok()?;
            let mut cnames = chunk.items().filter(|&(kind, _)| kind == CNAME);
            if let Some((_, name)) = cnames.next() {
                return Some((chunk.ssrc, name));
            }
            rest = next;
        }
        None
    }

    /// Number of chunks.
    pub fn len(&self) -> usize {
        usize::from(self.count)
    }

    /// Whether there is no chunk.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// A goodbye: the sources leaving and an optional reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bye<'a> {
    sources: &'a [u8],
    reason: Option<&'a [u8]>,
}

impl<'a> Bye<'a> {
    /// The sources leaving.
    pub fn ssrcs(&self) -> impl Iterator<Item = Ssrc> + 'a {
        self.sources.chunks_exact(4).map(|c| Ssrc(be32(c, 0)))
    }

    /// The reason text, if given.
    pub fn reason(&self) -> Option<&'a [u8]> {
        self.reason
    }
}

/// One packet of a compound packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RtcpPacket<'a> {
    /// A sender report.
    SenderReport {
        /// The sender.
        ssrc: Ssrc,
        /// What it sent.
        info: SenderInfo,
        /// What it received.
        reports: ReportBlocks<'a>,
    },
    /// A receiver report.
    ReceiverReport {
        /// The reporter.
        ssrc: Ssrc,
        /// What it received.
        reports: ReportBlocks<'a>,
    },
    /// A source description.
    SourceDescription(Sdes<'a>),
    /// A goodbye.
    Bye(Bye<'a>),
    /// Any other packet type, skipped.
    Other {
        /// Its packet type.
        packet_type: u8,
    },
}

impl RtcpPacket<'_> {
    /// The SSRC this packet is from: the reporter, or the first chunk or source listed.
    pub fn ssrc(&self) -> Option<Ssrc> {
        match self {
            Self::SenderReport { ssrc, .. } | Self::ReceiverReport { ssrc, .. } => Some(*ssrc),
            Self::SourceDescription(sdes) => sdes.body.get(..4).map(|b| Ssrc(be32(b, 0))),
            Self::Bye(bye) => bye.ssrcs().next(),
            Self::Other { .. } => None,
        }
    }
}

/// A checked compound packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compound<'a> {
    buf: &'a [u8],
}

impl<'a> Compound<'a> {
    /// Checks every packet of `buf`; refuses the whole datagram if one is malformed.
    pub fn parse(buf: &'a [u8]) -> Result<Self, SipError> {
        if buf.is_empty() {
            return Err(error(Kind::RtcpTooShort));
        }
        let mut rest = buf;
        while !rest.is_empty() {
            let (packet, next) = split_packet(rest).map_err(error)?;
            packet.parse().map_err(error)?;
            rest = next;
        }
        Ok(Self { buf })
    }

    /// The packets in order.
    pub fn packets(&self) -> impl Iterator<Item = RtcpPacket<'a>> + 'a {
        let mut rest = self.buf;
        std::iter::from_fn(move || {
            let (packet, next) = split_packet(rest).ok()?;
            rest = next;
            packet.parse().ok()
        })
    }

    /// The SSRC of the first packet: who sent this compound.
    pub fn sender(&self) -> Option<Ssrc> {
        self.packets().next().and_then(|p| p.ssrc())
    }
}

/// One packet's header fields and body (padding removed).
struct RawPacket<'a> {
    count: u8,
    packet_type: u8,
    body: &'a [u8],
}

/// Splits the first packet off `buf`.
fn split_packet(buf: &[u8]) -> Result<(RawPacket<'_>, &[u8]), Kind> {
    let header = buf.get(..HEADER_LEN).ok_or(Kind::RtcpTooShort)?;
    let (first, packet_type) = (header[0], header[1]);
    if first >> 6 != 2 {
        return Err(Kind::RtcpBadVersion);
    }
    let words = usize::from(u16::from_be_bytes([header[2], header[3]])) + 1;
    let (packet, rest) = buf.split_at_checked(words * 4).ok_or(Kind::RtcpBadLength)?;
    let mut body = packet.get(HEADER_LEN..).unwrap_or_default();
    if first & 0x20 != 0 {
        let pad = usize::from(body.last().copied().unwrap_or(0));
        if !rest.is_empty() || pad == 0 || pad > body.len() {
            return Err(Kind::RtcpBadPadding);
        }
        body = body.get(..body.len() - pad).unwrap_or_default();
    }
    let count = first & 0x1f;
    Ok((
        RawPacket {
            count,
            packet_type,
            body,
        },
        rest,
    ))
}

impl<'a> RawPacket<'a> {
    fn parse(&self) -> Result<RtcpPacket<'a>, Kind> {
        let (count, body) = (usize::from(self.count), self.body);
        match self.packet_type {
            PT_SR => {
                let fixed = body.get(..4 + SENDER_INFO_LEN).ok_or(Kind::RtcpTooShort)?;
                let reports = report_blocks(body.get(fixed.len()..), count)?;
                let ntp = u64::from(be32(fixed, 4)) << 32 | u64::from(be32(fixed, 8));
                let info = SenderInfo {
                    ntp,
                    rtp_timestamp: be32(fixed, 12),
                    packets: be32(fixed, 16),
                    octets: be32(fixed, 20),
                };
                let ssrc = Ssrc(be32(fixed, 0));
                Ok(RtcpPacket::SenderReport {
                    ssrc,
                    info,
                    reports,
                })
            }
            PT_RR => {
                let fixed = body.get(..4).ok_or(Kind::RtcpTooShort)?;
                let reports = report_blocks(body.get(4..), count)?;
                Ok(RtcpPacket::ReceiverReport {
                    ssrc: Ssrc(be32(fixed, 0)),
                    reports,
                })
            }
            PT_SDES => {
                let mut rest = body;
                for _ in 0..count {
                    rest = split_chunk(rest)?.1;
                }
                Ok(RtcpPacket::SourceDescription(Sdes {
                    count: self.count,
                    body,
                }))
            }
            PT_BYE => parse_bye(body, count),
            packet_type => Ok(RtcpPacket::Other { packet_type }),
        }
    }
}

/// `count` report blocks at the start of `bytes`; bytes after them (profile extensions)
/// are ignored.
fn report_blocks(bytes: Option<&[u8]>, count: usize) -> Result<ReportBlocks<'_>, Kind> {
    let bytes = bytes.and_then(|b| b.get(..count * BLOCK_LEN));
    bytes
        .map(|bytes| ReportBlocks { bytes })
        .ok_or(Kind::RtcpBadCount)
}

fn parse_bye(body: &[u8], count: usize) -> Result<RtcpPacket<'_>, Kind> {
    let (sources, rest) = body.split_at_checked(count * 4).ok_or(Kind::RtcpBadCount)?;
    let reason = match rest.split_first() {
        // What follows the sources is padding to a word, or a length-prefixed reason.
        None | Some((0, _)) => None,
        Some((&len, text)) => Some(text.get(..usize::from(len)).ok_or(Kind::RtcpBadCount)?),
    };
    Ok(RtcpPacket::Bye(Bye { sources, reason }))
}

/// One SDES chunk: its source and its checked items.
struct Chunk<'a> {
    ssrc: Ssrc,
    items: &'a [u8],
}

impl<'a> Chunk<'a> {
    /// The (type, value) items.
    fn items(&self) -> impl Iterator<Item = (u8, &'a [u8])> + 'a {
        let mut items = self.items;
        std::iter::from_fn(move || {
            let (&kind, tail) = items.split_first()?;
            let (&len, tail) = tail.split_first()?;
            let (value, tail) = tail.split_at_checked(usize::from(len))?;
            items = tail;
            Some((kind, value))
        })
    }
}

/// Splits the first chunk off `buf`, checking its items and its end (a zero type byte,
/// then padding to a 32-bit boundary).
fn split_chunk(buf: &[u8]) -> Result<(Chunk<'_>, &[u8]), Kind> {
    let ssrc = Ssrc(be32(buf.get(..4).ok_or(Kind::RtcpBadCount)?, 0));
    let items_start = 4;
    let mut at = items_start;
    loop {
        match buf.get(at) {
            None => return Err(Kind::RtcpBadCount),
            Some(0) => break,
            Some(_) => {
                let len = usize::from(*buf.get(at + 1).ok_or(Kind::RtcpBadCount)?);
                at += 2 + len;
                if at > buf.len() {
                    return Err(Kind::RtcpBadCount);
                }
            }
        }
    }
    let items = buf.get(items_start..at).unwrap_or_default();
    // The terminating zero, then up to three more to the word boundary.
    let end = (at + 1).next_multiple_of(4).min(buf.len());
    let rest = buf.get(end..).unwrap_or_default();
    Ok((Chunk { ssrc, items }, rest))
}

fn parse_block(b: &[u8]) -> ReportBlock {
    let lost = [b.get(5), b.get(6), b.get(7)].map(|x| x.copied().unwrap_or(0));
    // 24-bit two's complement: put it in the top of an i32, then shift back with sign.
    let cumulative_lost = i32::from_be_bytes([lost[0], lost[1], lost[2], 0]) >> 8;
    ReportBlock {
        ssrc: Ssrc(be32(b, 0)),
        fraction_lost: b.get(4).copied().unwrap_or(0),
        cumulative_lost,
        highest_seq: be32(b, 8),
        jitter: be32(b, 12),
        last_sr: be32(b, 16),
        delay_since_last_sr: be32(b, 20),
    }
}

/// The big-endian u32 at `at`; 0 past the end (callers have checked the length).
fn be32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .and_then(|w| w.try_into().ok())
        .map_or(0, u32::from_be_bytes)
}
