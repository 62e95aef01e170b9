//! The RFC 3550 §5.1 fixed header.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |V=2|P|X|  CC   |M|     PT      |       sequence number         |
//! |                           timestamp                           |
//! |           synchronization source (SSRC) identifier            |
//! |            contributing source (CSRC) identifiers             |
//! ```

use crate::error::{MediaError, RtpErrorKind};

/// Length of the fixed header without CSRCs or extension.
pub const HEADER_LEN: usize = 12;

/// Most CSRCs a header can list (the CC field is 4 bits).
const MAX_CSRC: usize = 15;

/// A synchronization source identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ssrc(pub u32);

/// The fields of an RTP header that voxgate reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpHeader {
    /// Marker bit: start of a talkspurt for audio (RFC 3551 §4.1), start of a DTMF event.
    pub marker: bool,
    /// Payload type, 0..=127.
    pub payload_type: u8,
    /// Sequence number, wraps at 2^16.
    pub sequence: u16,
    /// Media timestamp in the payload's clock rate, wraps at 2^32.
    pub timestamp: u32,
    /// Synchronization source.
    pub ssrc: Ssrc,
    csrc: [u32; MAX_CSRC],
    csrc_count: u8,
}

impl RtpHeader {
    /// A header with no CSRCs.
    pub fn new(payload_type: u8, sequence: u16, timestamp: u32, ssrc: Ssrc) -> Self {
        Self {
            marker: false,
            payload_type: payload_type & 0x7f,
            sequence,
            timestamp,
            ssrc,
            csrc: [0; MAX_CSRC],
            csrc_count: 0,
        }
    }

    /// The contributing sources.
    pub fn csrcs(&self) -> &[u32] {
        &self.csrc[..usize::from(self.csrc_count)]
    }

    /// Bytes this header takes on the wire.
    pub fn len(&self) -> usize {
        HEADER_LEN + 4 * usize::from(self.csrc_count)
    }

    /// Always false: a header is at least 12 bytes. Present for API symmetry with `len`.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Writes the header then `payload` into `out`; returns the packet length.
    pub fn write(&self, payload: &[u8], out: &mut [u8]) -> Result<usize, MediaError> {
        let total = self.len() + payload.len();
        let Some(out) = out.get_mut(..total) else {
            return Err(MediaError::Rtp(RtpErrorKind::OutputTooSmall));
        };
        out[0] = 0x80 | self.csrc_count;
        out[1] = (u8::from(self.marker) << 7) | (self.payload_type & 0x7f);
        out[2..4].copy_from_slice(&self.sequence.to_be_bytes());
        out[4..8].copy_from_slice(&self.timestamp.to_be_bytes());
        out[8..12].copy_from_slice(&self.ssrc.0.to_be_bytes());
        let (csrc_bytes, body) = out[HEADER_LEN..].split_at_mut(self.len() - HEADER_LEN);
        for (chunk, csrc) in csrc_bytes.chunks_exact_mut(4).zip(self.csrcs()) {
            chunk.copy_from_slice(&csrc.to_be_bytes());
        }
        body.copy_from_slice(payload);
        Ok(total)
    }
}

/// An RTP header extension: a profile-defined 16-bit id and its data (whole 32-bit words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpExtension<'a> {
    /// The "defined by profile" field, e.g. 0xBEDE for RFC 8285 one-byte headers.
    pub profile: u16,
    /// The extension data.
    pub data: &'a [u8],
}

/// A parsed RTP packet borrowing its payload from the datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    /// The header fields.
    pub header: RtpHeader,
    /// The header extension (RFC 3550 §5.3.1), if present.
    pub extension: Option<RtpExtension<'a>>,
    /// The payload with any padding removed.
    pub payload: &'a [u8],
}

impl<'a> RtpPacket<'a> {
    /// Parses a datagram. Rejects anything that is not well-formed RTP version 2.
    pub fn parse(buf: &'a [u8]) -> Result<Self, MediaError> {
        let err = |kind| MediaError::Rtp(kind);
        let fixed: &[u8; HEADER_LEN] = buf
            .get(..HEADER_LEN)
            .and_then(|b| b.try_into().ok())
            .ok_or(err(RtpErrorKind::TooShort))?;
        if fixed[0] >> 6 != 2 {
            return Err(err(RtpErrorKind::BadVersion));
        }
        let has_padding = fixed[0] & 0x20 != 0;
        let has_extension = fixed[0] & 0x10 != 0;
        let csrc_count = fixed[0] & 0x0f;
        let mut header = RtpHeader::new(
            fixed[1] & 0x7f,
            u16::from_be_bytes([fixed[2], fixed[3]]),
            u32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]),
            Ssrc(u32::from_be_bytes([
                fixed[8], fixed[9], fixed[10], fixed[11],
            ])),
        );
        header.marker = fixed[1] & 0x80 != 0;
        header.csrc_count = csrc_count;

        let csrc_end = HEADER_LEN + 4 * usize::from(csrc_count);
        let csrc_bytes = buf
            .get(HEADER_LEN..csrc_end)
            .ok_or(err(RtpErrorKind::CsrcOverrun))?;
        for (slot, chunk) in header.csrc.iter_mut().zip(csrc_bytes.chunks_exact(4)) {
            *slot = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        }

        let (extension, body_start) = if has_extension {
            parse_extension(buf, csrc_end)?
        } else {
            (None, csrc_end)
        };
        let mut body = &buf[body_start..];
        if has_padding {
            let pad = usize::from(body.last().copied().unwrap_or(0));
            if pad == 0 || pad > body.len() {
                return Err(err(RtpErrorKind::BadPadding));
            }
            body = &body[..body.len() - pad];
        }
        Ok(Self {
            header,
            extension,
            payload: body,
        })
    }
}

/// Parses the extension header at `at`; returns it and where the payload starts.
fn parse_extension(buf: &[u8], at: usize) -> Result<(Option<RtpExtension<'_>>, usize), MediaError> {
    let overrun = MediaError::Rtp(RtpErrorKind::ExtensionOverrun);
    let head = buf.get(at..at + 4).ok_or(overrun.clone())?;
    let profile = u16::from_be_bytes([head[0], head[1]]);
    let words = usize::from(u16::from_be_bytes([head[2], head[3]]));
    let end = at + 4 + 4 * words;
    let data = buf.get(at + 4..end).ok_or(overrun)?;
    Ok((Some(RtpExtension { profile, data }), end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut h = RtpHeader::new(0, 0xfffe, 0xdead_beef, Ssrc(0x1234_5678));
        h.marker = true;
        let mut out = [0u8; 64];
        let n = h.write(&[1, 2, 3], &mut out).expect("fits");
        assert_eq!(n, 15);
        assert_eq!(
            &out[..n],
            &[
                0x80, 0x80, 0xff, 0xfe, 0xde, 0xad, 0xbe, 0xef, 0x12, 0x34, 0x56, 0x78, 1, 2, 3
            ]
        );
        let p = RtpPacket::parse(&out[..n]).expect("parses");
        assert_eq!(p.header, h);
        assert_eq!(p.payload, &[1, 2, 3]);
        assert_eq!(p.extension, None);
    }

    #[test]
    fn csrc_extension_and_padding() {
        // V=2 P=1 X=1 CC=1, PT 8, then one CSRC, a one-word extension, payload, 2 pad bytes.
        let pkt = [
            0xb1, 0x08, 0, 1, 0, 0, 0, 160, 0, 0, 0, 9, // fixed header
            0, 0, 0, 42, // CSRC
            0xbe, 0xde, 0, 1, 0xaa, 0xbb, 0xcc, 0xdd, // extension
            7, 7, 0, 2, // payload 7 7, padding 2
        ];
        let p = RtpPacket::parse(&pkt).expect("parses");
        assert_eq!(p.header.csrcs(), &[42]);
        assert_eq!(p.header.payload_type, 8);
        assert_eq!(p.header.timestamp, 160);
        let ext = RtpExtension {
            profile: 0xbede,
            data: &[0xaa, 0xbb, 0xcc, 0xdd],
        };
        assert_eq!(p.extension, Some(ext));
        assert_eq!(p.payload, &[7, 7]);
    }

    #[test]
    fn malformed_packets_are_typed_errors() {
        let table: &[(&[u8], RtpErrorKind)] = &[
            (&[], RtpErrorKind::TooShort),
            (&[0x80; 11], RtpErrorKind::TooShort),
            (
                &[0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                RtpErrorKind::BadVersion,
            ),
            (
                &[0x82, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4],
                RtpErrorKind::CsrcOverrun,
            ),
            (
                &[0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                RtpErrorKind::ExtensionOverrun,
            ),
            (
                &[0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9],
                RtpErrorKind::ExtensionOverrun,
            ),
            (
                &[0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0],
                RtpErrorKind::BadPadding,
            ),
            (
                &[0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5],
                RtpErrorKind::BadPadding,
            ),
            (
                &[0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                RtpErrorKind::BadPadding,
            ),
        ];
        for (bytes, kind) in table {
            assert_eq!(
                RtpPacket::parse(bytes),
                Err(MediaError::Rtp(*kind)),
                "{bytes:?}"
            );
        }
    }

    #[test]
    fn write_refuses_small_buffer() {
        let h = RtpHeader::new(0, 0, 0, Ssrc(1));
        let mut out = [0u8; 12];
        assert_eq!(
            h.write(&[1], &mut out),
            Err(MediaError::Rtp(RtpErrorKind::OutputTooSmall))
        );
    }
}
