//! The one error type of the pipeline crate.

/// What can go wrong in a call's pipeline or one of its providers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PipelineError {
    /// A media primitive refused its input.
    #[error(transparent)]
    Media(#[from] voxgate_media::MediaError),
    /// A provider could not be loaded (missing model, library or program).
    #[error("{provider}: cannot load: {reason}")]
    Load {
        /// Which provider (`silero`, `whisper`, `espeak-ng`, ...).
        provider: &'static str,
        /// What went wrong, including the path when a file is missing.
        reason: String,
    },
    /// A provider failed while working on a turn.
    #[error("{provider}: {reason}")]
    Provider {
        /// Which provider.
        provider: &'static str,
        /// What went wrong.
        reason: String,
    },
    /// A configuration value is invalid (agent file, rules file, provider settings).
    #[error("invalid configuration {key}: {reason}")]
    Config {
        /// The key or file.
        key: String,
        /// Why it is invalid.
        reason: String,
    },
    /// The call leg refused an operation; the code is the leg's own stable code
    /// (`WS_NOT_ACTIVE`, `RTP_...`).
    #[error("call leg: {0}")]
    Leg(&'static str),
    /// A VAD was given a chunk that is not exactly its chunk length.
    #[error("{provider}: chunk of {got} samples, expected {expected}")]
    ChunkLength {
        /// Which detector.
        provider: &'static str,
        /// The detector's chunk length in samples.
        expected: usize,
        /// The length of the chunk it was given.
        got: usize,
    },
    /// A reply gave no sign of progress (no transcript, text or audio) for this long and
    /// was given up.
    #[error("the reply made no progress for {after:?}")]
    ReplyStalled {
        /// The agent's `turn.reply_timeout`.
        after: std::time::Duration,
    },
    /// The reply task ended without saying how (it panicked or was dropped).
    #[error("the reply task ended without finishing")]
    ReplyLost,
}
