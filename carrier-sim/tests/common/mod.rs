//! Test support: a started simulator with an authenticated client, a tiny webhook receiver
//! on 127.0.0.1:0, polling with a deadline, and 46elks timestamp checks.

#![allow(dead_code, unreachable_pub)]

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::io::Cursor;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;
use voxgate_carrier_sim::{SimConfig, SimHandle, Simulator};

pub const USER: &str = "sim";
pub const PASSWORD: &str = "sim-secret";

/// A simulator on a free port, with short delays.
pub async fn start() -> Sim {
    start_with(SimConfig {
        dlr_delay: Duration::from_millis(30),
        webhook_retry_delay: Duration::from_millis(20),
        ..SimConfig::default()
    })
    .await
}

pub async fn start_with(config: SimConfig) -> Sim {
    let handle = Simulator::start(config).await.expect("simulator starts");
    Sim {
        base: format!("http://{}", handle.addr()),
        handle,
        http: reqwest::Client::new(),
    }
}

/// The simulator and a client for it.
pub struct Sim {
    pub handle: SimHandle,
    pub base: String,
    pub http: reqwest::Client,
}

impl Sim {
    /// POSTs a form to `/a1{path}` with the default account; returns status and JSON (or
    /// the text as a JSON string).
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.handle.api_url()))
            .basic_auth(USER, Some(PASSWORD))
            .form(form)
            .send()
            .await
            .expect("request");
        read(response).await
    }

    /// GETs `/a1{path}` (with a query string if any) with the default account.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.handle.api_url()))
            .basic_auth(USER, Some(PASSWORD))
            .send()
            .await
            .expect("request");
        read(response).await
    }

    /// POSTs JSON to a `/sim` control route.
    pub async fn control(&self, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/sim{path}", self.base))
            .json(&body)
            .send()
            .await
            .expect("request");
        read(response).await
    }

    /// GETs a `/sim` route as JSON.
    pub async fn sim_get(&self, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}/sim{path}", self.base))
            .send()
            .await
            .expect("request");
        read(response).await.1
    }

    /// The default account's balance.
    pub async fn balance(&self) -> i64 {
        self.get("/me").await.1["balance"]
            .as_i64()
            .expect("balance")
    }

    /// Allocates a Swedish number with all capabilities; returns the number object.
    pub async fn allocate(&self) -> Value {
        let (status, number) = self
            .post(
                "/numbers",
                &[("country", "se"), ("capabilities", "sms,voice")],
            )
            .await;
        assert_eq!(status, 200, "{number}");
        number
    }

    /// Waits until the call is done and returns `/sim/calls/{id}`.
    pub async fn finished_call(&self, id: &str, timeout: Duration) -> Value {
        eventually("the call to finish", timeout, || async {
            let call = self.sim_get(&format!("/calls/{id}")).await;
            call["done"].as_bool().unwrap_or(false).then_some(call)
        })
        .await
    }
}

async fn read(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

/// Polls `check` every 10 ms until it gives a value; panics after `timeout`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// `2018-02-14T09:52:07.302000`.
pub fn is_naive_timestamp(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 26
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            _ => c.is_ascii_digit(),
        })
}

/// `2017-03-14T09:52:10Z`.
pub fn is_zulu_timestamp(text: &str) -> bool {
    text.len() == 20
        && text.ends_with('Z')
        && is_naive_timestamp(&format!("{}.000000", &text[..19]))
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Hit {
    pub path: String,
    pub form: HashMap<String, String>,
    pub at: Instant,
}

#[derive(Default)]
struct ReceiverState {
    hits: Vec<Hit>,
    /// Per path: the answers to give, in order (then 200 with an empty body).
    answers: HashMap<String, VecDeque<(u16, String)>>,
    files: HashMap<String, Vec<u8>>,
}

/// A webhook receiver: records every form POST, answers as planned, serves files at
/// `/files/{name}`.
#[derive(Clone)]
pub struct Receiver {
    pub base: String,
    state: Arc<Mutex<ReceiverState>>,
}

impl Receiver {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(ReceiverState::default()));
        let app = Router::new()
            .route("/files/{name}", get(file))
            .fallback(hook)
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            base: format!("http://{addr}"),
            state,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The next POSTs to `path` get these answers, in order.
    pub fn answer(&self, path: &str, answers: &[(u16, &str)]) {
        let mut state = self.state.lock().expect("lock");
        let queue = state.answers.entry(path.to_owned()).or_default();
        queue.extend(answers.iter().map(|(s, b)| (*s, (*b).to_owned())));
    }

    pub fn serve_file(&self, name: &str, bytes: Vec<u8>) {
        self.state
            .lock()
            .expect("lock")
            .files
            .insert(name.to_owned(), bytes);
    }

    pub fn hits(&self, path: &str) -> Vec<Hit> {
        let state = self.state.lock().expect("lock");
        state
            .hits
            .iter()
            .filter(|h| h.path == path)
            .cloned()
            .collect()
    }

    /// Waits for at least `n` POSTs to `path`.
    pub async fn wait_hits(&self, path: &str, n: usize, timeout: Duration) -> Vec<Hit> {
        eventually(&format!("{n} posts to {path}"), timeout, || async {
            let hits = self.hits(path);
            (hits.len() >= n).then_some(hits)
        })
        .await
    }
}

async fn hook(
    State(state): State<Arc<Mutex<ReceiverState>>>,
    uri: Uri,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let path = uri.path().to_owned();
    let mut state = state.lock().expect("lock");
    state.hits.push(Hit {
        path: path.clone(),
        form: form.into_iter().collect(),
        at: Instant::now(),
    });
    let (status, body) = state
        .answers
        .get_mut(&path)
        .and_then(VecDeque::pop_front)
        .unwrap_or((200, String::new()));
    let status = StatusCode::from_u16(status).expect("status");
    let content_type = if body.starts_with('{') {
        "application/json"
    } else {
        "text/plain"
    };
    (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

async fn file(
    State(state): State<Arc<Mutex<ReceiverState>>>,
    Path(name): Path<String>,
) -> Response {
    match state.lock().expect("lock").files.get(&name) {
        Some(bytes) => ([(header::CONTENT_TYPE, "audio/wav")], bytes.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A mono 16-bit WAV of `ms` milliseconds of a tone at `rate`.
pub fn tone_wav(rate: u32, ms: u32) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = Cursor::new(Vec::new());
    let mut writer = hound::WavWriter::new(&mut out, spec).expect("wav");
    for i in 0..rate * ms / 1000 {
        let phase = f64::from(i) * 440.0 * std::f64::consts::TAU / f64::from(rate);
        #[allow(clippy::cast_possible_truncation)]
        writer
            .write_sample((phase.sin() * 8000.0) as i16)
            .expect("sample");
    }
    writer.finalize().expect("finalize");
    out.into_inner()
}

/// `{"t":...}` of a Realtime message.
pub fn kinds(messages: &Value) -> Vec<String> {
    let mut kinds: Vec<String> = Vec::new();
    for m in messages.as_array().into_iter().flatten() {
        let t = m["t"].as_str().unwrap_or_default().to_owned();
        if !(t == "audio" && kinds.last().is_some_and(|k| k == "audio")) {
            kinds.push(t);
        }
    }
    kinds
}
