//! Storage: the [`Store`] trait the domain talks to, the records it keeps, and
//! [`SqlStore`], the one implementation, on SQLite (embedded default) or PostgreSQL.
//!
//! The trait speaks the domain (circles, keys, elements, agents, numbers, calls, threads),
//! never SQL, so a test double or another database can stand in. Records are plain data;
//! validation happens before a record reaches the store, and the store enforces what only
//! it can: uniqueness (slugs per circle, numbers), versions (an update that lost a race is
//! refused, not merged), and references (a provider in use is not deleted).

mod email;
mod error;
mod records;
mod sql;

use async_trait::async_trait;

pub use email::*;
pub use error::StoreError;
pub use records::*;
pub use sql::{Backend, SqlStore};

use crate::ids::Millis;

/// Every store result.
pub type StoreResult<T> = Result<T, StoreError>;

/// What the control API and the call recorder keep.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug + 'static {
    /// Which database this is.
    fn backend(&self) -> Backend;
    /// The email element's storage.
    fn email(&self) -> &dyn EmailStore;

    // Circles and keys.

    /// The circle named `name`, created if it does not exist.
    async fn ensure_circle(&self, name: &str) -> StoreResult<Circle>;
    /// The circle named `name`.
    async fn circle(&self, name: &str) -> StoreResult<Option<Circle>>;
    /// Stores a key (its hash).
    async fn insert_key(&self, key: &NewKey) -> StoreResult<()>;
    /// The key whose hash is `hash`, with its circle.
    async fn key_by_hash(&self, hash: &str) -> StoreResult<Option<KeyRecord>>;
    /// Keys in every circle.
    async fn key_count(&self) -> StoreResult<i64>;

    // Elements.

    /// Stores a new element and its version 1; `ELEMENT_SLUG_TAKEN` if the slug is in use.
    async fn insert_element(&self, element: &Element) -> StoreResult<()>;
    /// The live element `id`, in whichever circle (for webhooks).
    async fn element_by_id(&self, id: &str) -> StoreResult<Option<Element>>;
    /// The live (not deleted) element `slug` of a circle.
    async fn element(&self, circle_id: &str, slug: &str) -> StoreResult<Option<Element>>;
    /// Replaces the spec of element `id` if it is still at `expected_version`, recording
    /// the new version; `ELEMENT_VERSION_CONFLICT` if another update came first.
    async fn save_spec(
        &self,
        id: &str,
        expected_version: i64,
        spec: &serde_json::Value,
        now: Millis,
    ) -> StoreResult<Element>;
    /// Writes `change` to element `id` if it is still at `expected_version`, recording the
    /// new version; `ELEMENT_VERSION_CONFLICT` if another update came first.
    async fn update_element(
        &self,
        id: &str,
        expected_version: i64,
        change: ElementChange<'_>,
        now: Millis,
    ) -> StoreResult<Element>;
    /// Every version of element `id`, oldest first.
    async fn element_versions(&self, id: &str) -> StoreResult<Vec<ElementVersion>>;
    /// Enables or disables element `id`.
    async fn set_element_enabled(&self, id: &str, enabled: bool, now: Millis) -> StoreResult<()> {
        self.set_element_state(id, enabled, None, now).await
    }
    /// Enables element `id` (clearing the reason) or disables it with `reason`.
    async fn set_element_state(
        &self,
        id: &str,
        enabled: bool,
        reason: Option<&str>,
        now: Millis,
    ) -> StoreResult<()>;
    /// Replaces element `id`'s metadata object (no new version).
    async fn set_element_meta(
        &self,
        id: &str,
        meta: &serde_json::Value,
        now: Millis,
    ) -> StoreResult<()>;
    /// Element `id`'s README (markdown; empty if none).
    async fn element_readme(&self, id: &str) -> StoreResult<String>;
    /// Replaces element `id`'s README.
    async fn set_element_readme(&self, id: &str, readme: &str, now: Millis) -> StoreResult<()>;
    /// Marks element `id` deleted; its slug becomes free, its versions stay.
    async fn delete_element(&self, id: &str, now: Millis) -> StoreResult<()>;
    /// A circle's live elements, oldest first.
    async fn live_elements(&self, circle_id: &str) -> StoreResult<Vec<Element>>;
    /// Records one operation run on an element.
    async fn record_activity(&self, activity: &ActivityRecord) -> StoreResult<()>;
    /// An element's operation runs, newest first, before the cursor (created_at, id).
    async fn activity_page(
        &self,
        element_id: &str,
        before: Option<(Millis, &str)>,
        limit: i64,
    ) -> StoreResult<Vec<ActivityRecord>>;
    /// Counts of an element's operation runs at or after `since`.
    async fn activity_summary(
        &self,
        element_id: &str,
        since: Millis,
    ) -> StoreResult<ActivitySummary>;

    // Agents.

    /// Stores a new agent.
    async fn insert_agent(&self, agent: &AgentRecord) -> StoreResult<()>;
    /// A circle's agents, oldest first.
    async fn agents(&self, circle_id: &str) -> StoreResult<Vec<AgentRecord>>;
    /// Agent `id` of a circle.
    async fn agent(&self, circle_id: &str, id: &str) -> StoreResult<Option<AgentRecord>>;
    /// Replaces an agent's body; false if it does not exist.
    async fn update_agent(&self, agent: &AgentRecord) -> StoreResult<bool>;
    /// Deletes an agent and unpins it from its numbers; false if it does not exist.
    async fn delete_agent(&self, circle_id: &str, id: &str) -> StoreResult<bool>;

    // Telephony: carrier credentials and numbers.

    /// Stores a provider credential (sealed).
    async fn insert_provider(&self, provider: &ProviderRecord) -> StoreResult<()>;
    /// A circle's providers.
    async fn providers(&self, circle_id: &str) -> StoreResult<Vec<ProviderRecord>>;
    /// Provider `id` of a circle.
    async fn provider(&self, circle_id: &str, id: &str) -> StoreResult<Option<ProviderRecord>>;
    /// Deletes a provider: `Ok(false)` if absent, `PROVIDER_IN_USE` while a number uses it.
    async fn delete_provider(&self, circle_id: &str, id: &str) -> StoreResult<bool>;
    /// Registers a number; `NUMBER_EXISTS` if it is registered already.
    async fn insert_number(&self, number: &NumberRecord) -> StoreResult<()>;
    /// A circle's numbers, optionally only those pinned to `agent_id`.
    async fn numbers(
        &self,
        circle_id: &str,
        agent_id: Option<&str>,
    ) -> StoreResult<Vec<NumberRecord>>;
    /// SIP trunks (providers of kind `sip`) carrying a number pinned to an agent, in every
    /// circle: the registrations the SIP leg keeps alive.
    async fn bound_sip_providers(&self) -> StoreResult<Vec<ProviderRecord>>;
    /// Whether any number is registered, in any circle.
    async fn any_number(&self) -> StoreResult<bool>;
    /// The registration of the E.164 `number`, in whichever circle holds it.
    async fn number_by_e164(&self, number: &str) -> StoreResult<Option<NumberRecord>>;
    /// Pins number `id` to the patch's agent (or unpins it) and sets the direction switches
    /// it gives; false if the number does not exist.
    async fn update_number(
        &self,
        circle_id: &str,
        id: &str,
        patch: &NumberPatch,
    ) -> StoreResult<bool>;
    /// Deletes number `id`; false if it does not exist.
    async fn delete_number(&self, circle_id: &str, id: &str) -> StoreResult<bool>;

    // Calls and threads.

    /// Stores a new call record.
    async fn insert_call(&self, call: &CallRecord) -> StoreResult<()>;
    /// Saves a call record's state, times and end.
    async fn update_call(&self, call: &CallRecord) -> StoreResult<()>;
    /// Stores one completed turn of a call; writing the same turn again (a retried
    /// job) keeps the first.
    async fn insert_turn(&self, call_id: &str, turn: &CallTurn) -> StoreResult<()>;
    /// A circle's calls, newest first.
    async fn calls(&self, circle_id: &str, limit: i64) -> StoreResult<Vec<CallRecord>>;
    /// Call `id` of a circle.
    async fn call(&self, circle_id: &str, id: &str) -> StoreResult<Option<CallRecord>>;
    /// Calls on our `number`, newest first, before the cursor (started_at, id).
    async fn calls_page(
        &self,
        circle_id: &str,
        number: &str,
        direction: Option<&str>,
        before: Option<(Millis, &str)>,
        limit: i64,
    ) -> StoreResult<Vec<CallRecord>>;
    /// How many calls on our `number` (in `direction`, if given).
    async fn calls_total(
        &self,
        circle_id: &str,
        number: &str,
        direction: Option<&str>,
    ) -> StoreResult<i64>;
    /// Records what the carrier charged for call `id` (kept apart from `update_call`).
    async fn set_call_cost(&self, id: &str, cost: i64) -> StoreResult<()>;
    /// Records the carrier's id of call `id`.
    async fn set_carrier_call_id(&self, id: &str, carrier_call_id: &str) -> StoreResult<()>;
    /// The call the carrier knows as `carrier_call_id`.
    async fn call_by_carrier_id(&self, carrier_call_id: &str) -> StoreResult<Option<CallRecord>>;
    /// The turns of call `call_id`, in order.
    async fn turns(&self, call_id: &str) -> StoreResult<Vec<CallTurn>>;
    /// Calls on `number`: (all, not yet ended).
    async fn call_counts(&self, number: &str) -> StoreResult<(i64, i64)>;
    /// The thread of (`contact`, `agent_id`) in a circle, created if new.
    async fn thread(
        &self,
        circle_id: &str,
        contact: &str,
        agent_id: &str,
        now: Millis,
    ) -> StoreResult<Thread>;
    /// Appends a message to thread `thread_id`.
    async fn append_message(&self, thread_id: &str, message: &ThreadMessage) -> StoreResult<()>;
    /// The last `limit` messages of a thread, oldest first.
    async fn recent_messages(&self, thread_id: &str, limit: i64)
    -> StoreResult<Vec<ThreadMessage>>;
    /// A circle's threads with `contact`, oldest first.
    async fn threads_by_contact(&self, circle_id: &str, contact: &str) -> StoreResult<Vec<Thread>>;

    // Phone numbers: SMS, webhook tokens, sandbox leases.

    /// Stores an SMS; false if its carrier id is stored already.
    async fn insert_sms(&self, sms: &SmsRecord) -> StoreResult<bool>;
    /// SMS `id` of element `element_id`.
    async fn sms(&self, element_id: &str, id: &str) -> StoreResult<Option<SmsRecord>>;
    /// The SMS with the carrier's id `carrier_id`.
    async fn sms_by_carrier_id(&self, carrier_id: &str) -> StoreResult<Option<SmsRecord>>;
    /// An element's SMS, newest first, before the cursor (created_at, id).
    async fn sms_page(
        &self,
        element_id: &str,
        direction: Option<&str>,
        before: Option<(Millis, &str)>,
        limit: i64,
    ) -> StoreResult<Vec<SmsRecord>>;
    /// How many SMS an element has (in `direction`, if given).
    async fn sms_total(&self, element_id: &str, direction: Option<&str>) -> StoreResult<i64>;
    /// Outgoing SMS whose carrier request may be in flight (status `pending`).
    async fn pending_sms(&self) -> StoreResult<Vec<SmsRecord>>;
    /// The carrier accepted SMS `id` as `carrier_id`; false if that id belongs to another.
    async fn sms_accepted(
        &self,
        id: &str,
        carrier_id: &str,
        status: &str,
        cost: Option<i64>,
        attempts: i64,
        now: Millis,
    ) -> StoreResult<bool>;
    /// An attempt at SMS `id` failed; `final_` marks it failed.
    async fn sms_attempted(
        &self,
        id: &str,
        error_code: &str,
        attempts: i64,
        final_: bool,
        now: Millis,
    ) -> StoreResult<()>;
    /// A delivery report; false if no SMS of the element has that carrier id.
    async fn sms_delivery(
        &self,
        element_id: &str,
        carrier_id: &str,
        status: &str,
        delivered_at: Option<Millis>,
        now: Millis,
    ) -> StoreResult<bool>;
    /// Replaces an element's webhook token (its hash), or removes it.
    async fn set_hook(
        &self,
        element_id: &str,
        token_hash: Option<&str>,
        now: Millis,
    ) -> StoreResult<()>;
    /// The element a webhook token hash belongs to.
    async fn hook_element(&self, token_hash: &str) -> StoreResult<Option<String>>;
    /// The element's sandbox lease, taking the first free number of `pool` if it has none.
    async fn lease_sandbox(
        &self,
        circle_id: &str,
        element_id: &str,
        pool: &[String],
        now: Millis,
    ) -> StoreResult<Option<SandboxLease>>;
    /// Ends an element's sandbox lease; the number it held.
    async fn release_sandbox(&self, element_id: &str) -> StoreResult<Option<String>>;
    /// Counts a sandbox SMS against the circle's cap for `day`; false at the cap.
    async fn count_sandbox_sms(&self, circle_id: &str, day: &str, cap: i64) -> StoreResult<bool>;
    /// Gives back a counted sandbox SMS.
    async fn refund_sandbox_sms(&self, circle_id: &str, day: &str) -> StoreResult<()>;

    // Spoken messages (`call-message`).

    /// Stores a spoken message and its WAV audio.
    async fn insert_call_audio(&self, audio: &CallAudio, wav: &[u8]) -> StoreResult<()>;
    /// The audio of message `id` if `token_hash` is its token's and it has not expired at
    /// `now`.
    async fn call_audio_bytes(
        &self,
        id: &str,
        token_hash: &str,
        now: Millis,
    ) -> StoreResult<Option<Vec<u8>>>;
    /// The spoken message of call `call_id`, if it is a `call-message` call.
    async fn call_audio_of(&self, call_id: &str) -> StoreResult<Option<CallAudio>>;
    /// Ends message `id`'s URL now (its call could not be placed).
    async fn expire_call_audio(&self, id: &str, now: Millis) -> StoreResult<()>;
    /// Clears the audio of messages expired before `now`; how many.
    async fn purge_call_audio(&self, now: Millis) -> StoreResult<u64>;
}
