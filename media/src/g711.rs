//! ITU-T G.711 μ-law (PCMU) and A-law (PCMA).
//!
//! The arithmetic follows the ITU-T G.711 tables as implemented in the classic reference
//! `g711.c`: μ-law works on the top 14 bits of a sample with a bias of 33 and eight
//! segments, A-law on the top 13 bits with even bits inverted (XOR 0x55). Both directions
//! run through tables computed at compile time, so a 20 ms frame is a few hundred table
//! lookups and no branches: encode and decode write into caller-owned buffers.
//!
//! Tested exhaustively: every code word against the reconstruction values derived from the
//! G.711 segment formula, and every one of the 65,536 linear inputs.

use crate::error::MediaError;

/// μ-law decoding table: code word -> 16-bit linear sample.
static ULAW_DECODE: [i16; 256] = ulaw_decode_table();
/// A-law decoding table: code word -> 16-bit linear sample.
static ALAW_DECODE: [i16; 256] = alaw_decode_table();
/// μ-law encoding table indexed by the 14-bit sample (`(x >> 2) + 8192`).
static ULAW_ENCODE: [u8; 1 << 14] = ulaw_encode_table();
/// A-law encoding table indexed by the 13-bit sample (`(x >> 3) + 4096`).
static ALAW_ENCODE: [u8; 1 << 13] = alaw_encode_table();

/// Encodes one sample to μ-law.
#[inline]
pub fn ulaw_encode(x: i16) -> u8 {
    // `(x >> 2) + 8192` as a 14-bit index, written so the bound is provable and the check goes.
    ULAW_ENCODE[usize::from(((x as u16) >> 2) ^ 0x2000)]
}

/// Decodes one μ-law code word.
#[inline]
pub fn ulaw_decode(code: u8) -> i16 {
    ULAW_DECODE[usize::from(code)]
}

/// Encodes one sample to A-law.
#[inline]
pub fn alaw_encode(x: i16) -> u8 {
    // `(x >> 3) + 4096` as a 13-bit index, likewise.
    ALAW_ENCODE[usize::from(((x as u16) >> 3) ^ 0x1000)]
}

/// Decodes one A-law code word.
#[inline]
pub fn alaw_decode(code: u8) -> i16 {
    ALAW_DECODE[usize::from(code)]
}

/// The two G.711 laws, for code that picks one at run time (SDP, 46elks formats).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Law {
    /// μ-law, RTP payload type 0 (PCMU), 46elks `ulaw`.
    Ulaw,
    /// A-law, RTP payload type 8 (PCMA), 46elks `alaw`.
    Alaw,
}

impl Law {
    /// Encodes `pcm` into `out`, which must be the same length.
    pub fn encode(self, pcm: &[i16], out: &mut [u8]) -> Result<(), MediaError> {
        check_len(pcm.len(), out.len())?;
        // One loop per law, so each inlines its lookup (a function pointer would not).
        match self {
            Self::Ulaw => out
                .iter_mut()
                .zip(pcm)
                .for_each(|(o, &x)| *o = ulaw_encode(x)),
            Self::Alaw => out
                .iter_mut()
                .zip(pcm)
                .for_each(|(o, &x)| *o = alaw_encode(x)),
        }
        Ok(())
    }

    /// Decodes `codes` into `out`, which must be the same length.
    pub fn decode(self, codes: &[u8], out: &mut [i16]) -> Result<(), MediaError> {
        check_len(codes.len(), out.len())?;
        let table = match self {
            Self::Ulaw => &ULAW_DECODE,
            Self::Alaw => &ALAW_DECODE,
        };
        for (o, &c) in out.iter_mut().zip(codes) {
            *o = table[usize::from(c)];
        }
        Ok(())
    }

    /// The code word for digital silence (what a muted leg sends).
    pub fn silence(self) -> u8 {
        match self {
            Self::Ulaw => 0xff,
            Self::Alaw => 0xd5,
        }
    }
}

fn check_len(expected: usize, actual: usize) -> Result<(), MediaError> {
    if expected == actual {
        Ok(())
    } else {
        Err(MediaError::BufferLength { expected, actual })
    }
}

const fn ulaw_decode_one(code: u8) -> i16 {
    let u = !code;
    let t = (((u & 0x0f) as i32) << 3) + 0x84;
    let t = t << ((u & 0x70) >> 4);
    (if u & 0x80 != 0 { 0x84 - t } else { t - 0x84 }) as i16
}

const fn alaw_decode_one(code: u8) -> i16 {
    let a = code ^ 0x55;
    let mut t = ((a & 0x0f) as i32) << 4;
    let seg = (a & 0x70) >> 4;
    t = match seg {
        0 => t + 8,
        1 => t + 0x108,
        _ => (t + 0x108) << (seg - 1),
    };
    (if a & 0x80 != 0 { t } else { -t }) as i16
}

/// Encodes a 14-bit sample (-8192..8192) to μ-law.
const fn ulaw_encode_14(v: i32) -> u8 {
    const CLIP: i32 = 8159;
    let (mut mag, mask) = if v < 0 { (-v, 0x7f) } else { (v, 0xff) };
    if mag > CLIP {
        mag = CLIP;
    }
    mag += 0x84 >> 2;
    // Segment = position of the top bit above bit 5 (segment ends 0x3f, 0x7f, ... 0x1fff).
    let seg = 32 - (mag >> 6).leading_zeros() as i32;
    if seg >= 8 {
        return (0x7f ^ mask) as u8;
    }
    let code = (seg << 4) | ((mag >> (seg + 1)) & 0x0f);
    (code ^ mask) as u8
}

/// Encodes a 13-bit sample (-4096..4096) to A-law.
const fn alaw_encode_13(v: i32) -> u8 {
    let (mag, mask) = if v >= 0 { (v, 0xd5) } else { (-v - 1, 0x55) };
    // Segment ends 0x1f, 0x3f, ... 0xfff: the position of the top bit above bit 4.
    let seg = 32 - (mag >> 5).leading_zeros() as i32;
    if seg >= 8 {
        return (0x7f ^ mask) as u8;
    }
    let shift = if seg < 2 { 1 } else { seg };
    let code = (seg << 4) | ((mag >> shift) & 0x0f);
    (code ^ mask) as u8
}

const fn ulaw_decode_table() -> [i16; 256] {
    let mut t = [0; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = ulaw_decode_one(i as u8);
        i += 1;
    }
    t
}

const fn alaw_decode_table() -> [i16; 256] {
    let mut t = [0; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = alaw_decode_one(i as u8);
        i += 1;
    }
    t
}

const fn ulaw_encode_table() -> [u8; 1 << 14] {
    let mut t = [0; 1 << 14];
    let mut i = 0;
    while i < (1 << 14) {
        t[i] = ulaw_encode_14(i as i32 - 8192);
        i += 1;
    }
    t
}

const fn alaw_encode_table() -> [u8; 1 << 13] {
    let mut t = [0; 1 << 13];
    let mut i = 0;
    while i < (1 << 13) {
        t[i] = alaw_encode_13(i as i32 - 4096);
        i += 1;
    }
    t
}

#[cfg(test)]
mod tests;
