//! An agent: who answers a call and with which engines.
//!
//! The server reads agents from `voxgate.toml` (`[agent]`) and, later, from the control API.
//! Engine paths are relative to `models_dir`. Every field has a default so that a fresh
//! install answers calls: Whisper tiny.en ears, the scripted brain with the built-in rules,
//! espeak-ng as the mouth, Silero VAD, and G.711 μ-law both ways (46elks' native codec, no
//! transcoding at the carrier).

use std::path::PathBuf;

use serde::{Deserialize, Deserializer};
use voxgate_bridge::Format;

use crate::turn::TurnConfig;

/// One agent's settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AgentConfig {
    /// Display name. Default `voxgate`.
    pub name: String,
    /// The brain's instructions. Default: a short helpful-phone-agent prompt.
    pub system_prompt: String,
    /// Said when the call is answered; empty for none. Default: a short welcome.
    pub greeting: String,
    /// Caller audio format asked of the carrier (46elks `listening`). Default `ulaw`.
    #[serde(deserialize_with = "format")]
    pub listen_format: Format,
    /// Agent audio format sent to the carrier (46elks `sending`). Default `ulaw`.
    #[serde(deserialize_with = "format")]
    pub send_format: Format,
    /// Voice activity detector. Default `silero`.
    pub vad: VadChoice,
    /// Speech-to-text.
    pub ears: EarsConfig,
    /// The brain.
    pub brain: BrainConfig,
    /// Text-to-speech.
    pub mouth: MouthConfig,
    /// Turn-taking.
    pub turn: TurnConfig,
}

impl Default for AgentConfig {
    fn default() -> Self {
        Self {
            name: "voxgate".to_owned(),
            system_prompt: "You are a friendly phone agent. Answer briefly, in one or two \
                            sentences, in plain spoken English."
                .to_owned(),
            greeting: "Hello, you have reached voxgate. How can I help you?".to_owned(),
            listen_format: Format::Ulaw,
            send_format: Format::Ulaw,
            vad: VadChoice::Silero,
            ears: EarsConfig::default(),
            brain: BrainConfig::default(),
            mouth: MouthConfig::default(),
            turn: TurnConfig::default(),
        }
    }
}

fn format<'de, D: Deserializer<'de>>(d: D) -> Result<Format, D::Error> {
    let s = String::deserialize(d)?;
    s.parse().map_err(|_| {
        serde::de::Error::custom(format!(
            "unknown audio format {s:?}: expected pcm_8000, pcm_16000, pcm_24000, ulaw or alaw"
        ))
    })
}

/// Which VAD runs on each call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VadChoice {
    /// Silero v5 on ONNX Runtime (the default: the most accurate).
    #[default]
    Silero,
    /// earshot, pure Rust (no ONNX Runtime needed).
    Earshot,
}

/// Which speech-to-text engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EarsEngine {
    /// Local Whisper through CTranslate2 (the default).
    #[default]
    Whisper,
    /// Every utterance is heard as `ears.text`, at once: for benchmarks that measure
    /// voxgate itself (see `engines::fixed`).
    Fixed,
}

/// Speech-to-text settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EarsConfig {
    /// The engine. Default `whisper`.
    pub engine: EarsEngine,
    /// What `fixed` ears hear in every utterance. Default `what are your opening hours`.
    pub text: String,
    /// Whisper model folder (CTranslate2 format), relative to `models_dir`. Default
    /// `whisper-tiny.en` (installed by `scripts/setup`).
    pub model: PathBuf,
    /// CPU threads per transcription. Default 2.
    pub threads: usize,
    /// Transcriptions running at once across all calls. Default 1 (the machine has 2 cores).
    pub max_concurrent: usize,
}

impl Default for EarsConfig {
    fn default() -> Self {
        Self {
            engine: EarsEngine::Whisper,
            text: "what are your opening hours".to_owned(),
            model: PathBuf::from("whisper-tiny.en"),
            threads: 2,
            max_concurrent: 1,
        }
    }
}

/// The brain: which engine writes the replies.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "engine", rename_all = "lowercase", deny_unknown_fields)]
pub enum BrainConfig {
    /// Rules from a TOML file (patterns to replies); `rules` unset = the built-in rules.
    Scripted {
        /// The rules file.
        #[serde(default)]
        rules: Option<PathBuf>,
    },
    /// A local GGUF model through llama.cpp (needs the `llama` feature).
    Llama {
        /// The model file, relative to `models_dir`.
        model: PathBuf,
        /// Longest reply in tokens.
        #[serde(default = "default_max_tokens")]
        max_tokens: u32,
    },
    /// An OpenAI-compatible chat-completions server, streamed.
    Openai {
        /// Base URL up to `/v1`, e.g. `http://127.0.0.1:8000/v1`.
        base_url: String,
        /// The model name.
        model: String,
        /// Environment variable holding the API key, if the server needs one.
        #[serde(default)]
        api_key_env: Option<String>,
    },
}

fn default_max_tokens() -> u32 {
    64
}

impl Default for BrainConfig {
    fn default() -> Self {
        Self::Scripted { rules: None }
    }
}

/// Which text-to-speech engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MouthEngine {
    /// espeak-ng (the default).
    #[default]
    Espeak,
    /// Every sentence is a 440 Hz tone of `mouth.tone_ms`, at once: for benchmarks that
    /// measure voxgate itself (see `engines::fixed`).
    Tone,
}

/// Text-to-speech settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MouthConfig {
    /// The engine. Default `espeak`.
    pub engine: MouthEngine,
    /// Length of each `tone` sentence in milliseconds. Default 1000.
    pub tone_ms: u32,
    /// espeak-ng voice. Default `en-us`.
    pub voice: String,
    /// Speaking rate in words per minute. Default 175.
    pub words_per_minute: u32,
}

impl Default for MouthConfig {
    fn default() -> Self {
        Self {
            engine: MouthEngine::Espeak,
            tone_ms: 1000,
            voice: "en-us".to_owned(),
            words_per_minute: 175,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_is_the_default_agent() {
        let a: AgentConfig = toml::from_str("").expect("parses");
        assert_eq!(a, AgentConfig::default());
    }

    #[test]
    fn a_full_agent() {
        let a: AgentConfig = toml::from_str(
            r#"
            name = "support"
            greeting = ""
            listen_format = "pcm_16000"
            send_format = "pcm_24000"
            vad = "earshot"
            [ears]
            engine = "fixed"
            text = "hello"
            [mouth]
            engine = "tone"
            tone_ms = 250
            [brain]
            engine = "openai"
            base_url = "http://127.0.0.1:8000/v1"
            model = "smol"
            [turn]
            end_silence = 400
            "#,
        )
        .expect("parses");
        assert_eq!(a.listen_format, Format::Pcm16000);
        assert_eq!(a.send_format, Format::Pcm24000);
        assert_eq!(a.vad, VadChoice::Earshot);
        assert!(matches!(a.brain, BrainConfig::Openai { ref model, .. } if model == "smol"));
        assert_eq!(a.turn.end_silence.as_millis(), 400);
        assert_eq!(
            (a.ears.engine, a.ears.text.as_str()),
            (EarsEngine::Fixed, "hello")
        );
        assert_eq!((a.mouth.engine, a.mouth.tone_ms), (MouthEngine::Tone, 250));
    }

    #[test]
    fn mistakes_are_named() {
        let err = toml::from_str::<AgentConfig>("listen_format = \"mp3\"").expect_err("refused");
        assert!(
            err.to_string().contains("unknown audio format \"mp3\""),
            "{err}"
        );
        let err = toml::from_str::<AgentConfig>("[brain]\nengine = \"gpt\"").expect_err("refused");
        assert!(err.to_string().contains("gpt"), "{err}");
        let err = toml::from_str::<AgentConfig>("gretting = \"hi\"").expect_err("refused");
        assert!(err.to_string().contains("gretting"), "{err}");
    }
}
