//! The one error type of this crate.

/// Results of this crate.
pub type MailResult<T> = Result<T, MailError>;

/// What went wrong talking mail. Messages never contain a password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MailError {
    /// The server could not be reached (DNS, refused, reset before the greeting).
    #[error("cannot connect to {host}:{port}: {reason}")]
    Connect {
        /// The host.
        host: String,
        /// The port.
        port: u16,
        /// What the socket said.
        reason: String,
    },
    /// The TLS handshake failed or the server offered no STARTTLS.
    #[error("TLS with {host} failed: {reason}")]
    Tls {
        /// The host.
        host: String,
        /// Why.
        reason: String,
    },
    /// The server refused the user name or password.
    #[error("the server refused the login: {reply}")]
    Auth {
        /// The server's reply, as it gave it.
        reply: String,
    },
    /// The server refused the message or a recipient for good (SMTP 5xx).
    #[error("rejected for good: {code} {reply}")]
    Permanent {
        /// The SMTP reply code (550, ...).
        code: u16,
        /// The server's text (with its enhanced status code when it gave one).
        reply: String,
    },
    /// The server refused for now (SMTP 4xx): try again later.
    #[error("refused for now: {code} {reply}")]
    Transient {
        /// The SMTP reply code (421, 451, ...).
        code: u16,
        /// The server's text.
        reply: String,
    },
    /// The server did not answer in time.
    #[error("{what} timed out")]
    Timeout {
        /// What was being waited for.
        what: &'static str,
    },
    /// The server said something this client cannot read.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// An IMAP command was answered `NO` (no such folder, ...).
    #[error("the mailbox refused: {0}")]
    Refused(String),
    /// An argument cannot go on the wire as given (a search string with CR/LF, a flag that
    /// is not an IMAP atom, a date that is not `YYYY-MM-DD`); nothing was sent.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A message could not be built (bad address, header, attachment).
    #[error("invalid message: {0}")]
    InvalidMessage(String),
    /// A received message could not be read at all (beyond the limits, not RFC 5322).
    #[error("unreadable mail: {0}")]
    Unreadable(String),
    /// The TLS settings could not be built (an extra CA file that is not PEM, ...).
    #[error("TLS settings: {0}")]
    TlsConfig(String),
    /// A DNS lookup failed (not: the name has no records, which is an empty answer).
    #[error("DNS lookup of {name} failed: {reason}")]
    Dns {
        /// The name looked up.
        name: String,
        /// Why.
        reason: String,
    },
    /// A DKIM key could not be made, encoded or loaded.
    #[error("DKIM: {0}")]
    Dkim(String),
    /// Socket IO failed mid-conversation.
    #[error("IO: {0}")]
    Io(#[from] std::io::Error),
}

impl MailError {
    /// Whether trying again later may succeed (timeouts, 4xx, connection trouble).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Connect { .. } | Self::Transient { .. } | Self::Timeout { .. } | Self::Io(_)
        )
    }
}
