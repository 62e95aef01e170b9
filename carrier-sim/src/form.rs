//! Form-encoded request parameters and the checks 46elks applies to them.
//!
//! 46elks takes `application/x-www-form-urlencoded` bodies (doc §2.1); action fields such as
//! `voice_start` and `sms_url` carry a URL or a JSON action *as a string* inside a form value.
//! Query strings (`GET /a1/sms?start=...`) are read the same way.

use axum::extract::{Form, FromRequest, Query, Request};
use serde_json::Value;

use crate::error::SimError;

/// The parameters of one request, in the order sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Fields(Vec<(String, String)>);

impl Fields {
    /// Parameters from a list of pairs (a query string).
    pub(crate) fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        Self(pairs)
    }

    /// The first value of `key`, if sent.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `key`, or 400 `Missing key <key>` when absent or empty.
    pub(crate) fn require(&self, key: &str) -> Result<&str, SimError> {
        match self.get(key) {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(SimError::BadRequest(format!("Missing key {key}"))),
        }
    }

    /// Whether `key` is `yes` (any case).
    pub(crate) fn yes(&self, key: &str) -> bool {
        self.get(key).is_some_and(|v| v.eq_ignore_ascii_case("yes"))
    }

    /// An optional `http(s)` URL parameter; 400 when present but not a URL.
    pub(crate) fn url(&self, key: &str) -> Result<Option<String>, SimError> {
        match self.get(key) {
            None | Some("") => Ok(None),
            Some(v) if is_http_url(v) => Ok(Some(v.to_owned())),
            Some(_) => Err(SimError::BadRequest(format!("Invalid {key}: not a URL"))),
        }
    }
}

impl<S: Send + Sync> FromRequest<S> for Fields {
    type Rejection = SimError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Form(pairs) = Form::<Vec<(String, String)>>::from_request(req, state)
            .await
            .map_err(|e| SimError::BadRequest(e.body_text()))?;
        Ok(Self(pairs))
    }
}

/// Reads a query string into [`Fields`].
pub(crate) type QueryFields = Query<Vec<(String, String)>>;

/// `+` and 7 to 15 digits, the first not 0 (ITU-T E.164).
pub(crate) fn is_e164(text: &str) -> bool {
    text.strip_prefix('+').is_some_and(|digits| {
        (7..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0')
    })
}

/// A text sender id: 1 to 11 ASCII letters and digits with at least one letter (an all-digit
/// sender would be a number, which must then be E.164).
pub(crate) fn is_sender_id(text: &str) -> bool {
    (1..=11).contains(&text.len())
        && text.bytes().all(|b| b.is_ascii_alphanumeric())
        && text.bytes().any(|b| b.is_ascii_alphabetic())
}

/// `http://` or `https://` followed by a host.
pub(crate) fn is_http_url(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    ["http://", "https://"].iter().any(|scheme| {
        lower
            .strip_prefix(scheme)
            .is_some_and(|rest| !rest.is_empty())
    })
}

/// A URL or a JSON action, as `voice_start`, `sms_url` and `next` carry (doc §2.4, §2.6).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Hook {
    /// POST the event to this URL; the answer (if any) is the action.
    Url(String),
    /// The action itself, given as a stringified JSON object.
    Action(Value),
}

impl Hook {
    /// Parses a form value: a JSON object (it starts with `{`) or an `http(s)` URL.
    pub(crate) fn parse(key: &str, text: &str) -> Result<Self, SimError> {
        let text = text.trim();
        if text.starts_with('{') {
            return match serde_json::from_str::<Value>(text) {
                Ok(value @ Value::Object(_)) => Ok(Self::Action(value)),
                _ => Err(SimError::BadRequest(format!("Invalid {key}: bad JSON"))),
            };
        }
        if is_http_url(text) {
            return Ok(Self::Url(text.to_owned()));
        }
        Err(SimError::BadRequest(format!(
            "Invalid {key}: neither a URL nor a JSON action"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_and_sender_ids() {
        let table = [
            ("+46700000000", true, false),
            ("+4670", false, false),
            ("+046700000000", false, false),
            ("46700000000", false, false),
            ("+1234567890123456", false, false),
            ("YourCompany", false, true),
            ("Your Company", false, false),
            ("TooLongSender", false, false),
            ("Elks46", false, true),
        ];
        for (text, e164, sender) in table {
            assert_eq!(is_e164(text), e164, "{text}");
            assert_eq!(is_sender_id(text), sender, "{text}");
        }
    }

    #[test]
    fn hooks() {
        assert_eq!(
            Hook::parse("voice_start", "https://x.example/a").expect("url"),
            Hook::Url("https://x.example/a".into())
        );
        assert_eq!(
            Hook::parse("voice_start", r#"{"connect":"+46700000000"}"#).expect("json"),
            Hook::Action(serde_json::json!({"connect": "+46700000000"}))
        );
        assert!(Hook::parse("voice_start", "{not json").is_err());
        assert!(Hook::parse("voice_start", "ftp://x").is_err());
    }
}
