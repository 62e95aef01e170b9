//! The carrier's webhooks, `/api/webhooks/46elks/{sms,dlr,voice/start,voice/hangup}` and
//! the message audio it fetches (open: they prove themselves with their own tokens). The
//! phone-number operations are in [`crate::ops`].

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::Value;

use super::{Path, Query};
use crate::error::ApiError;
use crate::phone::{hooks, message};
use crate::state::AppState;

pub(super) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/api/webhooks/46elks/sms", post(hook_sms))
        .route("/api/webhooks/46elks/dlr", post(hook_dlr))
        .route("/api/webhooks/46elks/voice/start", post(hook_voice_start))
        .route("/api/webhooks/46elks/voice/hangup", post(hook_voice_hangup))
        .route("/api/webhooks/46elks/audio/{file}", get(hook_audio))
}

/// A webhook's query: the element token, or a delivery report's message and tag.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct HookQuery {
    token: Option<String>,
    element: Option<String>,
    sms: Option<String>,
    tag: Option<String>,
}

/// Inbound SMS from the carrier (form-encoded); answered 204 with no body (no reply SMS).
async fn hook_sms(
    State(state): State<AppState>,
    Query(q): Query<HookQuery>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    hooks::inbound_sms(&state, q.token.as_deref(), &body).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A delivery report from the carrier.
async fn hook_dlr(
    State(state): State<AppState>,
    Query(q): Query<HookQuery>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    hooks::delivery_report(&state, q.sms.as_deref(), q.tag.as_deref(), &body).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An incoming call: answered with the JSON call action.
async fn hook_voice_start(
    State(state): State<AppState>,
    Query(q): Query<HookQuery>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    hooks::voice_start(&state, q.token.as_deref(), &body)
        .await
        .map(Json)
}

/// A `call-message` message's audio, fetched by the carrier (its token is the credential).
async fn hook_audio(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(q): Query<HookQuery>,
) -> Result<impl axum::response::IntoResponse, ApiError> {
    let wav = message::audio(&state, &file, q.token.as_deref()).await?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "audio/wav"),
            (axum::http::header::CACHE_CONTROL, "no-store"),
        ],
        wav,
    ))
}

/// A call ended.
async fn hook_voice_hangup(
    State(state): State<AppState>,
    Query(q): Query<HookQuery>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let tagged = q.element.as_deref().zip(q.tag.as_deref());
    let hangup = hooks::hangup(&state, q.token.as_deref(), tagged, &body).await?;
    tracing::info!(callid = %hangup.callid, state = %hangup.state, "call ended at the carrier");
    Ok(StatusCode::NO_CONTENT)
}
