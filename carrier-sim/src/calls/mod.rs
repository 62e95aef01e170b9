//! Calls: the stored call and the modules that run one.
//!
//! - [`api`]: `POST /a1/calls`, `GET /a1/calls[/{id}]` (doc §2.4, §2.5).
//! - [`callee`]: how the called phone behaves (answer, busy, no answer) and what a
//!   simulated person says on a Realtime call.
//! - [`run`]: one background task per call: ring, answer, fetch `voice_start`, run the
//!   actions, hang up, charge, post `whenhangup`.
//! - [`actions`]: the call-action interpreter (`connect`, `play`, `hangup`, doc §3.5).
//! - [`realtime`]: a `connect` to a `ws://`/`wss://` URL, spoken through the bridge's
//!   simulated carrier ([`voxgate_bridge::caller::SimulatedCall`]).
//!
//! The call object has the documented keys (doc §2.5): `id`, `direction`, `from`, `to`,
//! `created`, `start` (once answered), `state` (`ongoing`, then `success`, `busy` or
//! `failed`), `duration` (seconds), `cost`, `timeout`, `owner`, `actions` (each executed
//! action with its `result`) and `legs` (`{duration,to,state,from}`).

pub(crate) mod actions;
pub(crate) mod api;
pub(crate) mod callee;
pub(crate) mod realtime;
pub(crate) mod run;

use serde_json::{Value, json};

use crate::clock::Stamp;

/// A call's `state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallState {
    /// Ringing or in progress.
    Ongoing,
    /// Answered and ended.
    Success,
    /// The callee was busy (or the action hung up with `busy`).
    Busy,
    /// Not answered, or the call could not be carried out.
    Failed,
}

impl CallState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Ongoing => "ongoing",
            Self::Success => "success",
            Self::Busy => "busy",
            Self::Failed => "failed",
        }
    }
}

/// The bytes a `play` action fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Played {
    pub(crate) url: String,
    /// The HTTP status, or `None` when the request failed.
    pub(crate) status: Option<u16>,
    pub(crate) bytes: Vec<u8>,
}

/// What happened on a Realtime WebSocket leg.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Realtime {
    pub(crate) url: String,
    /// The `hello` sent: `callid`, `from`, `to`.
    pub(crate) hello: Value,
    /// The agent's audio that 46elks would have played, at `agent_rate`.
    pub(crate) agent_audio: Vec<i16>,
    pub(crate) agent_rate: u32,
    /// Each message received: `t`, `at_ms` after `hello`, and its format or sample count.
    pub(crate) messages: Vec<Value>,
    /// What the simulated person said: prompt name, transcript, `at_ms`.
    pub(crate) said: Vec<Value>,
    /// Protocol violations the simulated carrier saw.
    pub(crate) violations: Vec<String>,
    /// Waits that timed out and other trouble, in order.
    pub(crate) notes: Vec<String>,
}

impl Realtime {
    fn summary_json(&self) -> Value {
        json!({
            "url": self.url,
            "hello": self.hello,
            "agent_samples": self.agent_audio.len(),
            "agent_rate": self.agent_rate,
            "messages": self.messages.len(),
            "said": self.said,
            "violations": self.violations,
            "notes": self.notes,
        })
    }
}

/// One call, either direction.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Call {
    pub(crate) id: String,
    /// The owning account's username.
    pub(crate) owner: String,
    /// The owning account's id (`u...`), shown as `owner`.
    pub(crate) owner_id: String,
    pub(crate) direction: &'static str,
    pub(crate) from: String,
    pub(crate) to: String,
    pub(crate) created: Stamp,
    pub(crate) start: Option<Stamp>,
    pub(crate) state: CallState,
    pub(crate) duration: u64,
    pub(crate) cost: i64,
    /// Seconds to wait for an answer.
    pub(crate) timeout: u64,
    pub(crate) actions: Vec<Value>,
    pub(crate) legs: Vec<Value>,
    /// The `voice_start` used (URL or JSON), if any.
    pub(crate) voice_start: Option<String>,
    pub(crate) whenhangup: Option<String>,
    /// Why the call failed, when it did.
    pub(crate) failure: Option<String>,
    pub(crate) realtime: Option<Realtime>,
    pub(crate) played: Vec<Played>,
    /// The call task has finished, `whenhangup` included.
    pub(crate) done: bool,
}

impl Call {
    /// The call object of `GET /a1/calls/{id}` (doc §2.5).
    pub(crate) fn api_json(&self) -> Value {
        let mut v = json!({
            "id": self.id,
            "direction": self.direction,
            "from": self.from,
            "to": self.to,
            "created": self.created.naive(),
            "state": self.state.as_str(),
            "duration": self.duration,
            "cost": self.cost,
            "timeout": self.timeout,
            "owner": self.owner_id,
            "actions": self.actions,
            "legs": self.legs,
        });
        if let Some(start) = self.start {
            v["start"] = json!(start.naive());
        }
        v
    }

    /// The `/sim/state` object: the API fields and the simulation's own.
    pub(crate) fn state_json(&self) -> Value {
        let mut v = self.api_json();
        v["done"] = json!(self.done);
        v["voice_start"] = json!(self.voice_start);
        v["whenhangup"] = json!(self.whenhangup);
        v["failure"] = json!(self.failure);
        v["realtime"] = self
            .realtime
            .as_ref()
            .map_or(Value::Null, Realtime::summary_json);
        let played: Vec<Value> = self
            .played
            .iter()
            .map(|p| json!({"url": p.url, "status": p.status, "bytes": p.bytes.len()}))
            .collect();
        v["played"] = json!(played);
        v
    }

    /// `GET /sim/calls/{id}`: the state object with every Realtime message.
    pub(crate) fn detail_json(&self) -> Value {
        let mut v = self.state_json();
        if let Some(realtime) = &self.realtime {
            v["realtime"]["messages"] = json!(realtime.messages);
        }
        v
    }
}
