//! The email element's listener as the binary runs it: `voxgate serve` takes mail on
//! `email.smtp_listen` for the addresses of enabled email elements. Mail sent with `swaks`
//! (a real SMTP client, Debian's `swaks`) lands on the element (`list-messages`, the audit
//! log), strangers get `550 5.1.1`, and malformed mail never stops the listener.

mod support;

use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use support::{Running, free_port, serve};

const CONFIG: &str = r#"
[agent.ears]
engine = "fixed"
text = "hello"

[agent.mouth]
engine = "tone"
"#;

struct Rig {
    _running: Running,
    smtp_port: u16,
    base: String,
    key: String,
    http: reqwest::Client,
    runtime: tokio::runtime::Runtime,
    data: tempfile::TempDir,
}

impl Rig {
    fn start() -> Self {
        let data = tempfile::tempdir().expect("temp dir");
        let config = data.path().join("voxgate.toml");
        std::fs::write(&config, CONFIG).expect("config");
        let port = free_port();
        let smtp_port = free_port();
        let running = serve(
            &config,
            data.path(),
            port,
            &[(
                "VOXGATE_EMAIL_SMTP_LISTEN",
                format!("127.0.0.1:{smtp_port}"),
            )],
            true,
        );
        let key = running.key.clone().expect("admin key");
        Self {
            _running: running,
            smtp_port,
            base: format!("http://127.0.0.1:{port}"),
            key,
            http: reqwest::Client::new(),
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime"),
            data,
        }
    }

    fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.key)
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

    /// `swaks` to the listener; its exit status and transcript.
    fn swaks(&self, to: &str, args: &[&str]) -> (bool, String) {
        let out = Command::new("swaks")
            .args([
                "--server",
                "127.0.0.1",
                "--port",
                &self.smtp_port.to_string(),
            ])
            .args(["--from", "caller@x.test", "--to", to, "--helo", "mx.x.test"])
            .args(args)
            .output()
            .expect("swaks (scripts/setup installs it)");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }
}

#[test]
fn mail_sent_to_the_listener_lands_on_its_element() {
    let rig = Rig::start();
    let (status, body) = rig.call(
        reqwest::Method::POST,
        "/api/default/ops/create",
        Some(json!({"element_type": "email", "slug": "desk",
                    "spec": {"address": "desk@voxgate.test", "accepted_domains": ["support.voxgate.test"]}})),
    );
    assert_eq!(status, 201, "{body}");

    let (sent, transcript) = rig.swaks(
        "desk@voxgate.test",
        &[
            "--header",
            "Subject: Call me back",
            "--header",
            "Message-ID: <m-1@x.test>",
            "--body",
            "Please call me after 5.",
        ],
    );
    assert!(sent, "{transcript}");
    let (sent, transcript) = rig.swaks(
        "anyone@support.voxgate.test",
        &["--header", "Subject: Via domain"],
    );
    assert!(sent, "{transcript}");
    let (sent, transcript) = rig.swaks("nobody@elsewhere.test", &[]);
    assert!(!sent && transcript.contains("550 5.1.1"), "{transcript}");

    // Broken MIME is stored with its problem; the listener keeps serving.
    let broken = "Content-Type: multipart/mixed; boundary=\"never\"\r\nSubject: Broken\r\n\r\nno parts here\r\n";
    let (sent, transcript) = rig.swaks("desk@voxgate.test", &["--data", broken]);
    assert!(sent, "{transcript}");

    // A 300 KiB header section is refused (554) and stored nowhere; bad encodings are
    // stored with their problems; the listener serves on after each.
    let huge = rig.data.path().join("huge.eml");
    let filler = "X".repeat(990);
    let mut text = String::from("Subject: Huge\r\n");
    for i in 0..310 {
        text.push_str(&format!("X-Filler-{i}: {filler}\r\n"));
    }
    text.push_str("\r\nbody");
    std::fs::write(&huge, text).expect("huge");
    let (sent, transcript) = rig.swaks(
        "desk@voxgate.test",
        &["--data", &format!("@{}", huge.display())],
    );
    assert!(
        !sent && transcript.contains("554 5.6.0") && transcript.contains("header"),
        "{transcript}"
    );
    let garbled = "Subject: =?x-unknown-charset?B?!!!?=\r\nContent-Type: text/plain; charset=x-nonsense\r\n\
                   Content-Transfer-Encoding: base64\r\n\r\n%%% not base64 %%%\r\n";
    let (sent, transcript) = rig.swaks("desk@voxgate.test", &["--data", garbled]);
    assert!(sent, "{transcript}");

    let (status, page) = rig.call(
        reqwest::Method::GET,
        "/api/default/desk/ops/list-messages?direction=inbound",
        None,
    );
    assert_eq!(status, 200, "{page}");
    let messages = page["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 4, "{page}");
    let first = messages
        .iter()
        .find(|m| m["subject"] == "Call me back")
        .expect("first mail");
    assert_eq!(first["rfc_message_id"], "m-1@x.test");
    assert_eq!(first["from"], "caller@x.test");
    assert!(
        first["text"]
            .as_str()
            .is_some_and(|t| t.contains("call me after 5")),
        "{first}"
    );
    let broken = messages
        .iter()
        .find(|m| m["subject"] == "Broken")
        .expect("broken mail");
    assert_eq!(broken["error_code"], "EMAIL_MALFORMED", "{broken}");
    let garbled = messages
        .iter()
        .find(|m| {
            m["error"]
                .as_str()
                .is_some_and(|e| e.contains("x-nonsense"))
        })
        .expect("the mail with bad encodings");
    assert_eq!(garbled["error_code"], "EMAIL_MALFORMED", "{garbled}");
    let (_, events) = rig.call(
        reqwest::Method::GET,
        "/api/default/desk/ops/list-events?kind=received",
        None,
    );
    assert_eq!(
        events["events"].as_array().map(Vec::len),
        Some(4),
        "{events}"
    );
}
