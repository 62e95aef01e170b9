//! **IO edge**: webhooks, as 46elks sends them (doc §3.1).
//!
//! Every webhook is an HTTP POST with a form-encoded body. An answer with a status from 200
//! to 204 is a success; anything else (or no answer) is a failure, and 46elks "will keep
//! trying for at least 6 hours and at least 5 times per callback". The simulator retries
//! SMS and hang-up webhooks [`MAX_ATTEMPTS`] times in all, `webhook_retry_delay` apart. Call
//! flow webhooks (`voice_start`, `next`) are tried once: a caller on the line cannot wait
//! hours for an action. Each attempt is logged in the store (`webhooks` in `/sim/state`).

use serde_json::{Value, json};

use crate::store::Sim;

/// Attempts per retried webhook: the first and five retries.
pub(crate) const MAX_ATTEMPTS: u32 = 6;

/// The most of an answer's body the log keeps.
const LOGGED_BODY: usize = 500;

/// Whether a failed webhook is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Up to [`MAX_ATTEMPTS`] attempts.
    Yes,
    /// One attempt.
    No,
}

/// A successful (200-204) answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: String,
}

/// A form body: names and values in the order they are sent.
pub(crate) type Form = Vec<(&'static str, String)>;

/// Posts `form` to `url`; `kind` names the webhook in the log (`whendelivered`, `sms_url`,
/// `voice_start`, `next`, `whenhangup`). Returns the successful answer, or `None` when
/// every attempt failed.
pub(crate) async fn post(
    sim: &Sim,
    kind: &'static str,
    url: &str,
    form: &Form,
    retry: Retry,
) -> Option<Answer> {
    let attempts = match retry {
        Retry::Yes => MAX_ATTEMPTS,
        Retry::No => 1,
    };
    for attempt in 1..=attempts {
        if attempt > 1 {
            tokio::time::sleep(sim.config.webhook_retry_delay).await;
        }
        let result = attempt_once(sim, url, form).await;
        let entry = log_entry(sim, kind, url, form, attempt, &result);
        sim.with(|store| store.webhooks.push(entry));
        match result {
            Ok(answer) if (200..=204).contains(&answer.status) => return Some(answer),
            Ok(answer) => tracing::debug!(kind, url, status = answer.status, "webhook refused"),
            Err(error) => tracing::debug!(kind, url, error, "webhook failed"),
        }
    }
    None
}

async fn attempt_once(sim: &Sim, url: &str, form: &Form) -> Result<Answer, String> {
    let response = sim
        .http
        .post(url)
        .form(form)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let body = response.text().await.map_err(|e| e.to_string())?;
    Ok(Answer { status, body })
}

fn log_entry(
    sim: &Sim,
    kind: &str,
    url: &str,
    form: &Form,
    attempt: u32,
    result: &Result<Answer, String>,
) -> Value {
    let fields: serde_json::Map<String, Value> = form
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::String(v.clone())))
        .collect();
    let (status, body, error) = match result {
        Ok(answer) => {
            let body: String = answer.body.chars().take(LOGGED_BODY).collect();
            (json!(answer.status), json!(body), Value::Null)
        }
        Err(e) => (Value::Null, Value::Null, json!(e)),
    };
    json!({
        "kind": kind,
        "url": url,
        "form": fields,
        "attempt": attempt,
        "status": status,
        "answer": body,
        "error": error,
        "at": sim.clock.now().naive(),
    })
}
