//! Writing a compound RTCP packet into a caller-owned buffer.

use voxgate_media::rtp::Ssrc;

use super::{BLOCK_LEN, CNAME, HEADER_LEN, PT_BYE, PT_RR, PT_SDES, PT_SR, ReportBlock, SenderInfo};
use crate::SipError;
use crate::rtp::{RtpSessionErrorKind as Kind, error};

/// The most report blocks one SR or RR carries (the count field is 5 bits).
const MAX_BLOCKS: usize = 31;

/// Appends RTCP packets to a buffer; [`RtcpWriter::len`] is the compound's length so far.
/// A packet that does not fit is not written and the buffer keeps what came before.
#[derive(Debug)]
pub struct RtcpWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> RtcpWriter<'a> {
    /// A writer at the start of `buf`.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Self { buf, len: 0 }
    }

    /// Bytes written.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// A sender report with up to 31 report blocks.
    pub fn sender_report(
        &mut self,
        ssrc: Ssrc,
        info: &SenderInfo,
        reports: &[ReportBlock],
    ) -> Result<(), SipError> {
        let count = block_count(reports)?;
        let mut body = [0u8; 24];
        body[..4].copy_from_slice(&ssrc.0.to_be_bytes());
        body[4..12].copy_from_slice(&info.ntp.to_be_bytes());
        body[12..16].copy_from_slice(&info.rtp_timestamp.to_be_bytes());
        body[16..20].copy_from_slice(&info.packets.to_be_bytes());
        body[20..24].copy_from_slice(&info.octets.to_be_bytes());
        self.report(PT_SR, count, &body, reports)
    }

    /// A receiver report with up to 31 report blocks.
    pub fn receiver_report(&mut self, ssrc: Ssrc, reports: &[ReportBlock]) -> Result<(), SipError> {
        let count = block_count(reports)?;
        self.report(PT_RR, count, &ssrc.0.to_be_bytes(), reports)
    }

    /// A source description with one chunk holding a CNAME (cut at 255 bytes).
    pub fn cname(&mut self, ssrc: Ssrc, cname: &[u8]) -> Result<(), SipError> {
        let cname = cname.get(..255).unwrap_or(cname);
        // SSRC, type, length, text, then at least one zero byte up to a word boundary.
        let body_len = (4 + 2 + cname.len() + 1).next_multiple_of(4);
        let out = self.packet(PT_SDES, 1, body_len)?;
        out[..4].copy_from_slice(&ssrc.0.to_be_bytes());
        out[4] = CNAME;
        out[5] = cname.len() as u8; // at most 255, cut above
        out[6..6 + cname.len()].copy_from_slice(cname);
        out[6 + cname.len()..].fill(0);
        Ok(())
    }

    /// A goodbye from `ssrc`, without a reason.
    pub fn bye(&mut self, ssrc: Ssrc) -> Result<(), SipError> {
        let out = self.packet(PT_BYE, 1, 4)?;
        out.copy_from_slice(&ssrc.0.to_be_bytes());
        Ok(())
    }

    fn report(
        &mut self,
        packet_type: u8,
        count: u8,
        fixed: &[u8],
        reports: &[ReportBlock],
    ) -> Result<(), SipError> {
        let out = self.packet(packet_type, count, fixed.len() + BLOCK_LEN * reports.len())?;
        let (head, blocks) = out.split_at_mut(fixed.len());
        head.copy_from_slice(fixed);
        for (dst, block) in blocks.chunks_exact_mut(BLOCK_LEN).zip(reports) {
            write_block(block, dst);
        }
        Ok(())
    }

    /// Writes a header for a body of `body_len` bytes (a multiple of 4) and returns the
    /// body to fill.
    fn packet(
        &mut self,
        packet_type: u8,
        count: u8,
        body_len: usize,
    ) -> Result<&mut [u8], SipError> {
        let total = HEADER_LEN + body_len;
        let words = u16::try_from(total / 4 - 1).map_err(|_| error(Kind::RtcpOutputTooSmall))?;
        let end = self.len + total;
        let out = self
            .buf
            .get_mut(self.len..end)
            .ok_or(error(Kind::RtcpOutputTooSmall))?;
        out[0] = 0x80 | (count & 0x1f);
        out[1] = packet_type;
        out[2..4].copy_from_slice(&words.to_be_bytes());
        self.len = end;
        Ok(&mut out[HEADER_LEN..])
    }
}

fn block_count(reports: &[ReportBlock]) -> Result<u8, SipError> {
    if reports.len() > MAX_BLOCKS {
        return Err(error(Kind::RtcpBadCount));
    }
    Ok(reports.len() as u8) // at most 31, checked above
}

fn write_block(block: &ReportBlock, out: &mut [u8]) {
    let lost = block
        .cumulative_lost
        .clamp(-0x80_0000, 0x7f_ffff)
        .to_be_bytes();
    out[..4].copy_from_slice(&block.ssrc.0.to_be_bytes());
    out[4] = block.fraction_lost;
    out[5..8].copy_from_slice(&lost[1..4]);
    out[8..12].copy_from_slice(&block.highest_seq.to_be_bytes());
    out[12..16].copy_from_slice(&block.jitter.to_be_bytes());
    out[16..20].copy_from_slice(&block.last_sr.to_be_bytes());
    out[20..24].copy_from_slice(&block.delay_since_last_sr.to_be_bytes());
}
