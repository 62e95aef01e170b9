//! What the rest of voxgate knows about a call before it is answered: the agent's own
//! prompt and greeting, and the conversation so far with this caller (earlier calls of the
//! same thread). The pipeline asks a [`CallContexts`] once per call, at `hello`, and waits
//! at most [`LOOKUP_TIMEOUT`] before greeting with its own defaults: a slow database must
//! never leave a caller in silence.
//!
//! The server implements the trait over the control API's store; the pipeline does not
//! know where the answer comes from.

use std::time::Duration;

use futures::future::BoxFuture;

use crate::providers::Message;

/// The longest the greeting waits for the lookup.
pub const LOOKUP_TIMEOUT: Duration = Duration::from_millis(500);

/// The answer of one lookup; `None` fields keep the pipeline's agent settings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallContext {
    /// The agent's instructions for this call.
    pub system_prompt: Option<String>,
    /// What to say on answer (empty: say nothing).
    pub greeting: Option<String>,
    /// Earlier messages with this caller, oldest first (user and assistant only).
    pub history: Vec<Message>,
}

/// Looks up the context of call `callid` (the carrier's id) from `from` to `to`: a call
/// voxgate placed itself (an agent call) is found by its id.
pub trait CallContexts: Send + Sync + 'static {
    /// The context; errors are the implementation's to log, answered with the default.
    fn lookup(&self, callid: &str, from: &str, to: &str) -> BoxFuture<'static, CallContext>;
}
