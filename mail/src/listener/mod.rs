//! voxgate's inbound SMTP server (an RFC 5321 receiver on `email.smtp_listen`).
//!
//! A sans-IO [`Session`] core (bytes in, replies and requests out; no sockets, no clock)
//! and a thin tokio driver ([`serve`]) that owns the sockets, applies the timeouts and asks
//! the [`Delivery`] which recipients exist and what to do with each message.
//!
//! - `command`: one command line into a command (pure syntax).
//! - `data`: the message content after `DATA`: dot-unstuffing, the end line, the size limit.
//! - `reply`: [`Reply`], with enhanced status codes (RFC 3463).
//! - `session`: [`Session`], the conversation's state machine (RFC 5321 §4.1, §4.3.2).
//! - `driver`: [`serve`], the IO edge: accept loop, connection limit, idle timeout,
//!   graceful shutdown.
//!
//! The listener stores nothing and reads no message: it answers SMTP, asks the
//! [`Delivery`], and hands over the bytes. Reading them is [`crate::inbound`]'s job. It has
//! no AUTH and no STARTTLS: it is meant for loopback or behind the domain's MX.

mod command;
mod data;
mod driver;
mod reply;
mod session;

pub use driver::serve;
pub use reply::Reply;
pub use session::{MAX_COMMAND_LINE, MAX_ERRORS, MAX_REFUSED_RECIPIENTS, Output, Session};

use std::net::SocketAddr;
use std::time::Duration;

/// Limits and names of the listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerConfig {
    /// The name in the greeting and EHLO reply. Default `voxgate`.
    pub hostname: String,
    /// The largest message accepted (`SIZE`), in bytes. Default 25 MiB.
    pub max_message_bytes: usize,
    /// Recipients per message. Default 100 (RFC 5321 §4.5.3.1.8's minimum).
    pub max_recipients: usize,
    /// How long a client may stay silent. Default 5 minutes (RFC 5321 §4.5.3.2.7).
    pub idle_timeout: Duration,
    /// Connections served at once; more are told `421` and closed. Default 256.
    pub max_connections: usize,
    /// The longest a session may last, busy or not (then `421`). Default 30 minutes:
    /// 25 MiB at 20 KB/s.
    pub max_session: Duration,
}

impl Default for ListenerConfig {
    fn default() -> Self {
        Self {
            hostname: "voxgate".to_owned(),
            max_message_bytes: 25 * 1024 * 1024,
            max_recipients: 100,
            idle_timeout: Duration::from_secs(300),
            max_connections: 256,
            max_session: Duration::from_secs(1800),
        }
    }
}

/// One message's envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// What the client said in HELO/EHLO.
    pub helo: String,
    /// `MAIL FROM`; empty for the null reverse-path `<>` (bounces).
    pub mail_from: String,
    /// Accepted `RCPT TO` addresses.
    pub rcpt_to: Vec<String>,
    /// The client's address.
    pub peer: SocketAddr,
}

/// The [`Delivery`]'s answer about a recipient or a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// `250`.
    Accept,
    /// A refusal: `code` (4xx for "later", 5xx for "never"), an enhanced status code
    /// (RFC 3463, `5.1.1`) and a short text.
    Reject {
        /// The reply code.
        code: u16,
        /// The enhanced status code.
        status: String,
        /// The text.
        text: String,
    },
}

/// Where accepted mail goes.
#[async_trait::async_trait]
pub trait Delivery: Send + Sync + 'static {
    /// Whether `RCPT TO:<address>` is accepted.
    async fn recipient(&self, address: &str) -> Verdict;
    /// Takes one message (after the final `.`); `Accept` means it is stored.
    async fn deliver(&self, envelope: &Envelope, raw: Vec<u8>) -> Verdict;
}
