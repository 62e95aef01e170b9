//! The simulated phone at the other end: whether it answers, and what its person says.
//!
//! Set per number with `POST /sim/callees`:
//! `{"number":"+46...","behaviour":"answer"|"busy"|"no-answer","after_ms":300,
//! "script":["hello-world", ...],"quiet_ms":600,"max_wait_ms":20000}`. Numbers without an
//! entry answer after 200 ms and say [`DEFAULT_SCRIPT`]. A script is a list of Asterisk
//! prompt names (`voxgate_testdata::asterisk`: real recorded speech, 8 kHz, with
//! transcripts); on a Realtime call the person waits for the agent's greeting, says each
//! prompt and waits for the agent's answer after each, then hangs up.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::SimError;
use crate::form::is_e164;

/// What a person says when no script was given: two prompts with clear transcripts,
/// "Hello world." and "Goodbye".
pub(crate) const DEFAULT_SCRIPT: [&str; 2] = ["hello-world", "vm-goodbye"];

/// How long the phone rings before it is answered or found busy, by default.
const DEFAULT_AFTER_MS: u64 = 200;
/// How long the agent's audio must have finished playing before the person speaks.
const DEFAULT_QUIET_MS: u64 = 600;
/// How long the person waits for the agent's greeting or answer before going on.
const DEFAULT_MAX_WAIT_MS: u64 = 20_000;

/// Whether the phone is picked up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Behaviour {
    /// Answered after `after_ms`.
    #[default]
    Answer,
    /// Busy after `after_ms`: state `busy`.
    Busy,
    /// Rings until the call's `timeout`: state `failed`.
    NoAnswer,
}

/// One simulated phone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Callee {
    pub(crate) number: String,
    #[serde(default)]
    pub(crate) behaviour: Behaviour,
    #[serde(default = "default_after_ms")]
    pub(crate) after_ms: u64,
    /// Asterisk prompt names; [`DEFAULT_SCRIPT`] when absent.
    #[serde(default)]
    pub(crate) script: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) quiet_ms: Option<u64>,
    #[serde(default)]
    pub(crate) max_wait_ms: Option<u64>,
}

fn default_after_ms() -> u64 {
    DEFAULT_AFTER_MS
}

impl Callee {
    /// The phone at `number` when nothing was configured for it.
    pub(crate) fn default_for(number: &str) -> Self {
        Self {
            number: number.to_owned(),
            behaviour: Behaviour::Answer,
            after_ms: DEFAULT_AFTER_MS,
            script: None,
            quiet_ms: None,
            max_wait_ms: None,
        }
    }

    /// Checks the number and the script's prompt names.
    pub(crate) fn validate(&self) -> Result<(), SimError> {
        if !is_e164(&self.number) {
            return Err(SimError::BadRequest(format!(
                "number {:?} is not E.164",
                self.number
            )));
        }
        check_script(self.script.as_deref())
    }

    /// How the person speaks.
    pub(crate) fn speaker(&self) -> Speaker {
        Speaker::new(self.script.clone(), self.quiet_ms, self.max_wait_ms)
    }

    pub(crate) fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// Checks that every prompt of `script` exists (with its audio file).
pub(crate) fn check_script(script: Option<&[String]>) -> Result<(), SimError> {
    for name in script.unwrap_or_default() {
        voxgate_testdata::asterisk::prompt(name)
            .map_err(|e| SimError::BadRequest(format!("script prompt {name:?}: {e}")))?;
    }
    Ok(())
}

/// The person on a Realtime call: what they say and how patiently they listen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Speaker {
    pub(crate) script: Vec<String>,
    /// Agent audio must have finished playing this long before the person speaks.
    pub(crate) quiet: Duration,
    /// The longest wait for a greeting or an answer.
    pub(crate) max_wait: Duration,
}

impl Speaker {
    pub(crate) fn new(
        script: Option<Vec<String>>,
        quiet_ms: Option<u64>,
        max_wait_ms: Option<u64>,
    ) -> Self {
        Self {
            script: script
                .unwrap_or_else(|| DEFAULT_SCRIPT.iter().map(|s| (*s).to_owned()).collect()),
            quiet: Duration::from_millis(quiet_ms.unwrap_or(DEFAULT_QUIET_MS)),
            max_wait: Duration::from_millis(max_wait_ms.unwrap_or(DEFAULT_MAX_WAIT_MS)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_callee() {
        let callee: Callee = serde_json::from_str(
            r#"{"number":"+46700000002","behaviour":"no-answer","after_ms":10}"#,
        )
        .expect("callee");
        assert_eq!(callee.behaviour, Behaviour::NoAnswer);
        assert_eq!(callee.after_ms, 10);
        let plain: Callee = serde_json::from_str(r#"{"number":"+46700000002"}"#).expect("plain");
        assert_eq!(plain, Callee::default_for("+46700000002"));
        assert_eq!(plain.speaker().script, DEFAULT_SCRIPT);
    }
}
