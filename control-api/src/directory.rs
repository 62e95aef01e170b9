//! Who answers a call, and what they remember: a call to a registered number goes to the
//! number's circle and its pinned agent (or the circle's first agent); a call to any other
//! number goes to the `default` circle's first agent, the seed from `voxgate.toml`. What
//! the agent remembers is the thread of (caller, agent): rebinding a number to another
//! agent starts a new thread, and the old one stays readable.

use crate::agent::AgentBody;
use crate::bootstrap::DEFAULT_CIRCLE;
use crate::ids::now_ms;
use crate::store::{AgentRecord, CallRecord, Store, StoreError, Thread};

/// Messages of earlier calls handed to the brain at the start of a call.
pub const HISTORY_MESSAGES: i64 = 20;

/// The circle and agent a call belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// The circle.
    pub circle_id: String,
    /// The answering agent, if the circle has one.
    pub agent: Option<AgentRecord>,
}

/// Whether calls to our number `to` are taken: false only when the telephony REST
/// registers it with `inbound_enabled` off.
///
/// # Errors
///
/// The store's.
pub async fn takes_calls(store: &dyn Store, to: &str) -> Result<bool, StoreError> {
    Ok(store
        .number_by_e164(to)
        .await?
        .is_none_or(|n| n.inbound_enabled))
}

/// Routes a call to our number `to`. `None` when no circle takes it (no `default` circle:
/// the store was never started).
///
/// # Errors
///
/// The store's.
pub async fn route(store: &dyn Store, to: &str) -> Result<Option<Route>, StoreError> {
    if let Some(number) = store.number_by_e164(to).await? {
        let pinned = match &number.agent_id {
            Some(id) => store.agent(&number.circle_id, id).await?,
            None => None,
        };
        let agent = match pinned {
            Some(agent) => Some(agent),
            None => store.agents(&number.circle_id).await?.into_iter().next(),
        };
        return Ok(Some(Route {
            circle_id: number.circle_id,
            agent,
        }));
    }
    let Some(circle) = store.circle(DEFAULT_CIRCLE).await? else {
        return Ok(None);
    };
    let agent = store.agents(&circle.id).await?.into_iter().next();
    Ok(Some(Route {
        circle_id: circle.id,
        agent,
    }))
}

/// The thread of `contact` with the route's agent, created if new.
///
/// # Errors
///
/// The store's.
pub async fn thread(
    store: &dyn Store,
    route: &Route,
    contact: &str,
) -> Result<Option<Thread>, StoreError> {
    match &route.agent {
        Some(agent) => Ok(Some(
            store
                .thread(&route.circle_id, contact, &agent.id, now_ms())
                .await?,
        )),
        None => Ok(None),
    }
}

/// What the voice core needs when a call from `from` to `to` comes in.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Remembered {
    /// The answering agent's settings, if the store has an agent for the call.
    pub agent: Option<AgentBody>,
    /// The last [`HISTORY_MESSAGES`] messages of the thread, oldest first, as
    /// (`user` | `assistant`, text).
    pub history: Vec<(String, String)>,
}

/// A call voxgate placed (`agent-call`): its agent, introducing itself rather than
/// greeting, and its history with the callee.
async fn remember_outbound(store: &dyn Store, call: &CallRecord) -> Result<Remembered, StoreError> {
    let agent = match &call.agent_id {
        Some(id) => store.agent(&call.circle_id, id).await?,
        None => None,
    };
    let history = match &call.thread_id {
        Some(thread) => store
            .recent_messages(thread, HISTORY_MESSAGES)
            .await?
            .into_iter()
            .map(|m| (m.role, m.content))
            .collect(),
        None => Vec::new(),
    };
    let agent = agent
        .map(|a| serde_json::from_value::<AgentBody>(a.body))
        .transpose()
        .map_err(|e| StoreError::Backend(format!("stored agent: {e}")))?
        .map(|mut body| {
            body.greeting = introduction(&body.name);
            body
        });
    Ok(Remembered { agent, history })
}

/// What an agent says first on a call it placed: who is calling.
pub fn introduction(name: &str) -> String {
    if name.trim().is_empty() {
        "Hello, this is an automated assistant calling.".to_owned()
    } else {
        format!("Hello, this is {name} calling.")
    }
}

/// Looks up the agent and its history with the caller.
///
/// # Errors
///
/// The store's; `STORE_FAILED` if a stored agent does not parse.
pub async fn remember(
    store: &dyn Store,
    callid: &str,
    from: &str,
    to: &str,
) -> Result<Remembered, StoreError> {
    if let Some(call) = store.call_by_carrier_id(callid).await?
        && call.direction == "outbound"
    {
        return remember_outbound(store, &call).await;
    }
    let Some(route) = route(store, to).await? else {
        return Ok(Remembered::default());
    };
    let Some(thread) = thread(store, &route, from).await? else {
        return Ok(Remembered::default());
    };
    let history = store
        .recent_messages(&thread.id, HISTORY_MESSAGES)
        .await?
        .into_iter()
        .map(|m| (m.role, m.content))
        .collect();
    let agent = route
        .agent
        .map(|a| serde_json::from_value(a.body))
        .transpose()
        .map_err(|e| StoreError::Backend(format!("stored agent: {e}")))?;
    Ok(Remembered { agent, history })
}
