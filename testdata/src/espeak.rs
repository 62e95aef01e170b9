//! Synthetic speech generated at test time with `espeak-ng`.
//!
//! The program runs as a subprocess (installed from Debian by `scripts/setup`); nothing is
//! linked, so its GPL licence does not reach the binaries. Its output is deterministic for a
//! given text, voice and settings: 22050 Hz mono 16-bit.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::{Audio, TestdataError};

/// The program that is run.
pub const PROGRAM: &str = "espeak-ng";
/// The sample rate of espeak-ng's output.
pub const SAMPLE_RATE: u32 = 22_050;

/// How to speak: voice, speed and pitch. The default is espeak-ng's own (`en-us`, 175 words
/// per minute, pitch 50).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    voice: String,
    words_per_minute: u32,
    pitch: u32,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            voice: "en-us".to_owned(),
            words_per_minute: 175,
            pitch: 50,
        }
    }
}

impl Options {
    /// Uses the espeak-ng voice `voice`, e.g. `en-us`, `en-gb`, `en-us+f3` (see
    /// `espeak-ng --voices`).
    #[must_use]
    pub fn voice(mut self, voice: impl Into<String>) -> Self {
        self.voice = voice.into();
        self
    }

    /// Speaks at `words_per_minute` (espeak-ng accepts about 80 to 450).
    #[must_use]
    pub fn words_per_minute(mut self, words_per_minute: u32) -> Self {
        self.words_per_minute = words_per_minute;
        self
    }

    /// Sets the pitch, 0 to 99.
    #[must_use]
    pub fn pitch(mut self, pitch: u32) -> Self {
        self.pitch = pitch;
        self
    }
}

/// Speaks `text` with the default [`Options`] (US English voice).
///
/// # Errors
///
/// See [`speak_with`].
pub fn speak(text: &str) -> Result<Audio, TestdataError> {
    speak_with(text, &Options::default())
}

/// Speaks `text` with `options`, returning 22050 Hz mono audio.
///
/// The text goes in on standard input, so it may start with `-` or be long.
///
/// # Errors
///
/// [`TestdataError::MissingProgram`] if `espeak-ng` is not installed,
/// [`TestdataError::Espeak`] if it fails (an unknown voice, say), [`TestdataError::Wav`] if
/// its output cannot be parsed.
pub fn speak_with(text: &str, options: &Options) -> Result<Audio, TestdataError> {
    let mut child = Command::new(PROGRAM)
        .arg("--stdout")
        .args(["-v", &options.voice])
        .args(["-s", &options.words_per_minute.to_string()])
        .args(["-p", &options.pitch.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => TestdataError::MissingProgram {
                program: PROGRAM.to_owned(),
            },
            _ => TestdataError::Io {
                path: PROGRAM.into(),
                source: e,
            },
        })?;
    let output = std::thread::scope(|scope| {
        // Feed stdin from another thread so that a large output cannot block the write.
        let stdin = child.stdin.take();
        let writer = scope.spawn(move || match stdin {
            Some(mut stdin) => stdin.write_all(text.as_bytes()),
            None => Ok(()),
        });
        let output = child.wait_with_output();
        let written = writer.join().unwrap_or(Ok(()));
        let output = output?;
        // A broken pipe only means espeak-ng exited early; its status says why.
        match written {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e),
            _ => Ok(output),
        }
    })
    .map_err(|e| TestdataError::Io {
        path: PROGRAM.into(),
        source: e,
    })?;
    if !output.status.success() {
        return Err(TestdataError::Espeak {
            status: output.status,
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    let mut wav = output.stdout;
    fix_streamed_sizes(&mut wav);
    crate::wav::decode(Path::new("<espeak-ng output>"), wav.as_slice())
}

/// espeak-ng writes a WAV to a pipe before it knows the length, so its RIFF and `data` sizes
/// are placeholders (0x7ffff000). Sets them to what was actually written.
fn fix_streamed_sizes(wav: &mut [u8]) {
    fn put(wav: &mut [u8], at: usize, value: usize) {
        let value = u32::try_from(value).unwrap_or(u32::MAX).to_le_bytes();
        if let Some(field) = wav.get_mut(at..at + 4) {
            field.copy_from_slice(&value);
        }
    }
    if wav.len() < 12 || &wav[0..4] != b"RIFF" || &wav[8..12] != b"WAVE" {
        return; // Not a RIFF WAVE file: let the decoder report it.
    }
    put(wav, 4, wav.len() - 8);
    let mut at: usize = 12;
    while let Some(header) = at.checked_add(8).and_then(|end| wav.get(at..end)) {
        let size = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        let body = at + 8;
        if &header[0..4] == b"data" {
            put(wav, at + 4, size.min(wav.len() - body));
            return;
        }
        at = body.saturating_add(size).saturating_add(size % 2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholder_sizes_are_fixed() {
        let mut wav = Vec::new();
        wav.extend_from_slice(b"RIFF\x24\xf0\xff\x7fWAVE");
        wav.extend_from_slice(b"fmt \x10\x00\x00\x00");
        wav.extend_from_slice(&[1, 0, 1, 0, 0x22, 0x56, 0, 0, 0x44, 0xac, 0, 0, 2, 0, 16, 0]);
        wav.extend_from_slice(b"data\x00\xf0\xff\x7f");
        wav.extend_from_slice(&[1, 0, 2, 0, 0xff, 0xff]);
        fix_streamed_sizes(&mut wav);
        let audio = crate::wav::decode(Path::new("test"), wav.as_slice()).expect("decode");
        assert_eq!(
            audio,
            Audio {
                samples: vec![1, 2, -1],
                sample_rate: SAMPLE_RATE
            }
        );
    }

    #[test]
    fn a_huge_chunk_size_does_not_overflow() {
        let mut wav = b"RIFF\0\0\0\0WAVEjunk\xff\xff\xff\xff".to_vec();
        fix_streamed_sizes(&mut wav);
        assert_eq!(&wav[4..8], &[12, 0, 0, 0]);
    }

    #[test]
    fn garbage_is_left_alone() {
        let mut bytes = b"RIFF".to_vec();
        fix_streamed_sizes(&mut bytes);
        assert_eq!(bytes, b"RIFF");
    }
}
