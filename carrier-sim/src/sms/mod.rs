//! SMS: the stored message, `GET /a1/sms` and `GET /a1/sms/{id}` (doc §2.2, §2.3).
//!
//! - [`send`]: `POST /a1/sms`, and the outgoing SMS every path creates (replies too).
//! - [`delivery`]: the status timeline (`created` → `sent` → `delivered`/`failed`) with its
//!   delivery reports, and inbound SMS with their `sms_url` webhook and replies.
//! - [`parts`]: GSM-7/UCS-2 part counting.
//!
//! An SMS object carries `id`, `direction` (`outgoing`, `outgoing-reply` for a reply sent
//! from a webhook answer, `incoming`), `from`, `to`, `created`, `delivered` (only once
//! delivered, written with `Z`), `message` (absent when sent with `dontlog=message`: the
//! text is never stored), `status` and `cost` (doc §2.3).

pub(crate) mod delivery;
pub(crate) mod parts;
pub(crate) mod send;

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use serde_json::{Value, json};

use crate::clock::Stamp;
use crate::error::SimError;
use crate::form::{Fields, QueryFields};
use crate::paging::Page;
use crate::server::{Auth, Authed};
use crate::store::Sim;

/// Where an SMS stands (doc §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Received by 46elks.
    Created,
    /// Handed to the (simulated) operator.
    Sent,
    /// Delivered to the phone.
    Delivered,
    /// Could not be delivered.
    Failed,
}

impl Status {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }
}

/// One stored SMS, either direction.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sms {
    pub(crate) id: String,
    /// The account it belongs to (the sender's, or the receiving number's owner).
    pub(crate) owner: String,
    /// `outgoing`, `outgoing-reply` or `incoming`.
    pub(crate) direction: &'static str,
    pub(crate) from: String,
    pub(crate) to: String,
    pub(crate) created: Stamp,
    /// The text; `None` when sent with `dontlog=message`.
    pub(crate) message: Option<String>,
    pub(crate) status: Status,
    pub(crate) delivered: Option<Stamp>,
    pub(crate) parts: u32,
    pub(crate) cost: i64,
    pub(crate) whendelivered: Option<String>,
    pub(crate) flashsms: bool,
    pub(crate) dontlog: bool,
    /// For incoming SMS: the JSON action of the number's `sms_url` or of the webhook answer
    /// (recorded, not executed).
    pub(crate) action: Option<Value>,
    /// For incoming SMS: the id of the reply sent from the webhook answer.
    pub(crate) reply_id: Option<String>,
}

impl Sms {
    /// The history object of `GET /a1/sms/{id}` (doc §2.3).
    pub(crate) fn api_json(&self) -> Value {
        let mut v = json!({
            "id": self.id,
            "direction": self.direction,
            "from": self.from,
            "to": self.to,
            "created": self.created.naive(),
            "status": self.status.as_str(),
            "cost": self.cost,
        });
        if let Some(delivered) = self.delivered {
            v["delivered"] = json!(delivered.zulu());
        }
        if let Some(message) = &self.message {
            v["message"] = json!(message);
        }
        v
    }

    /// The `/sim/state` object: the API fields and what the API does not show.
    pub(crate) fn state_json(&self) -> Value {
        let mut v = self.api_json();
        v["owner"] = json!(self.owner);
        v["parts"] = json!(self.parts);
        v["whendelivered"] = json!(self.whendelivered);
        v["flashsms"] = json!(self.flashsms);
        v["dontlog"] = json!(self.dontlog);
        v["action"] = json!(self.action);
        v["reply_id"] = json!(self.reply_id);
        v
    }
}

/// `GET /a1/sms?start=&end=&limit=&to=`: this account's SMS, newest first.
pub(crate) async fn list(
    State(sim): State<Arc<Sim>>,
    auth: Auth,
    Query(query): QueryFields,
) -> Result<Json<Value>, SimError> {
    let Authed(user) = auth.0;
    let query = Fields::from_pairs(query);
    let page = Page::from_query(&query)?;
    let to = query.get("to").filter(|t| !t.is_empty());
    let items = sim.with(|store| {
        store
            .sms
            .iter()
            .filter(|s| s.owner == user && to.is_none_or(|to| s.to == to))
            .map(|s| (s.created, s.api_json()))
            .collect()
    });
    Ok(Json(page.apply(items)))
}

/// `GET /a1/sms/{id}`; 404 for an unknown id or another account's SMS.
pub(crate) async fn get(
    State(sim): State<Arc<Sim>>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, SimError> {
    let Authed(user) = auth.0;
    sim.with(|store| {
        store
            .sms
            .iter()
            .find(|s| s.id == id && s.owner == user)
            .map(|s| Json(s.api_json()))
    })
    .ok_or_else(|| SimError::NotFound(format!("SMS {id} not found")))
}
