//! Read speech from LibriVox audiobooks, with reference transcripts: good for WER checks.
//!
//! The Debian package `pocketsphinx-testdata` installs a few 16 kHz mono 16-bit clips in
//! [`DEFAULT_DIR`] together with a `transcription` file holding one line per clip:
//! `<s> lower-case words </s> (file-id)`; the audio is `file-id.wav` beside it.
//!
//! Set `VOXGATE_LIBRIVOX_DIR` to use another copy.

use std::path::{Path, PathBuf};

use crate::{Audio, TestdataError};

/// Where `pocketsphinx-testdata` installs the clips.
pub const DEFAULT_DIR: &str = "/usr/share/pocketsphinx/test/data/librivox";
/// Environment variable overriding [`DEFAULT_DIR`].
pub const DIR_ENV: &str = "VOXGATE_LIBRIVOX_DIR";
/// The name of the transcript file in the folder.
pub const TRANSCRIPTION_FILE: &str = "transcription";
/// The sample rate of every clip.
pub const SAMPLE_RATE: u32 = 16_000;

/// One clip: its audio file and what is said in it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Clip {
    /// The file id, e.g. `sense_and_sensibility_01_austen_64kb-0880`.
    pub id: String,
    /// The WAV file.
    pub path: PathBuf,
    /// The reference words, lower case without punctuation and without the `<s>`/`</s>`
    /// markers, e.g. `he was not an ill disposed young man`.
    pub transcript: String,
}

impl Clip {
    /// Loads the clip's audio (16 kHz mono).
    ///
    /// # Errors
    ///
    /// See [`crate::wav::read`].
    pub fn audio(&self) -> Result<Audio, TestdataError> {
        crate::wav::read(&self.path)
    }
}

/// The clips folder: `$VOXGATE_LIBRIVOX_DIR`, else [`DEFAULT_DIR`].
pub fn dir() -> PathBuf {
    crate::env_path(DIR_ENV, DEFAULT_DIR)
}

/// Every clip listed in the transcription file, in its order.
///
/// # Errors
///
/// See [`clips_in`].
pub fn clips() -> Result<Vec<Clip>, TestdataError> {
    clips_in(&dir())
}

/// Every clip listed in `dir`'s transcription file, in its order.
///
/// # Errors
///
/// [`TestdataError::MissingAsset`] if the transcription file or a listed clip's audio is
/// missing, [`TestdataError::BadTranscript`] if a line is not `words (file-id)`.
pub fn clips_in(dir: &Path) -> Result<Vec<Clip>, TestdataError> {
    let path = dir.join(TRANSCRIPTION_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| TestdataError::io(&path, e))?;
    let mut clips = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let (id, transcript) = parse_line(line).ok_or_else(|| TestdataError::BadTranscript {
            path: path.clone(),
            line: index + 1,
            text: line.to_owned(),
        })?;
        let wav = dir.join(format!("{id}.wav"));
        if !wav.is_file() {
            return Err(TestdataError::MissingAsset { path: wav });
        }
        clips.push(Clip {
            id,
            path: wav,
            transcript,
        });
    }
    Ok(clips)
}

/// Splits `<s> words </s> (id)` into `(id, words)`.
fn parse_line(line: &str) -> Option<(String, String)> {
    let (words, id) = line.strip_suffix(')')?.rsplit_once('(')?;
    let id = id.trim();
    if id.is_empty() || id.contains(['/', '\\']) {
        return None;
    }
    let words: Vec<&str> = words
        .split_whitespace()
        .filter(|w| !matches!(*w, "<s>" | "</s>" | "<sil>"))
        .collect();
    if words.is_empty() {
        return None;
    }
    Some((id.to_owned(), words.join(" ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_sphinx_transcription_line() {
        assert_eq!(
            parse_line("<s> he was not an ill disposed young man </s> (clip-0880)"),
            Some((
                "clip-0880".to_owned(),
                "he was not an ill disposed young man".to_owned()
            ))
        );
        assert_eq!(parse_line("no id here"), None);
        assert_eq!(parse_line("<s> </s> (empty)"), None);
        assert_eq!(parse_line("words (../escape)"), None);
    }
}
