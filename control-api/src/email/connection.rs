//! `test-connection` for mailboxes: EHLO, STARTTLS or TLS, and AUTH at the SMTP server,
//! then (when the element has a mailbox) a login at the IMAP server. Nothing is sent.

use std::time::Instant;

use axum::http::StatusCode;
use voxgate_mail::MailError;
use voxgate_mail::imap::ImapSession;
use voxgate_mail::submit::Submitter;

use super::account::{self, Server};
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use crate::store::Element;

/// The API error of a failed mail-server conversation.
pub fn mail_error(server: &str, e: &MailError) -> ApiError {
    let (status, code) = match e {
        MailError::Auth { .. } => (StatusCode::BAD_GATEWAY, ErrorCode::EmailAuthFailed),
        MailError::Timeout { .. } => (StatusCode::GATEWAY_TIMEOUT, ErrorCode::EmailTimeout),
        MailError::Tls { .. } | MailError::TlsConfig(_) => {
            (StatusCode::BAD_GATEWAY, ErrorCode::EmailTlsFailed)
        }
        MailError::Connect { .. } | MailError::Io(_) => {
            (StatusCode::BAD_GATEWAY, ErrorCode::EmailUnreachable)
        }
        MailError::Refused(_) => (StatusCode::BAD_GATEWAY, ErrorCode::EmailMailboxRefused),
        _ => (StatusCode::BAD_GATEWAY, ErrorCode::EmailServerError),
    };
    ApiError::failed(status, code, format!("{server}: {e}"), e.is_retryable())
}

/// A failure as test-connection reports it: the error envelope's fields.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TestError {
    /// The stable code (`EMAIL_AUTH_FAILED`, `EMAIL_UNREACHABLE`, ...).
    pub code: String,
    /// What the server said.
    pub message: String,
    /// Whether trying again later may help.
    pub retryable: bool,
}

/// One server's result: where, whose login, how long, and what went wrong (a refused
/// login is `connected` but not `authenticated`).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ServerTest {
    /// The host.
    pub host: String,
    /// The port.
    pub port: u16,
    /// `tls`, `starttls` or `none`.
    pub security: &'static str,
    /// The login's user name.
    pub username: String,
    /// How long the test took.
    pub elapsed_ms: u64,
    /// Whether the server answered.
    pub connected: bool,
    /// Whether it took the login.
    pub authenticated: bool,
    /// What went wrong, if anything.
    pub error: Option<TestError>,
}

/// `test-connection`'s answer: the whole (`ok`, `connected`, `authenticated`, the first
/// `error`) and each server's.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ConnectionTest {
    /// Every server tested answered and took its login.
    pub ok: bool,
    /// Every server tested answered.
    pub connected: bool,
    /// Every server tested took its login.
    pub authenticated: bool,
    /// The first failure.
    pub error: Option<TestError>,
    /// The SMTP server's result, when the element sends.
    pub smtp: Option<ServerTest>,
    /// The IMAP server's result, when the element has a mailbox.
    pub imap: Option<ServerTest>,
}

fn describe(server: &Server, elapsed: Instant, outcome: Result<(), ApiError>) -> ServerTest {
    let (connected, authenticated, error) = match outcome {
        Ok(()) => (true, true, None),
        Err(e) => {
            let refused_login = e.code() == ErrorCode::EmailAuthFailed.as_str();
            let error = TestError {
                code: e.code().to_owned(),
                message: e.to_string(),
                retryable: e.retryable(),
            };
            (refused_login, false, Some(error))
        }
    };
    ServerTest {
        host: server.endpoint.host.clone(),
        port: server.endpoint.port,
        security: server.endpoint.security.as_str(),
        username: server.login.username.clone(),
        elapsed_ms: u64::try_from(elapsed.elapsed().as_millis()).unwrap_or(u64::MAX),
        connected,
        authenticated,
        error,
    }
}

/// `test-connection` of an email element: EHLO, TLS and AUTH at SMTP, a login at IMAP;
/// sends nothing. A server that cannot be reached or refuses the login is an answer
/// (`ok` false, the server's `error`), not an error status: that is what the test is for.
pub async fn test(state: &AppState, element: &Element) -> Result<ConnectionTest, ApiError> {
    let spec = crate::element::email::spec_of(element)?;
    let account = account::resolve(state, element, &spec).await?;
    let settings = state.email();
    if account.smtp.is_none() && account.imap.is_none() {
        return Err(ApiError::invalid(
            ErrorCode::EmailNotConfigured,
            "this element has neither an SMTP nor an IMAP server to test",
        ));
    }
    let mut smtp = None;
    if let Some(server) = &account.smtp {
        let started = Instant::now();
        let login = (!server.login.username.is_empty()).then(|| server.login.clone());
        let outcome = match Submitter::new(
            server.endpoint.clone(),
            login,
            &settings.tls,
            settings.timeout,
        ) {
            Ok(submitter) => submitter.test().await.map_err(|e| mail_error("smtp", &e)),
            Err(e) => Err(mail_error("smtp", &e)),
        };
        smtp = Some(describe(server, started, outcome));
    }
    let mut imap = None;
    if let Some(server) = &account.imap {
        let started = Instant::now();
        let outcome = match ImapSession::connect(
            &server.endpoint,
            &server.login,
            &settings.tls,
            settings.timeout,
        )
        .await
        {
            Ok(session) => session.logout().await.map_err(|e| mail_error("imap", &e)),
            Err(e) => Err(mail_error("imap", &e)),
        };
        imap = Some(describe(server, started, outcome));
    }
    let tested: Vec<&ServerTest> = smtp.iter().chain(imap.iter()).collect();
    Ok(ConnectionTest {
        ok: tested.iter().all(|t| t.error.is_none()),
        connected: tested.iter().all(|t| t.connected),
        authenticated: tested.iter().all(|t| t.authenticated),
        error: tested.iter().find_map(|t| t.error.clone()),
        smtp,
        imap,
    })
}
