//! Audio file input: decode a file and cut it into 20 ms frames at any rate.
//!
//! WAV goes through `hound` (the common case: prompts, recorded callers, TTS output), other
//! containers (FLAC, Ogg/Vorbis, MP3) through `symphonia`. Multi-channel audio is mixed down
//! to mono; the signal is resampled with rubato to the requested rate; the last frame is
//! padded with silence. This module allocates freely: it loads prompts and test audio ahead
//! of time and is not on the per-frame path.

use std::path::Path;

use rubato::audioadapter_buffers::direct::SequentialSlice;
use rubato::{Fft, FixedSync, Resampler as _};

use crate::error::MediaError;
use crate::frame::AudioFrame;
use crate::time::{MediaTime, SampleRate};

/// Decoded mono audio at its original rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// Sample rate of the file in Hz (any rate, not only frame-friendly ones).
    pub rate_hz: u32,
    /// Mono samples in [-1, 1].
    pub samples: Vec<f32>,
}

/// Reads `path` and returns its audio as 20 ms frames at `rate`, starting at media time 0.
pub fn read_frames(path: &Path, rate: SampleRate) -> Result<Vec<AudioFrame>, MediaError> {
    let decoded = decode(path)?;
    let samples = resample_all(&decoded, rate, path)?;
    Ok(frames_from_samples(&samples, rate))
}

/// Reads `path` and returns its mono samples resampled to `rate` (no framing).
pub fn read_samples(path: &Path, rate: SampleRate) -> Result<Vec<i16>, MediaError> {
    let decoded = decode(path)?;
    resample_all(&decoded, rate, path)
}

/// Cuts `samples` into 20 ms frames at `rate`, padding the last one with silence.
pub fn frames_from_samples(samples: &[i16], rate: SampleRate) -> Vec<AudioFrame> {
    let n = rate.samples_per_frame();
    let mut time = MediaTime::zero(rate);
    samples
        .chunks(n)
        .map(|chunk| {
            let mut frame = AudioFrame::silent(time);
            frame.samples_mut()[..chunk.len()].copy_from_slice(chunk);
            time = time.next_frame();
            frame
        })
        .collect()
}

/// Decodes a file to mono f32: WAV with hound, anything else with symphonia.
pub fn decode(path: &Path) -> Result<Decoded, MediaError> {
    let is_wav = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("wav"));
    if is_wav {
        decode_wav(path)
    } else {
        symphonia_decode::decode(path)
    }
}

fn file_err(path: &Path, reason: impl std::fmt::Display) -> MediaError {
    MediaError::File {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

fn decode_wav(path: &Path) -> Result<Decoded, MediaError> {
    let reader = hound::WavReader::open(path).map_err(|e| file_err(path, e))?;
    let spec = reader.spec();
    let channels = usize::from(spec.channels.max(1));
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader
            .into_samples::<f32>()
            .collect::<Result<_, _>>()
            .map_err(|e| file_err(path, e))?,
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
            reader
                .into_samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()
                .map_err(|e| file_err(path, e))?
        }
    };
    Ok(Decoded {
        rate_hz: spec.sample_rate,
        samples: mix_down(&interleaved, channels),
    })
}

/// Averages interleaved channels into one.
fn mix_down(interleaved: &[f32], channels: usize) -> Vec<f32> {
    if channels <= 1 {
        return interleaved.to_vec();
    }
    interleaved
        .chunks_exact(channels)
        .map(|c| c.iter().sum::<f32>() / channels as f32)
        .collect()
}

/// Resamples a whole clip to `rate` (trimming the filter delay) and converts to i16.
fn resample_all(decoded: &Decoded, rate: SampleRate, path: &Path) -> Result<Vec<i16>, MediaError> {
    if decoded.rate_hz == 0 {
        return Err(file_err(path, "sample rate 0"));
    }
    let out: Vec<f32> = if decoded.rate_hz == rate.hz() || decoded.samples.is_empty() {
        decoded.samples.clone()
    } else {
        let mut fft = Fft::<f32>::new(
            decoded.rate_hz as usize,
            rate.hz() as usize,
            1024,
            1,
            FixedSync::Input,
        )
        .map_err(|e| file_err(path, e))?;
        let n_in = decoded.samples.len();
        let n_out = fft.process_all_needed_output_len(n_in);
        let mut out = vec![0.0f32; n_out];
        let input =
            SequentialSlice::new(&decoded.samples[..], 1, n_in).map_err(|e| file_err(path, e))?;
        let mut output =
            SequentialSlice::new_mut(&mut out[..], 1, n_out).map_err(|e| file_err(path, e))?;
        let (_, written) = fft
            .process_all_into_buffer(&input, &mut output, n_in, None)
            .map_err(|e| file_err(path, e))?;
        out.truncate(written);
        out
    };
    Ok(out.iter().map(|&f| (f * 32768.0).round() as i16).collect())
}

mod symphonia_decode {
    //! The symphonia path for non-WAV containers.

    use std::path::Path;

    use symphonia::core::audio::SampleBuffer;
    use symphonia::core::codecs::DecoderOptions;
    use symphonia::core::errors::Error as SymError;
    use symphonia::core::formats::FormatOptions;
    use symphonia::core::io::MediaSourceStream;
    use symphonia::core::meta::MetadataOptions;
    use symphonia::core::probe::Hint;

    use super::{Decoded, file_err, mix_down};
    use crate::error::MediaError;

    pub(super) fn decode(path: &Path) -> Result<Decoded, MediaError> {
        let file = std::fs::File::open(path).map_err(|e| file_err(path, e))?;
        let stream = MediaSourceStream::new(Box::new(file), Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
            hint.with_extension(ext);
        }
        let probed = symphonia::default::get_probe()
            .format(
                &hint,
                stream,
                &FormatOptions::default(),
                &MetadataOptions::default(),
            )
            .map_err(|e| file_err(path, e))?;
        let mut format = probed.format;
        let track = format
            .default_track()
            .ok_or_else(|| file_err(path, "no audio track"))?;
        let track_id = track.id;
        let rate_hz = track
            .codec_params
            .sample_rate
            .ok_or_else(|| file_err(path, "unknown sample rate"))?;
        let mut decoder = symphonia::default::get_codecs()
            .make(&track.codec_params, &DecoderOptions::default())
            .map_err(|e| file_err(path, e))?;
        let mut samples = Vec::new();
        loop {
            let packet = match format.next_packet() {
                Ok(p) => p,
                Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
                Err(e) => return Err(file_err(path, e)),
            };
            if packet.track_id() != track_id {
                continue;
            }
            let audio = decoder.decode(&packet).map_err(|e| file_err(path, e))?;
            let spec = *audio.spec();
            let mut buf = SampleBuffer::<f32>::new(audio.capacity() as u64, spec);
            buf.copy_interleaved_ref(audio);
            samples.extend(mix_down(buf.samples(), spec.channels.count()));
        }
        Ok(Decoded { rate_hz, samples })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_wav(path: &Path, rate: u32, channels: u16, samples: &[i16]) {
        let spec = hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(path, spec).expect("create wav");
        for &s in samples {
            w.write_sample(s).expect("write");
        }
        w.finalize().expect("finalize");
    }

    fn temp_path(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("voxgate-media-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir.join(name)
    }

    #[test]
    fn wav_is_framed_at_its_own_rate() {
        let path = temp_path("ramp.wav");
        let samples: Vec<i16> = (0..400).map(|i| i as i16).collect();
        write_wav(&path, 8000, 1, &samples);
        let frames = read_frames(&path, SampleRate::HZ_8000).expect("reads");
        assert_eq!(frames.len(), 3);
        assert_eq!(frames[1].samples()[0], 160);
        assert_eq!(frames[1].time().samples(), 160);
        assert_eq!(frames[2].samples()[79], 399);
        assert_eq!(frames[2].samples()[80], 0, "last frame padded with silence");
    }

    #[test]
    fn stereo_44k1_is_mixed_and_resampled() {
        let path = temp_path("tone.wav");
        let n = 44_100;
        let mut interleaved = Vec::with_capacity(2 * n);
        for i in 0..n {
            let v = (10_000.0 * (2.0 * std::f64::consts::PI * 440.0 * i as f64 / 44_100.0).sin())
                as i16;
            interleaved.extend([v, v]);
        }
        write_wav(&path, 44_100, 2, &interleaved);
        let out = read_samples(&path, SampleRate::HZ_16000).expect("reads");
        assert!((out.len() as i64 - 16_000).abs() < 16, "len {}", out.len());
        let peak = out.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
        assert!((9_500..=10_500).contains(&peak), "peak {peak}");
    }

    #[test]
    fn bad_files_are_errors() {
        let path = temp_path("garbage.wav");
        std::fs::write(&path, b"RIFF nonsense").expect("write");
        assert!(matches!(
            read_frames(&path, SampleRate::HZ_8000),
            Err(MediaError::File { .. })
        ));
        let path = temp_path("garbage.ogg");
        std::fs::write(&path, [0u8; 64]).expect("write");
        assert!(matches!(
            read_frames(&path, SampleRate::HZ_8000),
            Err(MediaError::File { .. })
        ));
        let missing = temp_path("missing.flac");
        assert!(matches!(decode(&missing), Err(MediaError::File { .. })));
    }
}
