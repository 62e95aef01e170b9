//! `POST /a1/sms` (doc §2.2), and creating any outgoing SMS.
//!
//! Form fields: `from` (a text sender id of at most 11 letters and digits, or E.164), `to`
//! (E.164), `message`, and optionally `whendelivered` (URL), `flashsms=yes`, `dryrun=yes`
//! (the answer carries `estimated_cost` instead of `cost`, and neither `id` nor `created`,
//! as in the dry-run example the doc cites; nothing is stored or charged) and
//! `dontlog=message` (the text is not stored). The cost is parts × `sms_cost`; a balance
//! below it answers 403 `{"error":"Not enough credits"}`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::parts;
use super::{Sms, Status};
use crate::clock::new_id;
use crate::error::SimError;
use crate::form::{Fields, is_e164, is_sender_id};
use crate::server::{Auth, Authed};
use crate::store::Sim;

/// An SMS to send, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outgoing {
    pub(crate) owner: String,
    /// `outgoing`, or `outgoing-reply` for a reply from an `sms_url` answer.
    pub(crate) direction: &'static str,
    pub(crate) from: String,
    pub(crate) to: String,
    pub(crate) message: String,
    pub(crate) whendelivered: Option<String>,
    pub(crate) flashsms: bool,
    pub(crate) dontlog: bool,
}

impl Outgoing {
    /// Reads and checks the form of `POST /a1/sms`.
    fn from_form(owner: String, fields: &Fields) -> Result<Self, SimError> {
        let from = fields.require("from")?;
        if !is_e164(from) && !is_sender_id(from) {
            return Err(SimError::BadRequest(
                "Invalid from: use at most 11 letters and digits, or an E.164 number".into(),
            ));
        }
        let to = fields.require("to")?;
        if !is_e164(to) {
            return Err(SimError::BadRequest(
                "Invalid to: not an E.164 number".into(),
            ));
        }
        let message = fields.require("message")?;
        let dontlog = match fields.get("dontlog") {
            None | Some("") => false,
            Some("message") => true,
            Some(_) => {
                return Err(SimError::BadRequest(
                    "Invalid dontlog: only dontlog=message is supported".into(),
                ));
            }
        };
        Ok(Self {
            owner,
            direction: "outgoing",
            from: from.to_owned(),
            to: to.to_owned(),
            message: message.to_owned(),
            whendelivered: fields.url("whendelivered")?,
            flashsms: fields.yes("flashsms"),
            dontlog,
        })
    }

    /// Charges, stores and starts delivering the SMS; returns it.
    pub(crate) fn submit(self, sim: &Arc<Sim>) -> Result<Sms, SimError> {
        let (_, parts) = parts::count(&self.message);
        let cost = i64::from(parts) * sim.config.sms_cost;
        let sms = Sms {
            id: new_id('s'),
            owner: self.owner,
            direction: self.direction,
            from: self.from,
            to: self.to,
            created: sim.clock.now(),
            message: (!self.dontlog).then_some(self.message),
            status: Status::Created,
            delivered: None,
            parts,
            cost,
            whendelivered: self.whendelivered,
            flashsms: self.flashsms,
            dontlog: self.dontlog,
            action: None,
            reply_id: None,
        };
        sim.with(|store| {
            store.charge(&sms.owner, cost)?;
            store.sms.push(sms.clone());
            Ok::<_, SimError>(())
        })?;
        super::delivery::start(sim, sms.id.clone());
        Ok(sms)
    }
}

/// `POST /a1/sms`.
pub(crate) async fn send(
    State(sim): State<Arc<Sim>>,
    auth: Auth,
    fields: Fields,
) -> Result<Json<Value>, SimError> {
    let Authed(user) = auth.0;
    let outgoing = Outgoing::from_form(user, &fields)?;
    if fields.yes("dryrun") {
        let (_, parts) = parts::count(&outgoing.message);
        return Ok(Json(json!({
            "status": "created",
            "direction": "outgoing",
            "from": outgoing.from,
            "estimated_cost": i64::from(parts) * sim.config.sms_cost,
            "to": outgoing.to,
            "parts": parts,
            "message": outgoing.message,
        })));
    }
    let message = outgoing.message.clone();
    let sms = outgoing.submit(&sim)?;
    // The send answer, key for key as the documented example (doc §2.2).
    let mut answer = json!({
        "status": "created",
        "direction": sms.direction,
        "from": sms.from,
        "created": sms.created.naive(),
        "parts": sms.parts,
        "to": sms.to,
        "cost": sms.cost,
        "message": message,
        "id": sms.id,
    });
    if sms.dontlog {
        answer["dontlog"] = json!("message");
    }
    Ok(Json(answer))
}
