//! The records the [`Store`](super::Store) keeps: plain data, validated before they get here.

use serde::Serialize;

use crate::auth::Role;
use crate::ids::Millis;

/// A tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Circle {
    /// `cir_...`.
    pub id: String,
    /// Unique name, as in `/api/{circle}/...`.
    pub name: String,
    /// When it was created.
    pub created_at: Millis,
}

/// A key to store: only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKey {
    /// `key_...`.
    pub id: String,
    /// The circle it belongs to.
    pub circle_id: String,
    /// What it may do.
    pub role: Role,
    /// SHA-256 of the key, hex.
    pub hash: String,
    /// The key's first characters, to tell keys apart.
    pub shown: String,
}

/// A stored key with its circle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    /// `key_...`.
    pub id: String,
    /// The circle it belongs to.
    pub circle: Circle,
    /// What it may do.
    pub role: Role,
}

/// An element: a phone number, an email address or a websocket endpoint of a circle.
#[derive(Debug, Clone, PartialEq)]
pub struct Element {
    /// `elm_...`.
    pub id: String,
    /// Owning circle.
    pub circle_id: String,
    /// `phone-number`, `email` or `websocket`.
    pub element_type: String,
    /// Unique per circle among live elements.
    pub slug: String,
    /// The validated spec, defaults filled in.
    pub spec: serde_json::Value,
    /// Disabled elements keep their data but run no operations.
    pub enabled: bool,
    /// 1 on create, +1 per update.
    pub version: i64,
    /// When it was created.
    pub created_at: Millis,
    /// When it last changed.
    pub updated_at: Millis,
    /// Display name; the slug unless one was given.
    pub name: String,
    /// What the element is for, in the owner's words.
    pub intention: Option<String>,
    /// Free metadata of user interfaces (`update_meta`), a JSON object; never versioned.
    pub meta: serde_json::Value,
    /// Why it was disabled, if it is and a reason was given.
    pub disabled_reason: Option<String>,
}

impl Element {
    /// A new, enabled element at version 1, named after its slug.
    pub fn new(
        id: String,
        circle_id: String,
        element_type: &str,
        slug: String,
        spec: serde_json::Value,
        now: Millis,
    ) -> Self {
        Self {
            id,
            circle_id,
            element_type: element_type.to_owned(),
            name: slug.clone(),
            slug,
            spec,
            enabled: true,
            version: 1,
            created_at: now,
            updated_at: now,
            intention: None,
            meta: serde_json::json!({}),
            disabled_reason: None,
        }
    }
}

/// A change of an element that writes a new version.
#[derive(Debug, Clone, Copy)]
pub struct ElementChange<'a> {
    /// The new spec (validated).
    pub spec: &'a serde_json::Value,
    /// A new name, if it changes.
    pub name: Option<&'a str>,
    /// A new intention (`Some(None)` clears it), if it changes.
    pub intention: Option<Option<&'a str>>,
    /// Why this version was written, when not by a plain update.
    pub note: Option<&'a str>,
}

/// One recorded version of an element's spec.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ElementVersion {
    /// From 1.
    pub version: i64,
    /// The spec as it was.
    pub spec: serde_json::Value,
    /// When it was written.
    pub created_at: Millis,
    /// Why it was written, when not by a plain update (`Before restore to v3`).
    pub note: Option<String>,
}

/// One operation run on an element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityRecord {
    /// `act_...`.
    pub id: String,
    /// The element.
    pub element_id: String,
    /// Its circle.
    pub circle_id: String,
    /// The operation's name.
    pub operation: String,
    /// `ok`, or the error code.
    pub outcome: String,
    /// The HTTP status answered.
    pub status: i64,
    /// How long it ran.
    pub duration_ms: i64,
    /// The caller's key id.
    pub key_id: Option<String>,
    /// When it ran.
    pub created_at: Millis,
}

/// Counts of an element's operation runs since a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ActivitySummary {
    /// Runs.
    pub runs: i64,
    /// Runs that failed.
    pub errors: i64,
    /// Their total duration.
    pub total_duration_ms: i64,
    /// The last run, if any.
    pub last_at: Option<Millis>,
}

/// A stored agent; `body` is the agent's settings as JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentRecord {
    /// `agt_...`.
    pub id: String,
    /// Owning circle.
    pub circle_id: String,
    /// Name, prompt, greeting, engines, format, tools.
    pub body: serde_json::Value,
    /// When it was created.
    pub created_at: Millis,
    /// When it last changed.
    pub updated_at: Millis,
}

/// A carrier credential; the secret is sealed (see [`crate::secrets`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderRecord {
    /// `prv_...`.
    pub id: String,
    /// Owning circle.
    pub circle_id: String,
    /// The carrier, e.g. `46elks`.
    pub kind: String,
    /// A label.
    pub name: String,
    /// The API user name (not secret).
    pub username: String,
    /// The sealed API password.
    pub sealed_secret: Vec<u8>,
    /// A SIP trunk's registrar (`sip:host[:port]`); `None` for carrier API credentials.
    pub registrar: Option<String>,
    /// When it was created.
    pub created_at: Millis,
}

/// A registered phone number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberRecord {
    /// `num_...`.
    pub id: String,
    /// Owning circle.
    pub circle_id: String,
    /// E.164.
    pub number: String,
    /// The credential it is reached through.
    pub provider_id: String,
    /// The agent that answers it, if pinned.
    pub agent_id: Option<String>,
    /// Whether calls to it are taken (off: refused).
    pub inbound_enabled: bool,
    /// Whether calls from it may be placed (off: refused).
    pub outbound_enabled: bool,
    /// When it was registered.
    pub created_at: Millis,
    /// When it last changed (its registration time until then).
    pub updated_at: Millis,
}

/// A change to a registered number (`PATCH /api/v1/telephony/numbers/{id}`): the agent it
/// is pinned to (`None` unpins), and the direction switches, where given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberPatch {
    /// The agent that answers it; `None` unpins.
    pub agent_id: Option<String>,
    /// New `inbound_enabled`, if given.
    pub inbound_enabled: Option<bool>,
    /// New `outbound_enabled`, if given.
    pub outbound_enabled: Option<bool>,
    /// When.
    pub updated_at: Millis,
}

/// A call as it happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallRecord {
    /// `cal_...`.
    pub id: String,
    /// Owning circle.
    pub circle_id: String,
    /// The carrier's call id.
    pub carrier_call_id: String,
    /// Our number on the call.
    pub number: String,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// Caller.
    pub from: String,
    /// Callee.
    pub to: String,
    /// `active`, `completed`, `failed` or `refused`.
    pub state: String,
    /// The agent that answered.
    pub agent_id: Option<String>,
    /// The conversation thread the call belongs to.
    pub thread_id: Option<String>,
    /// When the carrier connected the call to voxgate.
    pub started_at: Millis,
    /// When the agent answered.
    pub answered_at: Option<Millis>,
    /// When it ended.
    pub ended_at: Option<Millis>,
    /// How it ended (`done`, `hangup`, `error`, `agent`, `idle`).
    pub end_reason: Option<String>,
    /// The typed error code when it ended in error.
    pub error: Option<String>,
    /// What the carrier charged, 1/10000 of the account's currency (from its hang-up).
    pub cost: Option<i64>,
    /// The caller's own URL that the carrier's hang-up report is passed on to.
    pub whenhangup_url: Option<String>,
}

/// One exchange of a call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallTurn {
    /// From 1.
    pub turn: i64,
    /// What the caller said.
    pub user: String,
    /// What of the agent's reply the caller heard.
    pub agent: String,
    /// Whether the caller cut the reply short.
    pub interrupted: bool,
    /// Stage times in milliseconds, as the voice core measured them.
    pub metrics: serde_json::Value,
}

/// A conversation with one contact and one agent, across calls (and, later, SMS).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Thread {
    /// `thr_...`.
    pub id: String,
    /// Owning circle.
    pub circle_id: String,
    /// The contact's number.
    pub contact: String,
    /// The agent.
    pub agent_id: String,
    /// When it started.
    pub created_at: Millis,
}

/// One message of a thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ThreadMessage {
    /// `user` (the contact) or `assistant` (the agent).
    pub role: String,
    /// The words.
    pub content: String,
    /// `voice` or `sms`.
    pub channel: String,
    /// The call it was said on.
    pub call_id: Option<String>,
    /// When.
    pub created_at: Millis,
}

/// One SMS, either way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsRecord {
    /// `sms_...`.
    pub id: String,
    /// Owning circle.
    pub circle_id: String,
    /// The phone-number element it went through.
    pub element_id: String,
    /// `outgoing` or `incoming`.
    pub direction: String,
    /// Sender ID or number.
    pub sender: String,
    /// Recipient number.
    pub recipient: String,
    /// The text.
    pub body: String,
    /// Parts it takes.
    pub segments: i64,
    /// `gsm7` or `ucs2`.
    pub encoding: String,
    /// Sent as a flash SMS.
    pub flash: bool,
    /// Sent from a sandbox number.
    pub sandbox: bool,
    /// `pending` (stored, carrier not yet known to have it), `created`, `sent`,
    /// `delivered`, `failed`, or `received` (incoming).
    pub status: String,
    /// The carrier's id, `s...`, once known.
    pub carrier_id: Option<String>,
    /// 1/10000 of the carrier account's currency.
    pub cost: Option<i64>,
    /// Why it failed.
    pub error_code: Option<String>,
    /// Carrier requests made.
    pub attempts: i64,
    /// When it was stored.
    pub created_at: Millis,
    /// When it last changed.
    pub updated_at: Millis,
    /// When it was delivered.
    pub delivered_at: Option<Millis>,
}

/// The spoken message of one `call-message` call (its audio is stored beside it until it
/// expires).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallAudio {
    /// `aud_...`.
    pub id: String,
    /// Owning circle.
    pub circle_id: String,
    /// The call that plays it.
    pub call_id: String,
    /// The message as written.
    pub text: String,
    /// SHA-256 of the URL's token.
    pub token_hash: String,
    /// How long it plays.
    pub duration_ms: i64,
    /// When it was made.
    pub created_at: Millis,
    /// When its URL stops working.
    pub expires_at: Millis,
}

/// A sandbox number leased to an element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxLease {
    /// `lse_...`.
    pub id: String,
    /// The leased number.
    pub number: String,
    /// When it was leased.
    pub leased_at: Millis,
    /// Whether this call took it (false: the element held it already).
    pub new: bool,
}
