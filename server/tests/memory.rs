//! Calls through the 46elks leg become call records and a conversation thread in the
//! control API, and a second call from the same number reaches a brain that has the first
//! call in its context. The real binary on SQLite, the real WebSocket leg, Silero VAD on a
//! recorded Asterisk prompt; `fixed` ears (always "what are your opening hours"), the
//! scripted brain (whose opening-hours rule answers differently when the caller asked
//! before) and the `tone` mouth keep it fast. Needs `scripts/setup`.

mod support;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::free_port;
use voxgate_bridge::caller::{Chunking, SimulatedCall};
use voxgate_media::SampleRate;

const CONFIG: &str = r#"
[agent]
greeting = "Hi."

[agent.ears]
engine = "fixed"
text = "what are your opening hours"

[agent.mouth]
engine = "tone"
tone_ms = 300
"#;

/// `GET path` with the Bearer `key`: (status, JSON body).
fn get(port: u16, path: &str, key: &str) -> (u16, Value) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    let status = out[9..12].parse().expect("status");
    let body = out.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// One call: greeting, one question, the answer, hang up.
async fn call(port: u16, token: &str, callid: &str, from: &str) {
    let url = format!("ws://127.0.0.1:{port}/api/webhooks/46elks/voice/ws?token={token}");
    let mut caller = SimulatedCall::connect(&url).await.expect("connect");
    caller
        .hello(callid, from, "+46766860000")
        .await
        .expect("hello");
    let quiet = Duration::from_millis(400);
    let max = Duration::from_secs(20);
    caller
        .listen_until_greeted(quiet, max)
        .await
        .expect("greeting");
    let prompt = PathBuf::from("/usr/share/asterisk/sounds/en_US_f_Allison/hello-world.wav");
    let speech = voxgate_media::file::read_samples(&prompt, SampleRate::HZ_8000)
        .expect("prompt (scripts/setup)");
    let chunks = Chunking::Duration(Duration::from_millis(20));
    let spoken = caller
        .stream(&speech, SampleRate::HZ_8000, chunks)
        .await
        .expect("speak");
    caller
        .listen_until_answered_since(spoken.start, quiet, max)
        .await
        .expect("answer");
    caller.hangup().expect("hangup");
    caller.close().await;
}

/// Polls until call `n` (newest first) of the listing has ended.
fn ended_calls(port: u16, key: &str, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, body) = get(port, "/api/v1/calls", key);
        assert_eq!(status, 200, "{body}");
        let calls = body.as_array().cloned().unwrap_or_default();
        if calls.len() == count && calls.iter().all(|c| c["state"] != "active") {
            return calls;
        }
        assert!(Instant::now() < deadline, "calls never ended: {body}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn answer_of(port: u16, key: &str, call: &Value) -> String {
    let (status, body) = get(
        port,
        &format!("/api/v1/calls/{}", call["id"].as_str().expect("id")),
        key,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["turns"][0]["user"], "what are your opening hours",
        "{body}"
    );
    body["turns"][0]["agent"]
        .as_str()
        .expect("agent text")
        .to_owned()
}

#[test]
fn calls_are_recorded_and_the_second_call_remembers_the_first() {
    let data = tempfile::tempdir().expect("temp dir");
    let config = data.path().join("voxgate.toml");
    std::fs::write(&config, CONFIG).expect("config");
    let port = free_port();
    // Kept alive to the end of the test: dropping it kills the server.
    let mut running = support::serve(&config, data.path(), port, &[], true);
    let key = running.key.take().expect("admin key");
    let (status, body) = get(port, "/api/v1/calls", "vgk_wrong");
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("AUTH_INVALID_KEY"))
    );
    let token = std::fs::read_to_string(data.path().join("bridge.token")).expect("token");

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(call(port, token.trim(), "e2e-1", "+46700000042"));
    let calls = ended_calls(port, &key, 1);
    assert_eq!(calls[0]["from"], "+46700000042");
    assert_eq!(calls[0]["state"], "completed", "{}", calls[0]);
    assert!(
        calls[0]["agent_id"]
            .as_str()
            .is_some_and(|a| a.starts_with("agt_")),
        "the seed agent answered"
    );
    assert_eq!(
        answer_of(port, &key, &calls[0]),
        "We are open from nine to five, Monday to Friday."
    );

    // The same caller again: the brain sees the first call's question.
    runtime.block_on(call(port, token.trim(), "e2e-2", "+46700000042"));
    let calls = ended_calls(port, &key, 2);
    assert_eq!(
        answer_of(port, &key, &calls[0]),
        "As I told you before, we are open from nine to five, Monday to Friday."
    );
    // Another caller has no such memory.
    runtime.block_on(call(port, token.trim(), "e2e-3", "+46700000043"));
    let calls = ended_calls(port, &key, 3);
    assert_eq!(
        answer_of(port, &key, &calls[0]),
        "We are open from nine to five, Monday to Friday."
    );

    let (status, threads) = get(port, "/api/v1/threads?contact=%2B46700000042", &key);
    assert_eq!(status, 200, "{threads}");
    let messages: Vec<_> = threads[0]["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| {
            (
                m["role"].as_str().unwrap_or("").to_owned(),
                m["call_id"].clone(),
            )
        })
        .collect();
    assert_eq!(
        messages.len(),
        4,
        "two calls, a question and an answer each: {threads}"
    );
    assert_eq!(messages[0].0, "user");
    assert_eq!(messages[1].0, "assistant");
    assert_ne!(
        messages[0].1, messages[2].1,
        "the messages name their calls"
    );
}

#[test]
fn keys_create_prints_a_working_key_while_the_store_is_in_use() {
    let data = tempfile::tempdir().expect("temp dir");
    let create = |circle: &str, role: &str| {
        Command::new(env!("CARGO_BIN_EXE_voxgate"))
            .args(["keys", "create", "--circle", circle, "--role", role])
            .env("VOXGATE_DATA_DIR", data.path())
            .env_remove("VOXGATE_STORE_URL")
            .output()
            .expect("run")
    };
    let out = create("acme", "write");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(key.starts_with("vgk_") && key.len() == 47, "{key:?}");
    let again = create("acme", "write");
    assert_ne!(
        String::from_utf8_lossy(&again.stdout).trim(),
        key,
        "every key is new"
    );
    let bad = create("acme", "root");
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("unknown role"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    let bad = create("Not A Name", "read");
    assert!(!bad.status.success());
}
