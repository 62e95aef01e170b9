//! Provider implementations: local engines and HTTP vendors.
//!
//! | trait | engine | module | needs |
//! |---|---|---|---|
//! | [`VadFactory`](crate::providers::VadFactory) | Silero v5 (ONNX, batched across calls) | [`silero`] | ONNX Runtime 1.22 library, `silero/silero_vad.onnx` |
//! | [`VadFactory`](crate::providers::VadFactory) | earshot (pure Rust) | [`earshot`] | nothing |
//! | [`Ears`](crate::providers::Ears) | Whisper (CTranslate2) | `whisper` | feature `whisper`, model folder |
//! | [`Ears`](crate::providers::Ears) | fixed text (benchmarks) | [`fixed`] | nothing |
//! | [`Brain`](crate::providers::Brain) | rules file | [`scripted`] | a TOML file |
//! | [`Brain`](crate::providers::Brain) | OpenAI-compatible HTTP API | [`openai`] | a server |
//! | [`Brain`](crate::providers::Brain) | GGUF model (llama.cpp) | `llama` | feature `llama`, model file |
//! | [`Mouth`](crate::providers::Mouth) | espeak-ng subprocess | [`espeak`] | the `espeak-ng` program |
//! | [`Mouth`](crate::providers::Mouth) | a tone (benchmarks) | [`fixed`] | nothing |
//!
//! Each module's documentation states the engine's costs and traps. Models and programs are
//! installed by `scripts/setup`; a missing one is a [`PipelineError::Load`] naming it.
//! Choosing engines from configuration is the server's job.
//!
//! [`PipelineError::Load`]: crate::PipelineError::Load

pub mod earshot;
pub mod espeak;
pub mod fixed;
#[cfg(feature = "llama")]
pub mod llama;
pub mod openai;
pub mod scripted;
pub mod silero;
#[cfg(feature = "whisper")]
pub mod whisper;

pub use self::earshot::{EarshotVad, EarshotVadFactory};
pub use self::espeak::EspeakMouth;
pub use self::fixed::{FixedEars, ToneMouth};
#[cfg(feature = "llama")]
pub use self::llama::LlamaBrain;
pub use self::openai::OpenAiBrain;
pub use self::scripted::ScriptedBrain;
pub use self::silero::{SileroVad, SileroVadFactory};
#[cfg(feature = "whisper")]
pub use self::whisper::WhisperEars;
