//! The control API's side of the server: the store (SQLite in `data_dir`, or PostgreSQL at
//! `store.url`), the secrets sealer, the first-start bootstrap (the `default` circle, its
//! admin key, the `[agent]` of `voxgate.toml` as its seed agent), the recorder that turns
//! call events into call records and threads, and the call contexts the pipeline asks at
//! each `hello`.

use std::sync::Arc;

use anyhow::Context as _;
use futures::FutureExt as _;
use futures::future::BoxFuture;
use serde_json::{Value, json};
use tokio::sync::broadcast;
use voxgate_control_api::carrier::Credentials;
use voxgate_control_api::phone::{PhoneSettings, SandboxCarrier, SandboxSettings};
use voxgate_control_api::recorder::{CallUpdate, Recorder};
use voxgate_control_api::secrets::Secret;
use voxgate_control_api::store::{SqlStore, Store};
use voxgate_control_api::{AppState, bootstrap, directory};
use voxgate_pipeline::agent::{AgentConfig, BrainConfig, EarsEngine, MouthEngine};
use voxgate_pipeline::context::{CallContext, CallContexts};
use voxgate_pipeline::events::CallEvent;
use voxgate_pipeline::providers::{Message, Role};

use crate::config::Config;

/// The store and what the control API's routes share.
pub(crate) struct Control {
    /// Handlers' state.
    pub(crate) state: AppState,
}

/// Opens the store configured in `config` (creating `data_dir` for SQLite).
pub(crate) async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let store = match &config.store.url {
        Some(url) => SqlStore::connect(url)
            .await
            .with_context(|| format!("connecting to the store at {}", redact(url)))?,
        None => {
            std::fs::create_dir_all(&config.data_dir)
                .with_context(|| format!("creating {}", config.data_dir.display()))?;
            let path = config.data_dir.join("voxgate.db");
            SqlStore::open_sqlite(&path)
                .await
                .with_context(|| format!("opening {}", path.display()))?
        }
    };
    Ok(Arc::new(store))
}

/// `postgres://user:password@host/db` without the password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

impl Control {
    /// Opens the store and the sealer, and bootstraps an empty store. The first admin key
    /// is printed to stdout, once.
    pub(crate) async fn open(config: &Config, bridge_token: &str) -> anyhow::Result<Self> {
        let store = open_store(config).await?;
        let sealer = match crate::secrets::sealer(config.secrets.key.as_deref(), &config.data_dir) {
            Ok(sealer) => Some(sealer),
            // The API still serves everything else; credential routes answer 503.
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "carrier credentials are unavailable until the secrets key can be read");
                None
            }
        };
        if let Some(first) = bootstrap::first_start(&*store, &seed_agent(&config.agent)).await? {
            print_admin_key(&first.admin_key);
        }
        let phone = phone_settings(config, bridge_token)?;
        let email = config.email.settings(&config.public_url)?;
        Ok(Self {
            state: AppState::with_settings(store, sealer, phone, email),
        })
    }

    /// Records the app's call events, makes its pipeline ask the store for each call's
    /// agent settings and history, and lends its mouth to `call-message`.
    pub(crate) fn attach(&self, app: &crate::app::App) {
        tokio::spawn(recover_sms(self.state.clone()));
        tokio::spawn(record(self.state.store_arc(), app.bus.subscribe()));
        let contexts = Arc::new(StoreContexts {
            store: self.state.store_arc(),
        });
        for pipeline in app.pipelines() {
            pipeline.set_contexts(contexts.clone());
        }
        self.state
            .set_voice(Arc::new(crate::voice::MouthVoice::new(Arc::clone(
                &app.mouth,
            ))));
    }
}

impl Control {
    /// Starts the email element's inbound SMTP listener and retry worker.
    pub(crate) async fn start_email(
        &self,
        config: &Config,
    ) -> anyhow::Result<crate::email::EmailService> {
        crate::email::start(&config.email, &self.state).await
    }

    /// Starts the SIP leg on the app's 8 kHz pipeline, answering the numbers the store
    /// admits, and lends it to the control API (calls out, trunk registrations, which are
    /// synced once now). `None` when `sip.enabled` is false.
    pub(crate) async fn start_sip(
        &self,
        config: &Config,
        app: &crate::app::App,
    ) -> anyhow::Result<Option<crate::sip::SipService>> {
        if !config.sip.enabled {
            return Ok(None);
        }
        let admission = Arc::new(StoreAdmission {
            store: self.state.store_arc(),
            unknown: config.sip.unknown_numbers,
        });
        let sip = crate::sip::start(&config.sip, app.sip_pipeline().clone(), admission).await?;
        self.state.set_sip(sip.line());
        match voxgate_control_api::phone::sip::sync_registrations(&self.state).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(trunks = n, "SIP trunks registering"),
            Err(e) => tracing::error!(code = e.code(), "reading SIP trunks failed"),
        }
        Ok(Some(sip))
    }
}

/// Which SIP calls are answered: a number registered in the control API always; any other
/// as `sip.unknown_numbers` says. A store failure answers (with the default agent): a
/// database hiccup must not turn callers away.
struct StoreAdmission {
    store: Arc<dyn Store>,
    unknown: crate::sip::UnknownNumbers,
}

impl crate::sip::Admission for StoreAdmission {
    fn admits(&self, to_user: &str) -> BoxFuture<'static, bool> {
        use crate::sip::UnknownNumbers;
        let store = Arc::clone(&self.store);
        let (to, unknown) = (to_user.to_owned(), self.unknown);
        async move {
            let known = match store.number_by_e164(&to).await {
                // A registered number with inbound calls switched off refuses them.
                Ok(Some(number)) if !number.inbound_enabled => return false,
                Ok(number) => number.is_some(),
                Err(e) => {
                    tracing::error!(error = %e, "looking up a SIP call's number failed; answering");
                    return true;
                }
            };
            match (known, unknown) {
                (true, _) | (false, UnknownNumbers::Answer) => true,
                (false, UnknownNumbers::Reject) => false,
                (false, UnknownNumbers::Auto) => !store.any_number().await.unwrap_or(false),
            }
        }
        .boxed()
    }
}

/// What the phone operations need: the public URL, the Realtime WebSocket URL that
/// `connect` actions name, and the sandbox pool.
fn phone_settings(config: &Config, bridge_token: &str) -> anyhow::Result<PhoneSettings> {
    let public = config.public_url.trim_end_matches('/');
    let ws_base = if let Some(rest) = public.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = public.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        anyhow::bail!("public_url must start with http:// or https://, not {public:?}");
    };
    let mut pool = Vec::with_capacity(config.sandbox.phone_pool.len());
    for number in &config.sandbox.phone_pool {
        let number = voxgate_control_api::e164::E164::parse(number)
            .map_err(|e| anyhow::anyhow!("sandbox.phone_pool: {e}"))?;
        pool.push(number.to_string());
    }
    let carrier = match (&config.sandbox.username, &config.sandbox.password) {
        (Some(username), Some(password)) => Some(SandboxCarrier {
            api_url: config.sandbox.carrier_api_url.clone(),
            credentials: Credentials {
                username: username.clone(),
                password: Secret::new(password.clone()),
            },
        }),
        _ => None,
    };
    Ok(PhoneSettings {
        public_url: public.to_owned(),
        voice_ws_url: Some(format!(
            "{ws_base}{}?token={bridge_token}",
            voxgate_bridge::ws::PATH
        )),
        sandbox: SandboxSettings {
            pool,
            sms_daily_cap: config.sandbox.sms_daily_cap,
            carrier,
        },
        sip_registrar: voxgate_control_api::phone::ELKS_SIP_REGISTRAR.to_owned(),
    })
}

/// Settles the SMS a previous run left in flight (see `voxgate_control_api::phone::sms`).
async fn recover_sms(state: AppState) {
    match voxgate_control_api::phone::sms::recover(&state).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(settled = n, "settled SMS left in flight by the last run"),
        Err(e) => tracing::error!(error = %e, "recovering in-flight SMS failed"),
    }
}

#[allow(clippy::print_stdout)] // Shown once, to the operator at the terminal.
fn print_admin_key(key: &str) {
    println!(
        "\nFirst start: created circle \"default\" and its admin API key (shown only now):\n\n    {key}\n\nUse it as `Authorization: Bearer {key}`. More keys: voxgate keys create --circle NAME --role ROLE\n"
    );
}

/// The `[agent]` of `voxgate.toml` as a control-API agent body.
pub(crate) fn seed_agent(agent: &AgentConfig) -> Value {
    let ears = match agent.ears.engine {
        EarsEngine::Whisper => "whisper",
        EarsEngine::Fixed => "fixed",
    };
    let brain = match agent.brain {
        BrainConfig::Scripted { .. } => "scripted",
        BrainConfig::Llama { .. } => "llama",
        BrainConfig::Openai { .. } => "openai",
    };
    let mouth = match agent.mouth.engine {
        MouthEngine::Espeak => "espeak",
        MouthEngine::Tone => "tone",
    };
    json!({
        "name": agent.name,
        "system_prompt": agent.system_prompt,
        "greeting": agent.greeting,
        "listen_format": agent.listen_format.as_str(),
        "send_format": agent.send_format.as_str(),
        "ears": {"engine": ears},
        "brain": {"engine": brain},
        "mouth": {"engine": mouth},
    })
}

/// Writes every call event to the store, in order, until the bus closes.
async fn record(store: Arc<dyn Store>, mut events: broadcast::Receiver<CallEvent>) {
    let mut recorder = Recorder::new(store);
    loop {
        let event = match events.recv().await {
            Ok(event) => event,
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::error!(
                    missed,
                    "call recorder fell behind; some call events are not stored"
                );
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        let Some(update) = update(event) else {
            continue;
        };
        if let Err(e) = recorder.record(update).await {
            tracing::error!(error = %e, "storing a call event failed");
        }
    }
}

/// The pipeline's event as the recorder's (`None`: not part of the call record).
fn update(event: CallEvent) -> Option<CallUpdate> {
    Some(match event {
        CallEvent::Started {
            call_id, from, to, ..
        } => CallUpdate::Started {
            carrier_call_id: call_id,
            from,
            to,
        },
        CallEvent::Refused { call_id, from, to } => CallUpdate::Refused {
            carrier_call_id: call_id,
            from,
            to,
        },
        CallEvent::TurnCompleted {
            call_id,
            turn,
            user,
            agent,
            interrupted,
            metrics,
        } => CallUpdate::Turn {
            carrier_call_id: call_id,
            turn,
            user,
            agent,
            interrupted,
            metrics: metrics_ms(&metrics),
        },
        CallEvent::Ended {
            call_id,
            reason,
            error,
            ..
        } => CallUpdate::Ended {
            carrier_call_id: call_id,
            reason: reason.as_str().to_owned(),
            error,
        },
        // Digits go to the live event stream, and to the brain as part of the conversation.
        CallEvent::Digit { .. } => return None,
    })
}

/// A turn's stage times in milliseconds (`null` for stages the turn did not reach).
fn metrics_ms(m: &voxgate_pipeline::metrics::TurnMetrics) -> Value {
    let ms = |d: Option<std::time::Duration>| d.map(|d| d.as_secs_f64() * 1000.0);
    json!({
        "end_of_turn_ms": ms(m.end_of_turn),
        "stt_final_ms": ms(m.stt_final),
        "first_token_ms": ms(m.first_token),
        "first_audio_ms": ms(m.first_audio),
        "first_frame_sent_ms": ms(m.first_frame_sent),
        "server_added_ms": ms(m.server_added),
    })
}

/// Each call's agent settings and history, from the store.
struct StoreContexts {
    store: Arc<dyn Store>,
}

impl CallContexts for StoreContexts {
    fn lookup(&self, callid: &str, from: &str, to: &str) -> BoxFuture<'static, CallContext> {
        let store = Arc::clone(&self.store);
        let (callid, from, to) = (callid.to_owned(), from.to_owned(), to.to_owned());
        async move {
            let remembered = match directory::remember(&*store, &callid, &from, &to).await {
                Ok(remembered) => remembered,
                Err(e) => {
                    tracing::error!(error = %e, "looking up the call's agent failed; using the defaults");
                    return CallContext::default();
                }
            };
            let history = remembered
                .history
                .into_iter()
                .filter_map(|(role, content)| {
                    let role = match role.as_str() {
                        "user" => Role::User,
                        "assistant" => Role::Assistant,
                        _ => return None,
                    };
                    Some(Message::new(role, content))
                })
                .collect();
            CallContext {
                system_prompt: remembered.agent.as_ref().map(|a| a.system_prompt.clone()),
                greeting: remembered.agent.map(|a| a.greeting),
                history,
            }
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_from_store_urls() {
        assert_eq!(
            redact("postgres://vg:s3cret@db:5432/vg"),
            "postgres://vg:***@db:5432/vg"
        );
        assert_eq!(redact("postgres://db/vg"), "postgres://db/vg");
    }

    #[test]
    fn the_default_agent_is_a_valid_seed() {
        let seed = seed_agent(&AgentConfig::default());
        let mut body = voxgate_control_api::agent::AgentBody::defaults();
        voxgate_control_api::element::merge::merge(&mut body, &seed);
        let agent = voxgate_control_api::agent::AgentBody::validate(&body).expect("valid");
        assert_eq!(agent.name, "voxgate");
        assert_eq!(agent.mouth["engine"], "espeak");
    }
}
