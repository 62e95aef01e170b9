//! The email element's storage: [`EmailStore`] and its records (messages both ways, the
//! outbox states, suppressions, consent, the audit log, daily counts, tracking tokens,
//! domains and extra addresses). Kept apart from [`super::Store`] so that the mail domain
//! reads as one piece; [`super::Store::email`] hands it out.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Element, StoreResult};
use crate::ids::Millis;

/// `To`, `Cc` and `Bcc` of a message.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Recipients {
    /// `To`.
    pub to: Vec<String>,
    /// `Cc`.
    #[serde(default)]
    pub cc: Vec<String>,
    /// `Bcc` (outgoing only; never in headers).
    #[serde(default)]
    pub bcc: Vec<String>,
}

impl Recipients {
    /// Every address, to then cc then bcc.
    pub fn all(&self) -> impl Iterator<Item = &String> {
        self.to.iter().chain(&self.cc).chain(&self.bcc)
    }
}

/// One message, either way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailMessage {
    /// `eml_...`.
    pub id: String,
    /// Owning circle.
    pub circle_id: String,
    /// The email element.
    pub element_id: String,
    /// `outbound` or `inbound`.
    pub direction: String,
    /// `send`, `reply`, `tracked` (outbound); `received`, `bounce` (inbound).
    pub kind: String,
    /// Outbound: `pending`, `approved`, `queued`, `sending`, `sent`, `failed`, `rejected`;
    /// inbound: `received`.
    pub status: String,
    /// The RFC 5322 `Message-ID`, without angle brackets.
    pub message_id: String,
    /// `In-Reply-To`.
    pub in_reply_to: Option<String>,
    /// `References`, oldest first.
    pub refs: Vec<String>,
    /// The conversation thread (`mode = conversation`).
    pub thread_id: Option<String>,
    /// `From` address.
    pub sender: String,
    /// Recipients.
    pub recipients: Recipients,
    /// `Subject`.
    pub subject: String,
    /// Text body.
    pub body_text: Option<String>,
    /// HTML body.
    pub body_html: Option<String>,
    /// Attachment descriptions (`[{index, filename, content_type, size}]`).
    pub attachments: Value,
    /// With open and click tracking.
    pub tracked: bool,
    /// Submission attempts so far.
    pub attempts: i64,
    /// When a queued message is next tried.
    pub next_attempt_at: Option<Millis>,
    /// Stable error code of the last failure (`EMAIL_SEND_FAILED`, ...).
    pub error_code: Option<String>,
    /// What went wrong (never a secret), or readability problems of received mail.
    pub error: Option<String>,
    /// The key that approved or rejected an outbox draft.
    pub reviewed_by: Option<String>,
    /// Stored.
    pub created_at: Millis,
    /// Last changed.
    pub updated_at: Millis,
    /// Accepted by the submission server.
    pub sent_at: Option<Millis>,
}

/// A page of messages: which ones.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MessageFilter {
    /// `outbound` or `inbound`.
    pub direction: Option<String>,
    /// Only this status.
    pub status: Option<String>,
    /// Older than this `(created_at, id)` cursor.
    pub before: Option<(Millis, String)>,
}

/// How a message's send went (written after each attempt).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The new status.
    pub status: String,
    /// Attempts so far.
    pub attempts: i64,
    /// When to try again (status `queued`).
    pub next_attempt_at: Option<Millis>,
    /// Stable error code.
    pub error_code: Option<String>,
    /// What went wrong.
    pub error: Option<String>,
    /// When the server took it.
    pub sent_at: Option<Millis>,
}

/// An address never to send to again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suppression {
    /// Owning circle.
    #[serde(skip)]
    pub circle_id: String,
    /// The address (lower case).
    pub address: String,
    /// Why, in words.
    pub reason: String,
    /// `bounce`, `unsubscribe`, `complaint` or `manual`.
    pub source: String,
    /// Parsed diagnostics (bounce status and text).
    pub detail: Option<String>,
    /// The key that added it by hand.
    pub created_by: Option<String>,
    /// When.
    pub created_at: Millis,
}

/// A contact's consent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contact {
    /// The address (lower case).
    pub address: String,
    /// `none`, `soft_optin` or `double_optin`.
    pub consent: String,
    /// Where it came from (`api`, `inbound`, `unsubscribe`).
    pub source: String,
    /// Last changed.
    pub updated_at: Millis,
}

/// One audit-log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailEvent {
    /// `eev_...`.
    pub id: String,
    /// Owning circle.
    pub circle_id: String,
    /// The element, when one was involved.
    pub element_id: Option<String>,
    /// `sent`, `failed`, `opened`, `clicked`, `bounced`, `suppressed`, ...
    pub kind: String,
    /// The message (`eml_...`), when one was involved.
    pub message: Option<String>,
    /// The address concerned.
    pub address: Option<String>,
    /// Details (never a secret).
    pub detail: Value,
    /// When.
    pub created_at: Millis,
}

/// A tracking token's target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracking {
    /// The message (`eml_...`).
    pub message: String,
    /// `open`, `click` or `unsubscribe`.
    pub kind: String,
    /// The click target.
    pub url: Option<String>,
    /// Hits including this one.
    pub hits: i64,
}

/// A sending domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainRecord {
    /// `dom_...`.
    pub id: String,
    /// Owning circle.
    pub circle_id: String,
    /// The domain (lower case).
    pub domain: String,
    /// The verification value published in TXT.
    pub token: String,
    /// The platform's own domain.
    pub managed: bool,
    /// When verified.
    pub verified_at: Option<Millis>,
    /// When added.
    pub created_at: Millis,
    /// The DKIM private key, sealed ([`Sealer`](crate::secrets::Sealer)) for this record's
    /// id; `None` for managed domains and domains added before keys were made.
    pub dkim_key: Option<Vec<u8>>,
    /// The DKIM public key (base64 DER), published at `voxgate._domainkey.<domain>`.
    pub dkim_public: Option<String>,
}

/// An extra receiving address of an element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressRecord {
    /// The address (lower case).
    pub address: String,
    /// Owning circle.
    pub circle_id: String,
    /// The element.
    pub element_id: String,
    /// When added.
    pub created_at: Millis,
}

/// The email element's storage.
#[async_trait]
pub trait EmailStore: Send + Sync + std::fmt::Debug + 'static {
    // --- messages ---
    /// Stores a message with its RFC 5322 bytes.
    async fn insert_message(&self, message: &EmailMessage, raw: &[u8]) -> StoreResult<()>;
    /// A message of an element.
    async fn message(&self, element_id: &str, id: &str) -> StoreResult<Option<EmailMessage>>;
    /// A message by id alone (workers, tracking).
    async fn message_by_id(&self, id: &str) -> StoreResult<Option<EmailMessage>>;
    /// A message's RFC 5322 bytes.
    async fn message_raw(&self, id: &str) -> StoreResult<Option<Vec<u8>>>;
    /// The messages of a circle with `Message-ID` `message_id`, oldest first.
    async fn messages_by_message_id(
        &self,
        circle_id: &str,
        message_id: &str,
    ) -> StoreResult<Vec<EmailMessage>>;
    /// An element's messages matching `filter`, newest first by `(created_at, id)`; at most
    /// `limit`.
    async fn messages(
        &self,
        element_id: &str,
        filter: &MessageFilter,
        limit: i64,
    ) -> StoreResult<Vec<EmailMessage>>;
    /// Moves a message from one of `from` to `to` (the outbox state machine); false if it
    /// was in none of them.
    async fn transition(
        &self,
        id: &str,
        from: &[&str],
        to: &str,
        reviewed_by: Option<&str>,
        now: Millis,
    ) -> StoreResult<bool>;
    /// Records an attempt's outcome: every field of `outcome` replaces the stored one.
    async fn set_outcome(&self, id: &str, outcome: &Outcome, now: Millis) -> StoreResult<()>;
    /// Queued messages due by `now` (`next_attempt_at` at or before it, or unset), oldest
    /// first by `(created_at, id)`; at most `limit`.
    async fn due_messages(&self, now: Millis, limit: i64) -> StoreResult<Vec<EmailMessage>>;
    /// Moves messages left `sending` or `approved` since before `before` back to `queued`
    /// (due at once); gives how many.
    async fn requeue_stale(&self, before: Millis) -> StoreResult<u64>;
    /// Sets the conversation thread of a message.
    async fn set_thread(&self, id: &str, thread_id: &str) -> StoreResult<()>;

    // --- daily cap ---
    /// Counts one send for (circle, UTC day) if fewer than `cap` were counted; false when
    /// the cap is reached.
    async fn count_send(&self, circle_id: &str, day: &str, cap: i64) -> StoreResult<bool>;
    /// Gives a counted send back (it never reached the server).
    async fn refund_send(&self, circle_id: &str, day: &str) -> StoreResult<()>;
    /// Sends counted for (circle, day).
    async fn sends_on(&self, circle_id: &str, day: &str) -> StoreResult<i64>;

    // --- suppressions and consent ---
    /// The suppression of `address`, if any.
    async fn suppression(&self, circle_id: &str, address: &str)
    -> StoreResult<Option<Suppression>>;
    /// Suppressions of a circle, by address, strictly after `after`; at most `limit`.
    async fn suppressions(
        &self,
        circle_id: &str,
        after: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<Suppression>>;
    /// Adds a suppression; false if the address was suppressed already (kept as it was).
    async fn insert_suppression(&self, suppression: &Suppression) -> StoreResult<bool>;
    /// Removes a suppression; false if there was none.
    async fn delete_suppression(&self, circle_id: &str, address: &str) -> StoreResult<bool>;
    /// A contact.
    async fn contact(&self, circle_id: &str, address: &str) -> StoreResult<Option<Contact>>;
    /// Sets a contact's consent (creating the contact); gives the previous one.
    async fn set_consent(&self, circle_id: &str, contact: &Contact)
    -> StoreResult<Option<Contact>>;
    /// Records a contact with consent `none` unless one exists.
    async fn know_contact(
        &self,
        circle_id: &str,
        address: &str,
        source: &str,
        now: Millis,
    ) -> StoreResult<()>;

    // --- audit ---
    /// Appends an audit entry.
    async fn insert_event(&self, event: &EmailEvent) -> StoreResult<()>;
    /// A circle's audit entries, newest first, older than the `(created_at, id)` cursor.
    async fn events(
        &self,
        circle_id: &str,
        element_id: Option<&str>,
        kind: Option<&str>,
        before: Option<(Millis, String)>,
        limit: i64,
    ) -> StoreResult<Vec<EmailEvent>>;

    // --- tracking ---
    /// Stores a tracking token (its SHA-256).
    async fn insert_tracking(
        &self,
        token_hash: &str,
        message: &str,
        kind: &str,
        url: Option<&str>,
    ) -> StoreResult<()>;
    /// Counts a hit on a token (first and last hit times kept) and gives its target; `None`
    /// for an unknown token.
    async fn hit_tracking(&self, token_hash: &str, now: Millis) -> StoreResult<Option<Tracking>>;

    // --- domains and addresses ---
    /// Adds a domain; false if the domain exists (any circle's).
    async fn insert_domain(&self, domain: &DomainRecord) -> StoreResult<bool>;
    /// A domain, whoever owns it.
    async fn domain(&self, domain: &str) -> StoreResult<Option<DomainRecord>>;
    /// A circle's domains, by name.
    async fn domains(&self, circle_id: &str) -> StoreResult<Vec<DomainRecord>>;
    /// Marks a domain verified.
    async fn set_domain_verified(&self, id: &str, now: Millis) -> StoreResult<()>;
    /// Gives a domain that has no DKIM key this one; false (the stored key kept) if it has
    /// one already, so two concurrent callers end with one key.
    async fn set_domain_dkim(&self, id: &str, sealed: &[u8], public: &str) -> StoreResult<bool>;
    /// Removes a circle's domain; false if it had none such.
    async fn delete_domain(&self, circle_id: &str, domain: &str) -> StoreResult<bool>;
    /// Adds a receiving address; false if the address exists (any element's).
    async fn insert_address(&self, address: &AddressRecord) -> StoreResult<bool>;
    /// The record of a receiving address.
    async fn address(&self, address: &str) -> StoreResult<Option<AddressRecord>>;
    /// An element's extra addresses, by address.
    async fn addresses(&self, element_id: &str) -> StoreResult<Vec<AddressRecord>>;
    /// Removes an element's address; false if it had none such.
    async fn delete_address(&self, element_id: &str, address: &str) -> StoreResult<bool>;
    /// Every live email element of every circle (the listener's routing table).
    async fn email_elements(&self) -> StoreResult<Vec<Element>>;
}
