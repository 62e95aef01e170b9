//! A streaming reader of the WAV that `espeak-ng --stdout` writes: sans-IO, bytes in,
//! samples out.
//!
//! espeak-ng writes the canonical 44-byte header before it knows the length, so the RIFF and
//! `data` sizes are bogus (`0x7ffff024`, `0x7ffff000`); they are ignored and the data runs to
//! the end of the stream. Only 16-bit PCM mono is accepted, which is all espeak-ng writes.

/// Longest header accepted before the `data` chunk; espeak-ng's is 44 bytes.
const MAX_HEADER: usize = 4096;
/// WAVE format tag of integer PCM.
const FORMAT_PCM: u16 = 1;

/// Why the stream is not the WAV expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WavError {
    /// The stream does not start with `RIFF....WAVE`.
    NotWav,
    /// The `fmt ` chunk is not 16-bit PCM mono.
    UnsupportedFormat {
        format: u16,
        channels: u16,
        bits: u16,
    },
    /// No `data` chunk within [`MAX_HEADER`] bytes, or `data` before `fmt `.
    BadHeader,
}

impl std::fmt::Display for WavError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotWav => f.write_str("output is not a WAV stream"),
            Self::UnsupportedFormat {
                format,
                channels,
                bits,
            } => write!(
                f,
                "WAV format {format} with {channels} channels of {bits} bits; expected 16-bit PCM mono"
            ),
            Self::BadHeader => f.write_str("WAV header without a usable fmt and data chunk"),
        }
    }
}

/// Decodes a WAV byte stream as it arrives.
#[derive(Debug, Default)]
pub(crate) struct WavStream {
    /// Header bytes until the `data` chunk is found; afterwards at most one odd byte.
    pending: Vec<u8>,
    /// The sample rate, once the header has been read.
    rate: Option<u32>,
}

impl WavStream {
    /// A reader waiting for the header.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// The sample rate from the header, once it has been read.
    pub(crate) fn rate(&self) -> Option<u32> {
        self.rate
    }

    /// Takes `bytes` and appends the samples they complete to `out`.
    pub(crate) fn push(&mut self, bytes: &[u8], out: &mut Vec<i16>) -> Result<(), WavError> {
        self.pending.extend_from_slice(bytes);
        if self.rate.is_none() {
            let Some((rate, data_start)) = parse_header(&self.pending)? else {
                return Ok(());
            };
            self.rate = Some(rate);
            self.pending.drain(..data_start);
        }
        let whole = self.pending.len() / 2 * 2;
        out.extend(
            self.pending[..whole]
                .chunks_exact(2)
                .map(|b| i16::from_le_bytes([b[0], b[1]])),
        );
        self.pending.drain(..whole);
        Ok(())
    }
}

/// The sample rate and where the samples start, or `None` if more bytes are needed.
fn parse_header(bytes: &[u8]) -> Result<Option<(u32, usize)>, WavError> {
    if bytes.len() >= 12 && (&bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE") {
        return Err(WavError::NotWav);
    }
    let mut at = 12;
    let mut rate = None;
    while let Some(header) = bytes.get(at..at + 8) {
        let id = &header[0..4];
        let size = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        let body = at + 8;
        if id == b"data" {
            return rate.map(|r| Some((r, body))).ok_or(WavError::BadHeader);
        }
        let size = usize::try_from(size).map_err(|_| WavError::BadHeader)?;
        // Chunks are padded to an even length.
        let next = body + size + size % 2;
        if next > MAX_HEADER {
            return Err(WavError::BadHeader);
        }
        if id == b"fmt " {
            let Some(fmt) = bytes.get(body..body + 16) else {
                return Ok(None);
            };
            rate = Some(parse_fmt(fmt)?);
        }
        at = next;
    }
    if bytes.len() > MAX_HEADER {
        return Err(WavError::BadHeader);
    }
    Ok(None)
}

/// The sample rate from the first 16 bytes of a `fmt ` chunk, if it is 16-bit PCM mono.
fn parse_fmt(fmt: &[u8]) -> Result<u32, WavError> {
    let u16_at = |i: usize| u16::from_le_bytes([fmt[i], fmt[i + 1]]);
    let (format, channels, bits) = (u16_at(0), u16_at(2), u16_at(14));
    if format != FORMAT_PCM || channels != 1 || bits != 16 {
        return Err(WavError::UnsupportedFormat {
            format,
            channels,
            bits,
        });
    }
    Ok(u32::from_le_bytes([fmt[4], fmt[5], fmt[6], fmt[7]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The header espeak-ng 1.51 writes to stdout, bogus sizes included.
    const ESPEAK_HEADER: [u8; 44] = [
        b'R', b'I', b'F', b'F', 0x24, 0xf0, 0xff, 0x7f, b'W', b'A', b'V', b'E', b'f', b'm', b't',
        b' ', 0x10, 0, 0, 0, 1, 0, 1, 0, 0x22, 0x56, 0, 0, 0x44, 0xac, 0, 0, 2, 0, 16, 0, b'd',
        b'a', b't', b'a', 0x00, 0xf0, 0xff, 0x7f,
    ];

    fn espeak_bytes(samples: &[i16]) -> Vec<u8> {
        let mut bytes = ESPEAK_HEADER.to_vec();
        bytes.extend(samples.iter().flat_map(|s| s.to_le_bytes()));
        bytes
    }

    #[test]
    fn reads_espeak_output_split_at_every_byte() {
        let samples = [1_i16, -2, 300, -32768, 32767];
        let bytes = espeak_bytes(&samples);
        for split in 0..=bytes.len() {
            let mut wav = WavStream::new();
            let mut out = Vec::new();
            wav.push(&bytes[..split], &mut out).expect("first part");
            assert_eq!(wav.rate().is_some(), split >= 44, "split {split}");
            wav.push(&bytes[split..], &mut out).expect("second part");
            assert_eq!(wav.rate(), Some(22_050));
            assert_eq!(out, samples, "split {split}");
        }
    }

    #[test]
    fn skips_chunks_before_data() {
        let mut bytes = ESPEAK_HEADER[..36].to_vec();
        bytes.extend_from_slice(b"LIST\x03\0\0\0abc\0");
        bytes.extend_from_slice(&ESPEAK_HEADER[36..]);
        bytes.extend_from_slice(&7_i16.to_le_bytes());
        let mut out = Vec::new();
        WavStream::new().push(&bytes, &mut out).expect("wav");
        assert_eq!(out, [7]);
    }

    #[test]
    fn rejects_what_is_not_16_bit_mono_pcm() {
        let cases: [(&[u8], WavError); 3] = [
            (b"RIFX\0\0\0\0WAVEfmt ", WavError::NotWav),
            (b"Error: voice not found\n", WavError::NotWav),
            (b"RIFF\0\0\0\0WAVEdata\0\0\0\0", WavError::BadHeader),
        ];
        for (bytes, expected) in cases {
            let err = WavStream::new()
                .push(bytes, &mut Vec::new())
                .expect_err("bad");
            assert_eq!(err, expected);
        }
        let mut stereo = ESPEAK_HEADER;
        stereo[22] = 2;
        let err = WavStream::new()
            .push(&stereo, &mut Vec::new())
            .expect_err("stereo");
        assert!(matches!(
            err,
            WavError::UnsupportedFormat { channels: 2, .. }
        ));
    }
}
