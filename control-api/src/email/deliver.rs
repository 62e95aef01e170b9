//! Getting a stored message to the submission server: the daily cap, one attempt
//! ([`dispatch`]), the retry worker ([`run`]) and what a failure means.
//!
//! A message is `queued` (or `approved`) when a dispatch takes it; the dispatch moves it to
//! `sending` first, so two workers never submit it twice. Then:
//! - accepted -> `sent` (audited `sent`);
//! - refused for now (4xx, timeouts, connection trouble) -> `queued` again with
//!   `next_attempt_at` after an exponential backoff from the element's `retry_backoff_ms`
//!   (audited `retrying`), until its `max_retries` are spent (both within the deployment's
//!   [`MailRetry`](super::MailRetry)) -> `failed`;
//! - refused for good (5xx, a refused login) -> `failed` at once. A 5.1.x refusal of a
//!   recipient is a hard bounce: the address is suppressed (audited `bounced` and
//!   `suppressed`).
//!
//! IO edge: this module talks SMTP through `voxgate-mail` and reads the clock.

use std::time::Duration;

use axum::http::StatusCode;
use serde_json::{Value, json};
use voxgate_mail::MailError;
use voxgate_mail::compose::Composed;
use voxgate_mail::submit::Submitter;

use super::account;
use super::audit::{self, Subject};
use super::suppress;
use crate::error::{ApiError, ErrorCode};
use crate::ids::rfc3339;
use crate::phone::sms::utc_day;
use crate::state::AppState;
use crate::store::{Element, EmailMessage, Outcome};

/// How often the worker looks for due messages.
const POLL: Duration = Duration::from_millis(500);
/// How long a message may stay `sending` or `approved` before the worker takes it back:
/// longer than any attempt (connect, TLS, AUTH and DATA each time out well before).
const STALE: Duration = Duration::from_secs(600);

/// Counts one message against the circle's daily cap; gives the UTC day counted.
///
/// # Errors
///
/// 429 `EMAIL_DAILY_CAP_REACHED` (retryable: tomorrow) when the cap is reached.
pub async fn count(state: &AppState, element: &Element) -> Result<String, ApiError> {
    let day = utc_day(state.now_ms());
    let cap = state.email().daily_cap_per_circle;
    if state
        .store()
        .email()
        .count_send(&element.circle_id, &day, cap)
        .await?
    {
        return Ok(day);
    }
    audit::record(
        state,
        &element.circle_id,
        "blocked",
        Subject {
            element_id: Some(&element.id),
            ..Subject::default()
        },
        json!({"reason": "daily cap reached", "cap": cap, "day": day}),
    )
    .await?;
    Err(ApiError::failed(
        StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::EmailDailyCapReached,
        format!("this circle has sent its {cap} messages for {day} (UTC); nothing was sent"),
        true,
    ))
}

/// Gives a counted message back (it was never stored, so never sent).
pub async fn refund(state: &AppState, circle_id: &str, day: &str) {
    if let Err(e) = state.store().email().refund_send(circle_id, day).await {
        tracing::warn!(error = %e, "could not give a counted email back to the daily cap");
    }
}

/// `rate-status`: the circle's cap, what it sent today and what is left.
pub async fn rate_status(state: &AppState, circle_id: &str) -> Result<RateStatus, ApiError> {
    let now = state.now_ms();
    let day = utc_day(now);
    let cap = state.email().daily_cap_per_circle;
    let sent = state.store().email().sends_on(circle_id, &day).await?;
    let reset = (now / 86_400_000 + 1) * 86_400_000;
    // `limit`, `remaining` and `reset_at` are the documented names; `cap` and
    // `resets_at` are our earlier ones, kept for existing clients.
    Ok(RateStatus {
        day,
        limit: cap,
        cap,
        sent,
        remaining: (cap - sent).max(0),
        reset_at: rfc3339(reset),
        resets_at: rfc3339(reset),
    })
}

/// `rate-status`'s answer.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct RateStatus {
    /// The UTC day counted (`YYYY-MM-DD`).
    pub day: String,
    /// Messages the circle may send per day.
    pub limit: i64,
    /// Our earlier name for `limit`.
    pub cap: i64,
    /// Sent today.
    pub sent: i64,
    /// Left today.
    pub remaining: i64,
    /// When the count starts again (RFC 3339).
    pub reset_at: String,
    /// Our earlier name for `reset_at`.
    pub resets_at: String,
}

/// Submits `message` once (it must be `queued` or `approved`) and records the outcome.
/// Gives the message as stored afterwards.
pub async fn dispatch(state: &AppState, message: EmailMessage) -> Result<EmailMessage, ApiError> {
    let email = state.store().email();
    if !email
        .transition(
            &message.id,
            &["queued", "approved"],
            "sending",
            None,
            state.now_ms(),
        )
        .await?
    {
        // Someone else has it (the worker, or an approval racing a retry).
        return reread(state, &message).await;
    }
    let result = submit(state, &message).await;
    let attempts = message.attempts + 1;
    let now = state.now_ms();
    let subject = Subject {
        element_id: Some(&message.element_id),
        message: Some(&message.id),
        address: None,
    };
    match result {
        Ok(reply) => {
            let outcome = Outcome {
                status: "sent".to_owned(),
                attempts,
                next_attempt_at: None,
                error_code: None,
                error: None,
                sent_at: Some(now),
            };
            email.set_outcome(&message.id, &outcome, now).await?;
            audit::record(
                state,
                &message.circle_id,
                "sent",
                subject,
                json!({"to": message.recipients.to, "cc": message.recipients.cc, "attempts": attempts, "reply": reply}),
            )
            .await?;
        }
        Err(failure) => {
            let retry = retry_of(state, &message).await;
            let again = failure.retryable && attempts < retry.max_attempts;
            let wait = retry.backoff(attempts);
            let outcome = Outcome {
                status: if again { "queued" } else { "failed" }.to_owned(),
                attempts,
                next_attempt_at: again
                    .then(|| now + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX)),
                error_code: Some(failure.code.as_str().to_owned()),
                error: Some(failure.message.clone()),
                sent_at: None,
            };
            email.set_outcome(&message.id, &outcome, now).await?;
            let kind = if again { "retrying" } else { "failed" };
            audit::record(
                state,
                &message.circle_id,
                kind,
                subject,
                json!({"code": failure.code, "error": failure.message, "attempts": attempts}),
            )
            .await?;
            if let Some(reply) = failure.bounce.as_deref() {
                bounce_recipients(state, &message, reply).await?;
            }
        }
    }
    reread(state, &message).await
}

/// The retry rule of `message`: its element's `max_retries` (attempts are one more) and
/// `retry_backoff_ms`, within the deployment's (`email.retry`: its attempts and longest
/// wait bound every element's).
async fn retry_of(state: &AppState, message: &EmailMessage) -> super::MailRetry {
    let deployment = state.email().retry;
    let spec = match state.store().element_by_id(&message.element_id).await {
        Ok(Some(element)) => crate::element::email::spec_of(&element).ok(),
        _ => None,
    };
    match spec {
        Some(spec) => super::MailRetry {
            max_attempts: deployment.max_attempts.min(i64::from(spec.max_retries) + 1),
            base: std::time::Duration::from_millis(u64::from(spec.retry_backoff_ms))
                .min(deployment.max),
            max: deployment.max,
        },
        None => deployment,
    }
}

async fn reread(state: &AppState, message: &EmailMessage) -> Result<EmailMessage, ApiError> {
    Ok(state
        .store()
        .email()
        .message_by_id(&message.id)
        .await?
        .unwrap_or_else(|| message.clone()))
}

/// Why an attempt failed.
#[derive(Debug)]
struct Failure {
    code: ErrorCode,
    message: String,
    retryable: bool,
    /// The server's reply when it refused a recipient for good (a 5.1.x bounce).
    bounce: Option<String>,
}

impl Failure {
    fn of(e: &MailError) -> Self {
        let (code, bounce) = match e {
            MailError::Auth { .. } => (ErrorCode::EmailAuthFailed, None),
            MailError::Permanent { reply, .. } => {
                // RFC 3463: 5.1.x is a bad destination address (5.1.1 no such user,
                // 5.1.2 bad domain, ...); it opens the reply text (after the code).
                let status = reply.split_whitespace().next().unwrap_or("");
                let recipient_dead = status.starts_with("5.1.");
                (
                    ErrorCode::EmailRejected,
                    recipient_dead.then(|| reply.clone()),
                )
            }
            MailError::Transient { reply, .. } if is_rate_limit(reply) => {
                (ErrorCode::EmailRateLimited, None)
            }
            MailError::Transient { .. } => (ErrorCode::EmailDeferred, None),
            MailError::Timeout { .. } => (ErrorCode::EmailTimeout, None),
            MailError::Tls { .. } | MailError::TlsConfig(_) => (ErrorCode::EmailTlsFailed, None),
            MailError::Connect { .. } | MailError::Io(_) => (ErrorCode::EmailUnreachable, None),
            _ => (ErrorCode::EmailSendFailed, None),
        };
        Self {
            code,
            message: e.to_string(),
            retryable: e.is_retryable(),
            bounce,
        }
    }
}

/// Whether a 4xx reply says the sender is sending too fast (RFC 3463 gives no code of
/// its own for it): Gmail's `4.7.28`, or the words servers use (Postfix's and Exim's
/// "rate limit", Microsoft's "too many", "throttled", "slow down").
fn is_rate_limit(reply: &str) -> bool {
    let lower = reply.to_ascii_lowercase();
    lower.split_whitespace().next() == Some("4.7.28")
        || [
            "rate limit",
            "ratelimit",
            "rate-limit",
            "too many",
            "too fast",
            "throttl",
            "slow down",
        ]
        .iter()
        .any(|words| lower.contains(words))
}

/// One SMTP submission of the stored bytes.
async fn submit(state: &AppState, message: &EmailMessage) -> Result<String, Failure> {
    let setup = |e: ApiError| Failure {
        code: e.error_code(),
        message: e.to_string(),
        retryable: e.retryable(),
        bounce: None,
    };
    let store = state.store();
    let element = store
        .element_by_id(&message.element_id)
        .await
        .map_err(|e| setup(e.into()))?
        .ok_or_else(|| Failure {
            code: ErrorCode::ElementNotFound,
            message: "the element was deleted".to_owned(),
            retryable: false,
            bounce: None,
        })?;
    let spec = crate::element::email::spec_of(&element).map_err(setup)?;
    let account = account::resolve(state, &element, &spec)
        .await
        .map_err(setup)?;
    let server = account.smtp_or_error().map_err(setup)?;
    let raw = store
        .email()
        .message_raw(&message.id)
        .await
        .map_err(|e| setup(e.into()))?
        .unwrap_or_default();
    let settings = state.email();
    let submitter = Submitter::new(
        server.endpoint.clone(),
        Some(server.login.clone()),
        &settings.tls,
        settings.timeout,
    )
    .map_err(|e| Failure::of(&e))?;
    let composed = Composed {
        raw,
        envelope_from: message.sender.clone(),
        envelope_to: message.recipients.all().cloned().collect(),
    };
    let started = std::time::Instant::now();
    let sent = submitter.send(&composed).await;
    state.events().observe_send_latency(started.elapsed());
    sent.map(|accepted| format!("{} {}", accepted.code, accepted.reply))
        .map_err(|e| Failure::of(&e))
}

/// A hard bounce at submission: suppress the recipients the reply names (or the only one).
async fn bounce_recipients(
    state: &AppState,
    message: &EmailMessage,
    reply: &str,
) -> Result<(), ApiError> {
    let all: Vec<&String> = message.recipients.all().collect();
    let lower = reply.to_lowercase();
    // Servers name the refused recipient in angle brackets (`<bob@x.se>: ...`); a bare
    // substring would take `jimbob@x.se` for `bob@x.se`.
    let named: Vec<&String> = all
        .iter()
        .copied()
        .filter(|a| lower.contains(&format!("<{a}>")))
        .collect();
    let dead = if named.is_empty() && all.len() == 1 {
        all
    } else {
        named
    };
    for address in dead {
        suppress::bounced(
            state,
            &message.circle_id,
            Some(&message.element_id),
            Some(&message.id),
            address,
            reply,
        )
        .await?;
    }
    Ok(())
}

/// The retry worker: submits due `queued` messages until `shutdown` resolves.
pub async fn run(state: AppState, shutdown: impl std::future::Future<Output = ()>) {
    tokio::pin!(shutdown);
    loop {
        // A message left `sending` or `approved` by a crash (or a failed write) goes back
        // to the queue: mail is sent at least once, like an MTA's queue.
        let stale = state.now_ms() - i64::try_from(STALE.as_millis()).unwrap_or(i64::MAX);
        match state.store().email().requeue_stale(stale).await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(
                messages = n,
                "email messages stuck in flight were queued again"
            ),
            Err(e) => {
                tracing::warn!(error = %e, "email retry worker cannot requeue stale messages")
            }
        }
        match state.store().email().due_messages(state.now_ms(), 20).await {
            Ok(due) => {
                for message in due {
                    if let Err(e) = dispatch(&state, message).await {
                        tracing::warn!(error = %e, "email retry failed to record");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "email retry worker cannot read the queue"),
        }
        tokio::select! {
            () = &mut shutdown => return,
            () = tokio::time::sleep(POLL) => {}
        }
    }
}

/// A stored message as the API shows it (send, reply, list-messages, get-message of a
/// stored message, the outbox).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct MessageView {
    /// The message's id (`eml_...`): get-message, approve_dispatch and the rest take it.
    pub message_id: String,
    /// Its `Message-ID` header, without angle brackets.
    pub rfc_message_id: String,
    /// `outbound` or `inbound`.
    pub direction: String,
    /// `send`, `tracked`, `reply` or `received`.
    pub kind: String,
    /// `pending`, `queued`, `sending`, `approved`, `sent`, `failed`, `rejected` or `received`.
    pub status: String,
    /// The sender.
    pub from: String,
    /// `To`.
    pub to: Vec<String>,
    /// `Cc`.
    pub cc: Vec<String>,
    /// Blind recipients (outgoing only).
    pub bcc: Vec<String>,
    /// `Subject`.
    pub subject: String,
    /// `In-Reply-To`.
    pub in_reply_to: Option<String>,
    /// `References`, oldest first.
    pub references: Vec<String>,
    /// The conversation it belongs to (conversation mode).
    pub thread_id: Option<String>,
    /// The plain-text body.
    pub text: Option<String>,
    /// The HTML body.
    pub html: Option<String>,
    /// `{index, filename, content_type, size}` of each attachment.
    pub attachments: Value,
    /// Whether opens and clicks are counted.
    pub tracked: bool,
    /// Submission attempts so far.
    pub attempts: i64,
    /// When the next attempt is due (RFC 3339).
    pub next_attempt_at: Option<String>,
    /// The last failure's code (`EMAIL_REJECTED`, `EMAIL_RATE_LIMITED`, ...).
    pub error_code: Option<String>,
    /// The last failure, as the server said it.
    pub error: Option<String>,
    /// The key that approved or rejected it in the outbox.
    pub reviewed_by: Option<String>,
    /// When stored (RFC 3339).
    pub created_at: String,
    /// When the server accepted it (RFC 3339).
    pub sent_at: Option<String>,
}

impl MessageView {
    /// The view of `message`.
    pub fn of(message: &EmailMessage) -> Self {
        Self {
            message_id: message.id.clone(),
            rfc_message_id: message.message_id.clone(),
            direction: message.direction.clone(),
            kind: message.kind.clone(),
            status: message.status.clone(),
            from: message.sender.clone(),
            to: message.recipients.to.clone(),
            cc: message.recipients.cc.clone(),
            bcc: message.recipients.bcc.clone(),
            subject: message.subject.clone(),
            in_reply_to: message.in_reply_to.clone(),
            references: message.refs.clone(),
            thread_id: message.thread_id.clone(),
            text: message.body_text.clone(),
            html: message.body_html.clone(),
            attachments: message.attachments.clone(),
            tracked: message.tracked,
            attempts: message.attempts,
            next_attempt_at: message.next_attempt_at.map(rfc3339),
            error_code: message.error_code.clone(),
            error: message.error.clone(),
            reviewed_by: message.reviewed_by.clone(),
            created_at: rfc3339(message.created_at),
            sent_at: message.sent_at.map(rfc3339),
        }
    }
}

/// [`MessageView`] as JSON.
pub fn view(message: &EmailMessage) -> Value {
    serde_json::to_value(MessageView::of(message)).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_replies_are_told_from_other_deferrals() {
        for limited in [
            "4.7.28 Our system has detected an unusual rate of mail, rate limited",
            "4.7.0 Too many messages from this sender",
            "Sender is throttled, try later",
            "4.2.1 slow down",
        ] {
            assert!(is_rate_limit(limited), "{limited}");
        }
        for other in [
            "4.3.0 Try again later",
            "4.7.1 Greylisted",
            "4.2.2 Mailbox full",
        ] {
            assert!(!is_rate_limit(other), "{other}");
        }
        let failure = Failure::of(&MailError::Transient {
            code: 450,
            reply: "4.7.28 rate limited".into(),
        });
        assert_eq!(
            (failure.code, failure.retryable),
            (ErrorCode::EmailRateLimited, true)
        );
    }
}
