//! The call context at `hello`: waiting for the lookup, applying what it found, and the
//! greeting that waits for it (see [`crate::context`]).

use std::sync::Arc;
use std::time::Instant;

use futures::future::BoxFuture;

use super::{Call, ReplyJob, Turn};
use crate::context::{CallContext, LOOKUP_TIMEOUT};
use crate::providers::{Message, Role};

/// The call context, once looked up (`None`: the lookup timed out); pending forever when
/// no lookup runs.
pub(super) async fn next_context(lookup: Option<&mut Lookup>) -> Option<CallContext> {
    match lookup {
        Some(lookup) => lookup.await,
        None => std::future::pending().await,
    }
}

/// A running call-context lookup, bounded by [`LOOKUP_TIMEOUT`].
pub(super) type Lookup = BoxFuture<'static, Option<CallContext>>;

impl<L: crate::leg::Leg> Call<L> {
    /// Applies the looked-up context: its prompt and the caller's earlier messages go
    /// into the conversation, then the greeting plays.
    pub(super) fn on_context(&mut self, now: Instant, context: Option<CallContext>) {
        self.context = None;
        let shared = Arc::clone(&self.shared);
        let Some(context) = context else {
            tracing::warn!(call_id = %self.call_id, ?LOOKUP_TIMEOUT, "call context lookup timed out; greeting with the defaults");
            return self.greet(now, &shared.agent.greeting);
        };
        if let Some(prompt) = context.system_prompt {
            self.history[0] = Message::new(Role::System, prompt);
        }
        let earlier = context.history.len();
        self.history.splice(1..1, context.history);
        tracing::debug!(call_id = %self.call_id, earlier, "call context applied");
        self.greet(
            now,
            context
                .greeting
                .as_deref()
                .unwrap_or(&shared.agent.greeting),
        );
    }

    /// Plays `greeting`, unless it is empty or the caller already started a turn.
    pub(super) fn greet(&mut self, now: Instant, greeting: &str) {
        if !greeting.is_empty() && self.turn.is_none() {
            let job = ReplyJob::Say(greeting.to_owned());
            self.start_reply(Turn::new(false, now), job);
        }
    }
}
