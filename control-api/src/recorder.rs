//! [`Recorder`]: persists the voice core's call events as call records, turns and thread
//! messages. The server feeds it every event in order from one task; it keeps the open
//! calls' ids in memory (a handful of strings per call) and writes each event as it comes.

use std::collections::HashMap;
use std::sync::Arc;

use crate::directory;
use crate::ids::{new_id, now_ms};
use crate::store::StoreError;
use crate::store::{CallRecord, CallTurn, Store, ThreadMessage};

/// A call event, as the voice core reports it (the server maps its own event type here,
/// so this crate does not depend on the media path).
#[derive(Debug, Clone, PartialEq)]
pub enum CallUpdate {
    /// A call was answered.
    Started {
        /// The carrier's call id.
        carrier_call_id: String,
        /// Caller.
        from: String,
        /// Our number.
        to: String,
    },
    /// The call was refused (no free slot).
    Refused {
        /// The carrier's call id.
        carrier_call_id: String,
        /// Caller.
        from: String,
        /// Our number.
        to: String,
    },
    /// One exchange completed.
    Turn {
        /// The carrier's call id.
        carrier_call_id: String,
        /// From 1.
        turn: u32,
        /// What the caller said.
        user: String,
        /// What of the reply the caller heard.
        agent: String,
        /// Whether the caller cut the reply short.
        interrupted: bool,
        /// Stage times (milliseconds), as JSON.
        metrics: serde_json::Value,
    },
    /// The call ended.
    Ended {
        /// The carrier's call id.
        carrier_call_id: String,
        /// `done`, `hangup`, `error`, `agent`, `idle`.
        reason: String,
        /// Typed error code, if it ended in error.
        error: Option<String>,
    },
}

/// Writes call events to the store.
#[derive(Debug)]
pub struct Recorder {
    store: Arc<dyn Store>,
    /// Open calls by carrier call id.
    open: HashMap<String, CallRecord>,
}

impl Recorder {
    /// A recorder writing to `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            open: HashMap::new(),
        }
    }

    /// Records one event.
    ///
    /// # Errors
    ///
    /// The store's. Events of calls it never saw start are ignored.
    pub async fn record(&mut self, update: CallUpdate) -> Result<(), StoreError> {
        match update {
            CallUpdate::Started {
                carrier_call_id,
                from,
                to,
            } => self.started(carrier_call_id, from, to, "active").await,
            CallUpdate::Refused {
                carrier_call_id,
                from,
                to,
            } => {
                self.started(carrier_call_id.clone(), from, to, "refused")
                    .await?;
                self.ended(&carrier_call_id, "refused".to_owned(), None)
                    .await
            }
            CallUpdate::Turn {
                carrier_call_id,
                turn,
                user,
                agent,
                interrupted,
                metrics,
            } => {
                let Some(call) = self.open.get(&carrier_call_id) else {
                    return Ok(());
                };
                let record = CallTurn {
                    turn: i64::from(turn),
                    user,
                    agent,
                    interrupted,
                    metrics,
                };
                self.store.insert_turn(&call.id, &record).await?;
                if let Some(thread_id) = &call.thread_id {
                    let now = now_ms();
                    for (role, content) in [("user", &record.user), ("assistant", &record.agent)] {
                        if content.trim().is_empty() {
                            continue;
                        }
                        let message = ThreadMessage {
                            role: role.to_owned(),
                            content: content.clone(),
                            channel: "voice".to_owned(),
                            call_id: Some(call.id.clone()),
                            created_at: now,
                        };
                        self.store.append_message(thread_id, &message).await?;
                    }
                }
                Ok(())
            }
            CallUpdate::Ended {
                carrier_call_id,
                reason,
                error,
            } => self.ended(&carrier_call_id, reason, error).await,
        }
    }

    async fn started(
        &mut self,
        carrier_call_id: String,
        from: String,
        to: String,
        state: &str,
    ) -> Result<(), StoreError> {
        // A call voxgate placed (agent-call) is recorded already, as dialing.
        if let Some(mut placed) = self.store.call_by_carrier_id(&carrier_call_id).await?
            && placed.state == "dialing"
        {
            let now = now_ms();
            placed.state = state.to_owned();
            placed.answered_at = (state == "active").then_some(now);
            self.store.update_call(&placed).await?;
            self.open.insert(carrier_call_id, placed);
            return Ok(());
        }
        let Some(route) = directory::route(&*self.store, &to).await? else {
            tracing::warn!(%carrier_call_id, "no circle takes this call; not recorded");
            return Ok(());
        };
        let thread = directory::thread(&*self.store, &route, &from).await?;
        let now = now_ms();
        let call = CallRecord {
            id: new_id("cal"),
            circle_id: route.circle_id,
            carrier_call_id: carrier_call_id.clone(),
            number: to.clone(),
            direction: "inbound".to_owned(),
            from,
            to,
            state: state.to_owned(),
            agent_id: route.agent.map(|a| a.id),
            thread_id: thread.map(|t| t.id),
            started_at: now,
            answered_at: (state == "active").then_some(now),
            ended_at: None,
            end_reason: None,
            error: None,
            cost: None,
            whenhangup_url: None,
        };
        self.store.insert_call(&call).await?;
        self.open.insert(carrier_call_id, call);
        Ok(())
    }

    async fn ended(
        &mut self,
        carrier_call_id: &str,
        reason: String,
        error: Option<String>,
    ) -> Result<(), StoreError> {
        let Some(mut call) = self.open.remove(carrier_call_id) else {
            return Ok(());
        };
        call.ended_at = Some(now_ms());
        if call.state == "active" {
            call.state = if error.is_some() {
                "failed"
            } else {
                "completed"
            }
            .to_owned();
        }
        call.end_reason = Some(reason);
        call.error = error;
        self.store.update_call(&call).await
    }
}
