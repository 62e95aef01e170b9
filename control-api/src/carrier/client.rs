//! **IO edge**: [`ElksClient`], the 46elks REST API over `reqwest` (reference §2): HTTP
//! Basic, form-encoded requests, JSON answers.
//!
//! Every carrier answer is classified into a [`Failure`] the operations map onto the
//! product's codes. Retries follow one rule: a request is retried (exponential backoff from
//! the element's `retry_backoff_ms`, at most `max_retries` times) only when retrying cannot
//! do something twice — reads, configuration writes, and any request that certainly never
//! reached the carrier (connection refused, 429). A send or a call whose fate is unknown (a
//! timeout, a 5xx) is *not* retried here: the SMS service first looks for it in the
//! carrier's history (see `phone::sms`), so a message is never sent twice.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;

use super::wire::{Account, Call, Number, Page, Sms};
use crate::secrets::Secret;

/// How long one request may take in all.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// Characters of a carrier's error body kept for logs and messages.
const BODY_KEPT: usize = 200;

/// An API user and password (for a subaccount: its `id` and `secret`).
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The API user name.
    pub username: String,
    /// The API password (redacted in `Debug`).
    pub password: Secret,
}

/// Retries of transient failures: `max_retries` more attempts, the first after `backoff`,
/// each later one after twice the wait before it (capped at a minute).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts after the first.
    pub max_retries: u32,
    /// The first wait.
    pub backoff: Duration,
}

impl RetryPolicy {
    /// The wait before retry `n` (0-based).
    pub fn delay(&self, n: u32) -> Duration {
        self.backoff
            .checked_mul(1u32.checked_shl(n).unwrap_or(u32::MAX))
            .map_or(MAX_BACKOFF, |d| d.min(MAX_BACKOFF))
    }
}

/// Why a carrier request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// 401: the credentials are wrong.
    Auth,
    /// 402, or 403 about credits: the account cannot pay.
    InsufficientBalance,
    /// 429: too many requests.
    RateLimited,
    /// Any other 4xx: the carrier refused the request as made.
    Rejected {
        /// HTTP status.
        status: u16,
        /// The start of the carrier's answer.
        reason: String,
    },
    /// The carrier could not be reached or failed (5xx, timeout, connection).
    Unavailable {
        /// What happened.
        reason: String,
        /// Whether the request may have taken effect (a timeout or 5xx after it was
        /// sent); false when it certainly did not (connection refused).
        maybe_done: bool,
    },
    /// The carrier answered 2xx with something that is not the documented JSON.
    Protocol {
        /// What was wrong.
        reason: String,
    },
}

impl Failure {
    /// Whether a retry may succeed and cannot duplicate anything.
    pub fn safe_to_retry(&self) -> bool {
        matches!(
            self,
            Self::RateLimited
                | Self::Unavailable {
                    maybe_done: false,
                    ..
                }
        )
    }

    /// Whether the failure is transient (a later attempt may succeed).
    pub fn transient(&self) -> bool {
        matches!(self, Self::RateLimited | Self::Unavailable { .. })
    }

    fn from_status(status: StatusCode, body: &str) -> Self {
        let reason: String = body.chars().take(BODY_KEPT).collect();
        let lower = reason.to_ascii_lowercase();
        match status.as_u16() {
            401 => Self::Auth,
            402 => Self::InsufficientBalance,
            403 if lower.contains("credit") || lower.contains("balance") => {
                Self::InsufficientBalance
            }
            429 => Self::RateLimited,
            s @ 400..=499 => Self::Rejected { status: s, reason },
            s => Self::Unavailable {
                reason: format!("HTTP {s}: {reason}"),
                maybe_done: true,
            },
        }
    }

    fn from_transport(error: &reqwest::Error) -> Self {
        Self::Unavailable {
            reason: if error.is_timeout() {
                "timed out".to_owned()
            } else if error.is_connect() {
                "could not connect".to_owned()
            } else {
                "connection failed".to_owned()
            },
            // A refused connection sent nothing; anything later may have reached it.
            maybe_done: !error.is_connect(),
        }
    }
}

/// A text message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSms {
    /// Sender ID or our number.
    pub from: String,
    /// E.164 recipient.
    pub to: String,
    /// The text.
    pub message: String,
    /// Delivery-report webhook.
    pub whendelivered: Option<String>,
    /// Shown at once, not stored by the phone.
    pub flash: bool,
}

/// A call to place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCall {
    /// One of our voice numbers.
    pub from: String,
    /// E.164 callee.
    pub to: String,
    /// A webhook URL or a JSON action, loaded when the callee answers.
    pub voice_start: String,
    /// Webhook when the call ends (also when it never connects).
    pub whenhangup: Option<String>,
    /// Seconds to wait for pickup.
    pub timeout: Option<u32>,
}

/// A page request: items created before `start` (a previous page's `next`), at most
/// `limit` (1-100).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    /// Items before this carrier timestamp.
    pub start: Option<String>,
    /// Items after this carrier timestamp.
    pub end: Option<String>,
    /// At most this many.
    pub limit: Option<u32>,
    /// Only to this number (SMS only).
    pub to: Option<String>,
}

/// A client for one account at one API base URL.
#[derive(Debug, Clone)]
pub struct ElksClient {
    http: reqwest::Client,
    base: String,
    credentials: Credentials,
    retry: RetryPolicy,
}

impl ElksClient {
    /// A client for `base_url` (e.g. `https://api.46elks.com/a1`).
    pub fn new(base_url: &str, credentials: Credentials, retry: RetryPolicy) -> Self {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .unwrap_or_default();
        Self {
            http,
            base: base_url.trim_end_matches('/').to_owned(),
            credentials,
            retry,
        }
    }

    /// `POST /sms`, once (see the module doc for why it is never retried here).
    pub async fn send_sms(&self, sms: &NewSms) -> Result<Sms, Failure> {
        let mut form = vec![
            ("from", sms.from.clone()),
            ("to", sms.to.clone()),
            ("message", sms.message.clone()),
        ];
        if let Some(url) = &sms.whendelivered {
            form.push(("whendelivered", url.clone()));
        }
        if sms.flash {
            form.push(("flashsms", "yes".to_owned()));
        }
        self.once(Method::POST, "/sms", &form, &[]).await
    }

    /// `GET /sms`: one page, newest first.
    pub async fn list_sms(&self, query: &ListQuery) -> Result<Page<Sms>, Failure> {
        let q = list_params(query);
        self.retried(true, Method::GET, "/sms", &[], &q).await
    }

    /// `GET /sms/{id}`.
    pub async fn get_sms(&self, id: &str) -> Result<Sms, Failure> {
        let path = format!("/sms/{}", segment(id)?);
        self.retried(true, Method::GET, &path, &[], &[]).await
    }

    /// `POST /calls`: retried only when the carrier certainly did not get it.
    pub async fn place_call(&self, call: &NewCall) -> Result<Call, Failure> {
        let mut form = vec![
            ("from", call.from.clone()),
            ("to", call.to.clone()),
            ("voice_start", call.voice_start.clone()),
        ];
        if let Some(url) = &call.whenhangup {
            form.push(("whenhangup", url.clone()));
        }
        if let Some(timeout) = call.timeout {
            form.push(("timeout", timeout.to_string()));
        }
        self.retried(false, Method::POST, "/calls", &form, &[])
            .await
    }

    /// `GET /calls`: one page, newest first.
    pub async fn list_calls(&self, query: &ListQuery) -> Result<Page<Call>, Failure> {
        let q = list_params(query);
        self.retried(true, Method::GET, "/calls", &[], &q).await
    }

    /// `GET /calls/{id}`.
    pub async fn get_call(&self, id: &str) -> Result<Call, Failure> {
        let path = format!("/calls/{}", segment(id)?);
        self.retried(true, Method::GET, &path, &[], &[]).await
    }

    /// `POST /numbers`: rents a number in `country` (ISO alpha-2) with `capabilities`
    /// (`sms`, `voice`, ...). Retried only when the carrier certainly did not get it.
    pub async fn allocate_number(
        &self,
        country: &str,
        capabilities: &[&str],
    ) -> Result<Number, Failure> {
        let form = [
            ("country", country.to_ascii_lowercase()),
            ("capabilities", capabilities.join(",")),
        ];
        self.retried(false, Method::POST, "/numbers", &form, &[])
            .await
    }

    /// `POST /numbers/{id}`: sets `fields` (`sms_url`, `voice_start`, `sms_replies`,
    /// `name`; `"none"` clears one). Setting the same values twice is harmless, so it is
    /// retried.
    pub async fn configure_number(
        &self,
        id: &str,
        fields: &[(&str, String)],
    ) -> Result<Number, Failure> {
        let path = format!("/numbers/{}", segment(id)?);
        self.retried(true, Method::POST, &path, fields, &[]).await
    }

    /// `POST /numbers/{id}` with `active=no`: gives the number back for good.
    pub async fn deallocate_number(&self, id: &str) -> Result<Number, Failure> {
        let path = format!("/numbers/{}", segment(id)?);
        let form = [("active", "no".to_owned())];
        self.retried(true, Method::POST, &path, &form, &[]).await
    }

    /// `GET /numbers/{id}`.
    pub async fn get_number(&self, id: &str) -> Result<Number, Failure> {
        let path = format!("/numbers/{}", segment(id)?);
        self.retried(true, Method::GET, &path, &[], &[]).await
    }

    /// `GET /me`.
    pub async fn account(&self) -> Result<Account, Failure> {
        self.retried(true, Method::GET, "/me", &[], &[]).await
    }

    /// Runs a request, retrying transient failures: all of them when `idempotent`, else
    /// only those that certainly did not reach the carrier.
    async fn retried<T: DeserializeOwned>(
        &self,
        idempotent: bool,
        method: Method,
        path: &str,
        form: &[(&str, String)],
        query: &[(&str, String)],
    ) -> Result<T, Failure> {
        let mut retry = 0;
        loop {
            match self.once(method.clone(), path, form, query).await {
                Err(f)
                    if retry < self.retry.max_retries
                        && (f.safe_to_retry() || (idempotent && f.transient())) =>
                {
                    tracing::warn!(path, failure = ?f, retry, "carrier request failed; retrying");
                    tokio::time::sleep(self.retry.delay(retry)).await;
                    retry += 1;
                }
                outcome => return outcome,
            }
        }
    }

    /// One request.
    async fn once<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        form: &[(&str, String)],
        query: &[(&str, String)],
    ) -> Result<T, Failure> {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .basic_auth(
                &self.credentials.username,
                Some(self.credentials.password.expose()),
            );
        if !query.is_empty() {
            request = request.query(query);
        }
        if method == Method::POST {
            request = request.form(form);
        }
        let response = request
            .send()
            .await
            .map_err(|e| Failure::from_transport(&e))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|e| Failure::from_transport(&e))?;
        if !status.is_success() {
            let failure = Failure::from_status(status, &body);
            tracing::info!(path, status = status.as_u16(), ?failure, "carrier refused");
            return Err(failure);
        }
        serde_json::from_str(&body).map_err(|e| Failure::Protocol {
            reason: format!("{path}: not the documented JSON ({e})"),
        })
    }
}

fn list_params(query: &ListQuery) -> Vec<(&'static str, String)> {
    let mut q = Vec::new();
    if let Some(start) = &query.start {
        q.push(("start", start.clone()));
    }
    if let Some(end) = &query.end {
        q.push(("end", end.clone()));
    }
    if let Some(limit) = query.limit {
        q.push(("limit", limit.clamp(1, 100).to_string()));
    }
    if let Some(to) = &query.to {
        q.push(("to", to.clone()));
    }
    q
}

/// A carrier id as one path segment: letters and digits only, so that nothing a client
/// passes can reach another carrier path.
fn segment(id: &str) -> Result<&str, Failure> {
    if super::is_carrier_id(id) {
        Ok(id)
    } else {
        Err(Failure::Rejected {
            status: 404,
            reason: "not a carrier id".to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let p = RetryPolicy {
            max_retries: 10,
            backoff: Duration::from_millis(500),
        };
        let waits: Vec<u128> = (0..10).map(|n| p.delay(n).as_millis()).collect();
        assert_eq!(
            waits,
            [
                500, 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000
            ]
        );
        assert_eq!(p.delay(40), MAX_BACKOFF);
    }

    #[test]
    fn statuses_classify() {
        let table = [
            (401, "Authorization failed", Failure::Auth),
            (402, "", Failure::InsufficientBalance),
            (
                403,
                r#"{"error":"Not enough credits"}"#,
                Failure::InsufficientBalance,
            ),
            (429, "", Failure::RateLimited),
            (
                403,
                "from must be one of your numbers",
                Failure::Rejected {
                    status: 403,
                    reason: "from must be one of your numbers".into(),
                },
            ),
            (
                400,
                "Invalid to",
                Failure::Rejected {
                    status: 400,
                    reason: "Invalid to".into(),
                },
            ),
            (
                503,
                "busy",
                Failure::Unavailable {
                    reason: "HTTP 503: busy".into(),
                    maybe_done: true,
                },
            ),
        ];
        for (status, body, expected) in table {
            let status = StatusCode::from_u16(status).expect("status");
            assert_eq!(Failure::from_status(status, body), expected, "{status}");
        }
        assert!(Failure::RateLimited.safe_to_retry());
        assert!(!Failure::from_status(StatusCode::BAD_GATEWAY, "").safe_to_retry());
        assert!(Failure::from_status(StatusCode::BAD_GATEWAY, "").transient());
        assert!(!Failure::Auth.transient());
    }

    #[test]
    fn ids_cannot_escape_their_segment() {
        assert!(segment("s70df59406a1b4643b96f3f91e0bfb7b0").is_ok());
        for bad in [
            "",
            "../me",
            "s1/../../numbers",
            "s%2F",
            "a b",
            &"x".repeat(65),
        ] {
            assert!(segment(bad).is_err(), "{bad:?}");
        }
    }
}
