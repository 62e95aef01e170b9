//! What the phone operations announce and count: events on a broadcast channel
//! (`phone.sms.sent`, `phone.sms.received`, `phone.sms.delivered`, `phone.sms.failed`, ...,
//! and the email element's `email.sent`, `email.bounced`, ...)
//! and Prometheus counters named after them (`phone_sms_sent_count`, ...).

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;
use tokio::sync::broadcast;

/// Events kept for a slow subscriber before it lags.
const CAPACITY: usize = 1024;

/// One phone event.
#[derive(Debug, Clone, PartialEq)]
pub struct PhoneEvent {
    /// `phone.sms.sent`, ...
    pub name: &'static str,
    /// The circle.
    pub circle_id: String,
    /// The element.
    pub element_id: String,
    /// What happened (ids, numbers, status); never a secret.
    pub data: Value,
}

/// The counters, one per event name.
const NAMES: [&str; 27] = [
    "phone.sms.sent",
    "phone.sms.failed",
    "phone.sms.received",
    "phone.sms.delivered",
    "phone.sms.undelivered",
    "phone.number.provisioned",
    "phone.number.released",
    "phone.webhook.rejected",
    "phone.call.missed",
    "phone.call.placed",
    "email.queued",
    "email.message.sent",
    "email.send.failed",
    "email.retrying",
    "email.message.opened",
    "email.link.clicked",
    "email.bounced",
    "email.suppressed",
    "email.unsuppressed",
    "email.consent_changed",
    "email.message.received",
    "email.approved",
    "email.rejected",
    "email.blocked",
    "email.domain_verified",
    "email.unsubscribed",
    "email.message",
];

/// The upper bounds (ms) of `email_send_latency_ms`'s buckets: one SMTP submission, from
/// connecting to the server's answer to the message; the last is `+Inf`.
const SEND_LATENCY_BUCKETS_MS: [u64; 10] =
    [25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000];

/// The event channel and counters.
#[derive(Debug)]
pub struct PhoneEvents {
    sender: broadcast::Sender<PhoneEvent>,
    counts: [AtomicU64; NAMES.len()],
    /// `email_send_latency_ms`: per bucket (not cumulative; `+Inf` last), sum, count.
    send_latency: [AtomicU64; SEND_LATENCY_BUCKETS_MS.len() + 1],
    send_latency_sum_ms: AtomicU64,
}

impl Default for PhoneEvents {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(CAPACITY).0,
            counts: Default::default(),
            send_latency: Default::default(),
            send_latency_sum_ms: AtomicU64::new(0),
        }
    }
}

impl PhoneEvents {
    /// Counts and announces an event.
    pub fn emit(&self, name: &'static str, circle_id: &str, element_id: &str, data: Value) {
        self.count(name);
        let _ = self.sender.send(PhoneEvent {
            name,
            circle_id: circle_id.to_owned(),
            element_id: element_id.to_owned(),
            data,
        });
    }

    /// Counts an event without announcing it.
    pub fn count(&self, name: &str) {
        if let Some(i) = NAMES.iter().position(|n| *n == name) {
            self.counts[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Records how long one SMTP submission took (`email_send_latency_ms`).
    pub fn observe_send_latency(&self, took: std::time::Duration) {
        let ms = u64::try_from(took.as_millis()).unwrap_or(u64::MAX);
        let bucket = SEND_LATENCY_BUCKETS_MS
            .iter()
            .position(|&le| ms <= le)
            .unwrap_or(SEND_LATENCY_BUCKETS_MS.len());
        self.send_latency[bucket].fetch_add(1, Ordering::Relaxed);
        self.send_latency_sum_ms.fetch_add(ms, Ordering::Relaxed);
    }

    /// A new subscriber.
    pub fn subscribe(&self) -> broadcast::Receiver<PhoneEvent> {
        self.sender.subscribe()
    }

    /// The counters in Prometheus text format (`phone_sms_sent_count 3`).
    pub fn render(&self, out: &mut String) {
        use std::fmt::Write as _;
        for (name, count) in NAMES.iter().zip(&self.counts) {
            let metric = metric_name(name);
            let _ = writeln!(out, "# TYPE {metric} counter");
            let _ = writeln!(out, "{metric} {}", count.load(Ordering::Relaxed));
        }
        let _ = writeln!(out, "# TYPE email_send_latency_ms histogram");
        let mut cumulative = 0;
        for (i, count) in self.send_latency.iter().enumerate() {
            cumulative += count.load(Ordering::Relaxed);
            match SEND_LATENCY_BUCKETS_MS.get(i) {
                Some(le) => writeln!(
                    out,
                    "email_send_latency_ms_bucket{{le=\"{le}\"}} {cumulative}"
                ),
                None => writeln!(
                    out,
                    "email_send_latency_ms_bucket{{le=\"+Inf\"}} {cumulative}"
                ),
            }
            .ok();
        }
        let sum = self.send_latency_sum_ms.load(Ordering::Relaxed);
        let _ = writeln!(out, "email_send_latency_ms_sum {sum}");
        let _ = writeln!(out, "email_send_latency_ms_count {cumulative}");
    }
}

/// The Prometheus name of an event's counter: the email interface document's metric names
/// for its events (`email_sent_count`, `email_received_count`,
/// `email_delivery_failure_count`, `email_open_count`, `email_click_count`), else the
/// event name with `_` for `.` and a `_count` suffix.
fn metric_name(event: &str) -> String {
    match event {
        "email.message.sent" => "email_sent_count".to_owned(),
        "email.message.received" => "email_received_count".to_owned(),
        "email.send.failed" => "email_delivery_failure_count".to_owned(),
        "email.message.opened" => "email_open_count".to_owned(),
        "email.link.clicked" => "email_click_count".to_owned(),
        other => format!("{}_count", other.replace('.', "_")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_counted_rendered_and_announced() {
        let events = PhoneEvents::default();
        let mut rx = events.subscribe();
        events.emit(
            "phone.sms.sent",
            "cir_a",
            "elm_a",
            serde_json::json!({"to": "+46700000001"}),
        );
        events.emit("phone.sms.sent", "cir_a", "elm_a", Value::Null);
        events.count("phone.webhook.rejected");
        let mut text = String::new();
        events.render(&mut text);
        assert!(text.contains("phone_sms_sent_count 2\n"), "{text}");
        assert!(text.contains("phone_webhook_rejected_count 1\n"), "{text}");
        assert!(text.contains("phone_sms_received_count 0\n"), "{text}");
        events.emit("email.link.clicked", "cir_a", "elm_a", Value::Null);
        events.emit("email.send.failed", "cir_a", "elm_a", Value::Null);
        let mut text = String::new();
        events.render(&mut text);
        for metric in [
            "email_click_count 1\n",
            "email_delivery_failure_count 1\n",
            "email_open_count 0\n",
            "email_sent_count 0\n",
            "email_received_count 0\n",
        ] {
            assert!(text.contains(metric), "{metric} in {text}");
        }
        events.observe_send_latency(std::time::Duration::from_millis(40));
        events.observe_send_latency(std::time::Duration::from_millis(40_000));
        let mut text = String::new();
        events.render(&mut text);
        for line in [
            "# TYPE email_send_latency_ms histogram\n",
            "email_send_latency_ms_bucket{le=\"25\"} 0\n",
            "email_send_latency_ms_bucket{le=\"50\"} 1\n",
            "email_send_latency_ms_bucket{le=\"30000\"} 1\n",
            "email_send_latency_ms_bucket{le=\"+Inf\"} 2\n",
            "email_send_latency_ms_sum 40040\n",
            "email_send_latency_ms_count 2\n",
        ] {
            assert!(text.contains(line), "{line} in {text}");
        }
        let first = rx.try_recv().expect("event");
        assert_eq!(
            (first.name, first.data["to"].as_str()),
            ("phone.sms.sent", Some("+46700000001"))
        );
    }
}
