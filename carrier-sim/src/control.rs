//! The simulation controls under `/sim`: no authentication, JSON in and out.
//!
//! They play the world outside the API: phones that text and call the allocated numbers,
//! phones that answer or not, an operator that cannot deliver, a carrier that fails or is
//! slow ([`crate::faults`]), a customer who tops up. `GET /sim/state` shows everything.

use std::io::Cursor;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::calls::callee::{Callee, Speaker, check_script};
use crate::calls::run;
use crate::error::SimError;
use crate::faults::Fault;
use crate::form::is_e164;
use crate::sms::delivery;
use crate::store::Sim;

/// The `/sim` routes.
pub(crate) fn router() -> Router<Arc<Sim>> {
    Router::new()
        .route("/state", get(state))
        .route("/sms", post(inbound_sms))
        .route("/calls", post(inbound_call))
        .route("/calls/{id}", get(call))
        .route("/calls/{id}/agent.wav", get(agent_wav))
        .route("/calls/{id}/played.wav", get(played_wav))
        .route("/callees", post(set_callee).delete(clear_callees))
        .route("/faults", post(add_fault).delete(clear_faults))
        .route(
            "/undeliverable",
            post(add_undeliverable).delete(clear_undeliverable),
        )
        .route("/accounts/{username}/balance", post(set_balance))
}

async fn state(State(sim): State<Arc<Sim>>) -> Json<Value> {
    Json(sim.with(|store| store.state_json()))
}

#[derive(Debug, Deserialize)]
struct InboundSms {
    from: String,
    to: String,
    message: String,
}

/// `POST /sim/sms {"from","to","message"}`: a phone texts an allocated number.
async fn inbound_sms(
    State(sim): State<Arc<Sim>>,
    Json(sms): Json<InboundSms>,
) -> Result<Json<Value>, SimError> {
    if sms.from.trim().is_empty() {
        return Err(SimError::BadRequest("from is required".into()));
    }
    let id = delivery::receive(&sim, &sms.from, &sms.to, &sms.message)?;
    Ok(Json(json!({"id": id})))
}

#[derive(Debug, Deserialize)]
struct InboundCall {
    from: String,
    to: String,
    #[serde(default)]
    script: Option<Vec<String>>,
    #[serde(default)]
    quiet_ms: Option<u64>,
    #[serde(default)]
    max_wait_ms: Option<u64>,
}

/// `POST /sim/calls {"from","to","script"}`: a phone calls an allocated number.
async fn inbound_call(
    State(sim): State<Arc<Sim>>,
    Json(call): Json<InboundCall>,
) -> Result<Json<Value>, SimError> {
    if !is_e164(&call.from) {
        return Err(SimError::BadRequest("from must be E.164".into()));
    }
    check_script(call.script.as_deref())?;
    let speaker = Speaker::new(call.script, call.quiet_ms, call.max_wait_ms);
    let id = run::receive(&sim, &call.from, &call.to, speaker)?;
    Ok(Json(json!({"id": id})))
}

fn call_not_found(id: &str) -> SimError {
    SimError::NotFound(format!("Call {id} not found"))
}

/// `GET /sim/calls/{id}`: the call with everything the simulation knows, and `done`.
async fn call(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, SimError> {
    sim.with(|store| store.call_mut(&id).map(|c| Json(c.detail_json())))
        .ok_or_else(|| call_not_found(&id))
}

/// `GET /sim/calls/{id}/agent.wav`: the agent audio received on the Realtime leg, as a
/// 16-bit mono WAV at the `sending` rate.
async fn agent_wav(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
) -> Result<Response, SimError> {
    let (samples, rate) = sim
        .with(|store| {
            let realtime = store.call_mut(&id)?.realtime.as_ref()?;
            Some((realtime.agent_audio.clone(), realtime.agent_rate))
        })
        .filter(|(_, rate)| *rate > 0)
        .ok_or_else(|| SimError::NotFound(format!("Call {id} has no agent audio")))?;
    let wav = wav_bytes(&samples, rate)
        .map_err(|e| SimError::BadRequest(format!("cannot write the WAV: {e}")))?;
    Ok(([(header::CONTENT_TYPE, "audio/wav")], wav).into_response())
}

#[derive(Debug, Deserialize)]
struct PlayedQuery {
    /// Which `play` (0-based); the last one when absent.
    index: Option<usize>,
}

/// `GET /sim/calls/{id}/played.wav[?index=n]`: the bytes a `play` action fetched.
async fn played_wav(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    Query(query): Query<PlayedQuery>,
) -> Result<Response, SimError> {
    let bytes = sim
        .with(|store| {
            let played = &store.call_mut(&id)?.played;
            let entry = match query.index {
                Some(i) => played.get(i),
                None => played.last(),
            };
            entry.map(|p| p.bytes.clone())
        })
        .ok_or_else(|| SimError::NotFound(format!("Call {id} played nothing")))?;
    Ok(([(header::CONTENT_TYPE, "audio/wav")], bytes).into_response())
}

fn wav_bytes(samples: &[i16], rate: u32) -> Result<Vec<u8>, hound::Error> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = Cursor::new(Vec::new());
    let mut writer = hound::WavWriter::new(&mut out, spec)?;
    for &sample in samples {
        writer.write_sample(sample)?;
    }
    writer.finalize()?;
    Ok(out.into_inner())
}

/// `POST /sim/callees`: how the phone at `number` behaves on outgoing calls.
async fn set_callee(
    State(sim): State<Arc<Sim>>,
    Json(callee): Json<Callee>,
) -> Result<Json<Value>, SimError> {
    callee.validate()?;
    let answer = callee.to_json();
    sim.with(|store| store.callees.insert(callee.number.clone(), callee));
    Ok(Json(answer))
}

async fn clear_callees(State(sim): State<Arc<Sim>>) -> Json<Value> {
    sim.with(|store| store.callees.clear());
    Json(json!({"callees": []}))
}

/// `POST /sim/faults`: one fault object or a list of them.
async fn add_fault(
    State(sim): State<Arc<Sim>>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, SimError> {
    let faults: Vec<Fault> = match body {
        Value::Array(_) => serde_json::from_value(body),
        other => serde_json::from_value(other).map(|f| vec![f]),
    }
    .map_err(|e| SimError::BadRequest(format!("invalid fault: {e}")))?;
    for fault in &faults {
        fault.validate()?;
    }
    let all = sim.with(|store| {
        store.faults.extend(faults);
        store.faults.iter().map(Fault::to_json).collect::<Vec<_>>()
    });
    Ok(Json(json!({"faults": all})))
}

async fn clear_faults(State(sim): State<Arc<Sim>>) -> Json<Value> {
    sim.with(|store| store.faults.clear());
    Json(json!({"faults": []}))
}

#[derive(Debug, Deserialize)]
struct Numbers {
    numbers: Vec<String>,
}

/// `POST /sim/undeliverable {"numbers":[..]}`: SMS to these end `failed` (added to the set).
async fn add_undeliverable(State(sim): State<Arc<Sim>>, Json(body): Json<Numbers>) -> Json<Value> {
    let all = sim.with(|store| {
        store.undeliverable.extend(body.numbers);
        store.undeliverable.clone()
    });
    Json(json!({"numbers": all}))
}

async fn clear_undeliverable(State(sim): State<Arc<Sim>>) -> Json<Value> {
    sim.with(|store| store.undeliverable.clear());
    Json(json!({"numbers": []}))
}

#[derive(Debug, Deserialize)]
struct Balance {
    balance: i64,
}

/// `POST /sim/accounts/{username}/balance {"balance":N}` (1/10000 of the currency).
async fn set_balance(
    State(sim): State<Arc<Sim>>,
    Path(username): Path<String>,
    Json(body): Json<Balance>,
) -> Result<Json<Value>, SimError> {
    sim.with(|store| {
        let account = store
            .account_mut(&username)
            .ok_or_else(|| SimError::NotFound(format!("Account {username} not found")))?;
        account.account.balance = body.balance;
        Ok(Json(account.me_json()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_readable_wav() {
        let samples: Vec<i16> = (0..160).map(|i| i * 10).collect();
        let bytes = wav_bytes(&samples, 8000).expect("wav");
        let mut reader = hound::WavReader::new(Cursor::new(bytes)).expect("read");
        assert_eq!(reader.spec().sample_rate, 8000);
        let back: Vec<i16> = reader
            .samples::<i16>()
            .map(|s| s.expect("sample"))
            .collect();
        assert_eq!(back, samples);
    }
}
