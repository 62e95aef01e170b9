//! Phone-number operations against the 46elks carrier simulator, over real sockets: the
//! control API serves on loopback (the simulator posts its webhooks there) and the
//! simulator speaks the documented REST API.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use voxgate_carrier_sim::{SimConfig, SimHandle, Simulator};
use voxgate_control_api::auth::Role;
use voxgate_control_api::bootstrap::create_key;
use voxgate_control_api::carrier::Credentials;
use voxgate_control_api::element::ElementType;
use voxgate_control_api::email::EmailSettings;
use voxgate_control_api::ids::{Clock, ManualClock, SystemClock, new_id, now_ms};
use voxgate_control_api::phone::message::{MessageVoice, SpokenAudio};
use voxgate_control_api::phone::{PhoneSettings, SandboxCarrier, SandboxSettings};
use voxgate_control_api::secrets::{Sealer, Secret};
use voxgate_control_api::store::SmsRecord;
use voxgate_control_api::{AppState, router};

use support::TestDb;

/// voxgate's control API and the simulator, wired to each other.
struct Rig {
    sim: SimHandle,
    base: String,
    http: reqwest::Client,
    state: AppState,
    admin: String,
    _db: TestDb,
}

struct Reply {
    status: StatusCode,
    body: Value,
}

impl Reply {
    fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

impl Rig {
    async fn new(db: TestDb, sandbox_pool: &[&str], cap: i64) -> Self {
        Self::with_clock(db, sandbox_pool, cap, Arc::new(SystemClock)).await
    }

    /// A rig whose control API reads the time from `clock`.
    async fn with_clock(
        db: TestDb,
        sandbox_pool: &[&str],
        cap: i64,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let sim = Simulator::start(SimConfig::default())
            .await
            .expect("simulator");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let phone = PhoneSettings {
            public_url: base.clone(),
            voice_ws_url: Some(format!("ws://{}/ws?token=bridge", &base[7..])),
            sandbox: SandboxSettings {
                pool: sandbox_pool.iter().map(|n| (*n).to_owned()).collect(),
                sms_daily_cap: cap,
                carrier: Some(SandboxCarrier {
                    api_url: sim.api_url(),
                    credentials: Credentials {
                        username: "sim".to_owned(),
                        password: Secret::new("sim-secret".to_owned()),
                    },
                }),
            },
            ..PhoneSettings::default()
        };
        let state = AppState::with_clock(
            db.store(),
            Some(Sealer::new(&[7; 32])),
            phone,
            EmailSettings::default(),
            clock,
        );
        let admin = create_key(&*db.store(), "a", Role::Admin)
            .await
            .expect("key");
        let app = router(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            sim,
            base,
            http: reqwest::Client::new(),
            state,
            admin,
            _db: db,
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Reply {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.admin)
            .header("x-account-id", "a");
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let text = response.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: {text}"))
        };
        Reply { status, body }
    }

    async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> Reply {
        self.call(reqwest::Method::GET, path, None).await
    }

    /// A provider with the simulator's account, and a phone-number element using it.
    async fn element(&self, slug: &str, spec: Value) -> String {
        let provider = self
            .post(
                "/api/v1/telephony/providers",
                json!({"kind": "46elks", "name": "sim", "username": "sim", "password": "sim-secret"}),
            )
            .await;
        assert_eq!(provider.status, StatusCode::CREATED, "{:?}", provider.body);
        let mut spec = spec;
        // Voice is off by default (the document's default); the rig's numbers take calls.
        if spec.get("capabilities").is_none() {
            spec["capabilities"] = json!({"sms": true, "voice": true});
        }
        spec["credential_ref"] = provider.body["id"].clone();
        spec["carrier_api_url"] = json!(self.sim.api_url());
        spec["retry_backoff_ms"] = json!(500);
        let created = self
            .post(
                "/api/a/ops/create",
                json!({"element_type": "phone-number", "slug": slug, "spec": spec}),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
        slug.to_owned()
    }

    /// A provisioned element: a rented number with webhooks configured.
    async fn provisioned(&self, slug: &str) -> String {
        self.element(slug, json!({})).await;
        let p = self
            .post(
                &format!("/api/a/{slug}/ops/provision"),
                json!({"country": "SE"}),
            )
            .await;
        assert_eq!(p.status, StatusCode::OK, "{:?}", p.body);
        assert_eq!(p.body["provisioned"], true, "{:?}", p.body);
        p.body["phone_number"]
            .as_str()
            .expect("phone_number")
            .to_owned()
    }

    async fn sim(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let response = self
            .http
            .request(method, format!("http://{}{path}", self.sim.addr()))
            .json(&body)
            .send()
            .await
            .expect("sim control");
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap_or(Value::Null)
    }

    /// The simulator's outgoing SMS with `message`.
    fn sim_sms_with(&self, message: &str) -> Vec<Value> {
        self.sim.state()["sms"]
            .as_array()
            .expect("sms")
            .iter()
            .filter(|s| s["message"] == message && s["direction"] == "outgoing")
            .cloned()
            .collect()
    }
}

/// Polls `check` until it holds, for up to 10 s.
async fn eventually<F: std::future::Future<Output = bool>>(
    what: &str,
    mut check: impl FnMut() -> F,
) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn sms_is_sent_once_and_its_delivery_report_lands() {
    let rig = Rig::new(support::sqlite().await, &[], 10).await;
    let number = rig.provisioned("main").await;
    let sent = rig
        .post(
            "/api/a/main/ops/send-sms",
            json!({"to": "+46700000123", "body": "Hej! Your table is booked for 19:00 €"}),
        )
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{:?}", sent.body);
    assert_eq!(sent.body["sent"], true);
    assert_eq!(sent.body["segments"], 1);
    assert_eq!(sent.body["encoding"], "gsm7");
    assert_eq!(sent.body["cost"], 5000);
    let id = sent.body["message_id"].as_str().expect("id").to_owned();

    let at_carrier = rig.sim_sms_with("Hej! Your table is booked for 19:00 €");
    assert_eq!(at_carrier.len(), 1, "{at_carrier:?}");
    assert_eq!(at_carrier[0]["from"], number.as_str());
    let hook = at_carrier[0]["whendelivered"]
        .as_str()
        .expect("whendelivered");
    assert!(
        hook.contains("/api/webhooks/46elks/dlr?sms=") && hook.contains("&tag="),
        "{hook}"
    );

    let path = format!("/api/a/main/ops/get-sms?message_id={id}");
    eventually("the delivery report", || async {
        rig.get(&path).await.body["status"] == "delivered"
    })
    .await;
    let got = rig.get(&path).await.body;
    assert!(got["delivered_at"].as_str().is_some(), "{got}");
    assert_eq!(got["to"], "+46700000123");
    // get-sms: the document's fields.
    assert_eq!(
        (
            got["id"].as_str(),
            got["from"].as_str(),
            got["body"].as_str(),
            got["direction"].as_str(),
            got["segments"].as_i64(),
            got["cost"].as_i64(),
        ),
        (
            Some(id.as_str()),
            Some(number.as_str()),
            Some("Hej! Your table is booked for 19:00 €"),
            Some("outgoing"),
            Some(1),
            Some(5000)
        ),
        "{got}"
    );
    assert!(got["created_at"].is_string(), "{got}");

    // A long UCS-2 text: 3 parts of 67.
    let long = "Привет ".repeat(25);
    let sent = rig
        .post(
            "/api/a/main/ops/send-sms",
            json!({"to": "+46700000123", "body": long}),
        )
        .await;
    assert_eq!(
        (
            sent.body["segments"].as_i64(),
            sent.body["encoding"].as_str()
        ),
        (Some(3), Some("ucs2"))
    );
    assert_eq!(rig.sim_sms_with(&long)[0]["parts"], 3);

    let listed = rig.get("/api/a/main/ops/list-sms?direction=outgoing").await;
    assert_eq!(
        listed.body["messages"].as_array().map(Vec::len),
        Some(2),
        "{:?}",
        listed.body
    );
    // Events are counted just after the store is written: wait for the counter too.
    eventually("the delivered counter", || async {
        metrics(&rig).contains("phone_sms_delivered_count 1")
    })
    .await;
    assert!(
        metrics(&rig).contains("phone_sms_sent_count 2"),
        "{}",
        metrics(&rig)
    );
}

fn metrics(rig: &Rig) -> String {
    let mut text = String::new();
    rig.state.events().render(&mut text);
    text
}

#[tokio::test]
async fn list_sms_pages_with_tokens_newest_first() {
    let rig = Rig::new(support::sqlite().await, &[], 10).await;
    rig.provisioned("main").await;
    let mut sent = Vec::new();
    for i in 0..7 {
        let r = rig
            .post(
                "/api/a/main/ops/send-sms",
                json!({"to": "+46700000123", "body": format!("n{i}")}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
        sent.push(r.body["message_id"].clone());
    }
    let mut seen = Vec::new();
    let mut path = "/api/a/main/ops/list-sms?limit=3&direction=all".to_owned();
    loop {
        let page = rig.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        assert_eq!(page.body["total"], 7, "every page counts them all");
        for item in page.body["messages"].as_array().expect("messages") {
            // Metadata only: the body is get-sms's.
            assert_eq!(item["body"], Value::Null, "{item}");
            assert!(item["date"].is_string(), "{item}");
            seen.push(item["id"].clone());
        }
        match page.body["next_page_token"].as_str() {
            Some(token) => path = format!("/api/a/main/ops/list-sms?limit=3&page_token={token}"),
            None => break,
        }
    }
    sent.reverse();
    assert_eq!(seen, sent, "newest first, each once");
    let incoming = rig.get("/api/a/main/ops/list-sms?direction=incoming").await;
    assert_eq!(
        (&incoming.body["total"], &incoming.body["messages"]),
        (&json!(0), &json!([]))
    );
    for (query, code) in [
        ("limit=0", "INVALID_QUERY"),
        ("limit=101", "INVALID_QUERY"),
        ("direction=sideways", "INVALID_QUERY"),
        ("page_token=garbage", "INVALID_PAGE_TOKEN"),
    ] {
        let r = rig.get(&format!("/api/a/main/ops/list-sms?{query}")).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, code),
            "{query}"
        );
    }
}

#[tokio::test]
async fn provision_configure_test_and_release() {
    let rig = Rig::new(support::sqlite().await, &[], 10).await;
    let number = rig.provisioned("main").await;
    let at_carrier = rig.sim.state()["numbers"]
        .as_array()
        .expect("numbers")
        .iter()
        .find(|n| n["number"] == number.as_str())
        .cloned()
        .expect("allocated at the carrier");
    let sms_url = at_carrier["sms_url"].as_str().expect("sms_url");
    assert!(
        sms_url.starts_with(&format!("{}/api/webhooks/46elks/sms?token=", rig.base)),
        "{sms_url}"
    );
    assert!(
        at_carrier["voice_start"]
            .as_str()
            .expect("voice_start")
            .contains("/voice/start?token=")
    );

    // The spec shows the number and where the carrier calls, never the token.
    let element = rig.get("/api/a/main/ops/get").await.body;
    assert_eq!(element["spec"]["phone_number"], number.as_str());
    assert!(!element.to_string().contains("token="), "{element}");
    // Calls to the number route to the circle.
    let routed = rig
        .state
        .store()
        .number_by_e164(&number)
        .await
        .expect("store");
    assert!(routed.is_some());

    let tested = rig.get("/api/a/main/ops/test-connection").await;
    assert_eq!(tested.status, StatusCode::OK, "{:?}", tested.body);
    assert_eq!(tested.body["connected"], true, "{:?}", tested.body);
    assert_eq!(tested.body["authenticated"], true);
    assert_eq!(tested.body["currency"], "SEK");
    assert!(tested.body["account_balance"].is_number());
    assert_eq!(tested.body["number_status"], "active");
    assert_eq!(tested.body["error"], Value::Null);

    // Reconfiguring rotates the token: the old URL stops working.
    let old_token = sms_url.split("token=").nth(1).expect("token").to_owned();
    let r = rig.post("/api/a/main/ops/configure", json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["configured"], true, "{:?}", r.body);
    let hook = rig
        .http
        .post(format!(
            "{}/api/webhooks/46elks/sms?token={old_token}",
            rig.base
        ))
        .body(format!(
            "id=s1&from=%2B46700000009&to={}&message=hi",
            number.replace('+', "%2B")
        ))
        .send()
        .await
        .expect("hook");
    assert_eq!(hook.status(), StatusCode::UNAUTHORIZED);

    let again = rig
        .post("/api/a/main/ops/provision", json!({"country": "SE"}))
        .await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "PHONE_ALREADY_PROVISIONED")
    );

    let refused = rig
        .call(reqwest::Method::DELETE, "/api/a/main/ops/delete", None)
        .await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::CONFLICT, "PHONE_NUMBER_PROVISIONED"),
        "a rented number is released before its element is deleted"
    );
    let released = rig.post("/api/a/main/ops/release", json!({})).await;
    assert_eq!(released.status, StatusCode::OK, "{:?}", released.body);
    let gone = rig.sim.state()["numbers"]
        .as_array()
        .expect("numbers")
        .iter()
        .find(|n| n["number"] == number.as_str())
        .cloned()
        .expect("still listed");
    assert_eq!(gone["active"], "no");
    assert_eq!(
        rig.get("/api/a/main/ops/get").await.body["spec"]["phone_number"],
        Value::Null
    );
    assert!(
        rig.state
            .store()
            .number_by_e164(&number)
            .await
            .expect("store")
            .is_none()
    );
    let twice = rig.post("/api/a/main/ops/release", json!({})).await;
    assert_eq!(twice.code(), "PHONE_NUMBER_NOT_PROVISIONED");
    let versions = rig.get("/api/a/main/ops/version?history=true").await.body;
    assert!(
        // Created, provisioned, released.
        versions["history"].as_array().expect("history").len() >= 3,
        "{versions}"
    );
}

#[tokio::test]
async fn inbound_sms_is_stored_once_and_joins_the_thread() {
    let rig = Rig::new(support::sqlite().await, &[], 10).await;
    let agent = rig
        .post(
            "/api/v1/agents",
            json!({"name": "Ada", "system_prompt": "Be brief."}),
        )
        .await;
    assert_eq!(agent.status, StatusCode::CREATED, "{:?}", agent.body);
    let number = rig.provisioned("main").await;
    // The number's own sms_url gets every inbound SMS as the carrier sent it.
    let (sms_hook, forwarded) = ivr_flow(json!({})).await;
    let configured = rig
        .post("/api/a/main/ops/configure", json!({"sms_url": sms_hook}))
        .await;
    assert_eq!(configured.body["configured"], true, "{:?}", configured.body);
    rig.sim(
        reqwest::Method::POST,
        "/sim/sms",
        json!({"from": "+46700000777", "to": number, "message": "Are you open on Sunday?"}),
    )
    .await;
    eventually("the SMS passed on to sms_url", || async {
        forwarded
            .lock()
            .expect("lock")
            .iter()
            .any(|form| form.contains("Sunday"))
    })
    .await;
    eventually("the inbound SMS", || async {
        let list = rig.get("/api/a/main/ops/list-sms?direction=incoming").await;
        list.body["messages"]
            .as_array()
            .is_some_and(|i| i.len() == 1)
    })
    .await;
    let listed = rig
        .get("/api/a/main/ops/list-sms?direction=incoming")
        .await
        .body["messages"][0]
        .clone();
    let item = rig
        .get(&format!(
            "/api/a/main/ops/get-sms?message_id={}",
            listed["id"].as_str().expect("id")
        ))
        .await
        .body;
    assert_eq!(
        (item["from"].as_str(), item["body"].as_str()),
        (Some("+46700000777"), Some("Are you open on Sunday?"))
    );

    // The carrier delivers the same webhook again (it retries): stored once. The
    // simulator logs a webhook once it has the answer, which may be after the SMS is
    // listed here.
    let sms_hook = |state: &Value| {
        state["webhooks"].as_array().is_some_and(|w| {
            w.iter()
                .any(|h| h["url"].as_str().is_some_and(|u| u.contains("/sms?token=")))
        })
    };
    eventually("the simulator's log of the webhook", || async {
        sms_hook(&rig.sim.state())
    })
    .await;
    let webhook = rig.sim.state()["webhooks"]
        .as_array()
        .expect("webhooks")
        .iter()
        .find(|w| w["url"].as_str().is_some_and(|u| u.contains("/sms?token=")))
        .cloned()
        .expect("the sms webhook");
    let form: Vec<(String, String)> = webhook["form"]
        .as_object()
        .expect("form")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect();
    let again = rig
        .http
        .post(webhook["url"].as_str().expect("url"))
        .form(&form)
        .send()
        .await
        .expect("again");
    assert_eq!(again.status(), StatusCode::NO_CONTENT);
    let list = rig.get("/api/a/main/ops/list-sms?direction=incoming").await;
    assert_eq!(list.body["messages"].as_array().map(Vec::len), Some(1));

    let circle = rig
        .state
        .store()
        .circle("a")
        .await
        .expect("store")
        .expect("circle");
    let threads = rig
        .state
        .store()
        .threads_by_contact(&circle.id, "+46700000777")
        .await
        .expect("threads");
    assert_eq!(threads.len(), 1);
    let messages = rig
        .state
        .store()
        .recent_messages(&threads[0].id, 20)
        .await
        .expect("messages");
    assert_eq!(messages.len(), 1);
    assert_eq!(
        (messages[0].channel.as_str(), messages[0].content.as_str()),
        ("sms", "Are you open on Sunday?")
    );
}

#[tokio::test]
async fn webhooks_refuse_bad_tokens_and_garbage_and_change_nothing() {
    let rig = Rig::new(support::sqlite().await, &[], 10).await;
    let number = rig.provisioned("main").await;
    let sms_url = rig.sim.state()["numbers"]
        .as_array()
        .expect("numbers")
        .iter()
        .find(|n| n["number"] == number.as_str())
        .and_then(|n| n["sms_url"].as_str().map(str::to_owned))
        .expect("sms_url");
    let post = |url: String, body: &'static [u8]| {
        let http = rig.http.clone();
        async move { http.post(url).body(body).send().await.expect("post") }
    };
    let base = format!("{}/api/webhooks/46elks", rig.base);
    let table: Vec<(String, &[u8], StatusCode, &str)> = vec![
        (
            format!("{base}/sms"),
            b"id=s1&from=a&to=%2B46700000001",
            StatusCode::UNAUTHORIZED,
            "WEBHOOK_TOKEN_INVALID",
        ),
        (
            format!("{base}/sms?token=nope"),
            b"id=s1",
            StatusCode::UNAUTHORIZED,
            "WEBHOOK_TOKEN_INVALID",
        ),
        (
            sms_url.clone(),
            b"\xff\xfe",
            StatusCode::BAD_REQUEST,
            "WEBHOOK_INVALID",
        ),
        (
            sms_url.clone(),
            b"id=s1&from=%2B46700000009&to=%2B46700000002&message=x",
            StatusCode::BAD_REQUEST,
            "WEBHOOK_INVALID",
        ),
        (
            sms_url.clone(),
            b"id=..%2F&from=a&to=%2B46700000001",
            StatusCode::BAD_REQUEST,
            "WEBHOOK_INVALID",
        ),
        (
            format!("{base}/dlr?sms=sms_x&tag=00"),
            b"id=s1&status=delivered",
            StatusCode::UNAUTHORIZED,
            "WEBHOOK_TOKEN_INVALID",
        ),
        (
            format!("{base}/voice/start?token=nope"),
            b"callid=c1&from=a&to=b",
            StatusCode::UNAUTHORIZED,
            "WEBHOOK_TOKEN_INVALID",
        ),
    ];
    for (url, body, status, code) in table {
        let r = post(url.clone(), body).await;
        assert_eq!(r.status(), status, "{url}");
        let json: Value = r.json().await.expect("json");
        assert_eq!(json["error"]["code"], code, "{url}");
    }
    let list = rig.get("/api/a/main/ops/list-sms").await;
    assert_eq!(list.body["messages"], json!([]));

    // voice/start answers with the number's incoming handling.
    let voice = sms_url.replace("/sms?", "/voice/start?");
    let form = format!(
        "callid=c9&from=%2B46700000009&to={}&direction=incoming",
        number.replace('+', "%2B")
    );
    let r = rig
        .http
        .post(&voice)
        .body(form.clone())
        .send()
        .await
        .expect("voice");
    let action: Value = r.json().await.expect("json");
    assert_eq!(
        action["connect"].as_str().map(|u| u.starts_with("ws://")),
        Some(true),
        "{action}"
    );
    let update = rig
        .call(
            reqwest::Method::PATCH,
            "/api/a/main/ops/update",
            Some(json!({"spec": {"incoming_handling": "forward_to", "forward_to_number": "+46700000555"}})),
        )
        .await;
    assert_eq!(update.status, StatusCode::OK, "{:?}", update.body);
    let r = rig
        .http
        .post(&voice)
        .body(form.clone())
        .send()
        .await
        .expect("voice");
    let action: Value = r.json().await.expect("json");
    assert_eq!(action["connect"], "+46700000555");
    assert!(
        action["whenhangup"]
            .as_str()
            .is_some_and(|u| u.contains("/voice/hangup?token=")),
        "{action}"
    );

    // With a voice_start_url of its own, the number's flow is asked (the carrier's form as
    // it came) and its action returned, with voxgate's whenhangup; a flow that fails is
    // passed over.
    let (flow_url, asked) = ivr_flow(json!({"play": "https://sounds.example/hello.mp3"})).await;
    for (url, played) in [
        (flow_url.as_str(), true),
        ("http://127.0.0.1:9/down", false),
    ] {
        let update = rig
            .call(
                reqwest::Method::PATCH,
                "/api/a/main/ops/update",
                Some(json!({"spec": {"voice_start_url": url}})),
            )
            .await;
        assert_eq!(update.status, StatusCode::OK, "{:?}", update.body);
        let r = rig
            .http
            .post(&voice)
            .body(form.clone())
            .send()
            .await
            .expect("voice");
        let action: Value = r.json().await.expect("json");
        if played {
            assert_eq!(
                action["play"], "https://sounds.example/hello.mp3",
                "{action}"
            );
            assert_eq!(*asked.lock().expect("lock"), vec![form.clone()]);
        } else {
            assert_eq!(action["connect"], "+46700000555", "{action}");
        }
        assert!(
            action["whenhangup"]
                .as_str()
                .is_some_and(|u| u.contains("/voice/hangup?token=")),
            "{action}"
        );
    }
}

/// A number's own IVR flow: answers every request with `action`; the bodies it was sent.
async fn ivr_flow(action: Value) -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    let asked = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = Arc::clone(&asked);
    let app = axum::Router::new().route(
        "/start",
        axum::routing::post(move |body: String| {
            let seen = Arc::clone(&seen);
            let action = action.clone();
            async move {
                seen.lock().expect("lock").push(body);
                axum::Json(action)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/start"), asked)
}

#[tokio::test]
async fn calls_the_voice_core_never_saw_are_recorded_from_the_hangup() {
    let rig = Rig::new(support::sqlite().await, &[], 10).await;
    let number = rig.provisioned("main").await;
    // `ai`, but nothing listens at the Realtime URL: the call fails before anyone answers.
    rig.sim(
        reqwest::Method::POST,
        "/sim/calls",
        json!({"from": "+46700000888", "to": number}),
    )
    .await;
    eventually("the missed call", || async {
        rig.get("/api/a/main/ops/list-calls").await.body["calls"]
            .as_array()
            .is_some_and(|i| i.len() == 1)
    })
    .await;
    let missed = rig.get("/api/a/main/ops/list-calls").await.body["calls"][0].clone();
    assert_eq!(
        (missed["status"].as_str(), missed["from"].as_str()),
        (Some("missed"), Some("+46700000888"))
    );
    assert_eq!(missed["direction"], "inbound");
    // Forwarded: the carrier connects the callee; the hang-up reports a completed call.
    let update = rig
        .call(
            reqwest::Method::PATCH,
            "/api/a/main/ops/update",
            Some(json!({"spec": {"incoming_handling": "forward_to", "forward_to_number": "+46700000555"}})),
        )
        .await;
    assert_eq!(update.status, StatusCode::OK);
    rig.sim(
        reqwest::Method::POST,
        "/sim/calls",
        json!({"from": "+46700000999", "to": number}),
    )
    .await;
    eventually("the forwarded call", || async {
        rig.get("/api/a/main/ops/list-calls").await.body["calls"]
            .as_array()
            .is_some_and(|i| i.len() == 2)
    })
    .await;
    let page = rig
        .get("/api/a/main/ops/list-calls?limit=1&direction=incoming")
        .await
        .body;
    let forwarded = page["calls"][0].clone();
    assert_eq!(
        (forwarded["status"].as_str(), forwarded["from"].as_str()),
        (Some("completed"), Some("+46700000999"))
    );
    let token = page["next_page_token"].as_str().expect("a second page");
    let second = rig
        .get(&format!(
            "/api/a/main/ops/list-calls?limit=1&page_token={token}"
        ))
        .await
        .body;
    assert_eq!(second["calls"][0]["status"], "missed");
    assert_eq!(second["next_page_token"], Value::Null);
    let id = forwarded["id"].as_str().expect("id");
    let got = rig
        .get(&format!("/api/a/main/ops/get-call?call_id={id}"))
        .await;
    assert_eq!(
        (got.status, &got.body["turns"]),
        (StatusCode::OK, &json!([]))
    );
    let none = rig.get("/api/a/main/ops/get-call?call_id=cal_nope").await;
    assert_eq!(
        (none.status, none.code()),
        (StatusCode::NOT_FOUND, "CALL_NOT_FOUND")
    );
    eventually("the missed-call counter", || async {
        metrics(&rig).contains("phone_call_missed_count 1")
    })
    .await;
}

#[tokio::test]
async fn carrier_failures_map_to_codes_and_transient_ones_are_retried_once_sent() {
    let rig = Rig::new(support::sqlite().await, &[], 10).await;
    rig.provisioned("main").await;
    let fault = |status: u16, body: &str, count: u32| json!({"path": "/a1/sms", "method": "POST", "status": status, "body": body, "count": count});
    let cases = [
        (
            fault(401, "Unauthorized", 1),
            StatusCode::BAD_GATEWAY,
            "PHONE_AUTH_FAILED",
        ),
        (
            fault(403, r#"{"error":"Not enough credits"}"#, 1),
            StatusCode::PAYMENT_REQUIRED,
            "PHONE_INSUFFICIENT_BALANCE",
        ),
        (
            fault(429, "slow down", 10),
            StatusCode::TOO_MANY_REQUESTS,
            "PHONE_RATE_LIMITED",
        ),
        (
            fault(400, "Invalid to", 1),
            StatusCode::UNPROCESSABLE_ENTITY,
            "PHONE_REJECTED",
        ),
        (
            fault(503, "down", 10),
            StatusCode::BAD_GATEWAY,
            "PHONE_SEND_FAILED",
        ),
    ];
    for (i, (fault, status, code)) in cases.into_iter().enumerate() {
        rig.sim(reqwest::Method::POST, "/sim/faults", fault).await;
        let body = format!("case {i}");
        let r = rig
            .post(
                "/api/a/main/ops/send-sms",
                json!({"to": "+46700000123", "body": body}),
            )
            .await;
        assert_eq!(
            (r.status, r.code()),
            (status, code),
            "case {i}: {:?}",
            r.body
        );
        assert!(
            rig.sim_sms_with(&body).is_empty(),
            "case {i} reached the carrier"
        );
        rig.sim(reqwest::Method::DELETE, "/sim/faults", Value::Null)
            .await;
    }
    // Two 503s, then the carrier takes it: sent exactly once, after looking in the history.
    rig.sim(reqwest::Method::POST, "/sim/faults", fault(503, "down", 2))
        .await;
    let r = rig
        .post(
            "/api/a/main/ops/send-sms",
            json!({"to": "+46700000123", "body": "third time"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(rig.sim_sms_with("third time").len(), 1);
    let got = rig
        .get(&format!(
            "/api/a/main/ops/get-sms?message_id={}",
            r.body["message_id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(
        got.body["carrier_id"],
        rig.sim_sms_with("third time")[0]["id"]
    );
    // Every failed send is stored, with its code.
    let failed = rig.get("/api/a/main/ops/list-sms?limit=100").await.body["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter(|i| i["status"] == "failed")
        .count();
    assert_eq!(failed, 5);
}

#[tokio::test]
async fn operations_check_their_inputs() {
    let rig = Rig::new(support::sqlite().await, &[], 10).await;
    rig.element("bare", json!({})).await;
    let r = rig
        .post(
            "/api/a/bare/ops/send-sms",
            json!({"to": "+46700000123", "body": "x"}),
        )
        .await;
    assert_eq!(r.code(), "PHONE_NUMBER_NOT_PROVISIONED");
    rig.post(
        "/api/a/ops/create",
        json!({"element_type": "phone-number", "slug": "nocred", "spec": {"number": "+46766869999"}}),
    )
    .await;
    let r = rig
        .post(
            "/api/a/nocred/ops/send-sms",
            json!({"to": "+46700000123", "body": "x"}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "PHONE_CREDENTIAL_MISSING")
    );
    rig.provisioned("main").await;
    let table = [
        (
            json!({"to": "0700000123", "body": "x"}),
            "PHONE_INVALID_NUMBER",
        ),
        (
            json!({"to": "+46700000123", "body": ""}),
            "PHONE_INVALID_MESSAGE",
        ),
        (
            json!({"to": "+46700000123", "body": "x".repeat(1531)}),
            "PHONE_INVALID_MESSAGE",
        ),
        (
            json!({"to": "+46700000123", "body": "x", "sender_id": "TwelveChars1"}),
            "PHONE_INVALID_SENDER_ID",
        ),
        (
            json!({"to": "+46700000123", "body": "x", "sender_id": "12345"}),
            "PHONE_INVALID_SENDER_ID",
        ),
        (
            json!({"to": "+46700000123", "body": "x", "extra": 1}),
            "INVALID_BODY",
        ),
        (json!({"to": "+46700000123"}), "INVALID_BODY"),
    ];
    for (body, code) in table {
        let r = rig.post("/api/a/main/ops/send-sms", body.clone()).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, code),
            "{body}"
        );
    }
    assert!(rig.sim.state()["sms"].as_array().expect("sms").is_empty());
    let r = rig
        .post("/api/a/main/ops/provision", json!({"country": "se"}))
        .await;
    assert_eq!(r.code(), "PHONE_ALREADY_PROVISIONED");
    let r = rig
        .post("/api/a/bare/ops/provision", json!({"country": "se"}))
        .await;
    assert_eq!(r.code(), "PHONE_INVALID_COUNTRY");
    let r = rig
        .post(
            "/api/a/bare/ops/provision",
            json!({"country": "SE", "capabilities": ["fax"]}),
        )
        .await;
    assert_eq!(r.code(), "PHONE_INVALID_CONFIG");
    // What operations manage cannot be updated.
    let r = rig
        .call(
            reqwest::Method::PATCH,
            "/api/a/main/ops/update",
            Some(json!({"spec": {"number": "+46700000001"}})),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "PHONE_NUMBER_MANAGED")
    );
    let r = rig
        .call(
            reqwest::Method::PATCH,
            "/api/a/bare/ops/update",
            Some(json!({"spec": {"sandbox": true}})),
        )
        .await;
    assert_eq!(r.code(), "PHONE_NUMBER_MANAGED");
    // Without a SIP leg (`sip.enabled = false`; this API runs without the server's), the SIP
    // operations say so. (Against a real SIP trunk: server/tests/sip_trunk.rs.)
    for op in ["make-call", "agent-dial", "sip-register-test"] {
        let body = match op {
            "sip-register-test" => json!({}),
            _ => json!({"to": "+46700000123", "agent_id": null}),
        };
        let r = rig.post(&format!("/api/a/main/ops/{op}"), body).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::SERVICE_UNAVAILABLE, "PHONE_SIP_UNAVAILABLE"),
            "{op}"
        );
    }
    // Disabled elements run no operations.
    rig.post("/api/a/main/ops/disable", json!({})).await;
    let r = rig
        .post(
            "/api/a/main/ops/send-sms",
            json!({"to": "+46700000123", "body": "x"}),
        )
        .await;
    assert_eq!(r.code(), "ELEMENT_DISABLED");
}

async fn sandbox_cap_holds(db: TestDb) {
    let rig = Arc::new(Rig::new(db, &["+46766860019", "+46766860020"], 10).await);
    rig.element("s1", json!({})).await;
    rig.element("s2", json!({})).await;
    rig.element("s3", json!({})).await;
    let first = rig
        .post("/api/a/s1/ops/claim_sandbox_number", json!({}))
        .await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    let again = rig
        .post("/api/a/s1/ops/claim_sandbox_number", json!({}))
        .await;
    assert_eq!(
        again.body["phone_number"], first.body["phone_number"],
        "claims are idempotent"
    );
    let second = rig
        .post("/api/a/s2/ops/claim_sandbox_number", json!({}))
        .await;
    assert_ne!(second.body["phone_number"], first.body["phone_number"]);
    let third = rig
        .post("/api/a/s3/ops/claim_sandbox_number", json!({}))
        .await;
    assert_eq!(
        (third.status, third.code()),
        (StatusCode::SERVICE_UNAVAILABLE, "PHONE_SANDBOX_EXHAUSTED")
    );
    let r = rig.post("/api/a/s1/ops/configure", json!({})).await;
    assert_eq!(
        r.code(),
        "PHONE_SANDBOX_NUMBER",
        "sandbox numbers are outbound only"
    );

    let sends = (0..50).map(|i| {
        let rig = Arc::clone(&rig);
        tokio::spawn(async move {
            let slug = if i % 2 == 0 { "s1" } else { "s2" };
            rig.post(
                &format!("/api/a/{slug}/ops/send-sms"),
                json!({"to": "+46700000123", "body": format!("sandbox {i}")}),
            )
            .await
        })
    });
    let replies = futures::future::join_all(sends).await;
    let ok = replies
        .iter()
        .filter(|r| r.as_ref().expect("task").status == StatusCode::OK)
        .count();
    let capped = replies
        .iter()
        .filter(|r| r.as_ref().expect("task").code() == "PHONE_SANDBOX_LIMIT")
        .count();
    assert_eq!((ok, capped), (10, 40));
    let at_carrier = rig.sim.state()["sms"]
        .as_array()
        .expect("sms")
        .iter()
        .filter(|s| {
            s["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("sandbox "))
        })
        .count();
    assert_eq!(at_carrier, 10);

    let released = rig
        .post("/api/a/s1/ops/release_sandbox_number", json!({}))
        .await;
    assert_eq!(released.body["released"], true);
    let twice = rig
        .post("/api/a/s1/ops/release_sandbox_number", json!({}))
        .await;
    assert_eq!(
        (twice.status, &twice.body["released"]),
        (StatusCode::OK, &json!(false))
    );
    let now_free = rig
        .post("/api/a/s3/ops/claim_sandbox_number", json!({}))
        .await;
    assert_eq!(now_free.body["phone_number"], first.body["phone_number"]);
    // Deleting an element gives its sandbox number back to the pool.
    let deleted = rig
        .call(reqwest::Method::DELETE, "/api/a/s2/ops/delete", None)
        .await;
    assert_eq!(deleted.status, StatusCode::OK, "{:?}", deleted.body);
    let reused = rig
        .post("/api/a/s1/ops/claim_sandbox_number", json!({}))
        .await;
    assert_eq!(reused.body["phone_number"], second.body["phone_number"]);
}

#[tokio::test]
async fn sandbox_daily_cap_holds_under_50_concurrent_sends_on_sqlite() {
    sandbox_cap_holds(support::sqlite().await).await;
}

#[tokio::test]
async fn sandbox_daily_cap_holds_under_50_concurrent_sends_on_postgres() {
    sandbox_cap_holds(support::postgres().await).await;
}

/// An outgoing SMS as `send-sms` stores it before asking the carrier.
fn pending(element_id: &str, circle_id: &str, from: &str, body: &str) -> SmsRecord {
    let now = now_ms();
    SmsRecord {
        id: new_id("sms"),
        circle_id: circle_id.to_owned(),
        element_id: element_id.to_owned(),
        direction: "outgoing".to_owned(),
        sender: from.to_owned(),
        recipient: "+46700000123".to_owned(),
        body: body.to_owned(),
        segments: 1,
        encoding: "gsm7".to_owned(),
        flash: false,
        sandbox: false,
        status: "pending".to_owned(),
        carrier_id: None,
        cost: None,
        error_code: None,
        attempts: 0,
        created_at: now,
        updated_at: now,
        delivered_at: None,
    }
}

#[tokio::test]
async fn sends_a_crash_left_pending_are_settled_once() {
    let rig = Rig::new(support::sqlite().await, &[], 10).await;
    let number = rig.provisioned("main").await;
    let circle = rig
        .state
        .store()
        .circle("a")
        .await
        .expect("store")
        .expect("circle");
    let element = rig
        .state
        .store()
        .element(&circle.id, "main")
        .await
        .expect("store")
        .expect("element");
    // Crashed after storing, before the carrier got it.
    let never_sent = pending(&element.id, &circle.id, &number, "stored, never sent");
    // Crashed after the carrier took it, before its answer was stored.
    let already_sent = pending(&element.id, &circle.id, &number, "sent, answer lost");
    for r in [&never_sent, &already_sent] {
        assert!(rig.state.store().insert_sms(r).await.expect("insert"));
    }
    let direct = rig
        .http
        .post(format!("{}/sms", rig.sim.api_url()))
        .basic_auth("sim", Some("sim-secret"))
        .form(&[
            ("from", number.as_str()),
            ("to", "+46700000123"),
            ("message", "sent, answer lost"),
        ])
        .send()
        .await
        .expect("direct send");
    assert_eq!(direct.status(), StatusCode::OK);

    let settled = voxgate_control_api::phone::sms::recover(&rig.state)
        .await
        .expect("recover");
    assert_eq!(settled, 2);
    assert_eq!(rig.sim_sms_with("stored, never sent").len(), 1, "sent once");
    assert_eq!(
        rig.sim_sms_with("sent, answer lost").len(),
        1,
        "adopted, not sent again"
    );
    for r in [&never_sent, &already_sent] {
        let stored = rig
            .state
            .store()
            .sms(&element.id, &r.id)
            .await
            .expect("store")
            .expect("sms");
        assert_ne!(stored.status, "pending");
        assert!(stored.carrier_id.is_some());
    }
    // Nothing is left to settle.
    assert_eq!(
        voxgate_control_api::phone::sms::recover(&rig.state)
            .await
            .expect("recover"),
        0
    );
    assert_eq!(rig.sim_sms_with("stored, never sent").len(), 1);
}

#[tokio::test]
async fn phone_operations_check_the_key_and_its_role() {
    let rig = Rig::new(support::sqlite().await, &[], 10).await;
    rig.element("main", json!({})).await;
    let store = rig.state.store_arc();
    let mut keys = std::collections::HashMap::new();
    for role in Role::ALL {
        keys.insert(role, create_key(&*store, "a", role).await.expect("key"));
    }
    let table = voxgate_control_api::ops::element_ops(ElementType::PhoneNumber);
    // `delete` runs last: after it the element is gone and every other call would be 404.
    let mut ops: Vec<_> = table.iter().filter(|op| op.supported()).collect();
    ops.sort_by_key(|op| op.name == "delete");
    for op in ops {
        let method = reqwest::Method::from_bytes(op.method.as_str().as_bytes()).expect("method");
        let url = format!("{}/api/a/main/ops/{}", rig.base, op.path);
        let send = |key: Option<&str>| {
            let mut request = rig.http.request(method.clone(), &url);
            if let Some(key) = key {
                request = request.bearer_auth(key);
            }
            if method == reqwest::Method::POST {
                request = request.json(&match op.name {
                    "provision" => json!({"country": "SE"}),
                    "send-sms" => json!({"to": "+46700000123", "body": "x"}),
                    "agent-call" | "make-call" | "agent-dial" => json!({"to": "+46700000123"}),
                    "call-message" => json!({"to": "+46700000123", "message": "x"}),
                    _ => json!({}),
                });
            }
            request.send()
        };
        let r = send(None).await.expect("request");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{}", op.name);
        for role in Role::ALL.into_iter().filter(|r| *r < op.role) {
            let r = send(Some(&keys[&role])).await.expect("request");
            let body: Value = r.json().await.expect("json");
            assert_eq!(
                body["error"]["code"], "AUTH_FORBIDDEN",
                "{} as {role}",
                op.name
            );
        }
        // At its role the operation runs: whatever it answers, it is not an auth error.
        let r = send(Some(&keys[&op.role])).await.expect("request");
        let status = r.status();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        let code = body["error"]["code"].as_str().unwrap_or("");
        assert!(
            !code.starts_with("AUTH_") && status.as_u16() < 500 || status.as_u16() == 503,
            "{}: {status} {body}",
            op.name
        );
    }
}

#[tokio::test]
async fn an_agent_call_is_recorded_before_the_callee_answers_and_the_agent_introduces_itself() {
    let rig = Rig::new(support::sqlite().await, &[], 10).await;
    let agent = rig
        .post(
            "/api/v1/agents",
            json!({"name": "Ada", "greeting": "Welcome to the shop."}),
        )
        .await;
    assert_eq!(agent.status, StatusCode::CREATED, "{:?}", agent.body);
    rig.provisioned("main").await;
    let callee = json!({"number": "+46700000123", "behaviour": "busy", "after_ms": 2000});
    rig.sim(reqwest::Method::POST, "/sim/callees", callee).await;
    // The caller's own whenhangup_url hears the carrier's hang-up report too.
    let (hangup_hook, reported) = ivr_flow(json!({})).await;
    let placed = rig
        .post(
            "/api/a/main/ops/agent-call",
            json!({"to": "+46700000123", "whenhangup_url": hangup_hook}),
        )
        .await;
    assert_eq!(placed.status, StatusCode::OK, "{:?}", placed.body);
    assert_eq!(placed.body["state"], "dialing");
    assert!(
        placed.body["ws_url"]
            .as_str()
            .is_some_and(|u| u.starts_with("ws://")),
        "{:?}",
        placed.body
    );
    let carrier_id = placed.body["carrier_call_id"]
        .as_str()
        .expect("carrier id")
        .to_owned();
    let path = format!(
        "/api/a/main/ops/get-call?call_id={}",
        placed.body["call_id"].as_str().expect("id")
    );
    assert_eq!(rig.get(&path).await.body["status"], "dialing");

    // When the Realtime leg arrives, the call is found by the carrier's id: its agent
    // introduces itself instead of greeting.
    let remembered = voxgate_control_api::directory::remember(
        &*rig.state.store_arc(),
        &carrier_id,
        "+46700000123",
        "+46766860001",
    )
    .await
    .expect("remember");
    let body = remembered.agent.expect("the call's agent");
    assert_eq!(body.greeting, "Hello, this is Ada calling.");

    // The callee is busy: the hang-up webhook ends the record.
    eventually("the busy call", || async {
        rig.get(&path).await.body["status"] == "busy"
    })
    .await;
    let at_carrier = rig.sim.state()["calls"]
        .as_array()
        .expect("calls")
        .iter()
        .find(|c| c["id"] == carrier_id.as_str())
        .cloned()
        .expect("placed");
    let start: Value =
        serde_json::from_str(at_carrier["voice_start"].as_str().expect("voice_start"))
            .expect("a JSON action in a form field");
    assert!(
        start["connect"]
            .as_str()
            .is_some_and(|u| u.starts_with("ws://")),
        "{start}"
    );
    eventually("the hang-up passed on", || async {
        reported
            .lock()
            .expect("lock")
            .iter()
            .any(|form| form.contains(&carrier_id))
    })
    .await;

    // caller_id: the callee sees another of the account's numbers.
    let other = rig.provisioned("other").await;
    let placed = rig
        .post(
            "/api/a/main/ops/agent-call",
            json!({"to": "+46700000124", "caller_id": other}),
        )
        .await;
    assert_eq!(placed.status, StatusCode::OK, "{:?}", placed.body);
    let id = placed.body["carrier_call_id"].as_str().expect("carrier id");
    let at_carrier = rig.sim.state()["calls"]
        .as_array()
        .expect("calls")
        .iter()
        .find(|c| c["id"] == id)
        .cloned()
        .expect("placed");
    assert_eq!(at_carrier["from"], other.as_str(), "{at_carrier}");
    // Still the number's call: it is listed on main.
    let listed = rig.get("/api/a/main/ops/list-calls").await.body;
    assert_eq!(listed["total"], 2, "{listed}");
    assert_eq!(listed["calls"][0]["from"], other.as_str(), "{listed}");

    for (body, code) in [
        (
            json!({"to": "+46700000123", "caller_id": "123"}),
            "PHONE_INVALID_NUMBER",
        ),
        (
            json!({"to": "+46700000123", "whenhangup_url": "ftp://x"}),
            "INVALID_BODY",
        ),
    ] {
        let refused = rig.post("/api/a/main/ops/agent-call", body).await;
        assert_eq!(refused.code(), code);
    }
    let refused = rig
        .post(
            "/api/a/main/ops/agent-call",
            json!({"to": "+46700000123", "timeout_s": 500}),
        )
        .await;
    assert_eq!(refused.code(), "PHONE_INVALID_CONFIG");
    let refused = rig
        .post("/api/a/main/ops/agent-call", json!({"to": "123"}))
        .await;
    assert_eq!(refused.code(), "PHONE_INVALID_NUMBER");
}

/// A voice for `call-message` that remembers what it was asked to say and answers with a
/// tone as a real WAV file (8 kHz, 16-bit mono); text with `[fail]` fails.
#[derive(Debug, Default)]
struct TestVoice {
    said: std::sync::Mutex<Vec<String>>,
}

/// `ms` of a 440 Hz tone as a RIFF/WAVE file.
fn tone_wav(ms: u32) -> Vec<u8> {
    let samples: Vec<i16> = (0..ms * 8)
        .map(|i| {
            let t = f64::from(i) / 8000.0;
            (8000.0 * (2.0 * std::f64::consts::PI * 440.0 * t).sin()) as i16
        })
        .collect();
    let data = u32::try_from(samples.len() * 2).expect("small");
    let mut wav = Vec::with_capacity(44 + samples.len() * 2);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&8000u32.to_le_bytes());
    wav.extend_from_slice(&16000u32.to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data.to_le_bytes());
    for s in samples {
        wav.extend_from_slice(&s.to_le_bytes());
    }
    wav
}

impl MessageVoice for TestVoice {
    fn synthesize(
        &self,
        text: &str,
    ) -> futures::future::BoxFuture<'static, Result<SpokenAudio, String>> {
        self.said.lock().expect("lock").push(text.to_owned());
        let fail = text.contains("[fail]");
        Box::pin(async move {
            if fail {
                Err("the engine is down".to_owned())
            } else {
                Ok(SpokenAudio {
                    wav: tone_wav(1200),
                    duration_ms: 1200,
                })
            }
        })
    }
}

#[tokio::test]
async fn a_call_message_plays_its_audio_and_the_hangup_records_what_was_said() {
    let rig = Rig::new(support::sqlite().await, &[], 10).await;
    rig.provisioned("main").await;
    let to = "+46700000123";
    let send = |body: Value| rig.post("/api/a/main/ops/call-message", body);

    // No voice on this server yet: a clear 503, and nothing is placed.
    let r = send(json!({"to": to, "message": "Hello."})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::SERVICE_UNAVAILABLE, "PHONE_VOICE_UNAVAILABLE")
    );
    let voice = Arc::new(TestVoice::default());
    rig.state.set_voice(voice.clone());

    // The callee answers after 1.5 s: until then the call is dialing and its audio URL works.
    let callee = json!({"number": to, "behaviour": "answer", "after_ms": 1500});
    rig.sim(reqwest::Method::POST, "/sim/callees", callee).await;
    let message = "Your table for two is booked for eight o'clock tonight.";
    // mouth_ref names the server's mouth; voice_id is taken with a warning.
    let wrong_mouth =
        send(json!({"to": to, "message": message, "mouth_ref": "mth_elsewhere"})).await;
    assert_eq!(
        (wrong_mouth.status, wrong_mouth.code()),
        (StatusCode::BAD_REQUEST, "PHONE_INVALID_CONFIG")
    );
    let placed = send(json!({
        "to": to,
        "message": format!("  {message}\n"),
        "mouth_ref": "default",
        "voice_id": "en-gb",
    }))
    .await;
    assert_eq!(placed.status, StatusCode::OK, "{:?}", placed.body);
    assert_eq!(placed.body["mouth"], "default");
    assert!(
        placed.body["warnings"][0]
            .as_str()
            .is_some_and(|w| w.contains("voice_id")),
        "{:?}",
        placed.body
    );
    assert_eq!(voice.said.lock().expect("lock").as_slice(), [message]);
    assert_eq!(placed.body["state"], "dialing");
    assert_eq!(placed.body["audio_token_ttl_seconds"], 300);
    assert_eq!(placed.body["audio_duration_ms"], 1200);
    let audio_url = placed.body["audio_url"].as_str().expect("url").to_owned();
    assert!(
        audio_url.starts_with(&format!("{}/api/webhooks/46elks/audio/aud_", rig.base)),
        "{audio_url}"
    );
    let call_id = placed.body["call_id"].as_str().expect("id").to_owned();
    let carrier_id = placed.body["carrier_call_id"]
        .as_str()
        .expect("carrier id")
        .to_owned();
    let path = format!("/api/a/main/ops/get-call?call_id={call_id}");
    assert_eq!(rig.get(&path).await.body["status"], "dialing");
    let fetched = rig.http.get(&audio_url).send().await.expect("fetch");
    assert_eq!(fetched.status(), StatusCode::OK);
    assert_eq!(fetched.headers()["content-type"], "audio/wav");
    assert_eq!(
        fetched.bytes().await.expect("bytes").as_ref(),
        tone_wav(1200)
    );

    // The carrier was asked to play exactly that URL, fetched it, played it, and hung up.
    eventually("the played call", || async {
        rig.get(&path).await.body["status"] == "completed"
    })
    .await;
    let call = rig.get(&path).await.body;
    assert_eq!(call["direction"], "outbound");
    // get-call: the document's fields.
    for field in ["id", "from", "to", "started_at", "ended_at"] {
        assert!(call[field].is_string(), "{field}: {call}");
    }
    assert!(call["duration"].is_i64(), "{call}");
    let fields = call.as_object().expect("object");
    assert!(
        fields.contains_key("recording_url") && fields.contains_key("cost"),
        "{call}"
    );
    assert_eq!(call["turns"][0]["agent"], message);
    assert_eq!(call["turns"][0]["user"], "");
    assert_eq!(call["turns"][0]["interrupted"], false);
    let at_carrier = rig.sim.state()["calls"]
        .as_array()
        .expect("calls")
        .iter()
        .find(|c| c["id"] == carrier_id.as_str())
        .cloned()
        .expect("placed");
    let start: Value =
        serde_json::from_str(at_carrier["voice_start"].as_str().expect("voice_start"))
            .expect("a JSON action in a form field");
    assert_eq!(start, json!({"play": audio_url}));
    let played = rig
        .http
        .get(format!(
            "http://{}/sim/calls/{carrier_id}/played.wav",
            rig.sim.addr()
        ))
        .send()
        .await
        .expect("played");
    assert_eq!(played.status(), StatusCode::OK);
    assert_eq!(
        played.bytes().await.expect("bytes").as_ref(),
        tone_wav(1200)
    );
    assert!(
        metrics(&rig).contains("phone_call_placed_count 1"),
        "{}",
        metrics(&rig)
    );

    // Its job done, the URL is dead; so are forged and malformed ones.
    let (url_path, token) = audio_url.split_once("?token=").expect("token");
    for url in [
        audio_url.clone(),
        format!("{url_path}?token=0{}", &token[1..]),
        url_path.to_owned(),
        format!(
            "{}/api/webhooks/46elks/audio/..%2Fetc.wav?token={token}",
            rig.base
        ),
        format!("{}?token={token}", url_path.replace(".wav", ".mp3")),
    ] {
        let r = rig.http.get(&url).send().await.expect("fetch");
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{url}");
        let body: Value = r.json().await.expect("json");
        assert_eq!(body["error"]["code"], "PHONE_AUDIO_NOT_FOUND", "{url}");
    }

    // A busy callee: the call ends busy, with nothing said.
    let busy = "+46700000124";
    let callee = json!({"number": busy, "behaviour": "busy", "after_ms": 200});
    rig.sim(reqwest::Method::POST, "/sim/callees", callee).await;
    let placed = send(json!({"to": busy, "message": "Nobody hears this."})).await;
    assert_eq!(placed.status, StatusCode::OK, "{:?}", placed.body);
    let path = format!(
        "/api/a/main/ops/get-call?call_id={}",
        placed.body["call_id"].as_str().expect("id")
    );
    eventually("the busy call", || async {
        rig.get(&path).await.body["status"] == "busy"
    })
    .await;
    assert_eq!(rig.get(&path).await.body["turns"], json!([]));

    // Inputs, the voice and the carrier failing: typed errors, and no call left dialing.
    let long = "a".repeat(1201);
    let cases = [
        (json!({"to": to, "message": long}), "PHONE_INVALID_MESSAGE"),
        (
            json!({"to": to, "message": " \n "}),
            "PHONE_INVALID_MESSAGE",
        ),
        (
            json!({"to": "0700000123", "message": "x"}),
            "PHONE_INVALID_NUMBER",
        ),
        (
            json!({"to": to, "message": "x", "timeout_s": 4}),
            "PHONE_INVALID_CONFIG",
        ),
        (json!({"to": to}), "INVALID_BODY"),
        (
            json!({"to": to, "message": "x", "play": "y"}),
            "INVALID_BODY",
        ),
        (json!({"to": to, "message": "[fail]"}), "PHONE_TTS_FAILED"),
    ];
    let said = voice.said.lock().expect("lock").len();
    for (body, code) in cases {
        let r = send(body.clone()).await;
        assert_eq!(r.code(), code, "{body}: {:?}", r.body);
    }
    assert_eq!(
        voice.said.lock().expect("lock").len(),
        said + 1,
        "only valid input reaches the voice"
    );
    assert_eq!(
        send(json!({"to": to, "message": "a".repeat(1200)}))
            .await
            .status,
        StatusCode::OK,
        "1200 characters is the limit, not over it"
    );
    rig.element("bare", json!({})).await;
    let r = rig
        .post(
            "/api/a/bare/ops/call-message",
            json!({"to": to, "message": "x"}),
        )
        .await;
    assert_eq!(r.code(), "PHONE_NUMBER_NOT_PROVISIONED");
    let fault = json!({"path": "/a1/calls", "method": "POST", "status": 401, "body": "Unauthorized", "count": 1});
    rig.sim(reqwest::Method::POST, "/sim/faults", fault).await;
    let r = send(json!({"to": to, "message": "Refused."})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_GATEWAY, "PHONE_AUTH_FAILED")
    );
    let calls = rig.get("/api/a/main/ops/list-calls?limit=100").await.body;
    let failed: Vec<&Value> = calls["calls"]
        .as_array()
        .expect("calls")
        .iter()
        .filter(|c| c["status"] == "failed")
        .collect();
    assert_eq!(failed.len(), 1, "{calls}");
    let failed = rig
        .get(&format!(
            "/api/a/main/ops/get-call?call_id={}",
            failed[0]["id"].as_str().expect("id")
        ))
        .await
        .body;
    assert_eq!(failed["error"], "PHONE_AUTH_FAILED");
}

#[tokio::test]
async fn a_registered_numbers_direction_switches_refuse_calls() {
    let rig = Rig::new(support::sqlite().await, &[], 10).await;
    let agent = rig.post("/api/v1/agents", json!({"name": "Ada"})).await;
    assert_eq!(agent.status, StatusCode::CREATED, "{:?}", agent.body);
    let number = rig.provisioned("main").await;
    let listed = rig.get("/api/v1/telephony/numbers").await;
    let id = listed.body["numbers"]
        .as_array()
        .expect("numbers")
        .iter()
        .find(|n| n["e164"] == number.as_str())
        .and_then(|n| n["id"].as_str())
        .expect("provision registers the number")
        .to_owned();
    let switch = |body: Value| {
        let (rig, path) = (&rig, format!("/api/v1/telephony/numbers/{id}"));
        async move {
            let r = rig.call(reqwest::Method::PATCH, &path, Some(body)).await;
            assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
        }
    };

    // Outbound off: placing a call from the number is refused, nothing reaches the carrier.
    switch(json!({"outbound_enabled": false})).await;
    let refused = rig
        .post("/api/a/main/ops/agent-call", json!({"to": "+46700000123"}))
        .await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::CONFLICT, "NUMBER_OUTBOUND_DISABLED"),
        "{:?}",
        refused.body
    );
    assert_eq!(rig.sim.state()["calls"], json!([]));

    // Inbound off: the carrier's voice_start is answered with a reject.
    let voice = rig.sim.state()["numbers"]
        .as_array()
        .expect("numbers")
        .iter()
        .find(|n| n["number"] == number.as_str())
        .and_then(|n| n["voice_start"].as_str().map(str::to_owned))
        .expect("voice_start");
    let form = format!(
        "callid=c9&from=%2B46700000009&to={}&direction=incoming",
        number.replace('+', "%2B")
    );
    let answer = |rig: &Rig| {
        let (http, voice, form) = (rig.http.clone(), voice.clone(), form.clone());
        async move {
            let r = http.post(voice).body(form).send().await.expect("voice");
            r.json::<Value>().await.expect("json")
        }
    };
    assert!(answer(&rig).await["connect"].is_string());
    switch(json!({"inbound_enabled": false})).await;
    assert_eq!(answer(&rig).await, json!({"hangup": "reject"}));
}

/// The phone-number document's Quick Start, step by step as written: create the element,
/// lease a sandbox number (no input, no carrier credentials), send a test SMS.
#[tokio::test]
async fn quick_start_claim_a_sandbox_number_and_send_a_test_sms() {
    let rig = Rig::new(support::sqlite().await, &["+46766860031"], 10).await;
    let created = rig
        .post(
            "/api/a/ops/create",
            json!({"element_type": "phone-number", "slug": "quick"}),
        )
        .await;
    assert!(created.status.is_success(), "{:?}", created.body);
    // 1. claim_sandbox_number, called with no input at all.
    let claimed = rig
        .call(
            reqwest::Method::POST,
            "/api/a/quick/ops/claim_sandbox_number",
            None,
        )
        .await;
    assert_eq!(claimed.status, StatusCode::OK, "{:?}", claimed.body);
    for field in [
        "claimed",
        "sandbox_managed",
        "phone_number",
        "lease_id",
        "claimed_at",
        "pool",
        "limits",
        "next_step",
    ] {
        assert!(
            !claimed.body[field].is_null(),
            "{field}: {:?}",
            claimed.body
        );
    }
    assert_eq!(claimed.body["phone_number"], "+46766860031");
    // 2. send-sms with the document's input.
    let sent = rig
        .post(
            "/api/a/quick/ops/send-sms",
            json!({"to": "+46700000000", "body": "Hello from Triform"}),
        )
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{:?}", sent.body);
    assert_eq!(sent.body["sent"], true, "{:?}", sent.body);
    for field in ["message_id", "segments", "cost"] {
        assert!(sent.body.get(field).is_some(), "{field}: {:?}", sent.body);
    }
    let at_carrier = rig.sim_sms_with("Hello from Triform");
    assert_eq!(at_carrier.len(), 1, "{at_carrier:?}");
    assert_eq!(at_carrier[0]["from"], "+46766860031");
}

/// The sandbox's SMS cap is per UTC day: at the cap a send is refused, and a second past
/// midnight the circle may send again. The control API's clock stands still in between.
#[tokio::test]
async fn the_sandbox_sms_cap_resets_at_utc_midnight() {
    let clock = Arc::new(ManualClock::at(support::A_SECOND_TO_MIDNIGHT_MS));
    let rig = Rig::with_clock(support::sqlite().await, &["+46766860041"], 2, clock.clone()).await;
    let created = rig
        .post(
            "/api/a/ops/create",
            json!({"element_type": "phone-number", "slug": "capped"}),
        )
        .await;
    assert!(created.status.is_success(), "{:?}", created.body);
    let claimed = rig
        .call(
            reqwest::Method::POST,
            "/api/a/capped/ops/claim_sandbox_number",
            None,
        )
        .await;
    assert_eq!(claimed.status, StatusCode::OK, "{:?}", claimed.body);
    assert_eq!(claimed.body["claimed_at"], "2026-12-07T23:59:59.000Z");
    let send = |n: u32| {
        rig.post(
            "/api/a/capped/ops/send-sms",
            json!({"to": "+46700000000", "body": format!("message {n}")}),
        )
    };
    for n in 0..2 {
        let sent = send(n).await;
        assert_eq!(sent.status, StatusCode::OK, "{n}: {:?}", sent.body);
    }
    let capped = send(2).await;
    assert_eq!(
        (capped.status, capped.code()),
        (StatusCode::TOO_MANY_REQUESTS, "PHONE_SANDBOX_LIMIT"),
        "{:?}",
        capped.body
    );
    clock.advance(1_000);
    let next_day = send(3).await;
    assert_eq!(next_day.status, StatusCode::OK, "{:?}", next_day.body);
    assert_eq!(rig.sim_sms_with("message 2").len(), 0);
    assert_eq!(rig.sim_sms_with("message 3").len(), 1);
}

/// A call message's audio URL lives `audio_token_ttl_seconds` on the control API's clock:
/// fetched a millisecond before the end it plays, at the end it is the same 404 as an
/// unknown file. The callee never answers, so nothing but the clock ends the URL.
#[tokio::test]
async fn a_call_message_audio_url_expires_after_its_ttl() {
    let clock = Arc::new(ManualClock::at(support::A_SECOND_TO_MIDNIGHT_MS));
    let rig = Rig::with_clock(support::sqlite().await, &[], 10, clock.clone()).await;
    rig.provisioned("main").await;
    rig.state.set_voice(Arc::new(TestVoice::default()));
    let to = "+46700000124";
    let callee = json!({"number": to, "behaviour": "no-answer"});
    rig.sim(reqwest::Method::POST, "/sim/callees", callee).await;
    let placed = rig
        .post(
            "/api/a/main/ops/call-message",
            json!({"to": to, "message": "The doors close at nine."}),
        )
        .await;
    assert_eq!(placed.status, StatusCode::OK, "{:?}", placed.body);
    let ttl_ms = placed.body["audio_token_ttl_seconds"]
        .as_i64()
        .expect("ttl")
        * 1000;
    let audio_url = placed.body["audio_url"].as_str().expect("url").to_owned();
    let fetch = || async {
        rig.http
            .get(&audio_url)
            .send()
            .await
            .expect("fetch")
            .status()
    };
    assert_eq!(fetch().await, StatusCode::OK);
    clock.advance(ttl_ms - 1);
    assert_eq!(fetch().await, StatusCode::OK);
    clock.advance(1);
    assert_eq!(fetch().await, StatusCode::NOT_FOUND);
}
