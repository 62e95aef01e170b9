//! **IO edge**: the call-action interpreter (doc §3.5).
//!
//! - `connect` to a `ws://`/`wss://` URL: a Realtime WebSocket leg ([`super::realtime`]).
//!   The conversation ends the call (the simulated person hangs up), so `next` is not
//!   followed after it; if the socket cannot be opened the result is `failed` (46elks: "the
//!   caller hears a busy tone").
//! - `connect` to E.164 numbers (comma-separated: the first one rings): the number behaves
//!   as its callee entry says; an answered leg lasts one second. `sip:` targets fail (they
//!   need whitelisting by 46elks support).
//! - `play` of an `http(s)` URL: fetched with GET (kept for `/sim/calls/{id}/played.wav`),
//!   `success` on 2xx, then "played" for the WAV's duration (at most 120 s, a guard against
//!   a header that claims hours). Built-ins (`sound/beep`, `sound/dtmf/...`, TTS
//!   `en_US/...`) succeed without a fetch.
//! - `hangup`: ends the call. As the first action `busy` makes it `busy` and `reject`/`404`
//!   make it `failed`; later only `reject` signals (`failed`).
//! - `ivr`, `record`, `recordcall` alone, and unknown actions: the call ends `failed`.
//!
//! After an action, a failure result with a `busy`/`failed` branch takes that branch; else
//! `next` is followed: a nested object runs, a URL gets a form POST of `callid, result,
//! direction, from, to` and its JSON answer runs. With nothing to follow the call ends:
//! `success`, or `busy`/`failed` when the last action's result was that. Every executed
//! action is recorded in the call's `actions` with its `result`; a `whenhangup` key on any
//! action sets the call's hang-up URL.

use std::io::Cursor;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::callee::{Behaviour, Callee};
use super::run::{CallCtx, fail};
use super::{CallState, Played, realtime};
use crate::form::{is_e164, is_http_url};
use crate::store::Sim;
use crate::webhook::{self, Retry};

/// The most actions one call runs: a `next` chain could loop forever.
const MAX_ACTIONS: usize = 100;
/// How long an answered `connect` leg to a phone number lasts.
const CONNECTED_LEG: Duration = Duration::from_secs(1);
/// The longest a `play` keeps the line busy: 46elks plays the whole file, and a
/// `call-message` of 1200 characters speaks for about 90 s.
const MAX_PLAY: Duration = Duration::from_secs(120);
/// The action keys this interpreter knows, in the order they are looked for.
const KINDS: [&str; 6] = ["connect", "play", "hangup", "ivr", "record", "recordcall"];

/// What comes after one action.
enum Step {
    Next(Value),
    End(CallState),
}

/// A JSON action object from a webhook answer, if the body is one.
pub(crate) fn parse_action(body: &str) -> Option<Value> {
    match serde_json::from_str::<Value>(body.trim()) {
        Ok(action @ Value::Object(_)) => Some(action),
        _ => None,
    }
}

/// Runs `first` and whatever follows it; returns the call's final state.
pub(crate) async fn execute(sim: &Arc<Sim>, ctx: &CallCtx, first: Value) -> CallState {
    let mut action = first;
    for index in 0..MAX_ACTIONS {
        match step(sim, ctx, action, index == 0).await {
            Step::Next(next) => action = next,
            Step::End(state) => return state,
        }
    }
    fail(sim, &ctx.id, "too many actions");
    CallState::Failed
}

async fn step(sim: &Arc<Sim>, ctx: &CallCtx, action: Value, first: bool) -> Step {
    let Some(map) = action.as_object() else {
        fail(sim, &ctx.id, "the action is not a JSON object");
        return Step::End(CallState::Failed);
    };
    if let Some(url) = map.get("whenhangup").and_then(Value::as_str)
        && is_http_url(url)
    {
        set_whenhangup(sim, &ctx.id, url);
    }
    match KINDS.iter().find(|k| map.contains_key(**k)).copied() {
        Some("connect") => connect(sim, ctx, &action).await,
        Some("play") => play(sim, ctx, &action).await,
        Some("hangup") => hangup(sim, ctx, &action, first),
        Some(kind) => {
            record(sim, &ctx.id, &action, "failed");
            fail(sim, &ctx.id, &format!("the {kind} action is not simulated"));
            Step::End(CallState::Failed)
        }
        None => {
            fail(sim, &ctx.id, &format!("unknown action {action}"));
            Step::End(CallState::Failed)
        }
    }
}

async fn connect(sim: &Arc<Sim>, ctx: &CallCtx, action: &Value) -> Step {
    let target = action["connect"].as_str().unwrap_or_default().trim();
    let lower = target.to_ascii_lowercase();
    if lower.starts_with("ws://") || lower.starts_with("wss://") {
        let result = match realtime::converse(sim, ctx, target).await {
            Ok(()) => "success",
            Err(why) => {
                fail(sim, &ctx.id, &why);
                "failed"
            }
        };
        record(sim, &ctx.id, action, result);
        if result == "success" {
            return Step::End(CallState::Success);
        }
        return follow(sim, ctx, action, result).await;
    }
    let result = if lower.starts_with("sip:") {
        "failed"
    } else if let Some(number) = target.split(',').map(str::trim).find(|n| is_e164(n)) {
        let callerid = action["callerid"].as_str().unwrap_or(&ctx.from);
        connect_number(sim, ctx, number, callerid).await
    } else {
        record(sim, &ctx.id, action, "failed");
        fail(sim, &ctx.id, &format!("cannot connect to {target:?}"));
        return Step::End(CallState::Failed);
    };
    record(sim, &ctx.id, action, result);
    follow(sim, ctx, action, result).await
}

/// Rings `number` as its callee entry says; adds the leg; returns the result.
async fn connect_number(sim: &Sim, ctx: &CallCtx, number: &str, callerid: &str) -> &'static str {
    let callee = sim
        .with(|store| store.callees.get(number).cloned())
        .unwrap_or_else(|| Callee::default_for(number));
    tokio::time::sleep(Duration::from_millis(callee.after_ms).min(CONNECTED_LEG)).await;
    let (result, duration) = match callee.behaviour {
        Behaviour::Answer => {
            tokio::time::sleep(CONNECTED_LEG).await;
            ("success", CONNECTED_LEG.as_secs())
        }
        Behaviour::Busy => ("busy", 0),
        Behaviour::NoAnswer => ("failed", 0),
    };
    let leg = json!({"duration": duration, "to": number, "state": result, "from": callerid});
    sim.with(|store| {
        if let Some(call) = store.call_mut(&ctx.id) {
            call.legs.push(leg);
        }
    });
    result
}

async fn play(sim: &Arc<Sim>, ctx: &CallCtx, action: &Value) -> Step {
    let target = action["play"].as_str().unwrap_or_default().trim();
    let result = if is_http_url(target) {
        fetch_and_play(sim, &ctx.id, target).await
    } else if target.starts_with("sound/") || is_tts(target) {
        "success"
    } else {
        "failed"
    };
    record(sim, &ctx.id, action, result);
    follow(sim, ctx, action, result).await
}

/// A built-in TTS path such as `en_US/Hello there` (beta, doc §3.5).
fn is_tts(target: &str) -> bool {
    let b = target.as_bytes();
    b.len() > 6
        && b[..2].iter().all(u8::is_ascii_lowercase)
        && b[2] == b'_'
        && b[3..5].iter().all(u8::is_ascii_uppercase)
        && b[5] == b'/'
}

async fn fetch_and_play(sim: &Sim, id: &str, url: &str) -> &'static str {
    let (status, bytes) = match sim.http.get(url).send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let bytes = response
                .bytes()
                .await
                .map(|b| b.to_vec())
                .unwrap_or_default();
            (Some(status), bytes)
        }
        Err(e) => {
            tracing::debug!(url, error = %e, "play fetch failed");
            (None, Vec::new())
        }
    };
    let ok = status.is_some_and(|s| (200..300).contains(&s));
    let length = if ok { wav_duration(&bytes) } else { None };
    let played = Played {
        url: url.to_owned(),
        status,
        bytes,
    };
    sim.with(|store| {
        if let Some(call) = store.call_mut(id) {
            call.played.push(played);
        }
    });
    if let Some(length) = length {
        tokio::time::sleep(length.min(MAX_PLAY)).await;
    }
    if ok { "success" } else { "failed" }
}

/// How long a WAV file plays, if `bytes` is one.
fn wav_duration(bytes: &[u8]) -> Option<Duration> {
    let reader = hound::WavReader::new(Cursor::new(bytes)).ok()?;
    let rate = reader.spec().sample_rate;
    (rate > 0).then(|| Duration::from_secs_f64(f64::from(reader.duration()) / f64::from(rate)))
}

fn hangup(sim: &Sim, ctx: &CallCtx, action: &Value, first: bool) -> Step {
    let how = action["hangup"].as_str().unwrap_or_default();
    record(sim, &ctx.id, action, "success");
    Step::End(match (first, how) {
        (true, "busy") => CallState::Busy,
        (true, "404") | (_, "reject") => CallState::Failed,
        _ => CallState::Success,
    })
}

/// After an action: its failure branch, else `next`, else the end.
async fn follow(sim: &Sim, ctx: &CallCtx, action: &Value, result: &str) -> Step {
    let end = Step::End(match result {
        "success" => CallState::Success,
        "busy" => CallState::Busy,
        _ => CallState::Failed,
    });
    let branch = (result != "success")
        .then(|| action.get(result))
        .flatten()
        .or_else(|| action.get("next"));
    match branch {
        Some(next @ Value::Object(_)) => Step::Next(next.clone()),
        Some(Value::String(url)) if is_http_url(url) => {
            let form = vec![
                ("callid", ctx.id.clone()),
                ("result", result.to_owned()),
                ("direction", ctx.direction.to_owned()),
                ("from", ctx.from.clone()),
                ("to", ctx.to.clone()),
            ];
            let answer = webhook::post(sim, "next", url, &form, Retry::No).await;
            match answer.and_then(|a| parse_action(&a.body)) {
                Some(next) => Step::Next(next),
                None => end,
            }
        }
        _ => end,
    }
}

/// Adds `action` to the call's `actions` with its `result`; nested actions are left out.
fn record(sim: &Sim, id: &str, action: &Value, result: &str) {
    let mut entry = action.clone();
    if let Some(map) = entry.as_object_mut() {
        map.retain(|_, v| !v.is_object());
        map.insert("result".to_owned(), json!(result));
    }
    sim.with(|store| {
        if let Some(call) = store.call_mut(id) {
            call.actions.push(entry);
        }
    });
}

fn set_whenhangup(sim: &Sim, id: &str, url: &str) {
    sim.with(|store| {
        if let Some(call) = store.call_mut(id) {
            call.whenhangup = Some(url.to_owned());
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tts_paths() {
        assert!(is_tts("en_US/Hello there"));
        assert!(is_tts("sv_SE/Hej"));
        assert!(!is_tts("sound/beep"));
        assert!(!is_tts("en_US/"));
        assert!(!is_tts("https://x/y"));
    }

    #[test]
    fn actions_from_answers() {
        assert_eq!(
            parse_action(" {\"play\":\"sound/beep\"} "),
            Some(json!({"play": "sound/beep"}))
        );
        assert_eq!(parse_action(""), None);
        assert_eq!(parse_action("[1]"), None);
    }
}
