//! The carrier's WebSocket client, shared by every simulated carrier (46elks here, Twilio
//! Media Streams in the latency harness): connect, then one writer task fed by a channel so
//! that any task may send.

use futures::stream::SplitStream;
use futures::{SinkExt as _, StreamExt as _};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::error::BridgeError;

/// The read buffer: tungstenite zeroes its 128 KiB default on every read, which would make
/// hundreds of simulated callers cost more than the server they test.
const READ_BUFFER: usize = 4 * 1024;

/// Messages from the server.
pub type Incoming = SplitStream<WebSocketStream<MaybeTlsStream<TcpStream>>>;

/// An open carrier socket.
#[derive(Debug)]
pub struct Socket {
    /// Queues a message for the writer task; a `Close` ends it after sending.
    pub out: mpsc::UnboundedSender<Message>,
    /// What the server sends.
    pub incoming: Incoming,
    /// The writer task.
    pub writer: JoinHandle<()>,
}

/// Opens the WebSocket at `url` and starts its writer task.
///
/// # Errors
///
/// [`BridgeError::ConnectFailed`] when the socket cannot be opened or upgraded.
pub async fn open(url: &str) -> Result<Socket, BridgeError> {
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER);
    let (socket, _response) =
        tokio_tungstenite::connect_async_with_config(url, Some(config), false)
            .await
            .map_err(|e| BridgeError::ConnectFailed(e.to_string()))?;
    let (mut sink, incoming) = socket.split();
    let (out, mut rx) = mpsc::unbounded_channel::<Message>();
    let writer = tokio::spawn(async move {
        while let Some(msg) = rx.recv().await {
            let close = matches!(msg, Message::Close(_));
            if sink.send(msg).await.is_err() || close {
                break;
            }
        }
    });
    Ok(Socket {
        out,
        incoming,
        writer,
    })
}
