//! Opus (RFC 6716) for 20 ms mono frames at 8, 16, 24 or 48 kHz.
//!
//! A thin layer over libopus (crate `opus`, which builds libopus from its vendored source,
//! so it needs no download): encoder and decoder are made once per call and then encode into
//! and decode from caller-owned buffers. The decoder also conceals a lost packet with libopus'
//! own packet-loss concealment, which the jitter buffer uses.

use ::opus as libopus;

use crate::error::MediaError;
use crate::time::SampleRate;

/// The largest Opus packet we produce or accept for 20 ms of mono speech, in bytes. RFC 6716
/// caps a frame at 1275 bytes.
pub const MAX_PACKET: usize = 1275;

/// Default encoder bit rate for speech (bits per second).
pub const DEFAULT_BITRATE: i32 = 24_000;

#[allow(clippy::needless_pass_by_value)] // shaped for `map_err(err)`
fn err(e: libopus::Error) -> MediaError {
    MediaError::Opus(e.code() as i32)
}

/// The rates libopus runs at natively (RFC 6716 §2).
fn check_rate(rate: SampleRate) -> Result<u32, MediaError> {
    match rate.hz() {
        hz @ (8_000 | 12_000 | 16_000 | 24_000 | 48_000) => Ok(hz),
        hz => Err(MediaError::UnsupportedRate(hz)),
    }
}

/// Encodes 20 ms mono frames.
pub struct OpusEncoder {
    inner: libopus::Encoder,
    rate: SampleRate,
}

impl std::fmt::Debug for OpusEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpusEncoder")
            .field("rate", &self.rate)
            .finish_non_exhaustive()
    }
}

impl OpusEncoder {
    /// A VoIP-tuned encoder at `rate` with in-band FEC on and [`DEFAULT_BITRATE`].
    pub fn new(rate: SampleRate) -> Result<Self, MediaError> {
        let hz = check_rate(rate)?;
        let mut inner =
            libopus::Encoder::new(hz, libopus::Channels::Mono, libopus::Application::Voip)
                .map_err(err)?;
        inner
            .set_bitrate(libopus::Bitrate::Bits(DEFAULT_BITRATE))
            .map_err(err)?;
        inner.set_inband_fec(true).map_err(err)?;
        Ok(Self { inner, rate })
    }

    /// Sets the target bit rate in bits per second.
    pub fn set_bitrate(&mut self, bps: i32) -> Result<(), MediaError> {
        self.inner
            .set_bitrate(libopus::Bitrate::Bits(bps))
            .map_err(err)
    }

    /// Encodes one 20 ms frame (`rate.samples_per_frame()` samples) into `out`; returns the
    /// packet length. `out` should hold [`MAX_PACKET`] bytes.
    pub fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> Result<usize, MediaError> {
        let expected = self.rate.samples_per_frame();
        if pcm.len() != expected {
            return Err(MediaError::BufferLength {
                expected,
                actual: pcm.len(),
            });
        }
        self.inner.encode(pcm, out).map_err(err)
    }
}

/// Decodes 20 ms mono frames and conceals lost ones.
pub struct OpusDecoder {
    inner: libopus::Decoder,
    rate: SampleRate,
}

impl std::fmt::Debug for OpusDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpusDecoder")
            .field("rate", &self.rate)
            .finish_non_exhaustive()
    }
}

impl OpusDecoder {
    /// A decoder producing audio at `rate` (any Opus packet decodes at any of these rates).
    pub fn new(rate: SampleRate) -> Result<Self, MediaError> {
        let hz = check_rate(rate)?;
        let inner = libopus::Decoder::new(hz, libopus::Channels::Mono).map_err(err)?;
        Ok(Self { inner, rate })
    }

    /// Decodes `packet` into `out` (one 20 ms frame at the decoder's rate); returns the
    /// number of samples written. Corrupt packets give [`MediaError::Opus`].
    pub fn decode(&mut self, packet: &[u8], out: &mut [i16]) -> Result<usize, MediaError> {
        if packet.is_empty() {
            return Err(MediaError::Opus(libopus::ErrorCode::InvalidPacket as i32));
        }
        self.decode_raw(packet, out)
    }

    /// Fills `out` with libopus' concealment for one lost 20 ms frame.
    pub fn conceal(&mut self, out: &mut [i16]) -> Result<usize, MediaError> {
        self.decode_raw(&[], out)
    }

    fn decode_raw(&mut self, packet: &[u8], out: &mut [i16]) -> Result<usize, MediaError> {
        let expected = self.rate.samples_per_frame();
        if out.len() != expected {
            return Err(MediaError::BufferLength {
                expected,
                actual: out.len(),
            });
        }
        self.inner.decode(packet, out, false).map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A vowel-like test signal: a 200 Hz fundamental with harmonics, amplitude-modulated.
    fn voice_like(rate: SampleRate, n: usize) -> Vec<i16> {
        let fs = f64::from(rate.hz());
        (0..n)
            .map(|i| {
                let t = i as f64 / fs;
                let env = 0.6 + 0.4 * (2.0 * std::f64::consts::PI * 3.0 * t).sin();
                let mut v = 0.0;
                for (k, a) in [(1.0, 1.0), (2.0, 0.5), (3.0, 0.3), (5.0, 0.2)] {
                    v += a * (2.0 * std::f64::consts::PI * 200.0 * k * t).sin();
                }
                (8000.0 * env * v) as i16
            })
            .collect()
    }

    /// Best normalized cross-correlation of `b` against `a` over lags up to `max_lag`.
    fn best_correlation(a: &[i16], b: &[i16], max_lag: usize) -> f64 {
        let norm = |x: &[i16]| x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>().sqrt();
        (0..max_lag)
            .map(|lag| {
                let (a, b) = (&a[..a.len() - lag], &b[lag..]);
                let dot: f64 = a
                    .iter()
                    .zip(b)
                    .map(|(x, y)| f64::from(*x) * f64::from(*y))
                    .sum();
                dot / (norm(a) * norm(b))
            })
            .fold(f64::MIN, f64::max)
    }

    #[test]
    fn round_trip_at_every_rate() {
        for rate in [
            SampleRate::HZ_8000,
            SampleRate::HZ_16000,
            SampleRate::HZ_48000,
        ] {
            let n = rate.samples_per_frame();
            let input = voice_like(rate, n * 50);
            let mut enc = OpusEncoder::new(rate).expect("encoder");
            let mut dec = OpusDecoder::new(rate).expect("decoder");
            let mut packet = [0u8; MAX_PACKET];
            let mut output = Vec::new();
            let mut frame = vec![0i16; n];
            for chunk in input.chunks_exact(n) {
                let len = enc.encode(chunk, &mut packet).expect("encodes");
                assert!(len > 0 && len < 200, "{rate}: {len} bytes");
                assert_eq!(dec.decode(&packet[..len], &mut frame), Ok(n));
                output.extend_from_slice(&frame);
            }
            // Skip the first 10 frames (encoder warm-up), allow for the codec's look-ahead.
            let skip = n * 10;
            let corr = best_correlation(&input[skip..], &output[skip..], n);
            assert!(corr > 0.9, "{rate}: correlation {corr:.3}");
        }
    }

    #[test]
    fn concealment_and_bad_input() {
        let rate = SampleRate::HZ_16000;
        let mut dec = OpusDecoder::new(rate).expect("decoder");
        let mut frame = vec![0i16; 320];
        assert_eq!(dec.conceal(&mut frame), Ok(320));
        assert!(dec.decode(&[], &mut frame).is_err());
        assert!(
            dec.decode(&[0xff; 3], &mut frame).is_err(),
            "corrupt packet"
        );
        assert!(matches!(
            dec.decode(&[0x08], &mut [0i16; 100]),
            Err(MediaError::BufferLength { .. })
        ));
        assert!(matches!(
            OpusEncoder::new(SampleRate::HZ_22050),
            Err(MediaError::UnsupportedRate(22_050))
        ));
    }
}
