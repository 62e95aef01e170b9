//! [`AppState`]: what every control-API handler shares — the store and the secrets sealer.

use std::sync::{Arc, OnceLock};

use crate::email::EmailSettings;
use crate::error::{ApiError, ErrorCode};
use crate::ids::{Clock, Millis, SystemClock};
use crate::phone::PhoneSettings;
use crate::phone::events::PhoneEvents;
use crate::phone::message::MessageVoice;
use crate::phone::sip::SipLine;
use crate::secrets::Sealer;
use crate::store::Store;

/// Shared by every handler; cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Arc<dyn Store>,
    sealer: Option<Sealer>,
    clock: Arc<dyn Clock>,
    phone: PhoneSettings,
    email: EmailSettings,
    events: PhoneEvents,
    voice: OnceLock<Arc<dyn MessageVoice>>,
    sip: OnceLock<Arc<dyn SipLine>>,
}

impl AppState {
    /// State over `store`; `sealer` is `None` when the secrets key could not be loaded, and
    /// then every route that needs a credential answers 503.
    pub fn new(store: Arc<dyn Store>, sealer: Option<Sealer>) -> Self {
        Self::with_phone(store, sealer, PhoneSettings::default())
    }

    /// State with this server's phone settings (public URL, sandbox pool).
    pub fn with_phone(store: Arc<dyn Store>, sealer: Option<Sealer>, phone: PhoneSettings) -> Self {
        Self::with_settings(store, sealer, phone, EmailSettings::default())
    }

    /// State with this server's phone and email settings.
    pub fn with_settings(
        store: Arc<dyn Store>,
        sealer: Option<Sealer>,
        phone: PhoneSettings,
        email: EmailSettings,
    ) -> Self {
        Self::with_clock(store, sealer, phone, email, Arc::new(SystemClock))
    }

    /// State that reads the time from `clock` (a [`ManualClock`](crate::ids::ManualClock)
    /// in tests of daily caps and expiries).
    pub fn with_clock(
        store: Arc<dyn Store>,
        sealer: Option<Sealer>,
        phone: PhoneSettings,
        email: EmailSettings,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                sealer,
                clock,
                phone,
                email,
                events: PhoneEvents::default(),
                voice: OnceLock::new(),
                sip: OnceLock::new(),
            }),
        }
    }

    /// Now, in Unix milliseconds, from the state's clock.
    pub fn now_ms(&self) -> Millis {
        self.inner.clock.now_ms()
    }

    /// The phone settings.
    pub fn phone(&self) -> &PhoneSettings {
        &self.inner.phone
    }

    /// The email settings.
    pub fn email(&self) -> &EmailSettings {
        &self.inner.email
    }

    /// Phone and email events and counters.
    pub fn events(&self) -> &PhoneEvents {
        &self.inner.events
    }

    /// Installs the voice that speaks `call-message` messages (once; later calls are
    /// ignored). Without one, `call-message` answers 503 `PHONE_VOICE_UNAVAILABLE`.
    pub fn set_voice(&self, voice: Arc<dyn MessageVoice>) {
        if self.inner.voice.set(voice).is_err() {
            tracing::warn!("a message voice is installed already; keeping the first");
        }
    }

    /// The voice of spoken messages, if the server has one.
    pub fn voice(&self) -> Option<&dyn MessageVoice> {
        self.inner.voice.get().map(|v| &**v)
    }

    /// Installs the SIP leg that `make-call`, `agent-dial`, `sip-register-test` and trunk
    /// registrations use (once; later calls are ignored). Without one, those operations
    /// answer 503 `PHONE_SIP_UNAVAILABLE`.
    pub fn set_sip(&self, line: Arc<dyn SipLine>) {
        if self.inner.sip.set(line).is_err() {
            tracing::warn!("a SIP leg is installed already; keeping the first");
        }
    }

    /// The SIP leg, if the server runs one.
    pub fn sip(&self) -> Option<&dyn SipLine> {
        self.inner.sip.get().map(|s| &**s)
    }

    /// The store.
    pub fn store(&self) -> &dyn Store {
        &*self.inner.store
    }

    /// The store, shared.
    pub fn store_arc(&self) -> Arc<dyn Store> {
        Arc::clone(&self.inner.store)
    }

    /// The user name and opened password of provider `id` of circle `circle_id`; `None`
    /// when the circle has no such provider. 503 `SECRETS_UNAVAILABLE` without the key;
    /// `PROVIDER_INVALID` for a provider voxgate only stores (e.g. `twilio`).
    pub async fn provider_login(
        &self,
        circle_id: &str,
        id: &str,
    ) -> Result<Option<(String, crate::secrets::Secret)>, ApiError> {
        let Some(provider) = self.store().provider(circle_id, id).await? else {
            return Ok(None);
        };
        if !crate::provider::driven(&provider.kind) {
            return Err(ApiError::invalid(
                ErrorCode::ProviderInvalid,
                format!(
                    "provider {} ({}) is stored, not driven: voxgate logs in with 46elks, sip or email credentials",
                    provider.id, provider.kind
                ),
            ));
        }
        let password = self.sealer()?.open(&provider.id, &provider.sealed_secret)?;
        Ok(Some((provider.username, password)))
    }

    /// The sealer, or 503 `SECRETS_UNAVAILABLE`.
    pub fn sealer(&self) -> Result<&Sealer, ApiError> {
        self.inner
            .sealer
            .as_ref()
            .ok_or(ApiError::SecretsUnavailable)
    }
}
