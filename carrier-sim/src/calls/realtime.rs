//! **IO edge**: a `connect` to a WebSocket URL, the Realtime Voice leg (doc §1).
//!
//! 46elks is the WebSocket client: it opens the socket, sends `hello{callid, from, to}` and
//! waits for `listening` and `sending`. [`SimulatedCall`] from `voxgate-bridge` plays that part
//! (playout clock, `sync` answers, `interrupt`, the final `bye`); this module drives it with
//! a simulated person: wait for the agent's greeting, say each script prompt in real time
//! (8 kHz Asterisk recordings, resampled to the `listening` format), wait for the agent's
//! answer after each, then hang up (`bye{reason:"hangup"}`).
//!
//! What `hello` carries is only shown for an inbound call (doc §1.4: `from` the phone that
//! called, `to` the 46elks number). The simulator keeps that meaning for both directions:
//! `from` is always the person on the phone and `to` the 46elks number, so for an outgoing
//! API call `from` is the callee (the call's `to`) and `to` the call's `from`. `callid` is
//! the call's id, the one `whenhangup` and `GET /a1/calls` show (doc §6 asks this).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use voxgate_bridge::BridgeError;
use voxgate_bridge::caller::{Chunking, Received, ReceivedMsg, SimulatedCall};
use voxgate_media::SampleRate;

use super::Realtime;
use super::callee::Speaker;
use super::run::CallCtx;
use crate::store::Sim;

/// The chunk of caller audio per `audio` message.
const CHUNK: Duration = Duration::from_millis(20);
/// How long to wait for the agent's `bye` and the close after our `bye`.
const CLOSE_WAIT: Duration = Duration::from_secs(3);

/// Runs the Realtime leg to `url`. `Err` when the socket could not be opened or `hello`
/// was not answered with `listening` and `sending`.
pub(crate) async fn converse(sim: &Arc<Sim>, ctx: &CallCtx, url: &str) -> Result<(), String> {
    let (from, to) = match ctx.direction {
        "outgoing" => (ctx.to.as_str(), ctx.from.as_str()),
        _ => (ctx.from.as_str(), ctx.to.as_str()),
    };
    let mut realtime = Realtime {
        url: url.to_owned(),
        hello: json!({"callid": ctx.id, "from": from, "to": to}),
        ..Realtime::default()
    };
    save(sim, &ctx.id, realtime.clone());
    let mut caller = match SimulatedCall::connect(url).await {
        Ok(caller) => caller,
        Err(e) => {
            realtime.notes.push(format!("connect: {e}"));
            save(sim, &ctx.id, realtime);
            return Err(format!("cannot open the WebSocket {url}: {e}"));
        }
    };
    let began = Instant::now();
    let greeted = caller.hello(&ctx.id, from, to).await;
    if let Err(e) = &greeted {
        realtime.notes.push(format!("hello: {e}"));
    } else {
        speak(&caller, &ctx.speaker, began, &mut realtime).await;
        if !closed(&caller) {
            if let Err(e) = caller.hangup() {
                realtime.notes.push(format!("bye: {e}"));
            }
            if tokio::time::timeout(CLOSE_WAIT, caller.wait_closed())
                .await
                .is_err()
            {
                realtime
                    .notes
                    .push("the socket stayed open after our bye".into());
            }
        }
    }
    snapshot(&caller, began, &mut realtime);
    save(sim, &ctx.id, realtime);
    caller.close().await;
    greeted
        .map(|_| ())
        .map_err(|e| format!("no listening and sending after hello: {e}"))
}

/// The person's side of the conversation. Returns early when the socket closes.
async fn speak(caller: &SimulatedCall, speaker: &Speaker, began: Instant, realtime: &mut Realtime) {
    match caller
        .listen_until_greeted(speaker.quiet, speaker.max_wait)
        .await
    {
        Ok(()) => {}
        Err(BridgeError::SocketLost) => return,
        Err(e) => realtime.notes.push(format!("greeting: {e}")),
    }
    for name in &speaker.script {
        let loaded = voxgate_testdata::asterisk::prompt(name)
            .and_then(|prompt| prompt.audio().map(|audio| (prompt, audio)));
        let (prompt, audio) = match loaded {
            Ok(loaded) => loaded,
            Err(e) => {
                realtime.notes.push(format!("prompt {name}: {e}"));
                continue;
            }
        };
        let rate = match SampleRate::new(audio.sample_rate) {
            Ok(rate) => rate,
            Err(e) => {
                realtime.notes.push(format!("prompt {name}: {e}"));
                continue;
            }
        };
        realtime.said.push(json!({
            "prompt": name,
            "transcript": prompt.spoken_text(),
            "at_ms": millis(began.elapsed()),
        }));
        if let Err(e) = caller
            .stream(&audio.samples, rate, Chunking::Duration(CHUNK))
            .await
        {
            realtime.notes.push(format!("saying {name}: {e}"));
            if closed(caller) {
                return;
            }
        }
        match caller
            .listen_until_answered(speaker.quiet, speaker.max_wait)
            .await
        {
            Ok(()) => {}
            Err(BridgeError::SocketLost) => return,
            Err(e) => realtime.notes.push(format!("answer to {name}: {e}")),
        }
    }
}

fn closed(caller: &SimulatedCall) -> bool {
    caller.inspect(|r| r.closed_at.is_some())
}

/// Copies what the carrier received into `realtime`.
fn snapshot(caller: &SimulatedCall, began: Instant, realtime: &mut Realtime) {
    caller.inspect(|recording| {
        realtime.agent_audio = recording.agent_audio();
        realtime.agent_rate = recording.sending().map_or(0, |f| f.rate().hz());
        realtime.messages = recording
            .messages
            .iter()
            .map(|r| message_json(r, began))
            .collect();
        realtime.violations = recording.violations.clone();
    });
}

/// One received message: `t`, `at_ms` after `hello`, and what it carried.
fn message_json(received: &Received, began: Instant) -> Value {
    let at_ms = millis(received.at.saturating_duration_since(began));
    let mut v = json!({"t": received.msg.kind(), "at_ms": at_ms});
    match &received.msg {
        ReceivedMsg::Listening(f) | ReceivedMsg::Sending(f) => v["format"] = json!(f.as_str()),
        ReceivedMsg::Audio { samples, played } => {
            v["samples"] = json!(samples.len());
            v["played"] = json!(played);
        }
        ReceivedMsg::Interrupt { cleared } => v["cleared_ms"] = json!(millis(*cleared)),
        ReceivedMsg::Sync | ReceivedMsg::Bye => {}
    }
    v
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn save(sim: &Sim, id: &str, realtime: Realtime) {
    sim.with(|store| {
        if let Some(call) = store.call_mut(id) {
            call.realtime = Some(realtime);
        }
    });
}
