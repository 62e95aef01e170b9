//! The phone-number operations in the real binary: `voxgate carrier-sim` serves the 46elks
//! API, and killing `voxgate serve` between storing an SMS and the carrier taking it loses
//! nothing and sends nothing twice. Needs `scripts/setup` (Silero for the call pipeline).

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Server, free_port};
use voxgate_carrier_sim::{SimConfig, Simulator};

const CONFIG: &str = r#"
[agent.ears]
engine = "fixed"
text = "hello"

[agent.mouth]
engine = "tone"
"#;

async fn api(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    key: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = http
        .request(method, url)
        .bearer_auth(key)
        .header("x-account-id", "default");
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The simulator's outgoing SMS with `message`.
fn at_carrier(sim: &voxgate_carrier_sim::SimHandle, message: &str) -> usize {
    sim.state()["sms"]
        .as_array()
        .map(|all| {
            all.iter()
                .filter(|s| s["message"] == message && s["direction"] == "outgoing")
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn a_kill_between_storing_and_sending_an_sms_loses_nothing() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let sim = runtime
        .block_on(Simulator::start(SimConfig::default()))
        .expect("simulator");
    let data = tempfile::tempdir().expect("temp dir");
    let config = data.path().join("voxgate.toml");
    std::fs::write(&config, CONFIG).expect("config");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let env = [("VOXGATE_PUBLIC_URL", base.clone())];
    let running = support::serve(&config, data.path(), port, &env, true);
    let key = running.key.clone().expect("admin key");
    let http = reqwest::Client::new();
    let post = |path: &str, body: Value| {
        api(
            &http,
            reqwest::Method::POST,
            format!("{base}{path}"),
            &key,
            Some(body),
        )
    };

    let (status, provider) = runtime.block_on(post(
        "/api/v1/telephony/providers",
        json!({"kind": "46elks", "username": "sim", "password": "sim-secret"}),
    ));
    assert_eq!(status, 201, "{provider}");
    let spec = json!({"credential_ref": provider["id"], "carrier_api_url": sim.api_url(),
                      "retry_backoff_ms": 500, "max_retries": 0});
    let (status, body) = runtime.block_on(post(
        "/api/default/ops/create",
        json!({"element_type": "phone-number", "slug": "main", "spec": spec}),
    ));
    assert_eq!(status, 201, "{body}");
    let (status, body) = runtime.block_on(post(
        "/api/default/main/ops/provision",
        json!({"country": "SE"}),
    ));
    assert_eq!(status, 200, "{body}");

    // The carrier stalls for 5 s and then fails: voxgate is killed while it waits, with the
    // message stored and nothing at the carrier.
    let fault =
        json!({"path": "/a1/sms", "method": "POST", "status": 503, "delay_ms": 5000, "count": 1});
    let faulted = runtime.block_on(
        http.post(format!("http://{}/sim/faults", sim.addr()))
            .json(&fault)
            .send(),
    );
    assert!(faulted.expect("fault").status().is_success());
    let send = runtime.spawn({
        let (http, base, key) = (http.clone(), base.clone(), key.clone());
        async move {
            http.post(format!("{base}/api/default/main/ops/send-sms"))
                .bearer_auth(key)
                .json(&json!({"to": "+46700000123", "body": "survives a kill"}))
                .send()
                .await
        }
    });
    let list = format!("{base}/api/default/main/ops/list-sms");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, page) =
            runtime.block_on(api(&http, reqwest::Method::GET, list.clone(), &key, None));
        if page["items"][0]["status"] == "pending" {
            break;
        }
        assert!(Instant::now() < deadline, "never stored: {page}");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut running = running;
    running.server.0.kill().expect("kill -9");
    let _ = running.server.0.wait();
    assert!(
        runtime.block_on(send).expect("task").is_err(),
        "the request died with voxgate"
    );
    assert_eq!(at_carrier(&sim, "survives a kill"), 0);

    // Restarted on the same data: the message is found pending, looked for at the carrier,
    // and sent, once.
    std::thread::sleep(Duration::from_secs(5)); // the stalled request has failed by now
    let restarted = support::serve(&config, data.path(), port, &env, false);
    let deadline = Instant::now() + Duration::from_secs(20);
    while at_carrier(&sim, "survives a kill") == 0 {
        assert!(
            Instant::now() < deadline,
            "never sent:\n{}",
            restarted.output()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, page) =
            runtime.block_on(api(&http, reqwest::Method::GET, list.clone(), &key, None));
        if page["items"][0]["status"] == "delivered" {
            assert_eq!(page["items"].as_array().map(Vec::len), Some(1), "{page}");
            break;
        }
        assert!(Instant::now() < deadline, "never delivered: {page}");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(at_carrier(&sim, "survives a kill"), 1, "sent exactly once");
    let metrics = runtime
        .block_on(async {
            http.get(format!("{base}/metrics"))
                .send()
                .await?
                .text()
                .await
        })
        .expect("metrics");
    assert!(metrics.contains("phone_sms_sent_count 1"), "{metrics}");
    drop(restarted);
    runtime.block_on(sim.shutdown());
}

#[test]
fn an_agent_call_is_answered_talks_and_leaves_a_finished_record() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let sim = runtime
        .block_on(Simulator::start(SimConfig::default()))
        .expect("simulator");
    let data = tempfile::tempdir().expect("temp dir");
    let config = data.path().join("voxgate.toml");
    std::fs::write(&config, CONFIG).expect("config");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let env = [("VOXGATE_PUBLIC_URL", base.clone())];
    let mut running = support::serve(&config, data.path(), port, &env, true);
    let key = running.key.take().expect("admin key");
    let http = reqwest::Client::new();
    let post = |path: &str, body: Value| {
        api(
            &http,
            reqwest::Method::POST,
            format!("{base}{path}"),
            &key,
            Some(body),
        )
    };
    let get = |path: &str| {
        api(
            &http,
            reqwest::Method::GET,
            format!("{base}{path}"),
            &key,
            None,
        )
    };
    let (_, provider) = runtime.block_on(post(
        "/api/v1/telephony/providers",
        json!({"kind": "46elks", "username": "sim", "password": "sim-secret"}),
    ));
    let spec = json!({"credential_ref": provider["id"], "carrier_api_url": sim.api_url()});
    runtime.block_on(post(
        "/api/default/ops/create",
        json!({"element_type": "phone-number", "slug": "main", "spec": spec}),
    ));
    let (status, body) = runtime.block_on(post(
        "/api/default/main/ops/provision",
        json!({"country": "SE"}),
    ));
    assert_eq!(status, 200, "{body}");
    // The callee picks up after 3 s (time to see the record dialing, even on a loaded
    // machine) and says "Hello world." once.
    let callee = json!({"number": "+46700000123", "behaviour": "answer", "after_ms": 3000, "script": ["hello-world"]});
    let set = runtime.block_on(
        http.post(format!("http://{}/sim/callees", sim.addr()))
            .json(&callee)
            .send(),
    );
    assert!(set.expect("callee").status().is_success());

    let (status, placed) = runtime.block_on(post(
        "/api/default/main/ops/agent-call",
        json!({"to": "+46700000123"}),
    ));
    assert_eq!(status, 200, "{placed}");
    let id = placed["call_id"].as_str().expect("call_id").to_owned();
    let path = format!("/api/default/main/ops/get-call?call_id={id}");
    let (_, before) = runtime.block_on(get(&path));
    assert_eq!(
        before["state"], "dialing",
        "recorded before the callee answers: {before}"
    );
    assert_eq!(before["carrier_call_id"], placed["carrier_call_id"]);

    let deadline = Instant::now() + Duration::from_secs(60);
    let finished = loop {
        let (_, call) = runtime.block_on(get(&path));
        if call["state"] != "dialing" && call["state"] != "active" {
            break call;
        }
        assert!(
            Instant::now() < deadline,
            "never finished: {call}\n{}",
            running.output()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(finished["state"], "completed", "{finished}");
    assert_eq!(finished["direction"], "outbound");
    assert_eq!(finished["to"], "+46700000123");
    let turns = finished["turns"].as_array().expect("turns");
    assert!(!turns.is_empty(), "{finished}");
    assert_eq!(turns[0]["user"], "hello", "{finished}");
    // The carrier ran the connect action to voxgate's WebSocket and reported the hang-up.
    let carrier_id = placed["carrier_call_id"].as_str().expect("carrier id");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let state = sim.state();
        let hooked = state["webhooks"].as_array().is_some_and(|w| {
            w.iter().any(|h| {
                h["kind"] == "whenhangup" && h["form"]["id"] == carrier_id && h["status"] == 204
            })
        });
        if hooked {
            let call = state["calls"]
                .as_array()
                .and_then(|c| c.iter().find(|c| c["id"] == carrier_id).cloned());
            let call = call.expect("the carrier's call");
            assert_eq!(call["state"], "success", "{call}");
            assert!(
                call["realtime"]["agent_samples"].as_u64().unwrap_or(0) > 0,
                "the agent spoke: {call}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no hang-up webhook: {}",
            state["webhooks"]
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(running);
    runtime.block_on(sim.shutdown());
}

#[test]
fn carrier_sim_subcommand_serves_the_46elks_api() {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_voxgate"))
        .args([
            "carrier-sim",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--account",
            "acme:s3cret",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let _server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "never listened");
        std::thread::sleep(Duration::from_millis(50));
    }
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let http = reqwest::Client::new();
    let me = |user: &'static str, password: &'static str| {
        let http = http.clone();
        async move {
            http.get(format!("http://127.0.0.1:{port}/a1/me"))
                .basic_auth(user, Some(password))
                .send()
                .await
                .expect("me")
        }
    };
    let good = runtime.block_on(me("acme", "s3cret"));
    assert_eq!(good.status().as_u16(), 200);
    let account: Value = runtime.block_on(good.json()).expect("json");
    assert_eq!(
        (account["currency"].as_str(), account["balance"].as_i64()),
        (Some("SEK"), Some(10_000_000))
    );
    let bad = runtime.block_on(me("acme", "wrong"));
    assert_eq!(bad.status().as_u16(), 401);
}
