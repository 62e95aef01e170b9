//! PCM16 little-endian (s16le) packing, the wire format of 46elks `pcm_*` audio and WAV data.

use crate::error::MediaError;

/// Packs `samples` as s16le into `out`, which must be exactly twice as long.
pub fn pack_s16le(samples: &[i16], out: &mut [u8]) -> Result<(), MediaError> {
    if out.len() != samples.len() * 2 {
        return Err(MediaError::BufferLength {
            expected: samples.len() * 2,
            actual: out.len(),
        });
    }
    for (chunk, s) in out.chunks_exact_mut(2).zip(samples) {
        chunk.copy_from_slice(&s.to_le_bytes());
    }
    Ok(())
}

/// Unpacks s16le `bytes` into `out`, which must hold exactly half as many samples. An odd
/// number of bytes is an error: a half sample can't be placed.
pub fn unpack_s16le(bytes: &[u8], out: &mut [i16]) -> Result<(), MediaError> {
    if !bytes.len().is_multiple_of(2) || out.len() * 2 != bytes.len() {
        return Err(MediaError::BufferLength {
            expected: out.len() * 2,
            actual: bytes.len(),
        });
    }
    for (s, chunk) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        *s = i16::from_le_bytes([chunk[0], chunk[1]]);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_byte_order() {
        let samples = [0i16, 1, -1, 0x1234, i16::MIN, i16::MAX];
        let mut bytes = [0u8; 12];
        pack_s16le(&samples, &mut bytes).expect("sized");
        assert_eq!(
            bytes,
            [0, 0, 1, 0, 0xff, 0xff, 0x34, 0x12, 0x00, 0x80, 0xff, 0x7f]
        );
        let mut back = [0i16; 6];
        unpack_s16le(&bytes, &mut back).expect("sized");
        assert_eq!(back, samples);
    }

    #[test]
    fn lengths_are_checked() {
        let err = |expected, actual| Err(MediaError::BufferLength { expected, actual });
        assert_eq!(pack_s16le(&[1, 2], &mut [0u8; 3]), err(4, 3));
        assert_eq!(unpack_s16le(&[1, 2, 3], &mut [0i16; 1]), err(2, 3));
        assert_eq!(unpack_s16le(&[1, 2, 3, 4], &mut [0i16; 1]), err(2, 4));
    }
}
