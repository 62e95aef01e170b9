//! Call events and the bus they are published on.
//!
//! The pipeline says what happened on each call (started, a turn completed with its
//! transcript and metrics, ended) without knowing who listens: the control API will persist
//! them and stream them to operators; tests subscribe to assert on them. On one machine the
//! bus is an in-process broadcast channel; a NATS bus can implement the same trait.

use tokio::sync::broadcast;

use crate::call::EndReason;
use crate::metrics::TurnMetrics;

/// Something that happened on a call.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CallEvent {
    /// A call got a slot and was answered.
    Started {
        /// The carrier's call id.
        call_id: String,
        /// Caller number.
        from: String,
        /// Dialled number.
        to: String,
        /// The agent answering.
        agent: String,
    },
    /// The caller was refused: no free slot.
    Refused {
        /// The carrier's call id.
        call_id: String,
        /// Caller number.
        from: String,
        /// Dialled number.
        to: String,
    },
    /// One exchange: what the caller said and what of the agent's reply they heard.
    TurnCompleted {
        /// The carrier's call id.
        call_id: String,
        /// Turn number, from 1.
        turn: u32,
        /// The caller's transcript.
        user: String,
        /// The agent's reply as far as the caller heard it.
        agent: String,
        /// Whether the caller cut the reply short.
        interrupted: bool,
        /// Stage times.
        metrics: TurnMetrics,
    },
    /// The caller pressed a key (RFC 4733 telephone-event or SIP INFO).
    Digit {
        /// The call id.
        call_id: String,
        /// `0`-`9`, `*`, `#`, `A`-`D`.
        digit: char,
    },
    /// The call ended.
    Ended {
        /// The carrier's call id.
        call_id: String,
        /// Why; in JSON and on the call record its documented word (`done`, `hangup`,
        /// `agent`, `idle`, `error`).
        reason: EndReason,
        /// The typed error code when the call ended in error.
        error: Option<String>,
        /// Completed turns.
        turns: u32,
    },
}

/// Where call events go.
pub trait EventBus: Send + Sync {
    /// Publishes an event; never blocks the call.
    fn publish(&self, event: CallEvent);
}

/// The in-process bus: a tokio broadcast channel. Slow subscribers miss events rather than
/// slow a call down.
#[derive(Debug, Clone)]
pub struct BroadcastBus {
    tx: broadcast::Sender<CallEvent>,
}

impl BroadcastBus {
    /// A bus keeping up to `capacity` events for slow subscribers.
    pub fn new(capacity: usize) -> Self {
        Self {
            tx: broadcast::channel(capacity).0,
        }
    }

    /// A new subscription to every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<CallEvent> {
        self.tx.subscribe()
    }
}

impl EventBus for BroadcastBus {
    fn publish(&self, event: CallEvent) {
        // No subscriber is not an error.
        let _ = self.tx.send(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn subscribers_see_events_as_json() {
        let bus = BroadcastBus::new(8);
        let mut rx = bus.subscribe();
        bus.publish(CallEvent::Refused {
            call_id: "c1".into(),
            from: "+46700000001".into(),
            to: "+46766860000".into(),
        });
        let event = rx.recv().await.expect("event");
        let json = serde_json::to_string(&event).expect("serializes");
        assert_eq!(
            json,
            r#"{"type":"refused","call_id":"c1","from":"+46700000001","to":"+46766860000"}"#
        );
    }
}
