//! `POST /a1/calls`, `GET /a1/calls` and `GET /a1/calls/{id}` (doc §2.4, §2.5).
//!
//! Form fields: `from` (one of the account's active voice numbers, or its sign-up
//! `mobilenumber`; anything else is 403 with a plain-text reason), `to` (E.164),
//! `voice_start` (required: a URL, or a JSON action as a string), and optionally
//! `whenhangup` (URL) and `timeout` (seconds to wait for an answer, 1 to 600, default 60).
//! An account with less than one minute's price on it gets 403 `Not enough credits`. The
//! answer is `{id, created, direction:"outgoing", state:"ongoing", from, to}`; the call then
//! runs in the background ([`super::run`]).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use serde_json::{Value, json};

use super::{Call, CallState, callee::Callee, run};
use crate::clock::new_id;
use crate::error::SimError;
use crate::form::{Fields, Hook, QueryFields, is_e164};
use crate::paging::Page;
use crate::server::{Auth, Authed};
use crate::store::Sim;

/// Seconds to wait for an answer when `timeout` is not given.
const DEFAULT_TIMEOUT: u64 = 60;
/// The longest `timeout` accepted.
const MAX_TIMEOUT: u64 = 600;

/// `POST /a1/calls`.
pub(crate) async fn create(
    State(sim): State<Arc<Sim>>,
    auth: Auth,
    fields: Fields,
) -> Result<Json<Value>, SimError> {
    let Authed(user) = auth.0;
    let from = fields.require("from")?.to_owned();
    let to = fields.require("to")?.to_owned();
    if !is_e164(&to) {
        return Err(SimError::BadRequest(
            "Invalid to: not an E.164 number".into(),
        ));
    }
    let voice_start = fields.require("voice_start")?.trim().to_owned();
    Hook::parse("voice_start", &voice_start)?;
    let whenhangup = fields.url("whenhangup")?;
    let timeout = match fields.get("timeout").filter(|t| !t.is_empty()) {
        None => DEFAULT_TIMEOUT,
        Some(t) => t
            .parse::<u64>()
            .ok()
            .filter(|t| (1..=MAX_TIMEOUT).contains(t))
            .ok_or_else(|| SimError::BadRequest("Invalid timeout".into()))?,
    };
    let created = sim.clock.now();
    let call = sim.with(|store| {
        let account = store.account_mut(&user).ok_or(SimError::Unauthorized)?;
        if account.account.balance < sim.config.call_cost_per_minute {
            return Err(SimError::NotEnoughCredits);
        }
        let (owner_id, mobile) = (account.id.clone(), account.account.mobilenumber.clone());
        let own_voice_number = store
            .active_number(&from)
            .is_some_and(|n| n.owner == user && n.has("voice"));
        if from != mobile && !own_voice_number {
            return Err(SimError::Forbidden(format!(
                "Invalid from: {from} is not one of your voice numbers"
            )));
        }
        let callee = store
            .callees
            .get(&to)
            .cloned()
            .unwrap_or_else(|| Callee::default_for(&to));
        let call = Call {
            id: new_id('c'),
            owner: user.clone(),
            owner_id,
            direction: "outgoing",
            from: from.clone(),
            to: to.clone(),
            created,
            start: None,
            state: CallState::Ongoing,
            duration: 0,
            cost: 0,
            timeout,
            actions: Vec::new(),
            legs: Vec::new(),
            voice_start: Some(voice_start),
            whenhangup,
            failure: None,
            realtime: None,
            played: Vec::new(),
            done: false,
        };
        store.calls.push(call.clone());
        Ok((call, callee))
    });
    let (call, callee) = call?;
    run::start_outgoing(&sim, &call.id, &callee);
    Ok(Json(json!({
        "id": call.id,
        "created": call.created.naive(),
        "direction": "outgoing",
        "state": "ongoing",
        "from": call.from,
        "to": call.to,
    })))
}

/// `GET /a1/calls?start=&end=&limit=`: this account's calls, newest first.
pub(crate) async fn list(
    State(sim): State<Arc<Sim>>,
    auth: Auth,
    Query(query): QueryFields,
) -> Result<Json<Value>, SimError> {
    let Authed(user) = auth.0;
    let page = Page::from_query(&Fields::from_pairs(query))?;
    let items = sim.with(|store| {
        store
            .calls
            .iter()
            .filter(|c| c.owner == user)
            .map(|c| (c.created, c.api_json()))
            .collect()
    });
    Ok(Json(page.apply(items)))
}

/// `GET /a1/calls/{id}`.
pub(crate) async fn get(
    State(sim): State<Arc<Sim>>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, SimError> {
    let Authed(user) = auth.0;
    sim.with(|store| {
        store
            .calls
            .iter()
            .find(|c| c.id == id && c.owner == user)
            .map(|c| Json(c.api_json()))
    })
    .ok_or_else(|| SimError::NotFound(format!("Call {id} not found")))
}
