//! Loads the engines an agent names, once, at start-up.
//!
//! Paths in the agent config are relative to `models_dir` (filled by `scripts/setup`). A
//! missing model or program is an error naming it, at start-up, never on a call.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use std::time::Duration;
use voxgate_pipeline::Engines;

use voxgate_pipeline::agent::{
    AgentConfig, BrainConfig, EarsConfig, EarsEngine, MouthConfig, MouthEngine, VadChoice,
};
use voxgate_pipeline::engines::{
    EarshotVadFactory, EspeakMouth, FixedEars, OpenAiBrain, ScriptedBrain, SileroVadFactory,
    ToneMouth,
};
use voxgate_pipeline::providers::{Brain, Ears, Mouth, VadFactory};

/// The ONNX Runtime library `scripts/setup` unpacks, relative to `models_dir`.
const ORT_LIBRARY: &str = "onnxruntime/libonnxruntime.so.1.22.1";
/// The Silero VAD model `scripts/setup` unpacks, relative to `models_dir`.
const SILERO_MODEL: &str = "silero/silero_vad.onnx";

/// Loads the VAD, ears, brain and mouth of `agent`. Blocks (model loads): call it before
/// serving, or from `spawn_blocking`.
pub(crate) fn load(agent: &AgentConfig, models_dir: &Path) -> anyhow::Result<Engines> {
    let vad: Arc<dyn VadFactory> = match agent.vad {
        VadChoice::Silero => Arc::new(SileroVadFactory::new(
            &models_dir.join(ORT_LIBRARY),
            &models_dir.join(SILERO_MODEL),
        )?),
        VadChoice::Earshot => Arc::new(EarshotVadFactory::new()),
    };
    let config = &agent.ears;
    let ears: Arc<dyn Ears> = match config.engine {
        EarsEngine::Whisper => whisper(config, models_dir)?,
        EarsEngine::Fixed => Arc::new(FixedEars::new(&config.text)),
    };
    Ok(Engines {
        vad,
        ears,
        brain: brain(&agent.brain, models_dir)?,
        mouth: mouth(&agent.mouth)?,
    })
}

#[cfg(feature = "whisper")]
fn whisper(config: &EarsConfig, models_dir: &Path) -> anyhow::Result<Arc<dyn Ears>> {
    let ears = voxgate_pipeline::engines::WhisperEars::load(
        &models_dir.join(&config.model),
        config.threads,
        config.max_concurrent,
    )
    .context("loading the ears (run scripts/setup for the Whisper model)")?;
    Ok(Arc::new(ears))
}

#[cfg(not(feature = "whisper"))]
fn whisper(_config: &EarsConfig, _models_dir: &Path) -> anyhow::Result<Arc<dyn Ears>> {
    anyhow::bail!(
        "ears.engine = \"whisper\" needs voxgate built with the `whisper` feature (the default)"
    )
}

fn mouth(config: &MouthConfig) -> anyhow::Result<Arc<dyn Mouth>> {
    Ok(match config.engine {
        MouthEngine::Espeak => Arc::new(
            EspeakMouth::new(&config.voice, config.words_per_minute)
                .context("starting the mouth (espeak-ng; run scripts/setup)")?,
        ),
        MouthEngine::Tone => Arc::new(ToneMouth::new(Duration::from_millis(u64::from(
            config.tone_ms,
        )))?),
    })
}

fn brain(config: &BrainConfig, models_dir: &Path) -> anyhow::Result<Arc<dyn Brain>> {
    Ok(match config {
        BrainConfig::Scripted { rules: None } => Arc::new(ScriptedBrain::builtin()?),
        BrainConfig::Scripted { rules: Some(path) } => Arc::new(ScriptedBrain::from_path(path)?),
        BrainConfig::Openai {
            base_url,
            model,
            api_key_env,
        } => {
            let key = match api_key_env {
                Some(var) => {
                    Some(std::env::var(var).with_context(|| format!("brain.api_key_env: ${var}"))?)
                }
                None => None,
            };
            Arc::new(OpenAiBrain::new(base_url, key, model)?)
        }
        BrainConfig::Llama { model, max_tokens } => llama(&models_dir.join(model), *max_tokens)?,
    })
}

#[cfg(feature = "llama")]
fn llama(model: &Path, max_tokens: u32) -> anyhow::Result<Arc<dyn Brain>> {
    let brain = voxgate_pipeline::engines::LlamaBrain::load(model, 2, max_tokens)
        .context("loading the llama brain (run scripts/setup for the model)")?;
    Ok(Arc::new(brain))
}

#[cfg(not(feature = "llama"))]
fn llama(_model: &Path, _max_tokens: u32) -> anyhow::Result<Arc<dyn Brain>> {
    anyhow::bail!("brain.engine = \"llama\" needs voxgate built with `--features llama`")
}
