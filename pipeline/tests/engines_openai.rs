//! The OpenAI-compatible brain against a mock server on loopback that streams server-sent
//! events in chunks cut in the middle of lines, holds part of the stream back, fails with a
//! status, or sends garbage.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use futures::StreamExt as _;
use tokio::sync::Notify;
use voxgate_pipeline::PipelineError;
use voxgate_pipeline::engines::OpenAiBrain;
use voxgate_pipeline::providers::{Brain, BrainEvent, Message, Role};

/// What the mock saw and what lets its held-back stream continue.
#[derive(Default)]
struct Mock {
    requests: Mutex<Vec<(Option<String>, serde_json::Value)>>,
    release: Notify,
}

fn sse_event(content: &str) -> String {
    let chunk = serde_json::json!({
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": null}],
    });
    format!("data: {chunk}\n\n")
}

/// The whole stream the mock sends for a reply of `pieces`, `[DONE]` included.
fn sse_stream(pieces: &[&str]) -> String {
    let role = "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"}}]}\n\n";
    let finish = "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n";
    let body: String = pieces.iter().map(|p| sse_event(p)).collect();
    format!(": ok\n\n{role}{body}{finish}data: [DONE]\n\n")
}

/// Cuts `text` into chunks of 7 bytes: boundaries fall inside lines, JSON and `é`.
fn cut(text: &str) -> Vec<Bytes> {
    text.as_bytes()
        .chunks(7)
        .map(Bytes::copy_from_slice)
        .collect()
}

const PIECES: [&str; 4] = ["Hello", ", caf\u{e9}", " caller", "!"];

fn record(mock: &Mock, headers: &HeaderMap, body: serde_json::Value) {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    mock.requests.lock().expect("lock").push((auth, body));
}

async fn streamed(
    State(mock): State<Arc<Mock>>,
    headers: HeaderMap,
    Json(body): Json<serde_json::Value>,
) -> Response {
    record(&mock, &headers, body);
    let chunks = cut(&sse_stream(&PIECES));
    let stream = futures::stream::iter(chunks.into_iter().map(Ok::<_, std::convert::Infallible>));
    event_stream(Body::from_stream(stream))
}

/// Sends the first piece, then waits for `release` before sending the rest.
async fn held_back(State(mock): State<Arc<Mock>>, Json(_): Json<serde_json::Value>) -> Response {
    let text = sse_stream(&PIECES);
    let split = text.find(&sse_event(PIECES[1])).expect("second event") + 3;
    let (first, rest) = (text[..split].to_owned(), text[split..].to_owned());
    let stream = futures::stream::once(async move { Ok::<_, std::convert::Infallible>(first) })
        .chain(futures::stream::once(async move {
            mock.release.notified().await;
            Ok(rest)
        }));
    event_stream(Body::from_stream(stream))
}

async fn failing(Json(_): Json<serde_json::Value>) -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(serde_json::json!({"error": {"message": "the model is on fire"}})),
    )
        .into_response()
}

async fn garbage(Json(_): Json<serde_json::Value>) -> Response {
    let text = format!("{}data: {{not json\n\n", sse_event("Hi"));
    event_stream(Body::from(text))
}

fn event_stream(body: Body) -> Response {
    ([("content-type", "text/event-stream")], body).into_response()
}

/// Serves the mock on an ephemeral loopback port; returns its base URL.
async fn serve(mock: Arc<Mock>) -> String {
    let app = axum::Router::new()
        .route("/ok/v1/chat/completions", post(streamed))
        .route("/held/v1/chat/completions", post(held_back))
        .route("/fail/v1/chat/completions", post(failing))
        .route("/garbage/v1/chat/completions", post(garbage))
        .with_state(mock);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

fn history() -> Vec<Message> {
    vec![
        Message::new(Role::System, "Be brief."),
        Message::new(Role::User, "Hi there"),
    ]
}

#[tokio::test]
async fn streams_text_deltas_and_sends_the_request() {
    let mock = Arc::new(Mock::default());
    let base = serve(Arc::clone(&mock)).await;
    let brain = OpenAiBrain::new(&format!("{base}/ok/v1/"), Some("sk-test".into()), "tiny")
        .expect("brain")
        .with_temperature(0.5)
        .with_max_tokens(40);
    let events: Vec<BrainEvent> = brain
        .reply(&history())
        .map(|e| e.expect("event"))
        .collect()
        .await;
    let expected: Vec<BrainEvent> = PIECES
        .iter()
        .map(|p| BrainEvent::Text((*p).to_owned()))
        .collect();
    assert_eq!(events, expected);

    let requests = mock.requests.lock().expect("lock");
    let (auth, body) = &requests[0];
    assert_eq!(auth.as_deref(), Some("Bearer sk-test"));
    assert_eq!(
        *body,
        serde_json::json!({
            "model": "tiny",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Hi there"},
            ],
            "stream": true,
            "temperature": 0.5,
            "max_tokens": 40,
        })
    );
}

#[tokio::test]
async fn sends_no_authorization_without_a_key() {
    let mock = Arc::new(Mock::default());
    let base = serve(Arc::clone(&mock)).await;
    let brain = OpenAiBrain::new(&format!("{base}/ok/v1"), None, "tiny").expect("brain");
    let count = brain.reply(&history()).count().await;
    assert_eq!(count, PIECES.len());
    let requests = mock.requests.lock().expect("lock");
    assert_eq!(requests[0].0, None);
    assert!(requests[0].1.get("temperature").is_none());
}

#[tokio::test]
async fn yields_each_delta_as_it_arrives() {
    let mock = Arc::new(Mock::default());
    let base = serve(Arc::clone(&mock)).await;
    let brain = OpenAiBrain::new(&format!("{base}/held/v1"), None, "tiny").expect("brain");
    let mut stream = brain.reply(&history());
    // The server holds the rest of the stream until released: the first piece must come
    // before that.
    let first = stream.next().await.expect("first").expect("ok");
    assert_eq!(first, BrainEvent::Text("Hello".into()));
    mock.release.notify_one();
    let rest: Vec<_> = stream.map(|e| e.expect("event")).collect().await;
    assert_eq!(rest.len(), PIECES.len() - 1);
}

#[tokio::test]
async fn http_500_is_a_provider_error_with_the_status() {
    let base = serve(Arc::new(Mock::default())).await;
    let brain = OpenAiBrain::new(&format!("{base}/fail/v1"), Some("sk-secret".into()), "tiny")
        .expect("brain");
    let events: Vec<_> = brain.reply(&history()).collect().await;
    assert_eq!(events.len(), 1, "{events:?}");
    let err = events.into_iter().next().expect("one").expect_err("error");
    let text = err.to_string();
    assert!(
        matches!(
            err,
            PipelineError::Provider {
                provider: "openai",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(text.contains("500") && text.contains("on fire"), "{text}");
    assert!(!text.contains("sk-secret"), "{text}");
}

#[tokio::test]
async fn bad_json_in_the_stream_is_a_provider_error_after_the_good_text() {
    let base = serve(Arc::new(Mock::default())).await;
    let brain = OpenAiBrain::new(&format!("{base}/garbage/v1"), None, "tiny").expect("brain");
    let events: Vec<_> = brain.reply(&history()).collect().await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(
        events[0].as_ref().expect("text"),
        &BrainEvent::Text("Hi".into())
    );
    assert!(
        matches!(events[1], Err(PipelineError::Provider { .. })),
        "{events:?}"
    );
}

#[tokio::test]
async fn connection_refused_is_a_provider_error() {
    // Bind and drop to find a port nobody listens on.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let brain = OpenAiBrain::new(&format!("http://{addr}/v1"), None, "tiny").expect("brain");
    let events: Vec<_> = brain.reply(&history()).collect().await;
    assert_eq!(events.len(), 1);
    assert!(
        matches!(events[0], Err(PipelineError::Provider { .. })),
        "{events:?}"
    );
}
