//! The carrier's webhooks (reference §3): form-encoded POSTs, parsed strictly into typed
//! events. Garbage — a body that is not a form, a missing or repeated field, an id that is
//! not a carrier id, a number that is not E.164, a bad timestamp — is a [`WebhookError`]
//! (answered 400 `WEBHOOK_INVALID`), never a panic and never a partial write.

use std::collections::HashMap;

use serde_json::Value;

use super::time;
use crate::e164::{E164, clip};
use crate::error::{ApiError, ErrorCode};
use crate::ids::Millis;

/// Longest SMS text accepted (a concatenated SMS is at most 255 parts of 153 characters).
const MAX_MESSAGE: usize = 40_000;
/// Longest form value other than the message.
const MAX_VALUE: usize = 8_192;

/// Why a webhook body was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookError {
    /// The body is not `application/x-www-form-urlencoded` text.
    NotAForm,
    /// A required field is absent.
    Missing(&'static str),
    /// A field appears twice.
    Repeated(String),
    /// A field's value is not what the carrier documents.
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
}

impl From<WebhookError> for ApiError {
    fn from(e: WebhookError) -> Self {
        let message = match e {
            WebhookError::NotAForm => "the body is not a form".to_owned(),
            WebhookError::Missing(field) => format!("field {field} is missing"),
            WebhookError::Repeated(field) => format!("field {:?} appears twice", clip(&field)),
            WebhookError::Invalid { field, reason } => format!("field {field}: {reason}"),
        };
        ApiError::invalid(ErrorCode::WebhookInvalid, message)
    }
}

/// A parsed form: each field once.
#[derive(Debug)]
struct Form(HashMap<String, String>);

impl Form {
    fn parse(body: &[u8]) -> Result<Self, WebhookError> {
        let mut map = HashMap::new();
        for pair in body.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
            let (k, v) = match pair.iter().position(|&b| b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &pair[..0]),
            };
            let (k, mut v) = (decode(k)?, decode(v)?);
            let limit = if k == "message" {
                MAX_MESSAGE
            } else {
                MAX_VALUE
            };
            // No store keeps NUL in text (PostgreSQL refuses it). An SMS with one is still
            // the sender's message, kept with U+FFFD in its place; anywhere else it is garbage.
            if v.contains('\0') {
                if k != "message" {
                    return Err(WebhookError::Invalid {
                        field: "value",
                        reason: "holds a NUL character",
                    });
                }
                v = v.replace('\0', "\u{fffd}");
            }
            if v.len() > limit {
                return Err(WebhookError::Invalid {
                    field: "value",
                    reason: "too long",
                });
            }
            if map.contains_key(&k) {
                return Err(WebhookError::Repeated(k));
            }
            map.insert(k, v);
        }
        Ok(Self(map))
    }

    fn opt(&self, field: &str) -> Option<&str> {
        self.0
            .get(field)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    fn req(&self, field: &'static str) -> Result<&str, WebhookError> {
        self.opt(field).ok_or(WebhookError::Missing(field))
    }

    /// A carrier id (`s...`, `c...`): letters and digits.
    fn id(&self, field: &'static str) -> Result<String, WebhookError> {
        carrier_id(field, self.req(field)?)
    }

    fn number(&self, field: &'static str) -> Result<E164, WebhookError> {
        E164::parse(self.req(field)?).map_err(|_| WebhookError::Invalid {
            field,
            reason: "not an E.164 number",
        })
    }

    fn time(&self, field: &'static str) -> Result<Option<Millis>, WebhookError> {
        self.opt(field)
            .map(|t| {
                time::parse(t).ok_or(WebhookError::Invalid {
                    field,
                    reason: "not a carrier timestamp",
                })
            })
            .transpose()
    }

    fn int(&self, field: &'static str) -> Result<Option<i64>, WebhookError> {
        self.opt(field)
            .map(|v| {
                v.parse().map_err(|_| WebhookError::Invalid {
                    field,
                    reason: "not an integer",
                })
            })
            .transpose()
    }

    fn json(&self, field: &'static str) -> Result<Option<Value>, WebhookError> {
        self.opt(field)
            .map(|v| {
                serde_json::from_str(v).map_err(|_| WebhookError::Invalid {
                    field,
                    reason: "not JSON",
                })
            })
            .transpose()
    }
}

/// One percent-encoded form component (`+` is a space), strictly: a bad escape or bytes
/// that are not UTF-8 make the body not a form.
pub(crate) fn decode(text: &[u8]) -> Result<String, WebhookError> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut i = 0;
    while let Some(&b) = text.get(i) {
        match b {
            b'+' => bytes.push(b' '),
            b'%' => {
                let hex = text
                    .get(i + 1..i + 3)
                    .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .ok_or(WebhookError::NotAForm)?;
                bytes.push(u8::from_str_radix(hex, 16).map_err(|_| WebhookError::NotAForm)?);
                i += 2;
            }
            _ => bytes.push(b),
        }
        i += 1;
    }
    String::from_utf8(bytes).map_err(|_| WebhookError::NotAForm)
}

fn carrier_id(field: &'static str, id: &str) -> Result<String, WebhookError> {
    if super::is_carrier_id(id) {
        Ok(id.to_owned())
    } else {
        Err(WebhookError::Invalid {
            field,
            reason: "not a carrier id",
        })
    }
}

/// An SMS to one of our numbers (§3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundSms {
    /// `s...`.
    pub id: String,
    /// The sender: E.164, or an alphanumeric sender ID.
    pub from: String,
    /// Our number.
    pub to: E164,
    /// The text.
    pub message: String,
    /// When the carrier got it.
    pub created: Option<Millis>,
}

impl InboundSms {
    /// Parses the form.
    pub fn parse(body: &[u8]) -> Result<Self, WebhookError> {
        let f = Form::parse(body)?;
        let from = f.req("from")?;
        if from.chars().count() > 20 || from.chars().any(char::is_control) {
            return Err(WebhookError::Invalid {
                field: "from",
                reason: "not a number or sender ID",
            });
        }
        Ok(Self {
            id: f.id("id")?,
            from: from.to_owned(),
            to: f.number("to")?,
            message: f.opt("message").unwrap_or_default().to_owned(),
            created: f.time("created")?,
        })
    }
}

/// Where an SMS has got to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Handed to the mobile network.
    Sent,
    /// On the phone.
    Delivered,
    /// Will not arrive.
    Failed,
}

impl DeliveryStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }
}

/// A delivery report (§3.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    /// The SMS, `s...`.
    pub id: String,
    /// Its new status.
    pub status: DeliveryStatus,
    /// When it was delivered.
    pub delivered: Option<Millis>,
}

impl DeliveryReport {
    /// Parses the form.
    pub fn parse(body: &[u8]) -> Result<Self, WebhookError> {
        let f = Form::parse(body)?;
        let status = match f.req("status")? {
            "sent" => DeliveryStatus::Sent,
            "delivered" => DeliveryStatus::Delivered,
            "failed" => DeliveryStatus::Failed,
            _ => {
                return Err(WebhookError::Invalid {
                    field: "status",
                    reason: "not sent, delivered or failed",
                });
            }
        };
        Ok(Self {
            id: f.id("id")?,
            status,
            delivered: f.time("delivered")?,
        })
    }
}

/// A call asking what to do (§3.4): an incoming call, or an outgoing one just answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoiceStart {
    /// `c...` (`callid`, or `id` from SIP/WebRTC clients).
    pub callid: String,
    /// The caller.
    pub from: String,
    /// The called number.
    pub to: String,
    /// `incoming` or `outgoing`.
    pub direction: String,
}

impl VoiceStart {
    /// Parses the form.
    pub fn parse(body: &[u8]) -> Result<Self, WebhookError> {
        let f = Form::parse(body)?;
        let callid = match f.opt("callid") {
            Some(id) => carrier_id("callid", id)?,
            None => f.id("id")?,
        };
        Ok(Self {
            callid,
            from: party(&f, "from")?,
            to: party(&f, "to")?,
            direction: f.opt("direction").unwrap_or("incoming").to_owned(),
        })
    }
}

/// A caller or callee: E.164, or a SIP/WebRTC client's address.
fn party(f: &Form, field: &'static str) -> Result<String, WebhookError> {
    let v = f.req(field)?;
    if v.len() > 256 || v.chars().any(char::is_control) {
        return Err(WebhookError::Invalid {
            field,
            reason: "not a number or address",
        });
    }
    Ok(v.to_owned())
}

/// A finished call (§3.6): the call object's fields, `actions` and `legs` as JSON strings.
#[derive(Debug, Clone, PartialEq)]
pub struct Hangup {
    /// `c...` (`id`, or `callid` in older payloads).
    pub callid: String,
    /// The caller.
    pub from: String,
    /// The called number.
    pub to: String,
    /// `incoming` or `outgoing`.
    pub direction: String,
    /// `success`, `busy`, `failed`, ...
    pub state: String,
    /// When it was picked up; absent when it never connected.
    pub start: Option<Millis>,
    /// Seconds.
    pub duration: Option<i64>,
    /// 1/10000 of the currency.
    pub cost: Option<i64>,
    /// What ran.
    pub actions: Option<Value>,
}

impl Hangup {
    /// Parses the form.
    pub fn parse(body: &[u8]) -> Result<Self, WebhookError> {
        let f = Form::parse(body)?;
        let callid = match f.opt("id") {
            Some(id) => carrier_id("id", id)?,
            None => f.id("callid")?,
        };
        Ok(Self {
            callid,
            from: party(&f, "from")?,
            to: party(&f, "to")?,
            direction: f.opt("direction").unwrap_or_default().to_owned(),
            state: f.opt("state").unwrap_or("failed").to_owned(),
            start: f.time("start")?,
            duration: f.int("duration")?,
            cost: f.int("cost")?,
            actions: f.json("actions")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_inbound_sms_parses() {
        let body = b"direction=incoming&id=sf8425555e5d8db61dda7a7b3f1b91bdb&from=%2B46706861004&to=%2B46706861020&created=2018-07-13T13%3A57%3A23.741000&message=Hello%20how%20are%20you%3F";
        let sms = InboundSms::parse(body).expect("parse");
        assert_eq!(sms.id, "sf8425555e5d8db61dda7a7b3f1b91bdb");
        assert_eq!(sms.from, "+46706861004");
        assert_eq!(sms.to.as_str(), "+46706861020");
        assert_eq!(sms.message, "Hello how are you?");
        assert_eq!(sms.created, time::parse("2018-07-13T13:57:23.741"));
    }

    #[test]
    fn a_nul_in_a_message_is_kept_as_a_replacement_character() {
        let body = b"direction=incoming&id=s1&from=%2B46706861004&to=%2B46706861020&message=a%00b";
        let sms = InboundSms::parse(body).expect("parse");
        assert_eq!(sms.message, "a\u{fffd}b");
        assert!(
            InboundSms::parse(b"id=s%001&from=%2B46706861004&to=%2B46706861020&message=x").is_err()
        );
    }

    #[test]
    fn delivery_reports_parse_with_and_without_a_time() {
        let r = DeliveryReport::parse(b"id=s1&status=delivered&delivered=2017-03-14T09%3A52%3A10Z")
            .expect("parse");
        assert_eq!(r.status, DeliveryStatus::Delivered);
        assert_eq!(r.delivered, time::parse("2017-03-14T09:52:10Z"));
        let r = DeliveryReport::parse(b"id=s1&status=sent").expect("parse");
        assert_eq!((r.status, r.delivered), (DeliveryStatus::Sent, None));
    }

    #[test]
    fn voice_start_and_hangup_accept_both_id_names() {
        let v = VoiceStart::parse(
            b"callid=c1&from=%2B46700000001&to=%2B46766860001&direction=incoming",
        )
        .expect("parse");
        assert_eq!(
            (v.callid.as_str(), v.direction.as_str()),
            ("c1", "incoming")
        );
        let v = VoiceStart::parse(b"id=c2&from=sip%3Aa%40b&to=%2B46766860001").expect("parse");
        assert_eq!(v.callid, "c2");
        let h = Hangup::parse(
            b"id=c3&callid=c3&direction=outgoing&from=%2B1&to=%2B46700000001&state=success&start=2018-02-14T09%3A52%3A07.302000&duration=12&cost=2000&actions=%5B%7B%22connect%22%3A%22%2B46%22%7D%5D",
        )
        .expect("parse");
        assert_eq!((h.duration, h.cost), (Some(12), Some(2000)));
        assert_eq!(h.actions, Some(serde_json::json!([{"connect": "+46"}])));
        let h = Hangup::parse(b"callid=c4&from=%2B1&to=%2B2&state=busy").expect("parse");
        assert_eq!((h.callid.as_str(), h.start), ("c4", None));
    }

    #[test]
    fn garbage_is_a_typed_error() {
        let table: [(&[u8], WebhookError); 11] = [
            (b"id=s1&from=a%2&to=%2B46700000001", WebhookError::NotAForm),
            (b"id=s1&from=a%+1&to=%2B46700000001", WebhookError::NotAForm),
            (
                b"id=s1&from=%C3%28&to=%2B46700000001",
                WebhookError::NotAForm,
            ),
            (b"%%%", WebhookError::NotAForm),
            (b"id=s1&to=%2B46700000001", WebhookError::Missing("from")),
            (
                b"id=s1&id=s2&from=a&to=%2B46700000001",
                WebhookError::Repeated("id".into()),
            ),
            (
                b"id=s%2F1&from=a&to=%2B46700000001",
                WebhookError::Invalid {
                    field: "id",
                    reason: "not a carrier id",
                },
            ),
            (
                b"id=s1&from=a&to=0700",
                WebhookError::Invalid {
                    field: "to",
                    reason: "not an E.164 number",
                },
            ),
            (
                b"id=s1&from=a&to=%2B46700000001&created=yesterday",
                WebhookError::Invalid {
                    field: "created",
                    reason: "not a carrier timestamp",
                },
            ),
            (
                b"id=s1&from=%00&to=%2B46700000001",
                WebhookError::Invalid {
                    field: "value",
                    reason: "holds a NUL character",
                },
            ),
            (b"\xff\xfe=1", WebhookError::NotAForm),
        ];
        for (body, expected) in table {
            assert_eq!(
                InboundSms::parse(body).expect_err("refused"),
                expected,
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
        assert_eq!(
            DeliveryReport::parse(b"id=s1&status=lost").expect_err("refused"),
            WebhookError::Invalid {
                field: "status",
                reason: "not sent, delivered or failed"
            }
        );
        assert_eq!(
            Hangup::parse(b"id=c1&from=a&to=b&duration=ten").expect_err("refused"),
            WebhookError::Invalid {
                field: "duration",
                reason: "not an integer"
            }
        );
    }
}
