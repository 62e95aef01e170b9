//! Agents as the API stores them: name, system prompt, greeting, ears/brain/mouth provider
//! settings, audio formats and tools.
//!
//! Engine settings are objects with an `engine` name from the product's provider list
//! (ears: whisper, fixed, openai, deepgram; brain: scripted, llama, openai; mouth: espeak,
//! tone, openai, elevenlabs); their other fields belong to the engine and are kept as
//! given. Updates merge like element specs (RFC 7396), then validate again.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::e164::clip;
use crate::element::merge::merge;
use crate::error::{ApiError, ErrorCode};
use crate::ids::{new_id, now_ms, rfc3339};
use crate::store::AgentRecord;

/// Carrier audio formats (46elks Realtime).
pub const FORMATS: [&str; 5] = ["pcm_8000", "pcm_16000", "pcm_24000", "ulaw", "alaw"];
const EARS: [&str; 4] = ["whisper", "fixed", "openai", "deepgram"];
const BRAINS: [&str; 3] = ["scripted", "llama", "openai"];
const MOUTHS: [&str; 4] = ["espeak", "tone", "openai", "elevenlabs"];

/// A stored, valid agent body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentBody {
    /// Display name, 1-100 characters.
    pub name: String,
    /// The brain's instructions.
    pub system_prompt: String,
    /// Said when a call is answered; empty for none.
    pub greeting: String,
    /// Speech-to-text: `{"engine": "whisper", ...}`.
    #[schema(value_type = Object)]
    pub ears: Value,
    /// The brain: `{"engine": "scripted", ...}`.
    #[schema(value_type = Object)]
    pub brain: Value,
    /// Text-to-speech: `{"engine": "espeak", ...}`.
    #[schema(value_type = Object)]
    pub mouth: Value,
    /// Caller audio format asked of the carrier.
    pub listen_format: String,
    /// Agent audio format sent to the carrier.
    pub send_format: String,
    /// Tools the brain may call.
    pub tools: Vec<Tool>,
}

/// A tool the brain may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    /// 1-64 of letters, digits, `_` and `-`.
    pub name: String,
    /// What it does, for the model.
    #[serde(default)]
    pub description: String,
    /// JSON schema of its arguments.
    #[serde(default = "empty_object")]
    #[schema(value_type = Object)]
    pub parameters: Value,
}

fn empty_object() -> Value {
    json!({"type": "object"})
}

impl AgentBody {
    /// The defaults a new agent starts from (the voice core's built-in agent).
    pub fn defaults() -> Value {
        json!({
            "system_prompt": "You are a friendly phone agent. Answer briefly.",
            "greeting": "",
            "ears": {"engine": "whisper"},
            "brain": {"engine": "scripted"},
            "mouth": {"engine": "espeak"},
            "listen_format": "ulaw",
            "send_format": "ulaw",
            "tools": [],
        })
    }

    /// Validates a complete body (defaults already merged in).
    pub fn validate(value: &Value) -> Result<Self, ApiError> {
        let body: Self =
            serde_json::from_value(value.clone()).map_err(|e| invalid(format!("agent: {e}")))?;
        let name_len = body.name.trim().chars().count();
        if !(1..=100).contains(&name_len) {
            return Err(invalid("name must be 1 to 100 characters"));
        }
        if body.system_prompt.len() > 32_000 || body.greeting.len() > 4_000 {
            return Err(invalid(
                "system_prompt (32000) or greeting (4000) is too long",
            ));
        }
        for (field, format) in [
            ("listen_format", &body.listen_format),
            ("send_format", &body.send_format),
        ] {
            if !FORMATS.contains(&format.as_str()) {
                return Err(invalid(format!(
                    "{field} {:?}: expected one of {}",
                    clip(format),
                    FORMATS.join(", ")
                )));
            }
        }
        engine("ears", &body.ears, &EARS)?;
        engine("brain", &body.brain, &BRAINS)?;
        engine("mouth", &body.mouth, &MOUTHS)?;
        for tool in &body.tools {
            let ok = (1..=64).contains(&tool.name.len())
                && tool
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if !ok || !tool.parameters.is_object() {
                return Err(invalid(format!(
                    "tool {:?}: name is 1-64 of letters, digits, _ and -; parameters is a JSON schema object",
                    clip(&tool.name)
                )));
            }
        }
        Ok(body)
    }
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::invalid(ErrorCode::AgentInvalid, message)
}

fn engine(field: &str, value: &Value, known: &[&str]) -> Result<(), ApiError> {
    let name = value.get("engine").and_then(Value::as_str);
    match name {
        Some(name) if known.contains(&name) => Ok(()),
        _ => Err(invalid(format!(
            "{field} must be an object with engine one of {}",
            known.join(", ")
        ))),
    }
}

/// A new agent of `circle_id` from the defaults and `patch`.
pub fn new_record(circle_id: &str, patch: &Value) -> Result<AgentRecord, ApiError> {
    if !patch.is_object() {
        return Err(ApiError::invalid(
            ErrorCode::AgentInvalid,
            "an agent is a JSON object",
        ));
    }
    let mut body = AgentBody::defaults();
    merge(&mut body, patch);
    let body = AgentBody::validate(&body)?;
    let now = now_ms();
    Ok(AgentRecord {
        id: new_id("agt"),
        circle_id: circle_id.to_owned(),
        body: serde_json::to_value(body).map_err(|e| ApiError::Store(e.to_string()))?,
        created_at: now,
        updated_at: now,
    })
}

/// An agent as the API returns it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AgentView {
    /// `agt_...`.
    pub id: String,
    /// The settings.
    #[serde(flatten)]
    pub body: AgentBody,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

impl AgentView {
    /// The view of a stored agent.
    pub fn new(record: AgentRecord) -> Result<Self, ApiError> {
        let body = serde_json::from_value(record.body)
            .map_err(|e| ApiError::Store(format!("stored agent {}: {e}", record.id)))?;
        Ok(Self {
            id: record.id,
            body,
            created_at: rfc3339(record.created_at),
            updated_at: rfc3339(record.updated_at),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::element::merge::merge;

    fn with(patch: &Value) -> Value {
        let mut body = AgentBody::defaults();
        merge(&mut body, &json!({"name": "Front desk"}));
        merge(&mut body, patch);
        body
    }

    #[test]
    fn defaults_plus_a_name_is_valid() {
        let body = AgentBody::validate(&with(&json!({}))).expect("valid");
        assert_eq!(body.name, "Front desk");
        assert_eq!(body.listen_format, "ulaw");
    }

    #[test]
    fn invalid_agents() {
        let table = [
            json!({"name": ""}),
            json!({"name": "x".repeat(101)}),
            json!({"listen_format": "mp3"}),
            json!({"ears": {"engine": "siri"}}),
            json!({"brain": "scripted"}),
            json!({"mouth": {"engine": null}}),
            json!({"tools": [{"name": "a b"}]}),
            json!({"tools": [{"name": "lookup", "parameters": []}]}),
            json!({"colour": "blue"}),
            json!({"greeting": 5}),
        ];
        for patch in table {
            let Err(err) = AgentBody::validate(&with(&patch)) else {
                panic!("{patch} was accepted");
            };
            assert_eq!(err.code(), "AGENT_INVALID", "{patch}");
        }
        let tools = with(&json!({"tools": [{"name": "book_table", "description": "Books"}]}));
        assert_eq!(
            AgentBody::validate(&tools).expect("tools").tools[0].parameters["type"],
            "object"
        );
    }
}
