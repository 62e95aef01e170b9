//! The payload formats the jitter buffer takes, and how each is checked and decoded.

use super::RejectReason;
use crate::error::MediaError;
use crate::g711::Law;
use crate::opus::{MAX_PACKET, OpusDecoder};
use crate::time::SampleRate;

/// Opus RTP timestamps count at 48 kHz whatever rate the audio is decoded at (RFC 7587 §4.1).
const OPUS_CLOCK: SampleRate = SampleRate::HZ_48000;

/// One 20 ms frame in the 2.5 ms units of Opus frame sizes (RFC 6716 §2.1.4).
const OPUS_20MS_UNITS: u32 = 8;

/// The codec of the packets pushed into a [`JitterBuffer`](super::JitterBuffer). Every
/// packet must carry exactly one 20 ms frame (ptime 20); anything else is
/// [`RejectReason`]-ed at push time.
#[derive(Debug)]
pub enum PayloadDecoder {
    /// G.711 μ-law or A-law (RFC 3551 §4.5.14, PCMU/PCMA): 160 bytes at 8 kHz, so the buffer
    /// must run at 8 kHz.
    G711(Law),
    /// L16 (RFC 3551 §4.5.11): mono 16-bit samples in network byte order (big-endian, unlike
    /// [`pcm`](crate::pcm)'s s16le) at the buffer's rate, whose clock the timestamps count.
    L16,
    /// Opus (RFC 7587): timestamps at 48 kHz, decoded at the buffer's rate by this decoder,
    /// which must have been made at that rate (if not, its packets count as decode errors).
    Opus(OpusDecoder),
}

impl PayloadDecoder {
    /// RTP timestamp units in one 20 ms frame.
    pub(super) fn ts_per_frame(&self, rate: SampleRate) -> i64 {
        let clock = match self {
            Self::Opus(_) => OPUS_CLOCK,
            Self::G711(_) | Self::L16 => rate,
        };
        clock.samples_per_frame() as i64
    }

    /// The largest payload a slot must hold.
    pub(super) fn max_payload(&self, rate: SampleRate) -> usize {
        match self {
            Self::G711(_) => rate.samples_per_frame(),
            Self::L16 => 2 * rate.samples_per_frame(),
            Self::Opus(_) => MAX_PACKET,
        }
    }

    /// Checks that `payload` holds one 20 ms frame; cheap, no decoding.
    pub(super) fn check(&self, payload: &[u8], rate: SampleRate) -> Result<(), RejectReason> {
        let len = payload.len();
        match self {
            Self::Opus(_) if len == 0 || len > MAX_PACKET => Err(RejectReason::PayloadLength(len)),
            Self::Opus(_) if opus_duration_units(payload) != Some(OPUS_20MS_UNITS) => {
                Err(RejectReason::FrameDuration)
            }
            Self::Opus(_) => Ok(()),
            Self::G711(_) | Self::L16 if len == self.max_payload(rate) => Ok(()),
            Self::G711(_) | Self::L16 => Err(RejectReason::PayloadLength(len)),
        }
    }

    /// Decodes one checked payload into `out`, one frame at the buffer's rate.
    pub(super) fn decode(&mut self, payload: &[u8], out: &mut [i16]) -> Result<(), MediaError> {
        match self {
            Self::G711(law) => law.decode(payload, out),
            Self::L16 => decode_l16(payload, out),
            Self::Opus(decoder) => decoder.decode(payload, out).map(drop),
        }
    }
}

/// Decodes big-endian 16-bit samples (RFC 3551 §4.5.11) into `out`, half as long.
pub(super) fn decode_l16(bytes: &[u8], out: &mut [i16]) -> Result<(), MediaError> {
    if bytes.len() != out.len() * 2 {
        return Err(MediaError::BufferLength {
            expected: out.len() * 2,
            actual: bytes.len(),
        });
    }
    for (sample, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        *sample = i16::from_be_bytes([pair[0], pair[1]]);
    }
    Ok(())
}

/// The duration of an Opus packet in 2.5 ms units, from its TOC byte and frame count
/// (RFC 6716 §3.1); `None` when the packet is too short to say.
pub(super) fn opus_duration_units(packet: &[u8]) -> Option<u32> {
    let toc = *packet.first()?;
    let config = usize::from(toc >> 3);
    let frame_units = match config {
        // SILK-only: 10, 20, 40, 60 ms.
        0..=11 => [4, 8, 16, 24][config % 4],
        // Hybrid: 10, 20 ms.
        12..=15 => [4, 8][config % 2],
        // CELT-only: 2.5, 5, 10, 20 ms.
        _ => [1, 2, 4, 8][config % 4],
    };
    let frames = match toc & 0x03 {
        0 => 1,
        1 | 2 => 2,
        // Code 3: the frame count is the low six bits of the second byte (§3.2.5).
        _ => u32::from(*packet.get(1)? & 0x3f),
    };
    Some(frame_units * frames)
}
