//! The 46elks audio formats this bridge speaks, and their 20 ms frame codecs.
//!
//! 46elks names formats with strings in `listening`/`sending` (46elks doc §1.6): `pcm_8000`,
//! `pcm_16000`, `pcm_24000` (16-bit mono PCM; byte order not stated, little-endian assumed,
//! as every public client uses), and `ulaw`/`alaw` (G.711 at 8 kHz). `g722`, `ogg`, `wav`
//! and `mp3` exist too but are not supported here: they parse to
//! [`BridgeError::UnsupportedFormat`].

use std::str::FromStr;

use voxgate_media::{SampleRate, g711::Law, pcm};

use crate::error::BridgeError;

/// An audio format on the 46elks socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `pcm_8000`: s16le mono at 8 kHz.
    Pcm8000,
    /// `pcm_16000`: s16le mono at 16 kHz.
    Pcm16000,
    /// `pcm_24000`: s16le mono at 24 kHz.
    Pcm24000,
    /// `ulaw`: G.711 μ-law at 8 kHz.
    Ulaw,
    /// `alaw`: G.711 A-law at 8 kHz.
    Alaw,
}

impl Format {
    /// Every supported format.
    pub const ALL: [Self; 5] = [
        Self::Pcm8000,
        Self::Pcm16000,
        Self::Pcm24000,
        Self::Ulaw,
        Self::Alaw,
    ];

    /// The 46elks format string, e.g. `pcm_16000`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pcm8000 => "pcm_8000",
            Self::Pcm16000 => "pcm_16000",
            Self::Pcm24000 => "pcm_24000",
            Self::Ulaw => "ulaw",
            Self::Alaw => "alaw",
        }
    }

    /// The sample rate.
    pub const fn rate(self) -> SampleRate {
        match self {
            Self::Pcm8000 | Self::Ulaw | Self::Alaw => SampleRate::HZ_8000,
            Self::Pcm16000 => SampleRate::HZ_16000,
            Self::Pcm24000 => SampleRate::HZ_24000,
        }
    }

    /// The G.711 law for `ulaw`/`alaw`; `None` for PCM.
    pub const fn law(self) -> Option<Law> {
        match self {
            Self::Ulaw => Some(Law::Ulaw),
            Self::Alaw => Some(Law::Alaw),
            Self::Pcm8000 | Self::Pcm16000 | Self::Pcm24000 => None,
        }
    }

    /// Bytes per sample on the wire: 2 for PCM, 1 for G.711.
    pub const fn bytes_per_sample(self) -> usize {
        match self.law() {
            Some(_) => 1,
            None => 2,
        }
    }

    /// Samples in one 20 ms frame.
    pub const fn samples_per_frame(self) -> usize {
        self.rate().samples_per_frame()
    }

    /// Bytes in one 20 ms frame (160 for G.711, 320/640/960 for PCM).
    pub const fn frame_bytes(self) -> usize {
        self.samples_per_frame() * self.bytes_per_sample()
    }

    /// Encodes `samples` into `out`, which must hold exactly
    /// `samples.len() * bytes_per_sample()` bytes. Allocates nothing.
    pub fn encode(self, samples: &[i16], out: &mut [u8]) -> Result<(), BridgeError> {
        match self.law() {
            Some(law) => law.encode(samples, out)?,
            None => pcm::pack_s16le(samples, out)?,
        }
        Ok(())
    }

    /// Decodes `bytes` into `out`, which must hold exactly
    /// `bytes.len() / bytes_per_sample()` samples (PCM needs an even byte count). Allocates
    /// nothing.
    pub fn decode(self, bytes: &[u8], out: &mut [i16]) -> Result<(), BridgeError> {
        match self.law() {
            Some(law) => law.decode(bytes, out)?,
            None => pcm::unpack_s16le(bytes, out)?,
        }
        Ok(())
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = BridgeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| BridgeError::UnsupportedFormat(s.to_owned()))
    }
}

impl<'de> serde::Deserialize<'de> for Format {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_round_trip() {
        for f in Format::ALL {
            assert_eq!(f.to_string().parse::<Format>(), Ok(f));
        }
        for s in ["g722", "ogg", "wav", "mp3", "PCM_16000", ""] {
            assert_eq!(
                s.parse::<Format>().map_err(|e| e.code()),
                Err("WS_UNSUPPORTED_FORMAT")
            );
        }
    }

    #[test]
    fn frame_sizes() {
        let table = [
            (Format::Pcm8000, 8_000, 160, 320),
            (Format::Pcm16000, 16_000, 320, 640),
            (Format::Pcm24000, 24_000, 480, 960),
            (Format::Ulaw, 8_000, 160, 160),
            (Format::Alaw, 8_000, 160, 160),
        ];
        for (f, hz, samples, bytes) in table {
            assert_eq!(
                (f.rate().hz(), f.samples_per_frame(), f.frame_bytes()),
                (hz, samples, bytes),
                "{f}"
            );
        }
    }

    #[test]
    fn codecs_round_trip() {
        // Values G.711 reproduces exactly (its decoder outputs), so every format round-trips.
        let samples: Vec<i16> = [0u8, 0x7f, 0x80, 0x12, 0xe5, 0xff]
            .iter()
            .map(|&c| voxgate_media::g711::ulaw_decode(c))
            .collect();
        for f in [
            Format::Pcm8000,
            Format::Pcm16000,
            Format::Pcm24000,
            Format::Ulaw,
        ] {
            let mut bytes = vec![0u8; samples.len() * f.bytes_per_sample()];
            f.encode(&samples, &mut bytes).expect("sized");
            let mut back = vec![0i16; samples.len()];
            f.decode(&bytes, &mut back).expect("sized");
            assert_eq!(back, samples, "{f}");
        }
        let mut bytes = [0u8; 2];
        Format::Pcm16000
            .encode(&[0x1234], &mut bytes)
            .expect("sized");
        assert_eq!(bytes, [0x34, 0x12], "little-endian");
        assert_eq!(
            Format::Ulaw
                .encode(&[0; 3], &mut [0u8; 2])
                .map_err(|e| e.code()),
            Err("WS_MEDIA")
        );
    }
}
