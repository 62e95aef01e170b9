//! Whisper speech recognition on CTranslate2, through the `ct2rs` crate (feature `whisper`).
//!
//! The model is a CTranslate2 conversion of OpenAI Whisper (`tiny.en` by default, from
//! `models/whisper-tiny.en/`, unpacked by `scripts/setup`). The folder must hold `model.bin`,
//! `config.json`, `tokenizer.json` and a `preprocessor_config.json` with the standard Whisper
//! feature-extractor values (80 mel bins, 16 kHz, 30 s windows).
//!
//! [`WhisperEars::load`] loads the model once; every call shares it. Each
//! [`transcribe`](Ears::transcribe) converts the utterance to `f32` in `[-1, 1]` and runs
//! `Whisper::generate` on tokio's blocking pool, at most `max_concurrent` at a time (a
//! semaphore), each on its own model replica with `threads` threads.
//!
//! # Costs
//!
//! Measured on 2 cores with `tiny.en`, INT8, 2 threads: about 0.3 s to load, 0.4 to 0.9 s per
//! utterance of 2 to 8 s, about 230 MB resident. Whisper pads every input to a 30 s window,
//! so a short utterance costs nearly as much as a long one; the decoder's cost grows with
//! the number of words. Each extra replica (`max_concurrent > 1`) copies the weights
//! (about 40 MB for `tiny.en` INT8) and uses `threads` more threads: on a 2-core machine use
//! one replica with 2 threads.
//!
//! # Traps
//!
//! - Building CTranslate2 from source takes about 6-7 minutes on 2 cores: keep the feature off
//!   unless it is needed, and keep the build cache.
//! - English-only models (`*.en`) cannot detect the language: CTranslate2 throws if asked to.
//!   They are given `<|en|>` in the prompt; multilingual models detect the language.
//! - Audio longer than 30 s is cut into 30 s windows transcribed independently (words at a
//!   cut may be lost); utterances from the VAD are far shorter.
//! - Whisper can invent words on noise or silence; feed it what the VAD judged speech.

use std::path::Path;
use std::sync::Arc;

use ct2rs::{ComputeType, Config, Whisper, WhisperOptions};
use futures::FutureExt as _;
use futures::future::BoxFuture;
use tokio::sync::Semaphore;

use crate::error::PipelineError;
use crate::providers::Ears;

/// The engine's name in errors, logs and metrics.
const NAME: &str = "whisper";
/// The files the model folder must hold.
const REQUIRED_FILES: [&str; 4] = [
    "model.bin",
    "config.json",
    "tokenizer.json",
    "preprocessor_config.json",
];
/// Greedy decoding by default: on `tiny.en` it gave the same words as beam search 5 on the
/// test clips in about 60 % of the time.
const DEFAULT_BEAM_SIZE: usize = 1;
/// Scale from 16-bit PCM to Whisper's `[-1, 1]`.
const PCM_SCALE: f32 = 32_768.0;

/// Speech-to-text with a Whisper model shared by every call.
#[derive(Clone)]
pub struct WhisperEars {
    inner: Arc<Inner>,
}

/// The loaded model and how to run it; shared by every transcription.
struct Inner {
    whisper: Whisper,
    options: WhisperOptions,
    /// `Some("en")` for English-only models, `None` to detect the language.
    language: Option<&'static str>,
    permits: Arc<Semaphore>,
}

impl WhisperEars {
    /// Loads the CTranslate2 Whisper model in `model_dir` (INT8 weights) with
    /// `max_concurrent` replicas of `threads` threads each.
    ///
    /// This blocks for the load (about 0.3 s for `tiny.en`): call it at start-up or from
    /// `spawn_blocking`.
    ///
    /// # Errors
    ///
    /// [`PipelineError::Config`] if `threads` or `max_concurrent` is 0,
    /// [`PipelineError::Load`] if a model file is missing (run `scripts/setup`) or
    /// CTranslate2 cannot load it.
    pub fn load(
        model_dir: &Path,
        threads: usize,
        max_concurrent: usize,
    ) -> Result<Self, PipelineError> {
        check_count("whisper.threads", threads)?;
        check_count("whisper.max_concurrent", max_concurrent)?;
        check_files(model_dir)?;
        let config = Config {
            compute_type: ComputeType::INT8,
            num_threads_per_replica: threads,
            // On the CPU, one replica per listed device index.
            device_indices: vec![0; max_concurrent],
            ..Config::default()
        };
        let whisper = Whisper::new(model_dir, config).map_err(|e| PipelineError::Load {
            provider: NAME,
            reason: format!("{}: {e:#}", model_dir.display()),
        })?;
        let language = (!whisper.is_multilingual()).then_some("en");
        let options = WhisperOptions {
            beam_size: DEFAULT_BEAM_SIZE,
            ..WhisperOptions::default()
        };
        tracing::info!(
            model = %model_dir.display(),
            threads,
            max_concurrent,
            multilingual = language.is_none(),
            "Whisper loaded"
        );
        Ok(Self {
            inner: Arc::new(Inner {
                whisper,
                options,
                language,
                permits: Arc::new(Semaphore::new(max_concurrent)),
            }),
        })
    }

    /// Uses beam search with `beam_size` hypotheses (1 is greedy, the default; 5 is
    /// Whisper's own default: slower, rarely better on short utterances).
    ///
    /// # Errors
    ///
    /// [`PipelineError::Config`] if `beam_size` is 0, or if this `WhisperEars` has been
    /// cloned (the setting is shared by the clones).
    pub fn with_beam_size(mut self, beam_size: usize) -> Result<Self, PipelineError> {
        check_count("whisper.beam_size", beam_size)?;
        let inner = Arc::get_mut(&mut self.inner).ok_or_else(|| PipelineError::Config {
            key: "whisper.beam_size".to_owned(),
            reason: "set it before sharing the model".to_owned(),
        })?;
        inner.options.beam_size = beam_size;
        Ok(self)
    }
}

impl std::fmt::Debug for WhisperEars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhisperEars")
            .field("beam_size", &self.inner.options.beam_size)
            .field("language", &self.inner.language)
            .finish_non_exhaustive()
    }
}

impl Ears for WhisperEars {
    fn transcribe(&self, pcm: Vec<i16>) -> BoxFuture<'static, Result<String, PipelineError>> {
        let inner = Arc::clone(&self.inner);
        async move {
            let permit = Arc::clone(&inner.permits)
                .acquire_owned()
                .await
                .map_err(|e| provider_error(e.to_string()))?;
            tokio::task::spawn_blocking(move || {
                let _permit = permit;
                inner.transcribe_blocking(&pcm)
            })
            .await
            .map_err(|e| provider_error(format!("transcription task failed: {e}")))?
        }
        .boxed()
    }

    fn name(&self) -> &'static str {
        NAME
    }
}

impl Inner {
    /// Runs Whisper on the calling thread.
    fn transcribe_blocking(&self, pcm: &[i16]) -> Result<String, PipelineError> {
        let samples: Vec<f32> = pcm.iter().map(|&s| f32::from(s) / PCM_SCALE).collect();
        let windows = self
            .whisper
            .generate(&samples, self.language, false, &self.options)
            .map_err(|e| provider_error(format!("{e:#}")))?;
        Ok(join_windows(&windows))
    }
}

/// The text of every 30 s window, trimmed and joined by single spaces.
fn join_windows(windows: &[String]) -> String {
    windows
        .iter()
        .map(|w| w.trim())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn check_count(key: &str, value: usize) -> Result<(), PipelineError> {
    if value == 0 {
        return Err(PipelineError::Config {
            key: key.to_owned(),
            reason: "must be at least 1".to_owned(),
        });
    }
    Ok(())
}

fn check_files(model_dir: &Path) -> Result<(), PipelineError> {
    for file in REQUIRED_FILES {
        let path = model_dir.join(file);
        if !path.is_file() {
            return Err(PipelineError::Load {
                provider: NAME,
                reason: format!("{} not found (run scripts/setup)", path.display()),
            });
        }
    }
    Ok(())
}

fn provider_error(reason: String) -> PipelineError {
    PipelineError::Provider {
        provider: NAME,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_windows_trimmed() {
        let windows = [
            " Hello there.".to_owned(),
            "  ".to_owned(),
            " Bye. ".to_owned(),
        ];
        assert_eq!(join_windows(&windows), "Hello there. Bye.");
        assert_eq!(join_windows(&[]), "");
    }

    #[test]
    fn a_missing_model_is_a_load_error_naming_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = WhisperEars::load(dir.path(), 2, 1).expect_err("no model");
        let text = err.to_string();
        assert!(
            text.contains("model.bin") && text.contains("scripts/setup"),
            "{text}"
        );
    }

    #[test]
    fn zero_threads_is_a_config_error() {
        let err = WhisperEars::load(Path::new("/nonexistent"), 0, 1).expect_err("zero");
        assert!(
            matches!(&err, PipelineError::Config { key, .. } if key == "whisper.threads"),
            "{err:?}"
        );
    }
}
