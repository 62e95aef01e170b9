//! voxgate as a SIP trunk's client, against SIPp playing the trunk (Debian's `sip-tester`,
//! installed by `scripts/setup`): `sip-register-test` registers with a digest challenge;
//! a telephony number pinned to an agent keeps its trunk registered and unpinning it
//! unregisters; `make-call` dials through the trunk, answers its digest challenge, and the
//! agent talks and hangs up; and once numbers are registered, a call to any other number
//! gets `404`.
//!
//! The SIPp scenarios are in `tests/sipp/trunk-*.xml` and `tests/sipp/uac-not-found.xml`:
//! SIPp exits 0 only if every message it expected arrived, in order, with the checks
//! (valid digest credentials, the dialled Request-URI, the unregister) passing.

mod support;

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::media::CallerMedia;
use support::{Running, free_port, serve};

/// The trunk's user name and password, as the SIPp scenarios check them.
const TRUNK_USER: &str = "4670000009";
const TRUNK_SECRET: &str = "trunk-secret";

/// Fixed ears that hear "goodbye": the scripted brain answers and hangs up, so a placed
/// call ends by itself once the callee speaks. The tone mouth keeps it fast.
const CONFIG: &str = r#"
[agent]
greeting = "Hello, this is the agent."

[agent.ears]
engine = "fixed"
text = "goodbye"

[agent.mouth]
engine = "tone"
"#;

fn free_udp_port() -> u16 {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket.local_addr().expect("addr").port()
}

fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sipp")
        .join(name)
}

/// A SIPp process and its working directory (with `pcap/` linked in and its logs).
struct Sipp {
    child: Option<Child>,
    dir: tempfile::TempDir,
    port: u16,
}

impl Sipp {
    /// SIPp as a server (the trunk) running `scenario` once.
    fn trunk(scenario_file: &str) -> Self {
        Self::trunk_with(scenario_file, &[])
    }

    /// [`trunk`](Self::trunk) with more SIPp arguments.
    fn trunk_with(scenario_file: &str, extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::os::unix::fs::symlink("/usr/share/sip-tester", dir.path().join("pcap"))
            .expect("pcap link");
        let port = free_udp_port();
        let child = Command::new("sipp")
            .current_dir(dir.path())
            .arg("-sf")
            .arg(scenario(scenario_file))
            .args(["-i", "127.0.0.1", "-p", &port.to_string()])
            .args(["-mp", &free_udp_port().to_string()])
            .args(["-m", "1", "-timeout", "60s", "-timeout_error"])
            .args(["-nostdin", "-trace_err", "-trace_msg"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("sipp (run scripts/setup: Debian package sip-tester)");
        // SIPp binds before it reads the scenario's first message; give it a moment.
        std::thread::sleep(Duration::from_millis(300));
        Self {
            child: Some(child),
            dir,
            port,
        }
    }

    /// Waits for SIPp to finish; its output and logs.
    fn finish(&mut self, within: Duration) -> (Option<i32>, String) {
        let mut child = self.child.take().expect("running");
        let deadline = Instant::now() + within;
        loop {
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let out: Output = child.wait_with_output().expect("sipp output");
        (out.status.code(), logs(&out, self.dir.path()))
    }
}

impl Drop for Sipp {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn logs(out: &Output, dir: &Path) -> String {
    let mut text = format!(
        "stdout:\n{}\nstderr:\n{}\n",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.path().extension().is_some_and(|e| e == "log") {
            text.push_str(&format!("--- {}\n", entry.path().display()));
            text.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
        }
    }
    text
}

/// `voxgate serve` (first start), with SIP on a free port, and an API client.
struct Rig {
    running: Running,
    sip_port: u16,
    base: String,
    key: String,
    http: reqwest::Client,
    runtime: tokio::runtime::Runtime,
    _data: tempfile::TempDir,
}

impl Rig {
    fn start() -> Self {
        let data = tempfile::tempdir().expect("temp dir");
        let config = data.path().join("voxgate.toml");
        std::fs::write(&config, CONFIG).expect("config");
        let sip_port = free_udp_port();
        let rtp = 31000 + (sip_port % 500) * 20;
        let port = free_port();
        let running = serve(
            &config,
            data.path(),
            port,
            &[
                ("VOXGATE_SIP_LISTEN", format!("127.0.0.1:{sip_port}")),
                ("VOXGATE_SIP_RTP_PORTS", format!("{rtp}-{}", rtp + 19)),
            ],
            true,
        );
        let key = running.key.clone().expect("admin key");
        Self {
            running,
            sip_port,
            base: format!("http://127.0.0.1:{port}"),
            key,
            http: reqwest::Client::new(),
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime"),
            _data: data,
        }
    }

    fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .header("x-account-id", "default")
            .timeout(Duration::from_secs(30));
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.runtime.block_on(async move {
            let response = request.send().await.expect("request");
            let status = response.status().as_u16();
            (status, response.json().await.unwrap_or(Value::Null))
        })
    }

    fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, Some(body))
    }

    /// A SIP trunk provider at `registrar` with `password`; its id.
    fn trunk(&self, registrar: &str, password: &str) -> String {
        let (status, provider) = self.post(
            "/api/v1/telephony/providers",
            json!({"provider": "sip", "label": "trunk", "credentials":
                   {"username": TRUNK_USER, "password": password, "registrar": registrar}}),
        );
        assert_eq!(status, 201, "{provider}");
        assert!(
            !provider.to_string().contains(password),
            "the password is never returned: {provider}"
        );
        provider["id"].as_str().expect("id").to_owned()
    }

    /// Phone element `main` with number +46700000009 on trunk `provider`.
    fn element(&self, provider: &str) {
        let (status, body) = self.post(
            "/api/default/ops/create",
            json!({"element_type": "phone-number", "slug": "main",
                   "spec": {"phone_number": "+46700000009", "sip_credential_ref": provider,
                            "capabilities": {"voice": true}}}),
        );
        assert!(status == 200 || status == 201, "{status} {body}");
    }

    fn default_agent(&self) -> String {
        let (status, agents) = self.call(reqwest::Method::GET, "/api/v1/agents", None);
        assert_eq!(status, 200, "{agents}");
        let list = agents
            .get("items")
            .or(Some(&agents))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        list.first()
            .and_then(|a| a["id"].as_str())
            .expect("the seed agent")
            .to_owned()
    }
}

#[test]
fn sip_register_test_answers_the_digest_challenge_and_unregisters() {
    let rig = Rig::start();
    let mut sipp = Sipp::trunk("trunk-registrar.xml");
    // The stored password is wrong; the documented `sip_pass` override is tried instead
    // (first-run testing), and nothing is saved.
    let provider = rig.trunk(&format!("sip:127.0.0.1:{}", sipp.port), "not-the-secret");
    rig.element(&provider);
    let (status, report) = rig.post(
        "/api/default/main/ops/sip-register-test",
        json!({"sip_pass": TRUNK_SECRET}),
    );
    let (code, log) = sipp.finish(Duration::from_secs(20));
    assert_eq!(status, 200, "{report}\n{log}\n{}", rig.running.output());
    assert_eq!(
        (&report["success"], &report["status"], &report["error"]),
        (&json!(true), &json!(200), &Value::Null),
        "{report}"
    );
    assert_eq!(report["expires"], 120, "the registrar's grant: {report}");
    assert_eq!(code, Some(0), "SIPp registrar:\n{log}");
}

#[test]
fn a_wrong_trunk_password_is_a_clear_auth_error() {
    let rig = Rig::start();
    let mut sipp = Sipp::trunk("trunk-registrar.xml");
    let provider = rig.trunk(&format!("sip:127.0.0.1:{}", sipp.port), "not-the-secret");
    rig.element(&provider);
    let (status, body) = rig.post("/api/default/main/ops/sip-register-test", json!({}));
    let (_, log) = sipp.finish(Duration::from_secs(10));
    // A refusal is the test's result, not an error answer.
    assert_eq!(status, 200, "{body}\n{log}");
    assert_eq!(
        (&body["success"], &body["status"], &body["error_code"]),
        (&json!(false), &json!(403), &json!("PHONE_SIP_AUTH_FAILED")),
        "{body}"
    );
    assert!(body["error"].is_string(), "{body}");
    assert!(
        log.contains("403 Forbidden"),
        "the registrar refused: {log}"
    );

    // Without a trunk, and with a registrar nobody can reach: typed errors, nothing sent.
    let (status, body) = rig.post(
        "/api/default/ops/create",
        json!({"element_type": "phone-number", "slug": "bare",
               "spec": {"phone_number": "+46700000010", "capabilities": {"voice": true}}}),
    );
    assert!(status == 200 || status == 201, "{body}");
    let (status, body) = rig.post("/api/default/bare/ops/sip-register-test", json!({}));
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "PHONE_SIP_NOT_CONFIGURED", "{body}");
    let (status, body) = rig.post(
        "/api/v1/telephony/providers",
        json!({"kind": "sip", "username": "u", "password": "p", "registrar": "voip.example.com"}),
    );
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "PROVIDER_INVALID", "{body}");
}

#[test]
fn a_pinned_number_keeps_its_trunk_registered_until_unpinned() {
    let rig = Rig::start();
    let mut sipp = Sipp::trunk("trunk-registrar.xml");
    let provider = rig.trunk(&format!("sip:127.0.0.1:{}", sipp.port), TRUNK_SECRET);
    let agent = rig.default_agent();
    let (status, number) = rig.post(
        "/api/v1/telephony/numbers",
        json!({"e164": "+46700000009", "credentials_id": provider, "agent_id": agent}),
    );
    assert_eq!(status, 201, "{number}");
    // Registered (the scenario answers 200 after checking the digest); wait for it in the
    // server's log before unpinning.
    let deadline = Instant::now() + Duration::from_secs(15);
    while !rig.running.output().contains("SIP trunk registered") {
        assert!(
            Instant::now() < deadline,
            "never registered:\n{}",
            rig.running.output()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let id = number["id"].as_str().expect("id");
    let (status, body) = rig.call(
        reqwest::Method::PATCH,
        &format!("/api/v1/telephony/numbers/{id}"),
        Some(json!({"agent_id": null})),
    );
    assert_eq!(status, 204, "{body}");
    let (code, log) = sipp.finish(Duration::from_secs(15));
    assert_eq!(
        code,
        Some(0),
        "registered, then unregistered:\n{log}\n{}",
        rig.running.output()
    );
}

#[test]
fn make_call_dials_through_the_trunk_and_the_agent_talks_and_hangs_up() {
    let rig = Rig::start();
    // The callee says "hello world" (an Asterisk prompt), then keeps the line open with
    // silence, from the test's own RTP socket.
    let media = CallerMedia::saying_prompt("hello-world");
    let rtp_port = media.port.to_string();
    let mut sipp = Sipp::trunk_with("trunk-callee.xml", &["-key", "rtp_port", &rtp_port]);
    let provider = rig.trunk(&format!("sip:127.0.0.1:{}", sipp.port), TRUNK_SECRET);
    rig.element(&provider);
    let (status, placed) = rig.post(
        "/api/default/main/ops/make-call",
        json!({"to": "+46701234567"}),
    );
    assert_eq!(status, 200, "{placed}\n{}", rig.running.output());
    assert_eq!(
        (&placed["state"], &placed["initiated"]),
        (&json!("dialing"), &json!(true)),
        "{placed}"
    );
    let call_id = placed["call_id"].as_str().expect("call_id").to_owned();
    let (code, log) = sipp.finish(Duration::from_secs(60));
    let received = media.finish();
    assert_eq!(
        code,
        Some(0),
        "SIPp callee:\n{log}\n{}",
        rig.running.output()
    );
    assert!(
        received.iter().any(|r| r.loud),
        "the callee heard the agent ({} packets)",
        received.len()
    );
    // The record: answered by the agent, the callee's words heard, ended by the agent.
    let deadline = Instant::now() + Duration::from_secs(15);
    let call = loop {
        let (_, call) = rig.call(
            reqwest::Method::GET,
            &format!("/api/default/main/ops/get-call?call_id={call_id}"),
            None,
        );
        if call["status"] != "dialing" && call["status"] != "active" {
            break call;
        }
        assert!(Instant::now() < deadline, "never finished: {call}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(call["status"], "completed", "{call}");
    assert_eq!(call["direction"], "outbound", "{call}");
    assert_eq!(call["to"], "+46701234567", "{call}");
    let turns = call["turns"].as_array().expect("turns");
    assert!(
        turns.iter().any(|t| t["user"] == "goodbye"),
        "the callee was heard: {call}\n{log}\n{}",
        rig.running.output()
    );

    // agent-dial talks with the number's telephony_agent: this one has none.
    let (status, body) = rig.post(
        "/api/default/main/ops/agent-dial",
        json!({"to": "+46701234567"}),
    );
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "AGENT_REQUIRED", "{body}");
}

#[test]
fn once_numbers_are_registered_other_numbers_get_404() {
    let rig = Rig::start();
    let provider = rig.trunk("sip:127.0.0.1:9", TRUNK_SECRET);
    let (status, number) = rig.post(
        "/api/v1/telephony/numbers",
        json!({"e164": "+46700000009", "credentials_id": provider}),
    );
    assert_eq!(status, 201, "{number}");
    let sipp_dir = tempfile::tempdir().expect("temp dir");
    let run = |args: &[&str]| {
        Command::new("sipp")
            .current_dir(sipp_dir.path())
            .arg(format!("127.0.0.1:{}", rig.sip_port))
            .args(["-i", "127.0.0.1", "-p", &free_udp_port().to_string()])
            .args(["-mp", &free_udp_port().to_string()])
            .args(["-m", "1", "-timeout", "30s", "-timeout_error"])
            .args(["-nostdin", "-trace_err"])
            .args(args)
            .output()
            .expect("sipp")
    };
    let refused = run(&[
        "-sf",
        scenario("uac-not-found.xml").to_str().expect("path"),
        "-s",
        "+46799999999",
    ]);
    assert_eq!(
        refused.status.code(),
        Some(0),
        "404 for an unknown number:\n{}\n{}",
        logs(&refused, sipp_dir.path()),
        rig.running.output()
    );
    // The registered number (dialled as 46elks does, without the +) is answered.
    let answered = run(&["-sn", "uac", "-s", "46700000009"]);
    assert_eq!(
        answered.status.code(),
        Some(0),
        "the registered number is answered:\n{}\n{}",
        logs(&answered, sipp_dir.path()),
        rig.running.output()
    );
}
