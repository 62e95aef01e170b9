//! `call-message`: call a number and play it a spoken message.
//!
//! The message is synthesized, whole, by the server's mouth (the [`MessageVoice`] the server
//! installs with [`AppState::set_voice`]) before the carrier is asked; its WAV is stored
//! with the call and served at `{public_url}/api/webhooks/46elks/audio/{id}.wav?token=T`,
//! where `T` is a fresh random token whose SHA-256 is stored. The URL works for
//! [`AUDIO_TTL_SECONDS`]: long enough for the callee to answer (the longest ring is 120 s)
//! and the carrier to fetch it, short enough that a leaked URL soon says nothing. The call
//! is placed with `voice_start={"play": url}`; the carrier fetches and plays the audio when
//! the callee answers, then hangs up, and its `whenhangup` completes the call record with
//! the message as the agent's one turn.
//!
//! Audio lives in the store rather than in memory so that a restart between placing the
//! call and the carrier's fetch loses nothing, and so that every server on a shared
//! PostgreSQL can serve it. Expired audio is cleared (the row stays for the call record).

use std::fmt::Debug;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::hooks::new_token;
use super::{check_enabled, client_for, spec_of};
use crate::auth::hash_key;
use crate::carrier::webhook::Hangup;
use crate::e164::{E164, clip};
use crate::error::{ApiError, ErrorCode};
use crate::ids::new_id;
use crate::state::AppState;
use crate::store::{CallAudio, CallRecord, CallTurn, Element};

/// The longest message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 1200;
/// How long a message's audio URL works.
pub const AUDIO_TTL_SECONDS: i64 = 300;
/// The ring timeout when none is given, in seconds.
const DEFAULT_RING_S: u32 = 60;

/// Synthesized speech, as a WAV file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpokenAudio {
    /// A complete RIFF/WAVE file (PCM).
    pub wav: Vec<u8>,
    /// How long it plays.
    pub duration_ms: i64,
}

/// Speaks whole messages: the server implements it with the mouth its calls use.
pub trait MessageVoice: Send + Sync + Debug + 'static {
    /// `text` spoken, as one WAV file; the error is a cause for the log.
    fn synthesize(&self, text: &str) -> BoxFuture<'static, Result<SpokenAudio, String>>;

    /// The mouth's name, which `call-message`'s `mouth_ref` may name.
    fn mouth(&self) -> &str {
        "default"
    }
}

/// `call-message` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallMessage {
    /// E.164 callee.
    pub to: String,
    /// What to say, 1-1200 characters.
    pub message: String,
    /// The number the callee sees, E.164; default the spec's `caller_id`, else
    /// `phone_number` (either one makes the call possible).
    pub caller_id: Option<String>,
    /// The mouth that speaks: this server has one (named in the `mouth` answer field);
    /// another name is `PHONE_INVALID_CONFIG`.
    pub mouth_ref: Option<String>,
    /// A voice of the mouth. The server's mouth speaks in its configured voice; a
    /// `voice_id` is answered with a warning, not refused.
    pub voice_id: Option<String>,
    /// An http(s) URL the carrier's hang-up report is passed on to.
    pub whenhangup_url: Option<String>,
    /// Seconds to let it ring, 5-120 (default 60).
    pub timeout_s: Option<u32>,
}

/// What `call-message` answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MessageCall {
    /// voxgate's id, `cal_...`.
    pub call_id: String,
    /// `dialing` until the callee answers.
    pub state: &'static str,
    /// Where the carrier fetches the spoken message (works for `audio_token_ttl_seconds`).
    pub audio_url: String,
    /// How long `audio_url` works.
    pub audio_token_ttl_seconds: i64,
    /// How long the message plays.
    pub audio_duration_ms: i64,
    /// The carrier's call id.
    pub carrier_call_id: String,
    /// The callee.
    pub to: String,
    /// The mouth that spoke.
    pub mouth: String,
    /// Inputs taken but not applied, said why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// The ring timeout of an outbound call, 5-120 s.
pub(crate) fn ring_timeout(timeout_s: Option<u32>) -> Result<u32, ApiError> {
    let timeout = timeout_s.unwrap_or(DEFAULT_RING_S);
    if (5..=120).contains(&timeout) {
        Ok(timeout)
    } else {
        Err(ApiError::invalid(
            ErrorCode::PhoneInvalidConfig,
            "timeout_s must be 5 to 120",
        ))
    }
}

/// `call-message`: synthesize, store, place the call with a `play` action.
pub async fn call_message(
    state: &AppState,
    element: &Element,
    input: CallMessage,
) -> Result<MessageCall, ApiError> {
    check_enabled(element)?;
    let spec = spec_of(element)?;
    let to = E164::parse(&input.to)?;
    let text = input.message.trim();
    let chars = text.chars().count();
    if chars == 0 || chars > MAX_MESSAGE_CHARS {
        return Err(ApiError::invalid(
            ErrorCode::PhoneInvalidMessage,
            format!("message must be 1 to {MAX_MESSAGE_CHARS} characters, not {chars}"),
        ));
    }
    let timeout = ring_timeout(input.timeout_s)?;
    let number = super::calls::calling_number_or(&spec, input.caller_id.as_deref())?;
    let from = super::calls::caller_id(&spec, input.caller_id.as_deref(), &number)?;
    let whenhangup_url = super::calls::hangup_hook(input.whenhangup_url)?;
    let voice = state.voice().ok_or_else(|| ApiError::Unavailable {
        code: ErrorCode::PhoneVoiceUnavailable,
        message: "this server has no text-to-speech for spoken messages".to_owned(),
    })?;
    let mouth = voice.mouth().to_owned();
    if let Some(wanted) = input.mouth_ref.as_deref().filter(|m| !m.is_empty())
        && wanted != mouth
    {
        return Err(ApiError::invalid(
            ErrorCode::PhoneInvalidConfig,
            format!(
                "mouth_ref {:?}: this server speaks messages with its mouth {mouth:?}",
                clip(wanted)
            ),
        ));
    }
    let mut warnings = Vec::new();
    if let Some(voice_id) = input.voice_id.as_deref().filter(|v| !v.is_empty()) {
        warnings.push(format!(
            "voice_id {:?} not applied: the mouth {mouth:?} speaks in the voice the server configured",
            clip(voice_id)
        ));
    }
    // Credentials first: a call that cannot be placed is not worth synthesizing.
    let client = client_for(state, element, &spec).await?;
    let spoken = voice.synthesize(text).await.map_err(|cause| {
        tracing::error!(%cause, "synthesizing a call message failed");
        ApiError::Unavailable {
            code: ErrorCode::PhoneTtsFailed,
            message: "the message could not be synthesized; try again".to_owned(),
        }
    })?;

    let now = state.now_ms();
    if let Err(e) = state.store().purge_call_audio(now).await {
        tracing::warn!(error = %e, "clearing expired message audio failed");
    }
    let mut record = super::calls::dialing(element, &number, &to, None, None, state.now_ms());
    record.from = from;
    record.whenhangup_url = whenhangup_url;
    state.store().insert_call(&record).await?;
    let (token, token_hash) = new_token();
    let audio = CallAudio {
        id: new_id("aud"),
        circle_id: element.circle_id.clone(),
        call_id: record.id.clone(),
        text: text.to_owned(),
        token_hash,
        duration_ms: spoken.duration_ms,
        created_at: now,
        expires_at: now + AUDIO_TTL_SECONDS * 1000,
    };
    state.store().insert_call_audio(&audio, &spoken.wav).await?;
    let audio_url = format!(
        "{}/api/webhooks/46elks/audio/{}.wav?token={token}",
        state.phone().public_url.trim_end_matches('/'),
        audio.id
    );
    let voice_start = json!({"play": audio_url});
    let placed = super::calls::place(
        state,
        element,
        &client,
        record.clone(),
        voice_start,
        timeout,
        "message",
    )
    .await;
    let carrier_id = match placed {
        Ok(id) => id,
        Err(error) => {
            state
                .store()
                .expire_call_audio(&audio.id, state.now_ms())
                .await?;
            return Err(error);
        }
    };
    Ok(MessageCall {
        call_id: record.id,
        state: "dialing",
        audio_url,
        audio_token_ttl_seconds: AUDIO_TTL_SECONDS,
        audio_duration_ms: spoken.duration_ms,
        carrier_call_id: carrier_id,
        to: to.to_string(),
        mouth,
        warnings,
    })
}

/// The audio at `/api/webhooks/46elks/audio/{file}?token=T`: `file` is `{id}.wav`. Unknown,
/// expired and wrongly-tokened audio are all the same 404, so the URL says nothing about
/// what exists.
pub async fn audio(state: &AppState, file: &str, token: Option<&str>) -> Result<Vec<u8>, ApiError> {
    let missing = || {
        ApiError::not_found(
            ErrorCode::PhoneAudioNotFound,
            "no such audio, or its URL has expired",
        )
    };
    let id = file
        .strip_suffix(".wav")
        .filter(|id| {
            id.len() <= 64
                && id.starts_with("aud_")
                && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        })
        .ok_or_else(missing)?;
    let token = token.filter(|t| t.len() <= 128).ok_or_else(missing)?;
    state
        .store()
        .call_audio_bytes(id, &hash_key(token), state.now_ms())
        .await?
        .ok_or_else(missing)
}

/// The carrier hung up a `call-message` call that is still `dialing`: answered, the
/// message played (cut short if the call was shorter than the audio); else busy or failed.
pub(crate) async fn hung_up(
    state: &AppState,
    mut call: CallRecord,
    spoken: &CallAudio,
    hangup: &Hangup,
) -> Result<(), ApiError> {
    let now = state.now_ms();
    // Played or not, the audio's job is done: end its URL before the record says
    // so, so that nobody who sees the call finished can still fetch the message.
    state.store().expire_call_audio(&spoken.id, now).await?;
    match hangup.start.filter(|_| hangup.state == "success") {
        Some(start) => {
            let heard_ms = hangup.duration.map(|s| s * 1000);
            call.state = "completed".to_owned();
            call.answered_at = Some(start);
            call.ended_at = Some(heard_ms.map_or(now, |ms| start + ms));
            // The carrier counts whole seconds: allow one for rounding.
            let interrupted = heard_ms.is_some_and(|ms| ms + 1000 < spoken.duration_ms);
            state
                .store()
                .insert_turn(
                    &call.id,
                    &CallTurn {
                        turn: 1,
                        user: String::new(),
                        agent: spoken.text.clone(),
                        interrupted,
                        metrics: json!({"message_ms": spoken.duration_ms}),
                    },
                )
                .await?;
        }
        None => {
            call.state = if hangup.state == "busy" {
                "busy"
            } else {
                "failed"
            }
            .to_owned();
            call.ended_at = Some(now);
        }
    }
    call.end_reason = Some(format!("carrier:{}", clip(&hangup.state)));
    state.store().update_call(&call).await?;
    Ok(())
}
