//! Mail protocols for voxgate's `email` element. This crate knows mail, not circles,
//! elements or storage: the control API decides *whether* and *what* to send; this crate
//! says it on the wire and reads what comes back.
//!
//! - [`compose`]: an [`compose::Outgoing`] message (text and HTML as
//!   multipart/alternative, attachments, threading and `List-Unsubscribe` headers) made into
//!   RFC 5322 bytes with `lettre`'s builder, signed with the sending domain's key when it
//!   has one ([`dkim`]).
//! - [`submit`]: SMTP submission (RFC 6409) with AUTH, STARTTLS or implicit TLS, through
//!   `lettre`; failures are classified (authentication, permanent, transient, connect).
//! - [`listener`]: voxgate's own inbound SMTP server (RFC 5321 receiver): a sans-IO
//!   [`listener::Session`] that takes lines and gives replies, and a thin tokio driver that
//!   asks a [`listener::Delivery`] which recipients it accepts and hands it each message.
//! - [`inbound`]: reading a received message (`mail-parser`) into an [`inbound::Inbound`],
//!   with limits, and recognizing delivery status notifications (RFC 3464) as bounces.
//! - [`imap`]: mailbox operations over IMAP4rev1 (`async-imap`): folders, paging, peeking
//!   (`BODY.PEEK[]`, so reading never sets `\Seen`), search, flags and keywords, moves.
//! - [`dns`]: TXT lookups (`hickory-resolver`) for domain verification.
//! - [`tls`]: the TLS client settings every connection shares: the web PKI roots plus an
//!   optional extra CA (a private or test CA).
//!
//! Every IO edge takes an [`Endpoint`] and [`Login`]; secrets are never printed (`Login`'s
//! `Debug` hides the password) and never put into errors.

mod error;

pub mod compose;
pub mod dkim;
pub mod dns;
pub mod imap;
pub mod inbound;
pub mod listener;
pub mod submit;
pub mod tls;

pub use error::{MailError, MailResult};

/// How a connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Security {
    /// TLS from the first byte (SMTP port 465, IMAP port 993).
    #[default]
    Tls,
    /// Plain text, upgraded with STARTTLS before authenticating (ports 587 and 143). A
    /// server that does not offer STARTTLS is an error, never a silent downgrade.
    StartTls,
    /// No TLS at all: loopback test servers and trusted internal relays only.
    None,
}

impl Security {
    /// The wire name used in specs: `tls`, `starttls` or `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tls => "tls",
            Self::StartTls => "starttls",
            Self::None => "none",
        }
    }

    /// Parses a wire name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "tls" | "ssl" => Some(Self::Tls),
            "starttls" => Some(Self::StartTls),
            "none" | "plain" => Some(Self::None),
            _ => None,
        }
    }
}

/// A mail server to connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Host name or IP address (also the TLS server name).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// How the connection is secured.
    pub security: Security,
}

/// A user name and (app) password.
#[derive(Clone, PartialEq, Eq)]
pub struct Login {
    /// The user name.
    pub username: String,
    /// The password; never printed.
    pub password: String,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("username", &self.username)
            .field("password", &"<hidden>")
            .finish()
    }
}
