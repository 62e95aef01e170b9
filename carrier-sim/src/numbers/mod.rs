//! Virtual numbers: `POST /a1/numbers` allocates, `GET /a1/numbers[/{id}]` shows (doc §2.6).
//! Configuring and deallocating are in [`configure`].
//!
//! Allocation takes `country` (ISO alpha-2, any case) and `capabilities` (a comma list of
//! `sms`, `mms`, `voice`; all three when absent) and hands out the next never-allocated
//! inventory number of that country. A number's country comes from its prefix
//! ([`country_of`]). When none is left the answer is **404** with a plain-text reason (the
//! doc is silent; 404 says "no such number to give", and keeps 403 for money and
//! permissions). The configuration fields of [`configure`] may also be given at allocation,
//! as the `elk` gem does.
//!
//! Numbers belong to the allocating account: other accounts get 404. Deallocated numbers
//! stay listed (`active: "no"`) and are never handed out again.

pub(crate) mod configure;

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use serde_json::{Value, json};

use crate::clock::{Stamp, new_id};
use crate::error::SimError;
use crate::form::{Fields, QueryFields};
use crate::paging::Page;
use crate::server::{Auth, Authed};
use crate::store::Sim;

/// The capabilities a number can have.
const CAPABILITIES: [&str; 3] = ["sms", "mms", "voice"];

/// Country by E.164 prefix, longest prefixes first; anything else is Swedish.
const PREFIXES: [(&str, &str); 11] = [
    ("+358", "fi"),
    ("+385", "hr"),
    ("+31", "nl"),
    ("+33", "fr"),
    ("+44", "gb"),
    ("+45", "dk"),
    ("+46", "se"),
    ("+47", "no"),
    ("+48", "pl"),
    ("+49", "de"),
    ("+1", "us"),
];

/// The lower-case ISO country of an inventory number (`se` when no prefix matches).
pub(crate) fn country_of(number: &str) -> &'static str {
    PREFIXES
        .iter()
        .find(|(prefix, _)| number.starts_with(prefix))
        .map_or("se", |(_, country)| country)
}

/// One allocated number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Number {
    pub(crate) id: String,
    pub(crate) owner: String,
    pub(crate) number: String,
    /// Lower-case, as 46elks shows it (`se`).
    pub(crate) country: String,
    pub(crate) capabilities: Vec<String>,
    /// A URL or a JSON SMS action.
    pub(crate) sms_url: Option<String>,
    pub(crate) mms_url: Option<String>,
    /// A URL or a JSON call action.
    pub(crate) voice_start: Option<String>,
    /// Whether a plain-text `sms_url` answer is sent as a reply (default yes).
    pub(crate) sms_replies: bool,
    pub(crate) name: Option<String>,
    pub(crate) allocated: Stamp,
    pub(crate) deallocated: Option<Stamp>,
}

impl Number {
    pub(crate) fn is_active(&self) -> bool {
        self.deallocated.is_none()
    }

    /// Whether it has `capability` (`sms`, `mms`, `voice`).
    pub(crate) fn has(&self, capability: &str) -> bool {
        self.capabilities.iter().any(|c| c == capability)
    }

    /// The number object (doc §2.6); unset fields are left out.
    pub(crate) fn api_json(&self) -> Value {
        let mut v = json!({
            "id": self.id,
            "active": if self.is_active() { "yes" } else { "no" },
            "country": self.country,
            "number": self.number,
            "capabilities": self.capabilities,
            "allocated": self.allocated.naive(),
        });
        let optional = [
            ("sms_url", &self.sms_url),
            ("mms_url", &self.mms_url),
            ("voice_start", &self.voice_start),
            ("name", &self.name),
        ];
        for (key, value) in optional {
            if let Some(value) = value {
                v[key] = json!(value);
            }
        }
        if let Some(at) = self.deallocated {
            v["deallocated"] = json!(at.naive());
        }
        v
    }

    /// The `/sim/state` object: the API fields plus owner and `sms_replies`.
    pub(crate) fn state_json(&self) -> Value {
        let mut v = self.api_json();
        v["owner"] = json!(self.owner);
        v["sms_replies"] = json!(if self.sms_replies { "yes" } else { "no" });
        v
    }
}

/// `POST /a1/numbers`.
pub(crate) async fn allocate(
    State(sim): State<Arc<Sim>>,
    auth: Auth,
    fields: Fields,
) -> Result<Json<Value>, SimError> {
    let Authed(user) = auth.0;
    let country = fields.require("country")?.to_ascii_lowercase();
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(SimError::BadRequest(
            "Invalid country: use an ISO 3166 alpha-2 code such as se".into(),
        ));
    }
    let capabilities = parse_capabilities(fields.get("capabilities"))?;
    let mut number = Number {
        id: new_id('n'),
        owner: user,
        number: String::new(),
        country,
        capabilities,
        sms_url: None,
        mms_url: None,
        voice_start: None,
        sms_replies: true,
        name: None,
        allocated: sim.clock.now(),
        deallocated: None,
    };
    configure::apply(&mut number, &fields)?;
    sim.with(|store| {
        let index = store
            .free_numbers
            .iter()
            .position(|n| country_of(n) == number.country)
            .ok_or_else(|| {
                SimError::NotFound(format!("No number available in country {}", number.country))
            })?;
        number.number = store.free_numbers.remove(index);
        store.numbers.push(number.clone());
        Ok(Json(number.api_json()))
    })
}

fn parse_capabilities(text: Option<&str>) -> Result<Vec<String>, SimError> {
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return Ok(CAPABILITIES.iter().map(|c| (*c).to_owned()).collect());
    };
    let mut out: Vec<String> = Vec::new();
    for capability in text.split(',').map(|c| c.trim().to_ascii_lowercase()) {
        if !CAPABILITIES.contains(&capability.as_str()) {
            return Err(SimError::BadRequest(format!(
                "Invalid capabilities: {capability:?} is not one of sms, mms, voice"
            )));
        }
        if !out.contains(&capability) {
            out.push(capability);
        }
    }
    Ok(out)
}

/// `GET /a1/numbers?start=&end=&limit=`: this account's numbers, active and deallocated,
/// newest allocation first.
pub(crate) async fn list(
    State(sim): State<Arc<Sim>>,
    auth: Auth,
    Query(query): QueryFields,
) -> Result<Json<Value>, SimError> {
    let Authed(user) = auth.0;
    let page = Page::from_query(&Fields::from_pairs(query))?;
    let items = sim.with(|store| {
        store
            .numbers
            .iter()
            .filter(|n| n.owner == user)
            .map(|n| (n.allocated, n.api_json()))
            .collect()
    });
    Ok(Json(page.apply(items)))
}

/// `GET /a1/numbers/{id}`.
pub(crate) async fn get(
    State(sim): State<Arc<Sim>>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, SimError> {
    let Authed(user) = auth.0;
    sim.with(|store| {
        store
            .numbers
            .iter()
            .find(|n| n.id == id && n.owner == user)
            .map(|n| Json(n.api_json()))
    })
    .ok_or_else(|| not_found(&id))
}

pub(crate) fn not_found(id: &str) -> SimError {
    SimError::NotFound(format!("Number {id} not found"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_by_prefix() {
        let table = [
            ("+46766860001", "se"),
            ("+4712345678", "no"),
            ("+358401234567", "fi"),
            ("+12025550100", "us"),
            ("+999123456", "se"),
        ];
        for (number, country) in table {
            assert_eq!(country_of(number), country, "{number}");
        }
    }

    #[test]
    fn capabilities() {
        assert_eq!(
            parse_capabilities(Some("SMS, voice,sms")).expect("ok"),
            ["sms", "voice"]
        );
        assert_eq!(
            parse_capabilities(None).expect("default"),
            ["sms", "mms", "voice"]
        );
        assert!(parse_capabilities(Some("sms,fax")).is_err());
    }
}
