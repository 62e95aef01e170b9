//! Calls over real HTTP and WebSocket: `play` actions with `whenhangup`, `voice_start` and
//! `next` webhooks, busy and unanswered callees, and Realtime `connect` legs (outgoing and
//! incoming) against a minimal 46elks Realtime server written here.

mod common;

use std::io::Cursor;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::{Receiver, Sim, is_naive_timestamp, kinds, start, tone_wav};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(10);
const MOBILE: &str = "+46700000001";

async fn call(sim: &Sim, form: &[(&str, &str)]) -> String {
    let (status, call) = sim.post("/calls", form).await;
    assert_eq!(status, 200, "{call}");
    let keys: Vec<&str> = call
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["created", "direction", "from", "id", "state", "to"]);
    assert_eq!(call["state"], "ongoing");
    assert_eq!(call["direction"], "outgoing");
    let id = call["id"].as_str().expect("id");
    assert!(id.starts_with('c') && id.len() == 33, "{id}");
    id.to_owned()
}

fn json_field(form: &std::collections::HashMap<String, String>, key: &str) -> Value {
    serde_json::from_str(&form[key]).expect("a JSON string")
}

#[tokio::test]
async fn a_json_play_action_fetches_the_wav_and_reports_the_hangup() {
    let sim = start().await;
    let receiver = Receiver::start().await;
    let wav = tone_wav(8000, 200);
    receiver.serve_file("beep.wav", wav.clone());
    let before = sim.balance().await;
    let play = receiver.url("/files/beep.wav");
    let voice_start = json!({"play": play}).to_string();
    let hangup = receiver.url("/hangup");
    let id = call(
        &sim,
        &[
            ("from", MOBILE),
            ("to", "+46700000010"),
            ("voice_start", &voice_start),
            ("whenhangup", &hangup),
        ],
    )
    .await;

    let hit = receiver.wait_hits("/hangup", 1, WAIT).await.remove(0);
    let form = &hit.form;
    assert_eq!(form["id"], id);
    assert_eq!(form["callid"], id);
    assert_eq!(form["direction"], "outgoing");
    assert_eq!(form["from"], MOBILE);
    assert_eq!(form["to"], "+46700000010");
    assert_eq!(form["state"], "success");
    assert!(is_naive_timestamp(&form["created"]) && is_naive_timestamp(&form["start"]));
    assert_eq!(form["duration"], "1");
    assert_eq!(form["cost"], "2000");
    assert_eq!(
        json_field(form, "actions"),
        json!([{"play": play, "result": "success"}])
    );
    let legs = json_field(form, "legs");
    assert_eq!(
        legs[0],
        json!({"duration": 1, "to": "+46700000010", "state": "success", "from": MOBILE})
    );

    let done = sim.finished_call(&id, WAIT).await;
    assert_eq!(done["played"][0]["bytes"], wav.len());
    let played = sim
        .http
        .get(format!("{}/sim/calls/{id}/played.wav", sim.base))
        .send()
        .await
        .expect("get");
    assert_eq!(played.bytes().await.expect("bytes").to_vec(), wav);

    let (status, shown) = sim.get(&format!("/calls/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(shown["state"], "success");
    assert_eq!(shown["duration"], 1);
    assert_eq!(shown["cost"], 2000);
    assert!(is_naive_timestamp(shown["start"].as_str().expect("start")));
    let (_, list) = sim.get("/calls").await;
    assert_eq!(list["data"][0]["id"], id.as_str());
    assert_eq!(sim.balance().await, before - 2000);
}

#[tokio::test]
async fn a_voice_start_url_and_a_next_url_get_their_webhooks() {
    let sim = start().await;
    let receiver = Receiver::start().await;
    receiver.serve_file("hello.wav", tone_wav(8000, 100));
    let first = json!({"play": receiver.url("/files/hello.wav"), "next": receiver.url("/next")});
    receiver.answer("/voice", &[(200, &first.to_string())]);
    receiver.answer("/next", &[(200, r#"{"play":"sound/beep"}"#)]);
    let number = sim.allocate().await;
    let from = number["number"].as_str().expect("number");
    let id = call(
        &sim,
        &[
            ("from", from),
            ("to", "+46700000012"),
            ("voice_start", &receiver.url("/voice")),
        ],
    )
    .await;
    let done = sim.finished_call(&id, WAIT).await;
    assert_eq!(done["state"], "success", "{done}");
    let voice = &receiver.hits("/voice")[0].form;
    assert_eq!(voice["callid"], id);
    assert_eq!(voice["from"], from);
    assert_eq!(voice["to"], "+46700000012");
    assert_eq!(voice["direction"], "outgoing");
    assert_eq!(voice["result"], "newoutgoing");
    assert!(is_naive_timestamp(&voice["created"]));
    let next = &receiver.hits("/next")[0].form;
    assert_eq!(
        (next["callid"].as_str(), next["result"].as_str()),
        (id.as_str(), "success")
    );
    assert_eq!(done["actions"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        done["actions"][1],
        json!({"play": "sound/beep", "result": "success"})
    );
}

#[tokio::test]
async fn busy_and_unanswered_callees_end_without_a_start() {
    let sim = start().await;
    let receiver = Receiver::start().await;
    let before = sim.balance().await;
    sim.control(
        "/callees",
        json!({"number": "+46700000011", "behaviour": "busy", "after_ms": 50}),
    )
    .await;
    sim.control(
        "/callees",
        json!({"number": "+46700000013", "behaviour": "no-answer"}),
    )
    .await;
    let voice_start = r#"{"play":"sound/beep"}"#;
    let hangup = receiver.url("/hangup");
    let busy = call(
        &sim,
        &[
            ("from", MOBILE),
            ("to", "+46700000011"),
            ("voice_start", voice_start),
            ("whenhangup", &hangup),
        ],
    )
    .await;
    let silent = call(
        &sim,
        &[
            ("from", MOBILE),
            ("to", "+46700000013"),
            ("voice_start", voice_start),
            ("whenhangup", &hangup),
            ("timeout", "1"),
        ],
    )
    .await;
    let hits = receiver.wait_hits("/hangup", 2, WAIT).await;
    let state_of = |id: &str| {
        hits.iter()
            .find(|h| h.form["id"] == id)
            .map(|h| h.form.clone())
            .expect("hangup for the call")
    };
    let busy_form = state_of(&busy);
    assert_eq!(busy_form["state"], "busy");
    for key in ["start", "duration", "cost", "actions", "legs"] {
        assert!(!busy_form.contains_key(key), "{key} in {busy_form:?}");
    }
    assert_eq!(state_of(&silent)["state"], "failed");
    assert_eq!(sim.get(&format!("/calls/{busy}")).await.1["state"], "busy");
    assert_eq!(sim.balance().await, before);

    // A `from` the account does not own is refused; voice_start is required.
    let (status, body) = sim
        .post(
            "/calls",
            &[
                ("from", "+46766860005"),
                ("to", "+46700000011"),
                ("voice_start", voice_start),
            ],
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(body.is_string());
    let (status, _) = sim
        .post("/calls", &[("from", MOBILE), ("to", "+46700000011")])
        .await;
    assert_eq!(status, 400);
}

/// What the test's Realtime server received: every non-audio message, and audio counts.
#[derive(Clone, Default)]
struct AgentLog {
    messages: Arc<Mutex<Vec<Value>>>,
    audio: Arc<Mutex<usize>>,
}

/// A minimal 46elks Realtime server (the agent side): answers `hello` with `listening` and
/// `sending` (pcm_8000) and a 200 ms greeting; once the caller has spoken and then been
/// quiet for 300 ms, answers with 200 ms more and says `bye`; ends at the carrier's `bye`.
async fn serve_agent() -> (String, AgentLog) {
    let log = AgentLog::default();
    let app = Router::new()
        .route("/ws", get(upgrade))
        .with_state(log.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("ws://{addr}/ws"), log)
}

async fn upgrade(ws: WebSocketUpgrade, State(log): State<AgentLog>) -> Response {
    ws.on_upgrade(move |socket| agent(socket, log))
}

async fn send(socket: &mut WebSocket, value: Value) {
    let _ = socket.send(Message::Text(value.to_string().into())).await;
}

/// `n` frames of 20 ms of a tone, as `audio` messages.
async fn send_tone(socket: &mut WebSocket, n: usize) {
    for frame in 0..n {
        let bytes: Vec<u8> = (0..160)
            .flat_map(|i| {
                let s = if (frame * 160 + i) % 16 < 8 {
                    6000i16
                } else {
                    -6000
                };
                s.to_le_bytes()
            })
            .collect();
        send(
            socket,
            json!({"t": "audio", "data": STANDARD.encode(bytes)}),
        )
        .await;
    }
}

async fn agent(mut socket: WebSocket, log: AgentLog) {
    let (mut heard, mut quiet_bytes, mut answered) = (false, 0usize, false);
    while let Some(Ok(message)) = socket.recv().await {
        let Message::Text(text) = message else {
            continue;
        };
        let Ok(value) = serde_json::from_str::<Value>(text.as_str()) else {
            continue;
        };
        match value["t"].as_str().unwrap_or_default() {
            "hello" => {
                log.messages.lock().expect("lock").push(value.clone());
                send(&mut socket, json!({"t": "listening", "format": "pcm_8000"})).await;
                send(&mut socket, json!({"t": "sending", "format": "pcm_8000"})).await;
                send_tone(&mut socket, 10).await;
            }
            "audio" => {
                *log.audio.lock().expect("lock") += 1;
                let bytes = STANDARD
                    .decode(value["data"].as_str().unwrap_or_default())
                    .unwrap_or_default();
                let loud = bytes
                    .chunks_exact(2)
                    .any(|c| i16::from_le_bytes([c[0], c[1]]).unsigned_abs() > 200);
                if loud {
                    (heard, quiet_bytes) = (true, 0);
                } else if heard {
                    quiet_bytes += bytes.len();
                }
                if heard && !answered && quiet_bytes >= 4800 {
                    answered = true;
                    send_tone(&mut socket, 10).await;
                    send(&mut socket, json!({"t": "bye"})).await;
                }
            }
            "bye" => {
                log.messages.lock().expect("lock").push(value);
                break;
            }
            _ => log.messages.lock().expect("lock").push(value),
        }
    }
}

/// Checks a finished Realtime call: the conversation, the recorded agent audio, the hello.
async fn check_realtime_call(sim: &Sim, id: &str, log: &AgentLog, from: &str, to: &str) -> Value {
    let done = sim.finished_call(id, Duration::from_secs(30)).await;
    assert_eq!(done["state"], "success", "{done}");
    let realtime = &done["realtime"];
    assert_eq!(
        realtime["hello"],
        json!({"callid": id, "from": from, "to": to})
    );
    assert_eq!(realtime["violations"], json!([]), "{realtime}");
    let kinds = kinds(&realtime["messages"]);
    assert_eq!(
        kinds,
        ["listening", "sending", "audio", "bye"],
        "{realtime}"
    );
    assert_eq!(realtime["said"][0]["prompt"], "hello-world");
    assert_eq!(realtime["said"][0]["transcript"], "Hello world.");
    assert_eq!(realtime["agent_samples"], 3200);
    assert_eq!(realtime["agent_rate"], 8000);

    let wav = sim
        .http
        .get(format!("{}/sim/calls/{id}/agent.wav", sim.base))
        .send()
        .await
        .expect("get")
        .bytes()
        .await
        .expect("bytes");
    let mut reader = hound::WavReader::new(Cursor::new(wav.to_vec())).expect("a WAV");
    assert_eq!(reader.spec().sample_rate, 8000);
    let samples: Vec<i16> = reader
        .samples::<i16>()
        .map(|s| s.expect("sample"))
        .collect();
    assert_eq!(samples.len(), 3200);
    assert!(samples.iter().all(|s| s.unsigned_abs() == 6000));

    let received = log.messages.lock().expect("lock").clone();
    assert_eq!(
        received[0],
        json!({"t": "hello", "callid": id, "from": from, "to": to})
    );
    assert_eq!(received.last().map(|m| m["t"].clone()), Some(json!("bye")));
    // The person spoke: 20 ms chunks of silence and speech.
    assert!(*log.audio.lock().expect("lock") > 50);
    done
}

#[tokio::test]
async fn an_outgoing_call_connects_to_a_realtime_websocket() {
    let sim = start().await;
    let receiver = Receiver::start().await;
    let (url, log) = serve_agent().await;
    sim.control(
        "/callees",
        json!({"number": "+46700000042", "script": ["hello-world"], "quiet_ms": 200, "after_ms": 50}),
    )
    .await;
    let voice_start = json!({"connect": url}).to_string();
    let id = call(
        &sim,
        &[
            ("from", MOBILE),
            ("to", "+46700000042"),
            ("voice_start", &voice_start),
            ("whenhangup", &receiver.url("/hangup")),
        ],
    )
    .await;
    // For an outgoing call `hello.from` is the person called, `to` the 46elks side.
    let done = check_realtime_call(&sim, &id, &log, "+46700000042", MOBILE).await;
    assert_eq!(
        done["actions"],
        json!([{"connect": url, "result": "success"}])
    );
    let hangup = receiver.wait_hits("/hangup", 1, WAIT).await.remove(0);
    assert_eq!(hangup.form["state"], "success");
    assert_eq!(
        json_field(&hangup.form, "actions")[0]["connect"],
        url.as_str()
    );
}

#[tokio::test]
async fn an_incoming_call_runs_the_numbers_voice_start() {
    let sim = start().await;
    let (url, log) = serve_agent().await;
    let number = sim.allocate().await;
    let (number_id, to) = (
        number["id"].as_str().expect("id"),
        number["number"].as_str().expect("number"),
    );
    let voice_start = json!({"connect": url}).to_string();
    sim.post(
        &format!("/numbers/{number_id}"),
        &[("voice_start", &voice_start)],
    )
    .await;
    let (status, body) = sim
        .control(
            "/calls",
            json!({"from": "+46700000077", "to": to, "script": ["hello-world"], "quiet_ms": 200}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let id = body["id"].as_str().expect("id");
    let done = check_realtime_call(&sim, id, &log, "+46700000077", to).await;
    assert_eq!(done["direction"], "incoming");

    // Unknown numbers and refused sockets.
    let (status, _) = sim
        .control(
            "/calls",
            json!({"from": "+46700000077", "to": "+46766860019"}),
        )
        .await;
    assert_eq!(status, 404);
    let refused = json!({"connect": "ws://127.0.0.1:9/ws"}).to_string();
    sim.post(
        &format!("/numbers/{number_id}"),
        &[("voice_start", &refused)],
    )
    .await;
    let (_, body) = sim
        .control("/calls", json!({"from": "+46700000077", "to": to}))
        .await;
    let failed = sim
        .finished_call(body["id"].as_str().expect("id"), WAIT)
        .await;
    assert_eq!(failed["state"], "failed");
    assert_eq!(failed["actions"][0]["result"], "failed");
}
