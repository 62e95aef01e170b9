//! The real binary: `voxgate serve` loads the engines, binds, answers `GET /healthz` and
//! `/metrics`, refuses a 46elks WebSocket without the token, and exits cleanly on SIGTERM;
//! `voxgate demo` holds a whole call against itself. Needs `scripts/setup` (models, espeak-ng,
//! the Asterisk prompts).

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{Server, free_port, models_dir};

fn http_get(port: u16, path: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

#[test]
fn serve_answers_healthz_and_stops_on_sigterm() {
    let port = free_port();
    let data = tempfile::tempdir().expect("temp dir");
    let child = Command::new(env!("CARGO_BIN_EXE_voxgate"))
        .arg("serve")
        .env("VOXGATE_HTTP_LISTEN", format!("127.0.0.1:{port}"))
        .env("VOXGATE_SIP_LISTEN", "127.0.0.1:0")
        .env("VOXGATE_EMAIL_SMTP_LISTEN", "127.0.0.1:0")
        .env("VOXGATE_DATA_DIR", data.path())
        .env("VOXGATE_MODELS_DIR", models_dir())
        .env("VOXGATE_PIPELINE_SLOTS", "4")
        .current_dir(data.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn voxgate");
    let mut server = Server(child);

    let deadline = Instant::now() + Duration::from_secs(20);
    let response = loop {
        match http_get(port, "/healthz") {
            Ok(r) => break r,
            Err(e) if Instant::now() > deadline => panic!("voxgate never answered: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains(r#""status":"ok""#), "{response}");
    let metrics = http_get(port, "/metrics").expect("metrics");
    assert!(metrics.contains("voxgate_slots_capacity 4"), "{metrics}");
    let ws = http_get(port, "/api/webhooks/46elks/voice/ws?token=wrong").expect("ws");
    assert!(ws.starts_with("HTTP/1.1 401"), "{ws}");
    let token = std::fs::read_to_string(data.path().join("bridge.token")).expect("token file");
    assert!(!ws.contains(token.trim()), "the token is never returned");

    let pid = server.0.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = server.0.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "voxgate did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "exit status {status}");
}

#[test]
fn demo_holds_a_call_and_keeps_serving() {
    use std::io::{BufRead as _, BufReader};
    let port = free_port();
    let data = tempfile::tempdir().expect("temp dir");
    let child = Command::new(env!("CARGO_BIN_EXE_voxgate"))
        .arg("demo")
        .env("VOXGATE_HTTP_LISTEN", format!("127.0.0.1:{port}"))
        .env("VOXGATE_SIP_LISTEN", "127.0.0.1:0")
        .env("VOXGATE_EMAIL_SMTP_LISTEN", "127.0.0.1:0")
        .env("VOXGATE_DATA_DIR", data.path())
        .env("VOXGATE_MODELS_DIR", models_dir())
        .env("VOXGATE_PIPELINE_SLOTS", "2")
        .current_dir(data.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn voxgate demo");
    let mut server = Server(child);
    let stdout = server.0.stdout.take().expect("stdout");
    let mut printed = String::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("utf-8");
        printed.push_str(&line);
        printed.push('\n');
        if line.contains("keeps running") {
            break;
        }
    }
    eprintln!("{printed}");
    assert!(printed.contains("[turn 1] caller: Hello"), "{printed}");
    assert!(
        printed.contains("[turn 1] agent:  Hello! You are talking to voxgate"),
        "{printed}"
    );
    assert!(
        printed.contains("[turn 2] agent:  Goodbye, and thank you for calling."),
        "{printed}"
    );
    assert!(
        printed.contains("call ended (agent) after 2 turns"),
        "{printed}"
    );
    assert!(printed.contains("first frame sent"), "{printed}");
    let wav = hound::WavReader::open(data.path().join("demo-agent.wav")).expect("the agent's WAV");
    assert_eq!(wav.spec().sample_rate, 8000);
    assert!(
        wav.duration() > 8000 * 3,
        "greeting and two replies: {} samples",
        wav.duration()
    );
    let health = http_get(port, "/healthz").expect("still serving");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
}

#[test]
fn help_lists_serve() {
    let out = Command::new(env!("CARGO_BIN_EXE_voxgate"))
        .arg("--help")
        .output()
        .expect("run");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("serve") && text.contains("demo"), "{text}");
}
