//! `POST /a1/numbers/{id}`: configure or deallocate a number (doc §2.6).
//!
//! Fields: `sms_url` (URL or JSON SMS action), `mms_url` (URL), `voice_start` (URL or JSON
//! call action), `sms_replies` (`yes`/`no`), `name` (at most 50 characters). The value
//! `none` or a single space clears a field. `active=no` deallocates; the answer is then
//! `{"id","active":"no","deallocated"}`. A deallocated number "cannot be used again, ever":
//! configuring it answers 403 with a plain-text reason.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use super::{Number, not_found};
use crate::error::SimError;
use crate::form::{Fields, Hook, is_http_url};
use crate::server::{Auth, Authed};
use crate::store::Sim;

/// The longest `name` 46elks accepts.
const MAX_NAME: usize = 50;

/// `POST /a1/numbers/{id}`.
pub(crate) async fn configure(
    State(sim): State<Arc<Sim>>,
    auth: Auth,
    Path(id): Path<String>,
    fields: Fields,
) -> Result<Json<Value>, SimError> {
    let Authed(user) = auth.0;
    let now = sim.clock.now();
    sim.with(|store| {
        let number = store
            .numbers
            .iter_mut()
            .find(|n| n.id == id && n.owner == user)
            .ok_or_else(|| not_found(&id))?;
        if !number.is_active() {
            return Err(SimError::Forbidden(format!(
                "Number {id} is deallocated and cannot be used again"
            )));
        }
        match fields.get("active") {
            Some(v) if v.eq_ignore_ascii_case("no") => {
                number.deallocated = Some(now);
                return Ok(Json(json!({
                    "id": number.id,
                    "active": "no",
                    "deallocated": now.naive(),
                })));
            }
            None | Some("yes") => {}
            Some(_) => return Err(SimError::BadRequest("Invalid active: use no".into())),
        }
        let mut updated = number.clone();
        apply(&mut updated, &fields)?;
        *number = updated;
        Ok(Json(number.api_json()))
    })
}

/// Applies the configuration fields present in `fields` to `number`; on error nothing is
/// meant to be kept (callers apply to a copy).
pub(crate) fn apply(number: &mut Number, fields: &Fields) -> Result<(), SimError> {
    if let Some(v) = fields.get("sms_url") {
        number.sms_url = hook("sms_url", v)?;
    }
    if let Some(v) = fields.get("voice_start") {
        number.voice_start = hook("voice_start", v)?;
    }
    if let Some(v) = fields.get("mms_url") {
        number.mms_url = match cleared(v) {
            true => None,
            false if is_http_url(v) => Some(v.to_owned()),
            false => return Err(SimError::BadRequest("Invalid mms_url: not a URL".into())),
        };
    }
    if let Some(v) = fields.get("sms_replies") {
        number.sms_replies = match v.to_ascii_lowercase().as_str() {
            "yes" => true,
            "no" => false,
            _ => {
                return Err(SimError::BadRequest(
                    "Invalid sms_replies: yes or no".into(),
                ));
            }
        };
    }
    if let Some(v) = fields.get("name") {
        if v.chars().count() > MAX_NAME {
            return Err(SimError::BadRequest(format!(
                "Invalid name: at most {MAX_NAME} characters"
            )));
        }
        number.name = (!cleared(v)).then(|| v.to_owned());
    }
    Ok(())
}

/// `none` or a single space clears a field (doc §2.6).
fn cleared(value: &str) -> bool {
    value == " " || value.eq_ignore_ascii_case("none")
}

/// A URL or JSON action field: cleared, or checked and kept as sent.
fn hook(key: &str, value: &str) -> Result<Option<String>, SimError> {
    if cleared(value) {
        return Ok(None);
    }
    Hook::parse(key, value)?;
    Ok(Some(value.trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;

    fn number() -> Number {
        Number {
            id: "n1".into(),
            owner: "sim".into(),
            number: "+46766860001".into(),
            country: "se".into(),
            capabilities: vec!["sms".into(), "voice".into()],
            sms_url: None,
            mms_url: None,
            voice_start: None,
            sms_replies: true,
            name: None,
            allocated: Clock::default().now(),
            deallocated: None,
        }
    }

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        Fields::from_pairs(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn sets_and_clears() {
        let mut n = number();
        let set = fields(&[
            ("sms_url", "https://x.example/sms"),
            ("voice_start", r#"{"connect":"+46700000000"}"#),
            ("name", "support"),
            ("sms_replies", "no"),
        ]);
        apply(&mut n, &set).expect("set");
        assert_eq!(n.sms_url.as_deref(), Some("https://x.example/sms"));
        assert_eq!(
            n.voice_start.as_deref(),
            Some(r#"{"connect":"+46700000000"}"#)
        );
        assert!(!n.sms_replies);
        apply(
            &mut n,
            &fields(&[("sms_url", "none"), ("voice_start", " "), ("name", "NONE")]),
        )
        .expect("clear");
        assert_eq!((n.sms_url, n.voice_start, n.name), (None, None, None));
    }

    #[test]
    fn rejects_bad_values() {
        for (key, value) in [
            ("sms_url", "not a url"),
            ("voice_start", "{bad json"),
            ("mms_url", "{}"),
            ("sms_replies", "maybe"),
            ("name", &"x".repeat(51)),
        ] {
            assert!(
                apply(&mut number(), &fields(&[(key, value)])).is_err(),
                "{key}"
            );
        }
    }
}
