//! The one error type of this crate.

use std::path::PathBuf;

/// Why a test asset could not be loaded or generated.
///
/// `Debug` prints the same message as `Display`, so that a test's `.expect(..)` shows what is
/// missing and how to install it.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum TestdataError {
    /// A file or folder that `scripts/setup` installs is not there.
    #[error(
        "asset {} is missing: run scripts/setup from the repository root to install the test assets",
        path.display()
    )]
    MissingAsset {
        /// The file or folder that was looked for.
        path: PathBuf,
    },

    /// An external program that `scripts/setup` installs is not on `PATH`.
    #[error(
        "program {program} is missing: run scripts/setup from the repository root to install it"
    )]
    MissingProgram {
        /// The program's name, as looked up on `PATH`.
        program: String,
    },

    /// Reading a file (or running a program) failed for another reason than its absence.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file, folder or program involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A file is not a WAV file that `hound` can read.
    #[error("{} is not a readable WAV file: {source}", path.display())]
    Wav {
        /// The file (or `<stdin>`-like label for in-memory audio).
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: hound::Error,
    },

    /// A WAV file is valid but in a sample format this crate does not convert.
    #[error("{} has an unsupported WAV format: {reason}", path.display())]
    UnsupportedWav {
        /// The file.
        path: PathBuf,
        /// What is unsupported.
        reason: String,
    },

    /// A transcript file has a line this crate cannot parse.
    #[error("{}:{line}: cannot parse transcript line: {text:?}", path.display())]
    BadTranscript {
        /// The transcript file.
        path: PathBuf,
        /// The 1-based line number.
        line: usize,
        /// The offending line.
        text: String,
    },

    /// No Asterisk prompt has this name in the transcript file.
    #[error("no Asterisk prompt named {name:?} in {}", transcripts.display())]
    UnknownPrompt {
        /// The name asked for, e.g. `digits/1`.
        name: String,
        /// The transcript file that was searched.
        transcripts: PathBuf,
    },

    /// `espeak-ng` ran but failed.
    #[error("espeak-ng failed ({status}): {stderr}")]
    Espeak {
        /// Its exit status.
        status: std::process::ExitStatus,
        /// What it printed on standard error.
        stderr: String,
    },
}

impl std::fmt::Debug for TestdataError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl TestdataError {
    /// Maps an I/O error on `path` to [`TestdataError::MissingAsset`] when the file is absent,
    /// and to [`TestdataError::Io`] otherwise.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        let path = path.into();
        if source.kind() == std::io::ErrorKind::NotFound {
            Self::MissingAsset { path }
        } else {
            Self::Io { path, source }
        }
    }
}
