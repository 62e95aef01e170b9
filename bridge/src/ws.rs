//! **IO edge**: the axum WebSocket endpoint 46elks connects to.
//!
//! `GET /api/webhooks/46elks/voice/ws?token=...` checks the token (46elks documents no
//! handshake authentication, doc §1.1, so an unguessable token in the URL is the credential;
//! allow-list 46elks' IPs in front as well), then upgrades and hands the socket, wrapped as a
//! [`WsLeg`], to the application's [`CallHandler`]. The handler's task owns the call: it
//! runs a [`Session`](crate::Session) in a `select!` over [`WsLeg::recv`], the session's
//! timer and its own command channel. This module does nothing else: no protocol logic.

use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::SinkExt as _;
use futures::future::BoxFuture;
use serde::Deserialize;

use crate::error::BridgeError;
use crate::session::Input;

/// The path 46elks' websocket number points at (with `?token=...`).
pub const PATH: &str = "/api/webhooks/46elks/voice/ws";

/// The endpoint's configuration.
#[derive(Clone, PartialEq, Eq)]
pub struct WsConfig {
    /// The secret expected in `?token=`, compared in constant time. No default: an empty
    /// token refuses every connection.
    pub token: String,
    /// The largest WebSocket message accepted; larger ones reach the session as
    /// [`LegInput::TooLarge`]. Default 1 MiB, as
    /// [`SessionConfig::max_message_bytes`](crate::SessionConfig::max_message_bytes).
    pub max_message_bytes: usize,
}

impl Default for WsConfig {
    fn default() -> Self {
        Self {
            token: String::new(),
            max_message_bytes: 1 << 20,
        }
    }
}

impl std::fmt::Debug for WsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsConfig")
            .field("token", &"<redacted>")
            .field("max_message_bytes", &self.max_message_bytes)
            .finish()
    }
}

/// What the application does with each accepted call: typically spawn nothing (axum already
/// runs the future on its own task) and run the call's select loop to the end.
pub trait CallHandler: Send + Sync + 'static {
    /// Runs one call on `leg` until it ends.
    fn handle(&self, leg: WsLeg) -> BoxFuture<'static, ()>;
}

#[derive(Clone)]
struct Endpoint {
    config: Arc<WsConfig>,
    handler: Arc<dyn CallHandler>,
}

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

/// The 46elks WebSocket route, ready to merge into the server's router.
pub fn router(config: WsConfig, handler: Arc<dyn CallHandler>) -> Router {
    let endpoint = Endpoint {
        config: Arc::new(config),
        handler,
    };
    Router::new().route(PATH, get(upgrade)).with_state(endpoint)
}

/// Checks the token before anything else, so a wrong one gets 401 whether or not the
/// request is a valid upgrade.
async fn upgrade(
    State(endpoint): State<Endpoint>,
    query: Result<Query<TokenQuery>, QueryRejection>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let token = query.ok().and_then(|Query(q)| q.token);
    if !token_matches(&endpoint.config.token, token.as_deref()) {
        tracing::warn!("46elks websocket refused: wrong or missing token");
        let body = axum::Json(serde_json::json!({ "code": BridgeError::Unauthorized.code() }));
        return (StatusCode::UNAUTHORIZED, body).into_response();
    }
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => return rejection.into_response(),
    };
    let max = endpoint.config.max_message_bytes;
    ws.max_message_size(max)
        .max_frame_size(max)
        .read_buffer_size(READ_BUFFER)
        .on_upgrade(move |socket| endpoint.handler.handle(WsLeg { socket }))
}

/// The socket's read buffer. tungstenite's default (128 KiB) is zeroed on every read: for
/// 50 small audio messages a second per call that memset was the largest single cost of
/// the call path. 46elks messages are a few hundred bytes; larger ones take several reads.
const READ_BUFFER: usize = 4 * 1024;

/// Compares in time that depends only on the expected token's length. An empty expected
/// token matches nothing.
fn token_matches(expected: &str, given: Option<&str>) -> bool {
    let (expected, given) = (expected.as_bytes(), given.unwrap_or("").as_bytes());
    let mut diff = u8::from(expected.len() != given.len() || expected.is_empty());
    for (i, e) in expected.iter().enumerate() {
        diff |= e ^ given.get(i).copied().unwrap_or(!e);
    }
    std::hint::black_box(diff) == 0
}

/// What [`WsLeg::recv`] delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LegInput {
    /// A text frame, as the socket layer received it (not copied).
    Text(Utf8Bytes),
    /// A binary frame of this many bytes.
    Binary(usize),
    /// The socket closed or failed.
    Closed,
    /// A message over the size limit (length if the socket layer said).
    TooLarge(Option<usize>),
}

impl LegInput {
    /// The same, as the session's [`Input`].
    pub fn as_input(&self) -> Input<'_> {
        match self {
            Self::Text(text) => Input::Text(text.as_str()),
            Self::Binary(len) => Input::Binary { len: *len },
            Self::Closed => Input::Closed,
            Self::TooLarge(len) => Input::TooLarge { len: *len },
        }
    }
}

/// One accepted 46elks WebSocket.
#[derive(Debug)]
pub struct WsLeg {
    socket: WebSocket,
}

impl WsLeg {
    /// The next frame that matters (pings are answered by the socket layer and skipped).
    /// Cancel-safe: usable in `select!`.
    pub async fn recv(&mut self) -> LegInput {
        loop {
            return match self.socket.recv().await {
                None | Some(Ok(Message::Close(_))) => LegInput::Closed,
                Some(Ok(Message::Text(text))) => LegInput::Text(text),
                Some(Ok(Message::Binary(bytes))) => LegInput::Binary(bytes.len()),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Err(e)) => classify_error(&e.to_string()),
            };
        }
    }

    /// Sends one text frame.
    pub async fn send(&mut self, text: String) -> Result<(), BridgeError> {
        self.socket
            .send(Message::Text(text.into()))
            .await
            .map_err(|e| {
                tracing::debug!(%e, "46elks websocket send failed");
                BridgeError::SocketLost
            })
    }

    /// Sends a close frame and drops the socket.
    pub async fn close(mut self) {
        if let Err(e) = self.socket.close().await {
            tracing::debug!(%e, "46elks websocket close failed");
        }
    }
}

/// The socket layer reports an oversized message only as an error whose text is
/// tungstenite's ("Space limit exceeded: Message too long: {size} > {max}"); axum does not
/// re-export the error type. The integration tests pin this.
fn classify_error(text: &str) -> LegInput {
    const TOO_LONG: &str = "Message too long: ";
    match text.find(TOO_LONG) {
        Some(at) => {
            let rest = &text[at + TOO_LONG.len()..];
            let digits = rest.split(|c: char| !c.is_ascii_digit()).next();
            LegInput::TooLarge(digits.and_then(|d| d.parse().ok()))
        }
        None if text.contains("Space limit exceeded") => LegInput::TooLarge(None),
        None => {
            tracing::debug!(error = text, "46elks websocket failed");
            LegInput::Closed
        }
    }
}

#[cfg(test)]
mod tests;
