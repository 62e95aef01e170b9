//! `test-connection` for mailboxes: EHLO, STARTTLS or TLS, and AUTH at the SMTP server,
//! then (when the element has a mailbox) a login at the IMAP server. Nothing is sent.

use std::time::Instant;

use axum::http::StatusCode;
use serde_json::{Value, json};
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

fn describe(server: &Server, elapsed: Instant) -> Value {
    json!({
        "host": server.endpoint.host,
        "port": server.endpoint.port,
        "security": server.endpoint.security.as_str(),
        "username": server.login.username,
        "elapsed_ms": elapsed.elapsed().as_millis() as u64,
    })
}

/// `test-connection` of an email element.
pub async fn test(state: &AppState, element: &Element) -> Result<Value, ApiError> {
    let spec = crate::element::email::spec_of(element)?;
    let account = account::resolve(state, element, &spec).await?;
    let settings = state.email();
    let mut out = json!({"ok": true, "smtp": null, "imap": null});
    if account.smtp.is_none() && account.imap.is_none() {
        return Err(ApiError::invalid(
            ErrorCode::EmailNotConfigured,
            "this element has neither an SMTP nor an IMAP server to test",
        ));
    }
    if let Some(server) = &account.smtp {
        let started = Instant::now();
        let login = (!server.login.username.is_empty()).then(|| server.login.clone());
        Submitter::new(
            server.endpoint.clone(),
            login,
            &settings.tls,
            settings.timeout,
        )
        .map_err(|e| mail_error("smtp", &e))?
        .test()
        .await
        .map_err(|e| mail_error("smtp", &e))?;
        out["smtp"] = describe(server, started);
    }
    if let Some(server) = &account.imap {
        let started = Instant::now();
        let session = ImapSession::connect(
            &server.endpoint,
            &server.login,
            &settings.tls,
            settings.timeout,
        )
        .await
        .map_err(|e| mail_error("imap", &e))?;
        session.logout().await.map_err(|e| mail_error("imap", &e))?;
        out["imap"] = describe(server, started);
    }
    Ok(out)
}
