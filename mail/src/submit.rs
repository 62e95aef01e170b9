//! SMTP submission (RFC 6409) through `lettre`: AUTH, STARTTLS (RFC 3207) or implicit TLS
//! (RFC 8314).
//!
//! This is an IO edge. A [`Submitter`] holds one account's settings; [`Submitter::send`]
//! opens a connection, secures it, authenticates, submits one message and says `QUIT`;
//! [`Submitter::test`] does the same without submitting anything, so a user can check a
//! password before saving it.
//!
//! The conversation is driven with `lettre`'s [`AsyncSmtpConnection`] step by step rather
//! than through `AsyncSmtpTransport`, for three reasons: the error of each step can be
//! classified by the step (a 5xx on `AUTH` is a refused login, a 5xx on `RCPT` a refused
//! recipient), every step gets the timeout (the transport's timeout covers the TCP connect
//! only), and nothing is spawned (the transport's pool starts a task in its constructor,
//! which needs a runtime and keeps logged-in connections around). A voice agent sends a
//! few messages a minute at most: one connection per message is the simple, honest cost.
//!
//! Security is policy, never negotiated down: [`Security::StartTls`] *requires* STARTTLS
//! (a server that does not offer it is [`MailError::Tls`]), [`Security::Tls`] speaks TLS
//! from the first byte, [`Security::None`] never encrypts. AUTH uses PLAIN or LOGIN.
//!
//! Failures map to [`MailError`]: a permanent reply to AUTH (535 and friends) or a 530
//! "authentication required" is `Auth`, other 5xx `Permanent`, 4xx `Transient`, a socket
//! that cannot be opened or is dropped before the greeting `Connect`, handshake trouble
//! `Tls`, a step that outlives the timeout `Timeout`, a broken socket later on `Io`. The
//! password is never logged and never put into an error (errors carry the server's reply).

use std::time::Duration;

use lettre::address::{Address, Envelope};
use lettre::transport::smtp::Error as SmtpError;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;

use crate::compose::Composed;
use crate::tls::TlsSettings;
use crate::{Endpoint, Login, MailError, MailResult, Security};

/// The AUTH mechanisms tried, in order (RFC 4616 PLAIN, then the common LOGIN).
const MECHANISMS: [Mechanism; 2] = [Mechanism::Plain, Mechanism::Login];

/// What the server said when it took the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The reply code (250).
    pub code: u16,
    /// The reply text (often the server's queue id).
    pub reply: String,
}

/// One account's SMTP submission settings. Cheap to keep; connects only when used.
#[derive(Clone)]
pub struct Submitter {
    endpoint: Endpoint,
    login: Option<Login>,
    /// TLS parameters for `lettre` (`None` with [`Security::None`]).
    tls: Option<TlsParameters>,
    /// The EHLO name: this machine's host name, or `[127.0.0.1]` without one.
    hello: ClientId,
    /// The limit for each step (connect and greeting, STARTTLS, AUTH, the transaction).
    timeout: Duration,
}

impl std::fmt::Debug for Submitter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Submitter")
            .field("endpoint", &self.endpoint)
            .field("login", &self.login)
            .field("hello", &self.hello)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// A step of the conversation: what timed out, and how a failure is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Connect,
    StartTls,
    Auth,
    Transaction,
}

impl Step {
    fn what(self) -> &'static str {
        match self {
            Self::Connect => "SMTP connect and greeting",
            Self::StartTls => "SMTP STARTTLS",
            Self::Auth => "SMTP AUTH",
            Self::Transaction => "SMTP transaction",
        }
    }
}

impl Submitter {
    /// Settings for submitting through `endpoint`, logging in with `login` when given,
    /// trusting what `tls` trusts, and giving each step `timeout`.
    ///
    /// # Errors
    ///
    /// [`MailError::TlsConfig`] if the TLS parameters cannot be built from `tls`.
    pub fn new(
        endpoint: Endpoint,
        login: Option<Login>,
        tls: &TlsSettings,
        timeout: Duration,
    ) -> MailResult<Self> {
        let tls = match endpoint.security {
            Security::None => None,
            Security::Tls | Security::StartTls => Some(tls_parameters(&endpoint.host, tls)?),
        };
        Ok(Self {
            endpoint,
            login,
            tls,
            hello: ClientId::default(),
            timeout,
        })
    }

    /// Submits `message`: MAIL FROM, RCPT TO for every envelope recipient, DATA. All or
    /// nothing: a recipient refused aborts the transaction, nothing is sent to the others.
    ///
    /// # Errors
    ///
    /// See the module doc; a bad envelope address is [`MailError::InvalidMessage`].
    pub async fn send(&self, message: &Composed) -> MailResult<Accepted> {
        let envelope = envelope(message)?;
        let mut conn = self.open().await?;
        let response = self
            .step(Step::Transaction, conn.send(&envelope, &message.raw))
            .await?;
        quit(&mut conn, self.timeout).await;
        tracing::debug!(
            host = %self.endpoint.host,
            recipients = message.envelope_to.len(),
            "message submitted"
        );
        Ok(Accepted {
            code: response.code().into(),
            reply: response.message().collect::<Vec<_>>().join(" "),
        })
    }

    /// Connects, secures the connection, authenticates (when there is a login) and says
    /// `QUIT`: sends nothing.
    ///
    /// # Errors
    ///
    /// As [`Submitter::send`] up to the login.
    pub async fn test(&self) -> MailResult<()> {
        let mut conn = self.open().await?;
        quit(&mut conn, self.timeout).await;
        Ok(())
    }

    /// A connection ready for a transaction: greeted, secured as configured, logged in.
    async fn open(&self) -> MailResult<AsyncSmtpConnection> {
        let Endpoint {
            host,
            port,
            security,
        } = &self.endpoint;
        let wrapper = match security {
            Security::Tls => self.tls.clone(),
            Security::StartTls | Security::None => None,
        };
        let connect = AsyncSmtpConnection::connect_tokio1(
            (host.as_str(), *port),
            Some(self.timeout),
            &self.hello,
            wrapper,
            None,
        );
        let mut conn = self.step(Step::Connect, connect).await?;
        if *security == Security::StartTls {
            self.starttls(&mut conn).await?;
        }
        if let Some(login) = &self.login {
            self.auth(&mut conn, login).await?;
        }
        Ok(conn)
    }

    /// Upgrades with STARTTLS, which the server must offer.
    async fn starttls(&self, conn: &mut AsyncSmtpConnection) -> MailResult<()> {
        let Some(params) = self.tls.clone() else {
            return Err(self.tls_error("no TLS parameters".into()));
        };
        if !conn.can_starttls() {
            conn.abort().await;
            return Err(self.tls_error("the server does not offer STARTTLS".into()));
        }
        self.step(Step::StartTls, conn.starttls(params, &self.hello))
            .await
    }

    /// Logs in with PLAIN or LOGIN, whichever the server offers first in that order.
    async fn auth(&self, conn: &mut AsyncSmtpConnection, login: &Login) -> MailResult<()> {
        if conn.server_info().get_auth_mechanism(&MECHANISMS).is_none() {
            conn.abort().await;
            return Err(MailError::Auth {
                reply: "the server offers no AUTH PLAIN or LOGIN here".into(),
            });
        }
        let credentials = Credentials::new(login.username.clone(), login.password.clone());
        self.step(Step::Auth, conn.auth(&MECHANISMS, &credentials))
            .await?;
        tracing::debug!(host = %self.endpoint.host, user = %login.username, "SMTP login accepted");
        Ok(())
    }

    /// Runs one step under the timeout and classifies its failure.
    async fn step<T>(
        &self,
        step: Step,
        future: impl Future<Output = Result<T, SmtpError>>,
    ) -> MailResult<T> {
        match tokio::time::timeout(self.timeout, future).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(self.classify(step, &error)),
            Err(_) => Err(MailError::Timeout { what: step.what() }),
        }
    }

    /// Reads a `lettre` error in the light of the step it came from.
    fn classify(&self, step: Step, error: &SmtpError) -> MailError {
        if let Some(code) = error.status() {
            return reply_error(step, code.into(), &source_text(error));
        }
        if error.is_timeout() {
            return MailError::Timeout { what: step.what() };
        }
        if error.is_tls() || has_rustls_error(error) {
            return self.tls_error(source_text(error));
        }
        if step == Step::Connect && !error.is_response() && !error.is_client() {
            return MailError::Connect {
                host: self.endpoint.host.clone(),
                port: self.endpoint.port,
                reason: source_text(error),
            };
        }
        if error.is_response() || error.is_client() {
            return MailError::Protocol(error.to_string());
        }
        MailError::Io(std::io::Error::other(error.to_string()))
    }

    fn tls_error(&self, reason: String) -> MailError {
        MailError::Tls {
            host: self.endpoint.host.clone(),
            reason,
        }
    }
}

/// A negative reply: who refused what. RFC 4954 §6: 535 (credentials invalid), 534
/// (mechanism too weak), 538 (encryption required) and 530 (authentication required,
/// also given to MAIL by a server that wants a login) are about the login.
fn reply_error(step: Step, code: u16, text: &str) -> MailError {
    let reply = format!("{code} {text}");
    let about_login = matches!(code, 530 | 534 | 535 | 538);
    match code {
        500..=599 if step == Step::Auth || about_login => MailError::Auth { reply },
        500..=599 => MailError::Permanent {
            code,
            reply: text.to_owned(),
        },
        _ => MailError::Transient {
            code,
            reply: text.to_owned(),
        },
    }
}

/// `lettre`'s TLS parameters for `host`: its default roots (the web PKI) plus the extra CA.
fn tls_parameters(host: &str, tls: &TlsSettings) -> MailResult<TlsParameters> {
    let mut builder = TlsParameters::builder(host.to_owned());
    if let Some(pem) = tls.extra_ca_pem() {
        let cert = Certificate::from_pem(pem)
            .map_err(|e| MailError::TlsConfig(format!("extra CA: {e}")))?;
        builder = builder.add_root_certificate(cert);
    }
    builder
        .build_rustls()
        .map_err(|e| MailError::TlsConfig(e.to_string()))
}

/// The SMTP envelope of a composed message.
fn envelope(message: &Composed) -> MailResult<Envelope> {
    let parse = |field: &str, text: &str| {
        text.parse::<Address>().map_err(|_| {
            MailError::InvalidMessage(format!("{field}: not an email address: {text:?}"))
        })
    };
    let from = parse("envelope_from", &message.envelope_from)?;
    let to = message
        .envelope_to
        .iter()
        .enumerate()
        .map(|(i, to)| parse(&format!("envelope_to[{i}]"), to))
        .collect::<MailResult<Vec<_>>>()?;
    Envelope::new(Some(from), to).map_err(|e| MailError::InvalidMessage(e.to_string()))
}

/// Says `QUIT` politely; the message is already accepted, so a failure here is not one.
async fn quit(conn: &mut AsyncSmtpConnection, timeout: Duration) {
    if tokio::time::timeout(timeout, conn.quit()).await.is_err() {
        tracing::debug!("SMTP QUIT timed out");
    }
}

/// The error's own text (the server's reply for negative replies), without `lettre`'s
/// prefix.
fn source_text(error: &SmtpError) -> String {
    match std::error::Error::source(error) {
        Some(source) => source.to_string(),
        None => error.to_string(),
    }
}

/// Whether a rustls error is anywhere in the chain (`lettre` reports a failed handshake
/// as a connection error; tokio-rustls wraps the rustls error in an `io::Error`).
fn has_rustls_error(error: &SmtpError) -> bool {
    let mut next: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    while let Some(e) = next {
        if e.is::<rustls::Error>() {
            return true;
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io
                .get_ref()
                .is_some_and(|inner| inner.is::<rustls::Error>())
        {
            return true;
        }
        next = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_classified_by_step_and_code() {
        let table: [(Step, u16, &str); 8] = [
            (Step::Auth, 535, "auth"),
            (Step::Auth, 504, "auth"),
            (Step::Auth, 454, "transient"),
            (Step::Transaction, 530, "auth"),
            (Step::Transaction, 550, "permanent"),
            (Step::Transaction, 552, "permanent"),
            (Step::Transaction, 451, "transient"),
            (Step::StartTls, 454, "transient"),
        ];
        for (step, code, expected) in table {
            let got = match reply_error(step, code, "5.0.0 text") {
                MailError::Auth { reply } => {
                    assert!(reply.starts_with(&code.to_string()));
                    "auth"
                }
                MailError::Permanent { code: c, .. } if c == code => "permanent",
                MailError::Transient { code: c, .. } if c == code => "transient",
                other => panic!("{step:?} {code}: {other:?}"),
            };
            assert_eq!(got, expected, "{step:?} {code}");
        }
    }

    #[test]
    fn debug_hides_the_password() {
        let submitter = Submitter::new(
            Endpoint {
                host: "smtp.example.com".into(),
                port: 587,
                security: Security::StartTls,
            },
            Some(Login {
                username: "ann".into(),
                password: "hunter2-secret".into(),
            }),
            &TlsSettings::web_pki(),
            Duration::from_secs(5),
        )
        .expect("settings");
        assert!(!format!("{submitter:?}").contains("hunter2"));
    }

    #[test]
    fn bad_envelope_is_invalid_message() {
        let composed = Composed {
            raw: b"Subject: x\r\n\r\nx\r\n".to_vec(),
            envelope_from: "a@example.com".into(),
            envelope_to: vec!["nope".into()],
        };
        assert!(matches!(
            envelope(&composed),
            Err(MailError::InvalidMessage(_))
        ));
    }
}
