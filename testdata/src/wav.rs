//! Reading WAV files into mono 16-bit samples.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::TestdataError;

/// Mono 16-bit PCM audio and its sample rate.
///
/// Its `Debug` output summarises the samples instead of listing them all.
#[derive(Clone, PartialEq, Eq)]
pub struct Audio {
    /// The samples, one per frame (mono).
    pub samples: Vec<i16>,
    /// Frames per second, e.g. 8000, 16000 or 22050.
    pub sample_rate: u32,
}

impl std::fmt::Debug for Audio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Audio")
            .field(
                "samples",
                &format_args!("[{} samples, peak {}]", self.samples.len(), self.peak()),
            )
            .field("sample_rate", &self.sample_rate)
            .field("duration", &self.duration())
            .finish()
    }
}

impl Audio {
    /// How long the audio lasts.
    pub fn duration(&self) -> Duration {
        if self.sample_rate == 0 {
            return Duration::ZERO;
        }
        let frames = u64::try_from(self.samples.len()).unwrap_or(u64::MAX);
        Duration::from_nanos(
            u64::try_from(u128::from(frames) * 1_000_000_000 / u128::from(self.sample_rate))
                .unwrap_or(u64::MAX),
        )
    }

    /// The largest absolute sample value (0 for silence or no samples).
    pub fn peak(&self) -> u16 {
        self.samples
            .iter()
            .map(|s| s.unsigned_abs())
            .max()
            .unwrap_or(0)
    }

    /// The root-mean-square level, in sample units (0.0 for silence or no samples).
    pub fn rms(&self) -> f64 {
        if self.samples.is_empty() {
            return 0.0;
        }
        let sum: f64 = self
            .samples
            .iter()
            .map(|&s| f64::from(s) * f64::from(s))
            .sum();
        #[allow(clippy::cast_precision_loss)] // sample counts are far below 2^52
        let n = self.samples.len() as f64;
        (sum / n).sqrt()
    }
}

/// Reads a WAV file into mono 16-bit samples.
///
/// Integer PCM of 8 to 32 bits is scaled to 16 bits and 32-bit float is converted with
/// saturation; several channels are mixed down by averaging.
///
/// # Errors
///
/// [`TestdataError::MissingAsset`] if the file does not exist, [`TestdataError::Wav`] if it is
/// not a WAV file, [`TestdataError::UnsupportedWav`] for other sample formats.
pub fn read(path: impl AsRef<Path>) -> Result<Audio, TestdataError> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(|e| TestdataError::io(path, e))?;
    decode(path, std::io::BufReader::new(file))
}

/// Decodes WAV data from `reader`; `path` only labels errors.
pub(crate) fn decode<R: Read>(path: &Path, reader: R) -> Result<Audio, TestdataError> {
    let wav_err = |source| TestdataError::Wav {
        path: PathBuf::from(path),
        source,
    };
    let reader = hound::WavReader::new(reader).map_err(wav_err)?;
    let spec = reader.spec();
    let channels = usize::from(spec.channels);
    if channels == 0 {
        return Err(TestdataError::UnsupportedWav {
            path: path.into(),
            reason: "zero channels".into(),
        });
    }
    let interleaved: Vec<i16> = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Int, 16) => reader
            .into_samples::<i16>()
            .collect::<Result<_, _>>()
            .map_err(wav_err)?,
        (hound::SampleFormat::Int, bits @ 8..=32) => {
            let to_i16 = |s: i32| -> i16 {
                let scaled = if bits > 16 {
                    s >> (bits - 16)
                } else {
                    s << (16 - bits)
                };
                i16::try_from(scaled).unwrap_or(if scaled < 0 { i16::MIN } else { i16::MAX })
            };
            reader
                .into_samples::<i32>()
                .map(|s| s.map(to_i16))
                .collect::<Result<_, _>>()
                .map_err(wav_err)?
        }
        (hound::SampleFormat::Float, 32) => {
            #[allow(clippy::cast_possible_truncation)] // `as` saturates, which is what we want
            let to_i16 = |s: f32| (s * 32768.0) as i16;
            reader
                .into_samples::<f32>()
                .map(|s| s.map(to_i16))
                .collect::<Result<_, _>>()
                .map_err(wav_err)?
        }
        (format, bits) => {
            return Err(TestdataError::UnsupportedWav {
                path: path.into(),
                reason: format!("{bits}-bit {format:?} samples"),
            });
        }
    };
    let samples = if channels == 1 {
        interleaved
    } else {
        let divisor = i32::from(spec.channels);
        interleaved
            .chunks_exact(channels)
            .map(|frame| {
                let sum: i32 = frame.iter().map(|&s| i32::from(s)).sum();
                // The mean of i16 values always fits in i16.
                i16::try_from(sum / divisor).unwrap_or_default()
            })
            .collect()
    };
    Ok(Audio {
        samples,
        sample_rate: spec.sample_rate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, spec: hound::WavSpec, samples: &[i32]) {
        let mut w = hound::WavWriter::create(path, spec).expect("create wav");
        for &s in samples {
            w.write_sample(s).expect("write sample");
        }
        w.finalize().expect("finalize wav");
    }

    #[test]
    fn stereo_is_mixed_down_and_24_bit_scaled() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.wav");
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 48_000,
            bits_per_sample: 24,
            sample_format: hound::SampleFormat::Int,
        };
        write(
            &path,
            spec,
            &[256 * 100, 256 * 300, -256 * 1000, -256 * 2000],
        );
        let audio = read(&path).expect("read");
        assert_eq!(
            audio,
            Audio {
                samples: vec![200, -1500],
                sample_rate: 48_000
            }
        );
    }

    #[test]
    fn duration_peak_rms() {
        let audio = Audio {
            samples: vec![3, -4, 3, -4],
            sample_rate: 8,
        };
        assert_eq!(audio.duration(), Duration::from_millis(500));
        assert_eq!(audio.peak(), 4);
        assert!((audio.rms() - 12.5_f64.sqrt()).abs() < 1e-9);
    }

    #[test]
    fn debug_summarises_the_samples() {
        let audio = Audio {
            samples: vec![0; 16_000],
            sample_rate: 16_000,
        };
        assert_eq!(
            format!("{audio:?}"),
            "Audio { samples: [16000 samples, peak 0], sample_rate: 16000, duration: 1s }"
        );
    }

    #[test]
    fn missing_file_names_setup() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = read(dir.path().join("nope.wav")).expect_err("missing file");
        assert!(matches!(err, TestdataError::MissingAsset { .. }), "{err:?}");
        assert!(err.to_string().contains("scripts/setup"), "{err}");
    }

    #[test]
    fn garbage_is_a_wav_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("bad.wav");
        std::fs::write(&path, b"not a wav file at all").expect("write");
        let err = read(&path).expect_err("garbage");
        assert!(matches!(err, TestdataError::Wav { .. }), "{err:?}");
        assert!(err.to_string().contains("bad.wav"), "{err}");
    }
}
