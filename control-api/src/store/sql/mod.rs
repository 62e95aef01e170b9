//! [`SqlStore`]: the [`Store`] on SQLite or PostgreSQL through sqlx's `Any` driver.
//!
//! One set of queries serves both databases: every statement uses `$n` placeholders (which
//! SQLite accepts as well), only portable types (TEXT, 64-bit integers, blobs), and the two
//! dialects differ only in their migration files (`migrations/sqlite`, `migrations/postgres`,
//! embedded at build time and run on open). SQLite is opened in WAL mode with a busy
//! timeout, so `voxgate keys create` can write while the server runs. Values are always
//! bound, never spliced into SQL.

mod activity;
mod agents;
mod audio;
mod calls;
mod circles;
mod day_caps;
mod elements;
mod email_compliance;
mod email_domains;
mod email_messages;
mod phone;
mod telephony;

use std::path::Path;
use std::str::FromStr as _;
use std::time::Duration;

use async_trait::async_trait;
use day_caps::DayCap;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor as _};

use super::{
    ActivityRecord, ActivitySummary, AddressRecord, AgentRecord, CallAudio, CallRecord, CallTurn,
    Circle, Contact, DomainRecord, Element, ElementChange, ElementVersion, EmailEvent,
    EmailMessage, EmailStore, KeyRecord, MessageFilter, NewKey, NumberPatch, NumberRecord, Outcome,
    ProviderRecord, SandboxLease, SmsRecord, Store, StoreResult, Suppression, Thread,
    ThreadMessage, Tracking,
};
use crate::error::ErrorCode;
use crate::ids::Millis;
use crate::store::StoreError;

/// Which database a [`SqlStore`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, embedded (the default).
    Sqlite,
    /// PostgreSQL (`store.url = "postgres://..."`).
    Postgres,
}

/// How long a SQLite writer waits for another (the server and `voxgate keys create`).
const BUSY_TIMEOUT_MS: u32 = 5_000;

/// The SQL store.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
}

impl SqlStore {
    /// Opens (creating if needed) the SQLite database at `path` and migrates it.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if the file cannot be opened or migrated.
    pub async fn open_sqlite(path: &Path) -> StoreResult<Self> {
        let url = format!("sqlite://{}?mode=rwc", path.display());
        Self::connect(&url).await
    }

    /// Connects to `url` (`sqlite://...` or `postgres://...`) and migrates the database.
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`] (`STORE_URL_INVALID`) for any other scheme, [`StoreError::Backend`]
    /// if the database cannot be reached or migrated.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::invalid(
                ErrorCode::StoreUrlInvalid,
                "store.url must start with postgres:// (or sqlite:)",
            ));
        };
        let options = AnyConnectOptions::from_str(url)?;
        let pool = match backend {
            Backend::Sqlite => {
                AnyPoolOptions::new()
                    .max_connections(4)
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            conn.execute("PRAGMA foreign_keys = ON").await?;
                            conn.execute(&*format!("PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}"))
                                .await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(10)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await?
            }
        };
        if backend == Backend::Sqlite {
            // Persistent in the file: readers never block the writer.
            pool.execute("PRAGMA journal_mode = WAL").await?;
        }
        let migrator = match backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("migrations/postgres"),
        };
        migrator.run(&pool).await?;
        Ok(Self { pool, backend })
    }

    /// The connection pool (for tests that inspect the database directly).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Whether `e` is a unique-constraint violation (turned into a 409 by the caller).
fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// The result of an insert that may lose a race to an identical one: a unique violation
/// means the row exists, which is all the caller wanted.
fn unless_duplicate(inserted: Result<sqlx::any::AnyQueryResult, sqlx::Error>) -> StoreResult<()> {
    match inserted {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// A stored boolean.
fn flag(value: bool) -> i64 {
    i64::from(value)
}

/// JSON text from the database.
fn json(text: &str) -> StoreResult<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| StoreError::Backend(format!("stored JSON: {e}")))
}

#[async_trait]
impl Store for SqlStore {
    fn backend(&self) -> Backend {
        self.backend
    }
    fn email(&self) -> &dyn EmailStore {
        self
    }

    async fn ensure_circle(&self, name: &str) -> StoreResult<Circle> {
        circles::ensure(&self.pool, name).await
    }
    async fn circle(&self, name: &str) -> StoreResult<Option<Circle>> {
        circles::by_name(&self.pool, name).await
    }
    async fn insert_key(&self, key: &NewKey) -> StoreResult<()> {
        circles::insert_key(&self.pool, key).await
    }
    async fn key_by_hash(&self, hash: &str) -> StoreResult<Option<KeyRecord>> {
        circles::key_by_hash(&self.pool, hash).await
    }
    async fn key_count(&self) -> StoreResult<i64> {
        circles::key_count(&self.pool).await
    }

    async fn insert_element(&self, element: &Element) -> StoreResult<()> {
        elements::insert(&self.pool, element).await
    }
    async fn element_by_id(&self, id: &str) -> StoreResult<Option<Element>> {
        elements::live_by_id(&self.pool, id).await
    }
    async fn element(&self, circle_id: &str, slug: &str) -> StoreResult<Option<Element>> {
        elements::live(&self.pool, circle_id, slug).await
    }
    async fn save_spec(
        &self,
        id: &str,
        expected_version: i64,
        spec: &serde_json::Value,
        now: Millis,
    ) -> StoreResult<Element> {
        let change = ElementChange {
            spec,
            name: None,
            intention: None,
            note: None,
        };
        elements::update(&self.pool, id, expected_version, change, now).await
    }
    async fn update_element(
        &self,
        id: &str,
        expected_version: i64,
        change: ElementChange<'_>,
        now: Millis,
    ) -> StoreResult<Element> {
        elements::update(&self.pool, id, expected_version, change, now).await
    }
    async fn element_versions(&self, id: &str) -> StoreResult<Vec<ElementVersion>> {
        elements::versions(&self.pool, id).await
    }
    async fn set_element_state(
        &self,
        id: &str,
        enabled: bool,
        reason: Option<&str>,
        now: Millis,
    ) -> StoreResult<()> {
        elements::set_state(&self.pool, id, enabled, reason, now).await
    }
    async fn set_element_meta(
        &self,
        id: &str,
        meta: &serde_json::Value,
        now: Millis,
    ) -> StoreResult<()> {
        elements::set_meta(&self.pool, id, meta, now).await
    }
    async fn element_readme(&self, id: &str) -> StoreResult<String> {
        elements::readme(&self.pool, id).await
    }
    async fn set_element_readme(&self, id: &str, readme: &str, now: Millis) -> StoreResult<()> {
        elements::set_readme(&self.pool, id, readme, now).await
    }
    async fn delete_element(&self, id: &str, now: Millis) -> StoreResult<()> {
        elements::delete(&self.pool, id, now).await
    }
    async fn live_elements(&self, circle_id: &str) -> StoreResult<Vec<Element>> {
        elements::live_in(&self.pool, circle_id).await
    }
    async fn record_activity(&self, activity: &ActivityRecord) -> StoreResult<()> {
        activity::insert(&self.pool, activity).await
    }
    async fn activity_page(
        &self,
        element_id: &str,
        before: Option<(Millis, &str)>,
        limit: i64,
    ) -> StoreResult<Vec<ActivityRecord>> {
        activity::page(&self.pool, element_id, before, limit).await
    }
    async fn activity_summary(
        &self,
        element_id: &str,
        since: Millis,
    ) -> StoreResult<ActivitySummary> {
        activity::summary(&self.pool, element_id, since).await
    }

    async fn insert_agent(&self, agent: &AgentRecord) -> StoreResult<()> {
        agents::insert(&self.pool, agent).await
    }
    async fn agents(&self, circle_id: &str) -> StoreResult<Vec<AgentRecord>> {
        agents::list(&self.pool, circle_id).await
    }
    async fn agent(&self, circle_id: &str, id: &str) -> StoreResult<Option<AgentRecord>> {
        agents::get(&self.pool, circle_id, id).await
    }
    async fn update_agent(&self, agent: &AgentRecord) -> StoreResult<bool> {
        agents::update(&self.pool, agent).await
    }
    async fn delete_agent(&self, circle_id: &str, id: &str) -> StoreResult<bool> {
        agents::delete(&self.pool, circle_id, id).await
    }

    async fn insert_provider(&self, provider: &ProviderRecord) -> StoreResult<()> {
        telephony::insert_provider(&self.pool, provider).await
    }
    async fn providers(&self, circle_id: &str) -> StoreResult<Vec<ProviderRecord>> {
        telephony::providers(&self.pool, circle_id, None).await
    }
    async fn provider(&self, circle_id: &str, id: &str) -> StoreResult<Option<ProviderRecord>> {
        Ok(telephony::providers(&self.pool, circle_id, Some(id))
            .await?
            .pop())
    }
    async fn delete_provider(&self, circle_id: &str, id: &str) -> StoreResult<bool> {
        telephony::delete_provider(&self.pool, circle_id, id).await
    }
    async fn insert_number(&self, number: &NumberRecord) -> StoreResult<()> {
        telephony::insert_number(&self.pool, number).await
    }
    async fn numbers(
        &self,
        circle_id: &str,
        agent_id: Option<&str>,
    ) -> StoreResult<Vec<NumberRecord>> {
        telephony::numbers(&self.pool, circle_id, agent_id).await
    }
    async fn bound_sip_providers(&self) -> StoreResult<Vec<ProviderRecord>> {
        telephony::bound_sip_providers(&self.pool).await
    }
    async fn any_number(&self) -> StoreResult<bool> {
        telephony::any_number(&self.pool).await
    }
    async fn number_by_e164(&self, number: &str) -> StoreResult<Option<NumberRecord>> {
        telephony::number_by_e164(&self.pool, number).await
    }
    async fn update_number(
        &self,
        circle_id: &str,
        id: &str,
        patch: &NumberPatch,
    ) -> StoreResult<bool> {
        telephony::update_number(&self.pool, circle_id, id, patch).await
    }
    async fn delete_number(&self, circle_id: &str, id: &str) -> StoreResult<bool> {
        telephony::delete_number(&self.pool, circle_id, id).await
    }

    async fn insert_call(&self, call: &CallRecord) -> StoreResult<()> {
        calls::insert(&self.pool, call).await
    }
    async fn update_call(&self, call: &CallRecord) -> StoreResult<()> {
        calls::update(&self.pool, call).await
    }
    async fn insert_turn(&self, call_id: &str, turn: &CallTurn) -> StoreResult<()> {
        calls::insert_turn(&self.pool, call_id, turn).await
    }
    async fn calls(&self, circle_id: &str, limit: i64) -> StoreResult<Vec<CallRecord>> {
        calls::list(&self.pool, circle_id, None, limit).await
    }
    async fn call(&self, circle_id: &str, id: &str) -> StoreResult<Option<CallRecord>> {
        Ok(calls::list(&self.pool, circle_id, Some(id), 1).await?.pop())
    }
    async fn calls_page(
        &self,
        circle_id: &str,
        number: &str,
        direction: Option<&str>,
        before: Option<(Millis, &str)>,
        limit: i64,
    ) -> StoreResult<Vec<CallRecord>> {
        calls::page(&self.pool, circle_id, number, direction, before, limit).await
    }
    async fn calls_total(
        &self,
        circle_id: &str,
        number: &str,
        direction: Option<&str>,
    ) -> StoreResult<i64> {
        calls::page_total(&self.pool, circle_id, number, direction).await
    }
    async fn set_call_cost(&self, id: &str, cost: i64) -> StoreResult<()> {
        calls::set_cost(&self.pool, id, cost).await
    }
    async fn set_carrier_call_id(&self, id: &str, carrier_call_id: &str) -> StoreResult<()> {
        calls::set_carrier_id(&self.pool, id, carrier_call_id).await
    }
    async fn call_by_carrier_id(&self, carrier_call_id: &str) -> StoreResult<Option<CallRecord>> {
        calls::by_carrier_id(&self.pool, carrier_call_id).await
    }
    async fn turns(&self, call_id: &str) -> StoreResult<Vec<CallTurn>> {
        calls::turns(&self.pool, call_id).await
    }
    async fn call_counts(&self, number: &str) -> StoreResult<(i64, i64)> {
        calls::counts(&self.pool, number).await
    }
    async fn thread(
        &self,
        circle_id: &str,
        contact: &str,
        agent_id: &str,
        now: Millis,
    ) -> StoreResult<Thread> {
        calls::thread(&self.pool, circle_id, contact, agent_id, now).await
    }
    async fn append_message(&self, thread_id: &str, message: &ThreadMessage) -> StoreResult<()> {
        calls::append_message(&self.pool, thread_id, message).await
    }
    async fn recent_messages(
        &self,
        thread_id: &str,
        limit: i64,
    ) -> StoreResult<Vec<ThreadMessage>> {
        calls::recent_messages(&self.pool, thread_id, limit).await
    }
    async fn threads_by_contact(&self, circle_id: &str, contact: &str) -> StoreResult<Vec<Thread>> {
        calls::threads_by_contact(&self.pool, circle_id, contact).await
    }

    async fn insert_sms(&self, sms: &SmsRecord) -> StoreResult<bool> {
        phone::insert_sms(&self.pool, sms).await
    }
    async fn sms(&self, element_id: &str, id: &str) -> StoreResult<Option<SmsRecord>> {
        phone::sms_by_id(&self.pool, element_id, id).await
    }
    async fn sms_by_carrier_id(&self, carrier_id: &str) -> StoreResult<Option<SmsRecord>> {
        phone::sms_by_carrier_id(&self.pool, carrier_id).await
    }
    async fn sms_page(
        &self,
        element_id: &str,
        direction: Option<&str>,
        before: Option<(Millis, &str)>,
        limit: i64,
    ) -> StoreResult<Vec<SmsRecord>> {
        phone::sms_page(&self.pool, element_id, direction, before, limit).await
    }
    async fn sms_total(&self, element_id: &str, direction: Option<&str>) -> StoreResult<i64> {
        phone::sms_total(&self.pool, element_id, direction).await
    }
    async fn pending_sms(&self) -> StoreResult<Vec<SmsRecord>> {
        phone::pending_sms(&self.pool).await
    }
    async fn sms_accepted(
        &self,
        id: &str,
        carrier_id: &str,
        status: &str,
        cost: Option<i64>,
        attempts: i64,
        now: Millis,
    ) -> StoreResult<bool> {
        phone::sms_accepted(&self.pool, id, carrier_id, status, cost, attempts, now).await
    }
    async fn sms_attempted(
        &self,
        id: &str,
        error_code: &str,
        attempts: i64,
        final_: bool,
        now: Millis,
    ) -> StoreResult<()> {
        phone::sms_attempted(&self.pool, id, error_code, attempts, final_, now).await
    }
    async fn sms_delivery(
        &self,
        element_id: &str,
        carrier_id: &str,
        status: &str,
        delivered_at: Option<Millis>,
        now: Millis,
    ) -> StoreResult<bool> {
        phone::sms_delivery(
            &self.pool,
            element_id,
            carrier_id,
            status,
            delivered_at,
            now,
        )
        .await
    }
    async fn set_hook(
        &self,
        element_id: &str,
        token_hash: Option<&str>,
        now: Millis,
    ) -> StoreResult<()> {
        phone::set_hook(&self.pool, element_id, token_hash, now).await
    }
    async fn hook_element(&self, token_hash: &str) -> StoreResult<Option<String>> {
        phone::hook_element(&self.pool, token_hash).await
    }
    async fn lease_sandbox(
        &self,
        circle_id: &str,
        element_id: &str,
        pool: &[String],
        now: Millis,
    ) -> StoreResult<Option<SandboxLease>> {
        phone::lease_sandbox(&self.pool, circle_id, element_id, pool, now).await
    }
    async fn release_sandbox(&self, element_id: &str) -> StoreResult<Option<String>> {
        phone::release_sandbox(&self.pool, element_id).await
    }
    async fn count_sandbox_sms(&self, circle_id: &str, day: &str, cap: i64) -> StoreResult<bool> {
        day_caps::count(&self.pool, DayCap::SandboxSms, circle_id, day, cap).await
    }
    async fn refund_sandbox_sms(&self, circle_id: &str, day: &str) -> StoreResult<()> {
        day_caps::refund(&self.pool, DayCap::SandboxSms, circle_id, day).await
    }
    async fn insert_call_audio(&self, audio: &CallAudio, wav: &[u8]) -> StoreResult<()> {
        audio::insert(&self.pool, audio, wav).await
    }
    async fn call_audio_bytes(
        &self,
        id: &str,
        token_hash: &str,
        now: Millis,
    ) -> StoreResult<Option<Vec<u8>>> {
        audio::bytes(&self.pool, id, token_hash, now).await
    }
    async fn call_audio_of(&self, call_id: &str) -> StoreResult<Option<CallAudio>> {
        audio::of_call(&self.pool, call_id).await
    }
    async fn expire_call_audio(&self, id: &str, now: Millis) -> StoreResult<()> {
        audio::expire(&self.pool, id, now).await
    }
    async fn purge_call_audio(&self, now: Millis) -> StoreResult<u64> {
        audio::purge(&self.pool, now).await
    }
}

#[async_trait]
impl EmailStore for SqlStore {
    async fn insert_message(&self, message: &EmailMessage, raw: &[u8]) -> StoreResult<()> {
        email_messages::insert(&self.pool, message, raw).await
    }
    async fn message(&self, element_id: &str, id: &str) -> StoreResult<Option<EmailMessage>> {
        email_messages::get(&self.pool, Some(element_id), id).await
    }
    async fn message_by_id(&self, id: &str) -> StoreResult<Option<EmailMessage>> {
        email_messages::get(&self.pool, None, id).await
    }
    async fn message_raw(&self, id: &str) -> StoreResult<Option<Vec<u8>>> {
        email_messages::raw(&self.pool, id).await
    }
    async fn messages_by_message_id(
        &self,
        circle_id: &str,
        message_id: &str,
    ) -> StoreResult<Vec<EmailMessage>> {
        email_messages::by_message_id(&self.pool, circle_id, message_id).await
    }
    async fn messages(
        &self,
        element_id: &str,
        filter: &MessageFilter,
        limit: i64,
    ) -> StoreResult<Vec<EmailMessage>> {
        email_messages::page(&self.pool, element_id, filter, limit).await
    }
    async fn transition(
        &self,
        id: &str,
        from: &[&str],
        to: &str,
        reviewed_by: Option<&str>,
        now: Millis,
    ) -> StoreResult<bool> {
        email_messages::transition(&self.pool, id, from, to, reviewed_by, now).await
    }
    async fn set_outcome(&self, id: &str, outcome: &Outcome, now: Millis) -> StoreResult<()> {
        email_messages::set_outcome(&self.pool, id, outcome, now).await
    }
    async fn due_messages(&self, now: Millis, limit: i64) -> StoreResult<Vec<EmailMessage>> {
        email_messages::due(&self.pool, now, limit).await
    }
    async fn requeue_stale(&self, before: Millis) -> StoreResult<u64> {
        email_messages::requeue_stale(&self.pool, before).await
    }
    async fn set_thread(&self, id: &str, thread_id: &str) -> StoreResult<()> {
        email_messages::set_thread(&self.pool, id, thread_id).await
    }

    async fn count_send(&self, circle_id: &str, day: &str, cap: i64) -> StoreResult<bool> {
        day_caps::count(&self.pool, DayCap::EmailSends, circle_id, day, cap).await
    }
    async fn refund_send(&self, circle_id: &str, day: &str) -> StoreResult<()> {
        day_caps::refund(&self.pool, DayCap::EmailSends, circle_id, day).await
    }
    async fn sends_on(&self, circle_id: &str, day: &str) -> StoreResult<i64> {
        email_compliance::sends_on(&self.pool, circle_id, day).await
    }

    async fn suppression(
        &self,
        circle_id: &str,
        address: &str,
    ) -> StoreResult<Option<Suppression>> {
        email_compliance::suppression_of(&self.pool, circle_id, address).await
    }
    async fn suppressions(
        &self,
        circle_id: &str,
        after: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<Suppression>> {
        email_compliance::suppressions(&self.pool, circle_id, after, limit).await
    }
    async fn insert_suppression(&self, suppression: &Suppression) -> StoreResult<bool> {
        email_compliance::insert_suppression(&self.pool, suppression).await
    }
    async fn delete_suppression(&self, circle_id: &str, address: &str) -> StoreResult<bool> {
        email_compliance::delete_suppression(&self.pool, circle_id, address).await
    }
    async fn contact(&self, circle_id: &str, address: &str) -> StoreResult<Option<Contact>> {
        email_compliance::contact_of(&self.pool, circle_id, address).await
    }
    async fn set_consent(
        &self,
        circle_id: &str,
        contact: &Contact,
    ) -> StoreResult<Option<Contact>> {
        email_compliance::set_consent(&self.pool, circle_id, contact).await
    }
    async fn know_contact(
        &self,
        circle_id: &str,
        address: &str,
        source: &str,
        now: Millis,
    ) -> StoreResult<()> {
        email_compliance::know_contact(&self.pool, circle_id, address, source, now).await
    }

    async fn insert_event(&self, event: &EmailEvent) -> StoreResult<()> {
        email_compliance::insert_event(&self.pool, event).await
    }
    async fn events(
        &self,
        circle_id: &str,
        element_id: Option<&str>,
        kind: Option<&str>,
        before: Option<(Millis, String)>,
        limit: i64,
    ) -> StoreResult<Vec<EmailEvent>> {
        email_compliance::events(&self.pool, circle_id, element_id, kind, before, limit).await
    }

    async fn insert_tracking(
        &self,
        token_hash: &str,
        message: &str,
        kind: &str,
        url: Option<&str>,
    ) -> StoreResult<()> {
        email_domains::insert_tracking(&self.pool, token_hash, message, kind, url).await
    }
    async fn hit_tracking(&self, token_hash: &str, now: Millis) -> StoreResult<Option<Tracking>> {
        email_domains::hit_tracking(&self.pool, token_hash, now).await
    }

    async fn insert_domain(&self, domain: &DomainRecord) -> StoreResult<bool> {
        email_domains::insert_domain(&self.pool, domain).await
    }
    async fn domain(&self, domain: &str) -> StoreResult<Option<DomainRecord>> {
        email_domains::domain_of(&self.pool, domain).await
    }
    async fn domains(&self, circle_id: &str) -> StoreResult<Vec<DomainRecord>> {
        email_domains::domains(&self.pool, circle_id).await
    }
    async fn set_domain_verified(&self, id: &str, now: Millis) -> StoreResult<()> {
        email_domains::set_domain_verified(&self.pool, id, now).await
    }
    async fn set_domain_dkim(&self, id: &str, sealed: &[u8], public: &str) -> StoreResult<bool> {
        email_domains::set_domain_dkim(&self.pool, id, sealed, public).await
    }
    async fn delete_domain(&self, circle_id: &str, domain: &str) -> StoreResult<bool> {
        email_domains::delete_domain(&self.pool, circle_id, domain).await
    }
    async fn insert_address(&self, address: &AddressRecord) -> StoreResult<bool> {
        email_domains::insert_address(&self.pool, address).await
    }
    async fn address(&self, address: &str) -> StoreResult<Option<AddressRecord>> {
        email_domains::address_of(&self.pool, address).await
    }
    async fn addresses(&self, element_id: &str) -> StoreResult<Vec<AddressRecord>> {
        email_domains::addresses(&self.pool, element_id).await
    }
    async fn delete_address(&self, element_id: &str, address: &str) -> StoreResult<bool> {
        email_domains::delete_address(&self.pool, element_id, address).await
    }
    async fn email_elements(&self) -> StoreResult<Vec<Element>> {
        email_domains::email_elements(&self.pool).await
    }
}
