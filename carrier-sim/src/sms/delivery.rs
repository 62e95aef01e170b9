//! **IO edge**: what happens to an SMS after the API answered.
//!
//! Outgoing: the status moves to `sent` at once, then after `dlr_delay` to `delivered` (or
//! `failed` when `to` is in the undeliverable set). With `whendelivered`, each step is
//! reported by a form POST of `id`, `status` and, only when delivered, `delivered` written
//! with `Z` (doc §3.3, in the variant that also reports `sent`). The reports of one SMS are
//! posted in order: `sent` (with its retries) finishes before the final one starts.
//!
//! Incoming (`POST /sim/sms`): the SMS is stored as `incoming` and posted to the number's
//! `sms_url` as `id, from, to, message, direction=incoming, created` (doc §3.2), retried on
//! failure. A plain-text answer is sent back to the sender as an `outgoing-reply` SMS from
//! the number unless `sms_replies` is `no`; a JSON answer, or an `sms_url` that is itself a
//! JSON action (`{"forward":"+46..."}`), is recorded on the SMS, not executed.

use std::sync::Arc;

use serde_json::Value;

use super::send::Outgoing;
use super::{Sms, Status, parts};
use crate::clock::new_id;
use crate::error::SimError;
use crate::form::Hook;
use crate::store::Sim;
use crate::webhook::{self, Answer, Retry};

/// Starts the delivery timeline of the stored SMS `id` in the background.
pub(crate) fn start(sim: &Arc<Sim>, id: String) {
    let task_sim = sim.clone();
    sim.spawn(async move { deliver(task_sim, id).await });
}

async fn deliver(sim: Arc<Sim>, id: String) {
    let Some((to, url)) = sim.with(|store| {
        let sms = store.sms_mut(&id)?;
        sms.status = Status::Sent;
        Some((sms.to.clone(), sms.whendelivered.clone()))
    }) else {
        return;
    };
    let report_sent = async {
        if let Some(url) = &url {
            let form = vec![("id", id.clone()), ("status", "sent".to_owned())];
            webhook::post(&sim, "whendelivered", url, &form, Retry::Yes).await;
        }
    };
    let settle = async {
        tokio::time::sleep(sim.config.dlr_delay).await;
        let now = sim.clock.now();
        sim.with(|store| {
            let failed = store.undeliverable.contains(&to);
            let sms = store.sms_mut(&id)?;
            if failed {
                sms.status = Status::Failed;
            } else {
                sms.status = Status::Delivered;
                sms.delivered = Some(now);
            }
            Some((sms.status, sms.delivered))
        })
    };
    let ((), settled) = tokio::join!(report_sent, settle);
    let (Some(url), Some((status, delivered))) = (url, settled) else {
        return;
    };
    let mut form = vec![("id", id), ("status", status.as_str().to_owned())];
    if let Some(at) = delivered {
        form.push(("delivered", at.zulu()));
    }
    webhook::post(&sim, "whendelivered", &url, &form, Retry::Yes).await;
}

/// An inbound SMS from `from` to the active number `to`: stores it, starts its webhook in
/// the background and returns its id. 404 when `to` is not an active SMS number.
pub(crate) fn receive(
    sim: &Arc<Sim>,
    from: &str,
    to: &str,
    message: &str,
) -> Result<String, SimError> {
    let created = sim.clock.now();
    let (_, parts) = parts::count(message);
    let (sms, sms_url, replies) = sim.with(|store| {
        let number = store
            .active_number(to)
            .filter(|n| n.has("sms"))
            .ok_or_else(|| SimError::NotFound(format!("{to} is not an active SMS number")))?;
        let (owner, sms_url, replies) = (
            number.owner.clone(),
            number.sms_url.clone(),
            number.sms_replies,
        );
        // Incoming SMS are free and count as delivered on arrival.
        let sms = Sms {
            id: new_id('s'),
            owner,
            direction: "incoming",
            from: from.to_owned(),
            to: to.to_owned(),
            created,
            message: Some(message.to_owned()),
            status: Status::Delivered,
            delivered: Some(created),
            parts,
            cost: 0,
            whendelivered: None,
            flashsms: false,
            dontlog: false,
            action: None,
            reply_id: None,
        };
        store.sms.push(sms.clone());
        Ok::<_, SimError>((sms, sms_url, replies))
    })?;
    let id = sms.id.clone();
    match sms_url.as_deref().map(|url| Hook::parse("sms_url", url)) {
        Some(Ok(Hook::Url(url))) => {
            let task_sim = sim.clone();
            sim.spawn(async move { notify(task_sim, sms, url, replies).await });
        }
        Some(Ok(Hook::Action(action))) => record_action(sim, &id, action),
        Some(Err(_)) | None => {}
    }
    Ok(id)
}

async fn notify(sim: Arc<Sim>, sms: Sms, url: String, replies: bool) {
    let form = vec![
        ("id", sms.id.clone()),
        ("from", sms.from.clone()),
        ("to", sms.to.clone()),
        ("message", sms.message.clone().unwrap_or_default()),
        ("direction", "incoming".to_owned()),
        ("created", sms.created.naive()),
    ];
    let Some(answer) = webhook::post(&sim, "sms_url", &url, &form, Retry::Yes).await else {
        return;
    };
    handle_answer(&sim, &sms, &answer, replies);
}

/// A plain-text answer is a reply; a JSON object is an SMS action, recorded.
fn handle_answer(sim: &Arc<Sim>, sms: &Sms, answer: &Answer, replies: bool) {
    let text = answer.body.trim();
    if text.is_empty() {
        return;
    }
    if let Ok(action @ Value::Object(_)) = serde_json::from_str::<Value>(text) {
        return record_action(sim, &sms.id, action);
    }
    if !replies {
        return;
    }
    let reply = Outgoing {
        owner: sms.owner.clone(),
        direction: "outgoing-reply",
        from: sms.to.clone(),
        to: sms.from.clone(),
        message: text.to_owned(),
        whendelivered: None,
        flashsms: false,
        dontlog: false,
    };
    match reply.submit(sim) {
        Ok(reply) => sim.with(|store| {
            if let Some(incoming) = store.sms_mut(&sms.id) {
                incoming.reply_id = Some(reply.id);
            }
        }),
        Err(error) => tracing::warn!(%error, id = sms.id, "reply SMS refused"),
    }
}

fn record_action(sim: &Sim, id: &str, action: Value) {
    sim.with(|store| {
        if let Some(sms) = store.sms_mut(id) {
            sms.action = Some(action);
        }
    });
}
