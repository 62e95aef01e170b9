//! The Asterisk telephone prompts: real human speech recorded for phone systems.
//!
//! The audio is 8 kHz mono 16-bit WAV from the Debian package `asterisk-core-sounds-en-wav`,
//! one file per prompt under [`DEFAULT_SOUNDS_DIR`] (some in sub-folders: `digits/1.wav`,
//! `letters/a.wav`, ...). The transcripts come from `asterisk-core-sounds-en`: a gzipped text
//! file with one `name: text` line per prompt and `;` comments. A few prompts are not speech
//! (`beep: [this is a simple beep tone]`, `silence/1: (1 second of silence)`); see
//! [`Prompt::is_speech`].
//!
//! Set `VOXGATE_ASTERISK_SOUNDS_DIR` and `VOXGATE_ASTERISK_TRANSCRIPTS` to use other copies.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::{Audio, TestdataError};

/// Where `asterisk-core-sounds-en-wav` installs the prompts.
pub const DEFAULT_SOUNDS_DIR: &str = "/usr/share/asterisk/sounds/en_US_f_Allison";
/// Where `asterisk-core-sounds-en` installs the transcripts.
pub const DEFAULT_TRANSCRIPTS: &str =
    "/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz";
/// Environment variable overriding [`DEFAULT_SOUNDS_DIR`].
pub const SOUNDS_DIR_ENV: &str = "VOXGATE_ASTERISK_SOUNDS_DIR";
/// Environment variable overriding [`DEFAULT_TRANSCRIPTS`].
pub const TRANSCRIPTS_ENV: &str = "VOXGATE_ASTERISK_TRANSCRIPTS";
/// The sample rate of every prompt.
pub const SAMPLE_RATE: u32 = 8000;

/// One prompt: its audio file and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Prompt {
    /// The prompt's name, relative to the sounds folder and without `.wav`, e.g. `agent-pass`
    /// or `digits/1`.
    pub name: String,
    /// The WAV file.
    pub path: PathBuf,
    /// The transcript exactly as in the transcript file, e.g.
    /// `Please enter your password followed by the pound key.`
    pub transcript: String,
    /// False for prompts that are not speech, whose whole transcript is a bracketed
    /// description such as `[this is a simple beep tone]` or `(1 second of silence)`.
    pub is_speech: bool,
}

impl Prompt {
    /// Loads the prompt's audio (8 kHz mono).
    ///
    /// # Errors
    ///
    /// See [`crate::wav::read`].
    pub fn audio(&self) -> Result<Audio, TestdataError> {
        crate::wav::read(&self.path)
    }

    /// The words a listener hears: the transcript without bracketed annotations
    /// (`at [@]` gives `at`) and with whitespace collapsed; empty if not [speech](Self::is_speech).
    pub fn spoken_text(&self) -> String {
        if !self.is_speech {
            return String::new();
        }
        let mut out = String::with_capacity(self.transcript.len());
        let mut depth = 0_usize;
        for c in self.transcript.chars() {
            match c {
                '[' => depth += 1,
                ']' if depth > 0 => depth -= 1,
                _ if depth == 0 => out.push(c),
                _ => {}
            }
        }
        out.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

/// The sounds folder: `$VOXGATE_ASTERISK_SOUNDS_DIR`, else [`DEFAULT_SOUNDS_DIR`].
pub fn sounds_dir() -> PathBuf {
    crate::env_path(SOUNDS_DIR_ENV, DEFAULT_SOUNDS_DIR)
}

/// The transcript file: `$VOXGATE_ASTERISK_TRANSCRIPTS`, else [`DEFAULT_TRANSCRIPTS`].
pub fn transcripts_path() -> PathBuf {
    crate::env_path(TRANSCRIPTS_ENV, DEFAULT_TRANSCRIPTS)
}

/// Every prompt that has both a transcript and an audio file, in transcript-file order.
///
/// # Errors
///
/// See [`prompts_in`].
pub fn prompts() -> Result<Vec<Prompt>, TestdataError> {
    prompts_in(&sounds_dir(), &transcripts_path())
}

/// The prompt called `name` (e.g. `agent-pass`, `digits/7`).
///
/// # Errors
///
/// See [`prompt_in`].
pub fn prompt(name: &str) -> Result<Prompt, TestdataError> {
    prompt_in(&sounds_dir(), &transcripts_path(), name)
}

/// Every prompt under `sounds_dir` that has a transcript in `transcripts` (gzipped or plain
/// text) and an audio file, in transcript-file order. Transcript entries without audio are
/// skipped (the Debian transcripts list `pls-try-call-later`, which has no recording).
///
/// # Errors
///
/// [`TestdataError::MissingAsset`] if the folder or the transcript file is missing,
/// [`TestdataError::BadTranscript`] if the transcript file cannot be parsed.
pub fn prompts_in(sounds_dir: &Path, transcripts: &Path) -> Result<Vec<Prompt>, TestdataError> {
    require_dir(sounds_dir)?;
    Ok(read_transcripts(transcripts)?
        .into_iter()
        .map(|(name, text)| make_prompt(sounds_dir, name, text))
        .filter(|p| p.path.is_file())
        .collect())
}

/// The prompt called `name` under `sounds_dir`, with its transcript from `transcripts`.
///
/// # Errors
///
/// [`TestdataError::MissingAsset`] if the folder, the transcript file or the prompt's audio
/// file is missing, [`TestdataError::UnknownPrompt`] if no transcript line has that name,
/// [`TestdataError::BadTranscript`] if the transcript file cannot be parsed.
pub fn prompt_in(
    sounds_dir: &Path,
    transcripts: &Path,
    name: &str,
) -> Result<Prompt, TestdataError> {
    require_dir(sounds_dir)?;
    let (name, text) = read_transcripts(transcripts)?
        .into_iter()
        .find(|(n, _)| n == name)
        .ok_or_else(|| TestdataError::UnknownPrompt {
            name: name.to_owned(),
            transcripts: transcripts.to_owned(),
        })?;
    let prompt = make_prompt(sounds_dir, name, text);
    if !prompt.path.is_file() {
        return Err(TestdataError::MissingAsset { path: prompt.path });
    }
    Ok(prompt)
}

fn require_dir(dir: &Path) -> Result<(), TestdataError> {
    if dir.is_dir() {
        Ok(())
    } else {
        Err(TestdataError::MissingAsset {
            path: dir.to_owned(),
        })
    }
}

fn make_prompt(sounds_dir: &Path, name: String, transcript: String) -> Prompt {
    let path = sounds_dir.join(format!("{name}.wav"));
    let is_speech = is_speech(&transcript);
    Prompt {
        name,
        path,
        transcript,
        is_speech,
    }
}

/// False when the whole text is one bracketed description: `[...]` or `(...)`.
fn is_speech(text: &str) -> bool {
    let t = text.trim();
    let described =
        (t.starts_with('[') && t.ends_with(']')) || (t.starts_with('(') && t.ends_with(')'));
    !t.is_empty() && !described
}

/// Reads and parses the transcript file, gunzipping it if it starts with the gzip magic.
fn read_transcripts(path: &Path) -> Result<Vec<(String, String)>, TestdataError> {
    let bytes = std::fs::read(path).map_err(|e| TestdataError::io(path, e))?;
    let text = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut text = String::new();
        flate2::read::MultiGzDecoder::new(bytes.as_slice())
            .read_to_string(&mut text)
            .map_err(|e| TestdataError::Io {
                path: path.to_owned(),
                source: e,
            })?;
        text
    } else {
        String::from_utf8(bytes).map_err(|e| TestdataError::Io {
            path: path.to_owned(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        })?
    };
    parse_transcripts(path, &text)
}

/// Parses `name: text` lines, skipping blank lines and `;` comments.
fn parse_transcripts(path: &Path, text: &str) -> Result<Vec<(String, String)>, TestdataError> {
    let mut entries = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with(';') {
            continue;
        }
        let bad = || TestdataError::BadTranscript {
            path: path.to_owned(),
            line: index + 1,
            text: line.to_owned(),
        };
        let (name, transcript) = line.split_once(':').ok_or_else(bad)?;
        let name = name.trim();
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(bad());
        }
        entries.push((name.to_owned(), transcript.trim().to_owned()));
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_prompt(transcript: &str) -> Prompt {
        make_prompt(Path::new("/x"), "p".into(), transcript.into())
    }

    #[test]
    fn parses_names_texts_and_comments() {
        let text = "; comment\n\nagent-pass: Please enter your password.\ndigits/1: One.\n\
                    priv-callpending: introduces themselves as:\n";
        let entries = parse_transcripts(Path::new("t.txt"), text).expect("parse");
        assert_eq!(
            entries,
            [
                (
                    "agent-pass".to_owned(),
                    "Please enter your password.".to_owned()
                ),
                ("digits/1".to_owned(), "One.".to_owned()),
                (
                    "priv-callpending".to_owned(),
                    "introduces themselves as:".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn rejects_a_line_without_a_name() {
        let err = parse_transcripts(Path::new("t.txt"), "ok: fine\nno colon here\n")
            .expect_err("bad line");
        assert!(
            matches!(err, TestdataError::BadTranscript { line: 2, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn bracketed_descriptions_are_not_speech() {
        assert!(!sample_prompt("[this is a simple beep tone]").is_speech);
        assert!(!sample_prompt("(10 seconds of silence)").is_speech);
        assert!(sample_prompt("at [@]").is_speech);
        assert_eq!(sample_prompt("at [@]").spoken_text(), "at");
        assert_eq!(sample_prompt("space [ ]").spoken_text(), "space");
        assert_eq!(sample_prompt("[ascending tones]").spoken_text(), "");
        assert_eq!(sample_prompt("Thank  you.").spoken_text(), "Thank you.");
    }
}
