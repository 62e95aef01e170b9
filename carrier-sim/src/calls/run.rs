//! **IO edge**: one background task per call, from ringing to `whenhangup`.
//!
//! Outgoing (`POST /a1/calls`): the callee rings for `after_ms`, then answers, is busy, or
//! never answers (the call fails after `timeout`). On answer, 46elks loads `voice_start`
//! ("not loaded until the call connects", doc §2.4): a JSON action is used as is; a URL gets
//! a form POST of `callid, from, to, direction=outgoing, result=newoutgoing, created` and
//! its answer must be a JSON action (doc §3.4). Incoming (`POST /sim/calls`): the number's
//! `voice_start` is loaded at once, with `callid, from, to, direction=incoming, created`.
//!
//! The actions then run ([`super::actions`]). At the end the call is charged
//! `call_cost_per_minute` per started minute if it was answered, and `whenhangup`, if set
//! (on the call, or by an action), gets a form POST of `id`, `callid` (the same value; older
//! payloads use it), `direction`, `created`, `from`, `to`, `state`, and when answered
//! `start`, `duration`, `cost`, `actions` and `legs` (JSON strings), as DearMEP's production
//! handler reads them (doc §3.6).

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::callee::{Behaviour, Callee, Speaker};
use super::{Call, CallState, actions};
use crate::clock::{Stamp, new_id};
use crate::error::SimError;
use crate::form::Hook;
use crate::store::Sim;
use crate::webhook::{self, Retry};

/// What the call task knows from the start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CallCtx {
    pub(crate) id: String,
    pub(crate) direction: &'static str,
    pub(crate) from: String,
    pub(crate) to: String,
    pub(crate) created: Stamp,
    pub(crate) voice_start: Option<String>,
    /// The person on the line, for Realtime legs.
    pub(crate) speaker: Speaker,
}

impl CallCtx {
    fn of(call: &Call, speaker: Speaker) -> Self {
        Self {
            id: call.id.clone(),
            direction: call.direction,
            from: call.from.clone(),
            to: call.to.clone(),
            created: call.created,
            voice_start: call.voice_start.clone(),
            speaker,
        }
    }
}

/// Runs the stored outgoing call `id` against `callee` in the background.
pub(crate) fn start_outgoing(sim: &Arc<Sim>, id: &str, callee: &Callee) {
    let Some((ctx, timeout)) = sim.with(|store| {
        let call = store.call_mut(id)?;
        Some((CallCtx::of(call, callee.speaker()), call.timeout))
    }) else {
        return;
    };
    let (behaviour, ring) = (callee.behaviour, Duration::from_millis(callee.after_ms));
    let task_sim = sim.clone();
    sim.spawn(async move {
        let limit = Duration::from_secs(timeout);
        let state = match behaviour {
            Behaviour::Busy if ring < limit => {
                tokio::time::sleep(ring).await;
                CallState::Busy
            }
            Behaviour::Answer if ring < limit => {
                tokio::time::sleep(ring).await;
                answer(&task_sim, &ctx).await
            }
            Behaviour::Answer | Behaviour::Busy | Behaviour::NoAnswer => {
                tokio::time::sleep(limit).await;
                fail(&task_sim, &ctx.id, "no answer");
                CallState::Failed
            }
        };
        hang_up(&task_sim, &ctx.id, state).await;
    });
}

/// An inbound call from `from` to the active voice number `to`: stores it, runs it in the
/// background and returns its id. 404 when `to` is not an active voice number, 400 when it
/// has no `voice_start`.
pub(crate) fn receive(
    sim: &Arc<Sim>,
    from: &str,
    to: &str,
    speaker: Speaker,
) -> Result<String, SimError> {
    let created = sim.clock.now();
    let ctx = sim.with(|store| {
        let number = store
            .active_number(to)
            .filter(|n| n.has("voice"))
            .ok_or_else(|| SimError::NotFound(format!("{to} is not an active voice number")))?;
        let voice_start = number
            .voice_start
            .clone()
            .ok_or_else(|| SimError::BadRequest(format!("{to} has no voice_start")))?;
        let owner = number.owner.clone();
        let owner_id = store
            .account_mut(&owner)
            .map(|a| a.id.clone())
            .unwrap_or_default();
        let call = Call {
            id: new_id('c'),
            owner,
            owner_id,
            direction: "incoming",
            from: from.to_owned(),
            to: to.to_owned(),
            created,
            start: None,
            state: CallState::Ongoing,
            duration: 0,
            cost: 0,
            timeout: 0,
            actions: Vec::new(),
            legs: Vec::new(),
            voice_start: Some(voice_start),
            whenhangup: None,
            failure: None,
            realtime: None,
            played: Vec::new(),
            done: false,
        };
        let ctx = CallCtx::of(&call, speaker);
        store.calls.push(call);
        Ok::<_, SimError>(ctx)
    })?;
    let id = ctx.id.clone();
    let task_sim = sim.clone();
    sim.spawn(async move {
        let state = answer(&task_sim, &ctx).await;
        hang_up(&task_sim, &ctx.id, state).await;
    });
    Ok(id)
}

/// The call is answered: load `voice_start` and run the actions.
async fn answer(sim: &Arc<Sim>, ctx: &CallCtx) -> CallState {
    let start = sim.clock.now();
    sim.with(|store| {
        if let Some(call) = store.call_mut(&ctx.id) {
            call.start = Some(start);
        }
    });
    match first_action(sim, ctx).await {
        Ok(action) => actions::execute(sim, ctx, action).await,
        Err(why) => {
            fail(sim, &ctx.id, &why);
            CallState::Failed
        }
    }
}

async fn first_action(sim: &Sim, ctx: &CallCtx) -> Result<Value, String> {
    let voice_start = ctx.voice_start.as_deref().ok_or("no voice_start")?;
    match Hook::parse("voice_start", voice_start).map_err(|e| e.to_string())? {
        Hook::Action(action) => Ok(action),
        Hook::Url(url) => {
            let mut form = vec![
                ("callid", ctx.id.clone()),
                ("from", ctx.from.clone()),
                ("to", ctx.to.clone()),
                ("direction", ctx.direction.to_owned()),
            ];
            if ctx.direction == "outgoing" {
                form.push(("result", "newoutgoing".to_owned()));
            }
            form.push(("created", ctx.created.naive()));
            let answer = webhook::post(sim, "voice_start", &url, &form, Retry::No)
                .await
                .ok_or("the voice_start webhook failed")?;
            actions::parse_action(&answer.body)
                .ok_or_else(|| "the voice_start answer is not a JSON action".to_owned())
        }
    }
}

/// Records why the call failed (the first reason wins).
pub(crate) fn fail(sim: &Sim, id: &str, why: &str) {
    tracing::debug!(id, why, "simulated call failed");
    sim.with(|store| {
        if let Some(call) = store.call_mut(id) {
            call.failure.get_or_insert_with(|| why.to_owned());
        }
    });
}

/// Ends the call: state, duration, cost, legs; then `whenhangup`; then `done`.
async fn hang_up(sim: &Arc<Sim>, id: &str, state: CallState) {
    let end = sim.clock.now();
    let per_minute = sim.config.call_cost_per_minute;
    let Some(call) = sim.with(|store| {
        let call = store.call_mut(id)?;
        call.state = state;
        if let Some(start) = call.start {
            let elapsed = end.since(start);
            call.duration = elapsed.as_secs() + u64::from(elapsed.subsec_nanos() > 0);
            let minutes = i64::try_from(call.duration.div_ceil(60).max(1)).unwrap_or(i64::MAX);
            call.cost = minutes.saturating_mul(per_minute);
        }
        let leg = json!({
            "duration": call.duration,
            "to": call.to,
            "state": state.as_str(),
            "from": call.from,
        });
        call.legs.insert(0, leg);
        let call = call.clone();
        store.charge_after_the_fact(&call.owner, call.cost);
        Some(call)
    }) else {
        return;
    };
    if let Some(url) = &call.whenhangup {
        webhook::post(sim, "whenhangup", url, &hangup_form(&call), Retry::Yes).await;
    }
    sim.with(|store| {
        if let Some(call) = store.call_mut(id) {
            call.done = true;
        }
    });
}

fn hangup_form(call: &Call) -> webhook::Form {
    let mut form = vec![
        ("id", call.id.clone()),
        ("callid", call.id.clone()),
        ("direction", call.direction.to_owned()),
        ("created", call.created.naive()),
        ("from", call.from.clone()),
        ("to", call.to.clone()),
        ("state", call.state.as_str().to_owned()),
    ];
    if let Some(start) = call.start {
        form.extend([
            ("start", start.naive()),
            ("duration", call.duration.to_string()),
            ("cost", call.cost.to_string()),
            ("actions", Value::from(call.actions.clone()).to_string()),
            ("legs", Value::from(call.legs.clone()).to_string()),
        ]);
    }
    form
}
