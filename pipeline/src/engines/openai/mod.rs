//! A brain behind any OpenAI-compatible chat-completions API, streamed.
//!
//! [`OpenAiBrain`] posts the conversation to `{base_url}/chat/completions` with
//! `"stream": true` and reads the response as server-sent events: each `data: {...}` line
//! is a chunk whose `choices[0].delta.content` is the next piece of the reply, and
//! `data: [DONE]` ends it. Each piece is yielded as a [`BrainEvent::Text`] as soon as its
//! event is complete. OpenAI itself, llama.cpp's server, vLLM, Ollama and most vendors speak
//! this protocol.
//!
//! This is an IO edge: it owns an HTTP client (connection pooling, rustls). The SSE framing
//! is a separate sans-IO parser (the `sse` module).
//!
//! # Costs
//!
//! One HTTP request per reply; the time to the first token is the server's. Dropping the
//! stream drops the response, which closes the connection and lets the server stop.
//!
//! # Traps
//!
//! - Network chunks do not follow lines or events: one event may arrive in many chunks, a
//!   chunk may hold many events, a UTF-8 character may be split.
//! - Some chunks carry no content (the first holds only the role, the last only
//!   `finish_reason`): they are skipped.
//! - Errors can come as an HTTP status (with a JSON body) or, mid-stream, as a
//!   `data: {"error": {...}}` event; both become [`PipelineError::Provider`].
//! - The API key is sent as a bearer token marked sensitive, and is never logged or shown
//!   by `Debug`.

mod sse;

use std::time::Duration;

use futures::StreamExt as _;
use serde::Deserialize;

use self::sse::SseParser;
use crate::error::PipelineError;
use crate::providers::{BoxStream, Brain, BrainEvent, Message};

/// The engine's name in errors, logs and metrics.
const NAME: &str = "openai";
/// How long to wait for a TCP and TLS connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to wait for the next bytes of a response (headers or body).
const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Most characters of an error response kept in the error.
const MAX_ERROR_BODY: usize = 500;
/// The `data` that ends a chat-completions stream.
const DONE: &str = "[DONE]";

/// A brain that streams replies from an OpenAI-compatible server.
#[derive(Clone)]
pub struct OpenAiBrain {
    client: reqwest::Client,
    url: reqwest::Url,
    api_key: Option<String>,
    model: String,
    temperature: Option<f32>,
    max_tokens: Option<u32>,
}

impl OpenAiBrain {
    /// A brain asking `model` at `base_url` (e.g. `https://api.openai.com/v1` or
    /// `http://127.0.0.1:8080/v1`), with `api_key` as bearer token if given.
    ///
    /// # Errors
    ///
    /// [`PipelineError::Config`] if `base_url` is not an http(s) URL or `model` is empty,
    /// [`PipelineError::Load`] if the HTTP client cannot be built (no TLS roots).
    pub fn new(
        base_url: &str,
        api_key: Option<String>,
        model: &str,
    ) -> Result<Self, PipelineError> {
        let url = chat_completions_url(base_url)?;
        if model.trim().is_empty() {
            return Err(config_error("openai.model", "must not be empty".to_owned()));
        }
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(READ_TIMEOUT)
            .build()
            .map_err(|e| PipelineError::Load {
                provider: NAME,
                reason: e.to_string(),
            })?;
        Ok(Self {
            client,
            url,
            api_key,
            model: model.to_owned(),
            temperature: None,
            max_tokens: None,
        })
    }

    /// Samples at `temperature` (0 to 2); the server's default otherwise.
    #[must_use]
    pub fn with_temperature(mut self, temperature: f32) -> Self {
        self.temperature = Some(temperature);
        self
    }

    /// Stops each reply after `max_tokens` tokens; the server's default otherwise.
    #[must_use]
    pub fn with_max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_tokens = Some(max_tokens);
        self
    }

    fn request(&self, history: &[Message]) -> reqwest::RequestBuilder {
        let mut body = serde_json::json!({
            "model": self.model,
            "messages": history,
            "stream": true,
        });
        if let Some(t) = self.temperature {
            body["temperature"] = t.into();
        }
        if let Some(n) = self.max_tokens {
            body["max_tokens"] = n.into();
        }
        let request = self.client.post(self.url.clone()).json(&body);
        match &self.api_key {
            Some(key) => request.bearer_auth(key),
            None => request,
        }
    }
}

impl std::fmt::Debug for OpenAiBrain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiBrain")
            .field("url", &self.url.as_str())
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("model", &self.model)
            .field("temperature", &self.temperature)
            .field("max_tokens", &self.max_tokens)
            .finish()
    }
}

impl Brain for OpenAiBrain {
    fn reply(&self, history: &[Message]) -> BoxStream<Result<BrainEvent, PipelineError>> {
        futures::stream::unfold(State::Start(self.request(history)), State::step).boxed()
    }

    fn name(&self) -> &'static str {
        NAME
    }
}

/// Where one reply stream is.
// One per reply, moved only by `unfold`: boxing the request builder would cost an
// allocation to save a few hundred bytes of stack.
#[allow(clippy::large_enum_variant)]
enum State {
    /// The request is sent on the first poll.
    Start(reqwest::RequestBuilder),
    /// The response body is being read.
    Streaming(Box<Streaming>),
    /// Finished or failed.
    Done,
}

/// An open response and the events parsed from it so far.
struct Streaming {
    response: reqwest::Response,
    sse: SseParser,
    eof: bool,
}

impl State {
    async fn step(self) -> Option<(Result<BrainEvent, PipelineError>, Self)> {
        let streaming = match self {
            Self::Start(request) => match open(request).await {
                Ok(response) => Box::new(Streaming {
                    response,
                    sse: SseParser::new(),
                    eof: false,
                }),
                Err(e) => return Some((Err(e), Self::Done)),
            },
            Self::Streaming(streaming) => streaming,
            Self::Done => return None,
        };
        streaming.next().await
    }
}

impl Streaming {
    /// The next piece of text, reading the body until an event holds one.
    async fn next(mut self: Box<Self>) -> Option<(Result<BrainEvent, PipelineError>, State)> {
        loop {
            while let Some(data) = self.sse.poll_event() {
                match parse_event(&data) {
                    Ok(Delta::Done) => return None,
                    Ok(Delta::Text(text)) => {
                        return Some((Ok(BrainEvent::Text(text)), State::Streaming(self)));
                    }
                    Ok(Delta::Empty) => {}
                    Err(e) => return Some((Err(e), State::Done)),
                }
            }
            if self.eof {
                // Ended without `[DONE]`: take what came.
                return None;
            }
            match self.response.chunk().await {
                Ok(Some(bytes)) => self.sse.push(&bytes),
                Ok(None) => {
                    self.sse.finish();
                    self.eof = true;
                }
                Err(e) => return Some((Err(provider_error(reqwest_reason(&e))), State::Done)),
            }
        }
    }
}

/// Sends the request; a non-success status becomes an error with the start of the body.
async fn open(request: reqwest::RequestBuilder) -> Result<reqwest::Response, PipelineError> {
    let response = request
        .send()
        .await
        .map_err(|e| provider_error(reqwest_reason(&e)))?;
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body = response.text().await.unwrap_or_default();
    let body: String = body.trim().chars().take(MAX_ERROR_BODY).collect();
    Err(provider_error(format!("HTTP {status}: {body}")))
}

/// What one event says.
#[derive(Debug, PartialEq, Eq)]
enum Delta {
    /// More reply text.
    Text(String),
    /// No text (role-only or final chunk).
    Empty,
    /// `[DONE]`: the reply is complete.
    Done,
}

/// One chat-completions chunk, as far as it matters here.
#[derive(Debug, Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<Choice>,
    error: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    #[serde(default)]
    delta: Option<ChoiceDelta>,
}

#[derive(Debug, Deserialize)]
struct ChoiceDelta {
    content: Option<String>,
}

fn parse_event(data: &str) -> Result<Delta, PipelineError> {
    if data.trim() == DONE {
        return Ok(Delta::Done);
    }
    let chunk: Chunk = serde_json::from_str(data).map_err(|e| {
        let start: String = data.chars().take(100).collect();
        provider_error(format!("bad stream chunk ({e}): {start}"))
    })?;
    if let Some(error) = chunk.error {
        let message = error
            .get("message")
            .and_then(serde_json::Value::as_str)
            .map_or_else(|| error.to_string(), str::to_owned);
        return Err(provider_error(format!("error in stream: {message}")));
    }
    let text = chunk
        .choices
        .into_iter()
        .next()
        .and_then(|c| c.delta)
        .and_then(|d| d.content)
        .unwrap_or_default();
    Ok(if text.is_empty() {
        Delta::Empty
    } else {
        Delta::Text(text)
    })
}

/// `{base_url}/chat/completions`, checked.
fn chat_completions_url(base_url: &str) -> Result<reqwest::Url, PipelineError> {
    let joined = format!("{}/chat/completions", base_url.trim_end_matches('/'));
    let url = reqwest::Url::parse(&joined)
        .map_err(|e| config_error("openai.base_url", format!("{base_url:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(config_error(
            "openai.base_url",
            format!("{base_url:?} is not an http(s) URL"),
        ));
    }
    Ok(url)
}

/// A reqwest error with its causes (the top level alone says only "error sending request").
fn reqwest_reason(e: &reqwest::Error) -> String {
    let mut reason = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        reason.push_str(": ");
        reason.push_str(&cause.to_string());
        source = cause.source();
    }
    reason
}

fn config_error(key: &str, reason: String) -> PipelineError {
    PipelineError::Config {
        key: key.to_owned(),
        reason,
    }
}

fn provider_error(reason: String) -> PipelineError {
    PipelineError::Provider {
        provider: NAME,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_events() {
        let cases = [
            (
                r#"{"choices":[{"delta":{"content":"Hi"}}]}"#,
                Delta::Text("Hi".into()),
            ),
            (
                r#"{"choices":[{"delta":{"role":"assistant"}}]}"#,
                Delta::Empty,
            ),
            (r#"{"choices":[{"delta":{"content":null}}]}"#, Delta::Empty),
            (
                r#"{"choices":[{"delta":{},"finish_reason":"stop"}]}"#,
                Delta::Empty,
            ),
            (r#"{"choices":[]}"#, Delta::Empty),
            ("[DONE]", Delta::Done),
        ];
        for (data, expected) in cases {
            assert_eq!(parse_event(data).expect(data), expected, "{data}");
        }
    }

    #[test]
    fn bad_events_are_provider_errors() {
        for data in ["{not json", r#"{"error":{"message":"overloaded"}}"#] {
            let err = parse_event(data).expect_err(data);
            assert!(matches!(err, PipelineError::Provider { .. }), "{err:?}");
        }
    }

    #[test]
    fn builds_the_endpoint_url() {
        for base in ["http://127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1/"] {
            let url = chat_completions_url(base).expect(base);
            assert_eq!(url.as_str(), "http://127.0.0.1:8080/v1/chat/completions");
        }
        for bad in ["not a url", "ftp://x/v1"] {
            assert!(chat_completions_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_hides_the_api_key() {
        let brain = OpenAiBrain::new("http://x/v1", Some("sk-secret".into()), "m").expect("ok");
        let text = format!("{brain:?}");
        assert!(
            !text.contains("sk-secret") && text.contains("redacted"),
            "{text}"
        );
    }
}
