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

/// One server's result: where, whose login, how long, and what went wrong (a refused
/// login is `connected` but not `authenticated`).
fn describe(server: &Server, elapsed: Instant, outcome: Result<(), ApiError>) -> Value {
    let (connected, authenticated, error) = match outcome {
        Ok(()) => (true, true, Value::Null),
        Err(e) => {
            let refused_login = e.code() == ErrorCode::EmailAuthFailed.as_str();
            let error =
                json!({"code": e.code(), "message": e.to_string(), "retryable": e.retryable()});
            (refused_login, false, error)
        }
    };
    json!({
        "host": server.endpoint.host,
        "port": server.endpoint.port,
        "security": server.endpoint.security.as_str(),
        "username": server.login.username,
        "elapsed_ms": elapsed.elapsed().as_millis() as u64,
        "connected": connected,
        "authenticated": authenticated,
        "error": error,
    })
}

/// `test-connection` of an email element: EHLO, TLS and AUTH at SMTP, a login at IMAP;
/// sends nothing. A server that cannot be reached or refuses the login is an answer
/// (`ok` false, the server's `error`), not an error status: that is what the test is for.
pub async fn test(state: &AppState, element: &Element) -> Result<Value, ApiError> {
    let spec = crate::element::email::spec_of(element)?;
    let account = account::resolve(state, element, &spec).await?;
    let settings = state.email();
    if account.smtp.is_none() && account.imap.is_none() {
        return Err(ApiError::invalid(
            ErrorCode::EmailNotConfigured,
            "this element has neither an SMTP nor an IMAP server to test",
        ));
    }
    let mut out = json!({"ok": true, "connected": true, "authenticated": true, "error": null, "smtp": null, "imap": null});
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
        out["smtp"] = describe(server, started, outcome);
    }
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
        out["imap"] = describe(server, started, outcome);
    }
    for side in ["smtp", "imap"] {
        let result = out[side].clone();
        if result.is_null() {
            continue;
        }
        for flag in ["connected", "authenticated"] {
            if result[flag] == false {
                out[flag] = json!(false);
            }
        }
        if !result["error"].is_null() {
            out["ok"] = json!(false);
            if out["error"].is_null() {
                out["error"] = result["error"].clone();
            }
        }
    }
    Ok(out)
}
