//! The `email` element's operations: sending (with the outbox, suppressions, consent, the
//! per-circle daily cap and tracking), receiving (voxgate's SMTP listener hands mail here),
//! mailbox operations over IMAP, domains and addresses, and the audit log.
//!
//! The protocols live in `voxgate-mail`; this module decides. Every send is stored before it
//! is attempted ([`send`]), passes the same gates in the same order (addresses, suppression,
//! send policy, consent for tracked mail, the sender's domain, the daily cap), and is then
//! either queued for approval (`send_policy = outbox`, [`outbox`]) or handed to the
//! [`deliver`] worker, which submits it over SMTP and retries transient failures with
//! backoff. Everything that happens to a message or an address is written to the audit log
//! ([`audit`]) and counted in `/metrics`.
//!
//! Design notes and the operation table: `docs/email.md`.

pub mod account;
pub mod address;
pub mod addresses;
pub mod audit;
pub mod connection;
pub mod deliver;
pub mod domains;
pub mod mailbox;
pub mod messages;
pub mod outbox;
pub mod receive;
pub mod send;
pub mod suppress;
pub mod track;

use std::net::SocketAddr;
use std::time::Duration;

use voxgate_mail::Endpoint;
use voxgate_mail::tls::TlsSettings;

/// The per-circle daily send cap when none is configured (`EMAIL_DAILY_CAP_PER_CIRCLE`).
pub const DEFAULT_DAILY_CAP_PER_CIRCLE: i64 = 500;

/// What the email operations need to know about this deployment.
#[derive(Debug, Clone)]
pub struct EmailSettings {
    /// voxgate's public base URL: tracking and unsubscribe links point here.
    pub public_url: String,
    /// Messages a circle may send per UTC day (`email.daily_cap_per_circle`, env
    /// `EMAIL_DAILY_CAP_PER_CIRCLE`). Default 500.
    pub daily_cap_per_circle: i64,
    /// The platform mailbox behind `stalwart_managed` elements, if the deployment has one.
    pub platform: Option<PlatformMail>,
    /// TLS client settings (web PKI plus `email.ca_file`).
    pub tls: TlsSettings,
    /// The DNS server for domain verification; `None` = the system's resolver.
    pub dns_server: Option<SocketAddr>,
    /// Submission attempts and their backoff.
    pub retry: MailRetry,
    /// Connect and command timeout of SMTP and IMAP.
    pub timeout: Duration,
}

impl Default for EmailSettings {
    fn default() -> Self {
        Self {
            public_url: "http://127.0.0.1:8080".to_owned(),
            daily_cap_per_circle: DEFAULT_DAILY_CAP_PER_CIRCLE,
            platform: None,
            tls: TlsSettings::web_pki(),
            dns_server: None,
            retry: MailRetry::default(),
            timeout: Duration::from_secs(30),
        }
    }
}

/// The deployment's own mail server (Stalwart in production): its domains and where to
/// reach it. Circles log in as `<circle id>@<first domain>` with a password derived from
/// the secrets key ([`account::managed_password`]).
#[derive(Debug, Clone)]
pub struct PlatformMail {
    /// The platform's mail domains (`mail.example.com`); a circle's managed domain is
    /// `<circle>.<first domain>`.
    pub domains: Vec<String>,
    /// Its SMTP submission endpoint.
    pub smtp: Endpoint,
    /// Its IMAP endpoint.
    pub imap: Endpoint,
}

/// How often and how patiently a message is submitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailRetry {
    /// Attempts in all (transient failures only; a permanent one ends at once). Default 5.
    pub max_attempts: i64,
    /// The first backoff; doubled after each failure. Default 2 s.
    pub base: Duration,
    /// The longest backoff. Default 10 minutes.
    pub max: Duration,
}

impl Default for MailRetry {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base: Duration::from_secs(2),
            max: Duration::from_secs(600),
        }
    }
}

impl MailRetry {
    /// The wait after `attempts` failed attempts (1 = after the first).
    pub fn backoff(&self, attempts: i64) -> Duration {
        let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
        self.base.saturating_mul(1 << doublings).min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let retry = MailRetry::default();
        let waits: Vec<u64> = (1..=10).map(|n| retry.backoff(n).as_secs()).collect();
        assert_eq!(waits, [2, 4, 8, 16, 32, 64, 128, 256, 512, 600]);
        assert_eq!(retry.backoff(0).as_secs(), 2);
    }
}
