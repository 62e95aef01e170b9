//! The email element's side of the server: the `[email]` config section, the settings the
//! control API's email operations get, and the two tasks that run beside the HTTP server:
//! the inbound SMTP listener on `email.smtp_listen` (delivering into
//! `voxgate_control_api::email::receive::Inbox`) and the retry worker that resubmits
//! queued messages after their backoff.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use serde::Deserialize;
use tokio::sync::watch;
use voxgate_control_api::AppState;
use voxgate_control_api::email::receive::Inbox;
use voxgate_control_api::email::{
    DEFAULT_DAILY_CAP_PER_CIRCLE, EmailSettings, MailRetry, PlatformMail,
};
use voxgate_mail::listener::{ListenerConfig, serve};
use voxgate_mail::tls::TlsSettings;
use voxgate_mail::{Endpoint, Security};

use crate::config::ConfigError;

/// The `[email]` section.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct EmailConfig {
    /// Run the inbound SMTP listener. Default true; env `VOXGATE_EMAIL_ENABLED`.
    pub(crate) enabled: bool,
    /// Where inbound mail is taken (plain SMTP, RFC 5321; put it behind the MX or a
    /// relay). Default `127.0.0.1:2525`; env `VOXGATE_EMAIL_SMTP_LISTEN`.
    pub(crate) smtp_listen: SocketAddr,
    /// The largest inbound message, in bytes. Default 25 MiB; env
    /// `VOXGATE_EMAIL_MAX_MESSAGE_BYTES`.
    pub(crate) max_message_bytes: usize,
    /// Messages a circle may send per UTC day. Default 500; env
    /// `EMAIL_DAILY_CAP_PER_CIRCLE` (or `VOXGATE_EMAIL_DAILY_CAP_PER_CIRCLE`).
    pub(crate) daily_cap_per_circle: i64,
    /// An extra CA (PEM) trusted for SMTP and IMAP, beside the web PKI. Default none; env
    /// `VOXGATE_EMAIL_CA_FILE`.
    pub(crate) ca_file: Option<PathBuf>,
    /// The DNS server for domain verification. Default: the system's; env
    /// `VOXGATE_EMAIL_DNS_SERVER`.
    pub(crate) dns_server: Option<SocketAddr>,
    /// Submission attempts per message (transient failures). Default 5; env
    /// `VOXGATE_EMAIL_MAX_ATTEMPTS`.
    pub(crate) max_attempts: i64,
    /// The first retry's backoff, doubled each time (at most 10 minutes). Default 2000;
    /// env `VOXGATE_EMAIL_RETRY_BASE_MS`.
    pub(crate) retry_base_ms: u64,
    /// The platform mailbox behind `stalwart_managed` elements (`[email.platform]`).
    pub(crate) platform: Option<PlatformConfig>,
}

/// `[email.platform]`: the deployment's own mail server.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PlatformConfig {
    /// Its domains; env `VOXGATE_EMAIL_PLATFORM_DOMAINS` (comma-separated).
    pub(crate) domains: Vec<String>,
    /// Its SMTP submission server, `starttls://host:587`, `tls://host:465` or
    /// `none://host:port`; env `VOXGATE_EMAIL_PLATFORM_SMTP`.
    pub(crate) smtp: String,
    /// Its IMAP server, `tls://host:993`, ...; env `VOXGATE_EMAIL_PLATFORM_IMAP`.
    pub(crate) imap: String,
}

impl Default for EmailConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            smtp_listen: SocketAddr::from(([127, 0, 0, 1], 2525)),
            max_message_bytes: 25 * 1024 * 1024,
            daily_cap_per_circle: DEFAULT_DAILY_CAP_PER_CIRCLE,
            ca_file: None,
            dns_server: None,
            max_attempts: 5,
            retry_base_ms: 2_000,
            platform: None,
        }
    }
}

fn env_error(name: &str, value: String, expected: &'static str) -> ConfigError {
    ConfigError::Env {
        name: name.to_owned(),
        value,
        expected,
    }
}

impl EmailConfig {
    /// Applies one environment variable; false if it is not one of this section's.
    pub(crate) fn apply_env(&mut self, name: &str, value: String) -> Result<bool, ConfigError> {
        match name {
            "VOXGATE_EMAIL_ENABLED" => {
                self.enabled = match value.as_str() {
                    "true" | "1" | "yes" => true,
                    "false" | "0" | "no" => false,
                    _ => return Err(env_error(name, value, "true or false")),
                };
            }
            "VOXGATE_EMAIL_SMTP_LISTEN" => {
                self.smtp_listen = value
                    .parse()
                    .map_err(|_| env_error(name, value, "socket address"))?;
            }
            "VOXGATE_EMAIL_MAX_MESSAGE_BYTES" => {
                self.max_message_bytes = match value.parse() {
                    Ok(n) if n >= 1024 => n,
                    _ => return Err(env_error(name, value, "size in bytes (1024 or more)")),
                };
            }
            "EMAIL_DAILY_CAP_PER_CIRCLE" | "VOXGATE_EMAIL_DAILY_CAP_PER_CIRCLE" => {
                self.daily_cap_per_circle = match value.parse() {
                    Ok(n) if n >= 0 => n,
                    _ => return Err(env_error(name, value, "number of messages (0 or more)")),
                };
            }
            "VOXGATE_EMAIL_CA_FILE" => {
                self.ca_file = Some(PathBuf::from(value)).filter(|p| !p.as_os_str().is_empty());
            }
            "VOXGATE_EMAIL_DNS_SERVER" => {
                self.dns_server = match value.as_str() {
                    "" => None,
                    v => Some(
                        v.parse()
                            .map_err(|_| env_error(name, value.clone(), "socket address"))?,
                    ),
                };
            }
            "VOXGATE_EMAIL_MAX_ATTEMPTS" => {
                self.max_attempts = match value.parse() {
                    Ok(n) if (1..=20).contains(&n) => n,
                    _ => return Err(env_error(name, value, "number of attempts (1-20)")),
                };
            }
            "VOXGATE_EMAIL_RETRY_BASE_MS" => {
                self.retry_base_ms = match value.parse() {
                    Ok(n) if n >= 10 => n,
                    _ => return Err(env_error(name, value, "milliseconds (10 or more)")),
                };
            }
            "VOXGATE_EMAIL_PLATFORM_DOMAINS" => {
                self.platform_mut().domains = value
                    .split(',')
                    .map(|d| d.trim().to_lowercase())
                    .filter(|d| !d.is_empty())
                    .collect();
            }
            "VOXGATE_EMAIL_PLATFORM_SMTP" => self.platform_mut().smtp = value,
            "VOXGATE_EMAIL_PLATFORM_IMAP" => self.platform_mut().imap = value,
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn platform_mut(&mut self) -> &mut PlatformConfig {
        self.platform.get_or_insert_with(|| PlatformConfig {
            domains: Vec::new(),
            smtp: String::new(),
            imap: String::new(),
        })
    }

    /// The control API's email settings.
    pub(crate) fn settings(&self, public_url: &str) -> anyhow::Result<EmailSettings> {
        let tls = TlsSettings::from_ca_file(self.ca_file.as_deref())
            .with_context(|| "email.ca_file".to_owned())?;
        let platform = match &self.platform {
            None => None,
            Some(p) => Some(PlatformMail {
                domains: p.domains.clone(),
                smtp: endpoint(&p.smtp).context("email.platform.smtp")?,
                imap: endpoint(&p.imap).context("email.platform.imap")?,
            }),
        };
        Ok(EmailSettings {
            public_url: public_url.trim_end_matches('/').to_owned(),
            daily_cap_per_circle: self.daily_cap_per_circle,
            platform,
            tls,
            dns_server: self.dns_server,
            retry: MailRetry {
                max_attempts: self.max_attempts,
                base: Duration::from_millis(self.retry_base_ms),
                ..MailRetry::default()
            },
            ..EmailSettings::default()
        })
    }
}

/// `starttls://host:587` (or `tls://`, `none://`).
fn endpoint(text: &str) -> anyhow::Result<Endpoint> {
    let (scheme, rest) = text
        .split_once("://")
        .with_context(|| format!("{text:?} is not scheme://host:port"))?;
    let security = Security::parse(scheme)
        .with_context(|| format!("{scheme:?} is not tls, starttls or none"))?;
    let (host, port) = rest
        .rsplit_once(':')
        .with_context(|| format!("{rest:?} has no :port"))?;
    let port = port
        .parse()
        .with_context(|| format!("{port:?} is not a port"))?;
    anyhow::ensure!(!host.is_empty(), "{text:?} has no host");
    Ok(Endpoint {
        host: host.trim_matches(['[', ']']).to_owned(),
        port,
        security,
    })
}

/// The running listener and worker; dropping it stops both.
pub(crate) struct EmailService {
    stop: watch::Sender<bool>,
}

impl Drop for EmailService {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Starts the retry worker and (when enabled) the inbound listener.
pub(crate) async fn start(config: &EmailConfig, state: &AppState) -> anyhow::Result<EmailService> {
    let (stop, stopped) = watch::channel(false);
    let until_stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    tokio::spawn(voxgate_control_api::email::deliver::run(
        state.clone(),
        until_stopped(stopped.clone()),
    ));
    if config.enabled {
        let listener = tokio::net::TcpListener::bind(config.smtp_listen)
            .await
            .with_context(|| format!("binding the SMTP listener on {}", config.smtp_listen))?;
        let local_addr = listener.local_addr().ok();
        let settings = ListenerConfig {
            max_message_bytes: config.max_message_bytes,
            ..ListenerConfig::default()
        };
        let inbox = Arc::new(Inbox::new(state.clone()));
        let shutdown = until_stopped(stopped);
        tokio::spawn(async move {
            if let Err(e) = serve(listener, settings, inbox, shutdown).await {
                tracing::error!(error = %e, "the SMTP listener stopped");
            }
        });
        tracing::info!(addr = ?local_addr, "taking inbound mail");
    }
    Ok(EmailService { stop })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_come_from_the_documented_variables() {
        let mut c = EmailConfig::default();
        assert_eq!(c.smtp_listen.to_string(), "127.0.0.1:2525");
        assert_eq!(c.daily_cap_per_circle, 500);
        for (name, value) in [
            ("EMAIL_DAILY_CAP_PER_CIRCLE", "7"),
            ("VOXGATE_EMAIL_SMTP_LISTEN", "127.0.0.1:2626"),
            ("VOXGATE_EMAIL_PLATFORM_DOMAINS", "Mail.Example.com, x.se"),
            (
                "VOXGATE_EMAIL_PLATFORM_SMTP",
                "starttls://smtp.example.com:587",
            ),
            ("VOXGATE_EMAIL_PLATFORM_IMAP", "tls://imap.example.com:993"),
            ("VOXGATE_EMAIL_RETRY_BASE_MS", "50"),
        ] {
            assert!(c.apply_env(name, value.to_owned()).expect(name), "{name}");
        }
        assert!(!c.apply_env("VOXGATE_OTHER", String::new()).expect("other"));
        let s = c.settings("http://h:1/").expect("settings");
        assert_eq!(s.daily_cap_per_circle, 7);
        assert_eq!(s.public_url, "http://h:1");
        let platform = s.platform.expect("platform");
        assert_eq!(platform.domains, ["mail.example.com", "x.se"]);
        assert_eq!(
            (
                platform.smtp.host.as_str(),
                platform.smtp.port,
                platform.smtp.security
            ),
            ("smtp.example.com", 587, Security::StartTls)
        );
        assert_eq!(s.retry.base, Duration::from_millis(50));
        for (name, bad) in [
            ("EMAIL_DAILY_CAP_PER_CIRCLE", "-1"),
            ("VOXGATE_EMAIL_SMTP_LISTEN", "nope"),
            ("VOXGATE_EMAIL_ENABLED", "maybe"),
            ("VOXGATE_EMAIL_MAX_ATTEMPTS", "0"),
        ] {
            assert!(c.apply_env(name, bad.to_owned()).is_err(), "{name}={bad}");
        }
        assert!(endpoint("smtp.example.com:587").is_err());
        assert!(endpoint("ftp://h:1").is_err());
    }
}
