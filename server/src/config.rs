//! The server's configuration: one TOML file plus environment overrides.
//!
//! Every key can be set in the file (`[http] listen = "..."`) or by an environment variable
//! named `VOXGATE_` + the dotted key upper-cased with dots as underscores
//! (`VOXGATE_HTTP_LISTEN`). The environment wins. Names and defaults are the ones
//! `PRODUCT.md` documents; each crate will bring its own small config section as it grows.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use voxgate_bridge::SessionConfig;
use voxgate_bridge::ws::WsConfig;
use voxgate_pipeline::PipelineConfig;
use voxgate_pipeline::agent::AgentConfig;

use crate::email::EmailConfig;
use crate::sip::SipConfig;

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum ConfigError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this schema.
    #[error("parsing {path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        source: Box<toml::de::Error>,
    },
    /// An environment variable holds a value that does not parse.
    #[error("environment variable {name}={value:?} is not a valid {expected}")]
    Env {
        /// The variable.
        name: String,
        /// Its value.
        value: String,
        /// What kind of value it should hold.
        expected: &'static str,
    },
}

/// The whole server configuration.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct Config {
    /// HTTP settings (`[http]`).
    pub(crate) http: HttpConfig,
    /// Where voxgate keeps its state. Default `./data`; env `VOXGATE_DATA_DIR`.
    pub(crate) data_dir: PathBuf,
    /// Where the setup script put the engines' models. Default `./models`; env
    /// `VOXGATE_MODELS_DIR`.
    pub(crate) models_dir: PathBuf,
    /// The URL voxgate gives the carrier for its webhooks. Default `http://127.0.0.1:8080`;
    /// env `VOXGATE_PUBLIC_URL`.
    pub(crate) public_url: String,
    /// The 46elks Realtime leg (`[bridge]`).
    pub(crate) bridge: BridgeConfig,
    /// The call pipeline (`[pipeline]`).
    pub(crate) pipeline: PipelineConfig,
    /// The agent that answers every call (`[agent]`; see `voxgate_pipeline::agent`).
    pub(crate) agent: AgentConfig,
    /// Call events (`[events]`).
    pub(crate) events: EventsConfig,
    /// The control API's database (`[store]`).
    pub(crate) store: StoreConfig,
    /// The key that seals carrier credentials (`[secrets]`).
    pub(crate) secrets: SecretsConfig,
    /// Sandbox phone numbers (`[sandbox]`).
    pub(crate) sandbox: SandboxConfig,
    /// The SIP/RTP leg (`[sip]`; see `crate::sip`).
    pub(crate) sip: SipConfig,
    /// The email element: inbound listener, caps, platform mailbox (`[email]`; see
    /// `crate::email`).
    pub(crate) email: EmailConfig,
}

/// The `[sandbox]` section: numbers leased to elements for trying voxgate out, sending
/// through the operator's own carrier account.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct SandboxConfig {
    /// E.164 numbers of the pool. Default none; env `SANDBOX_PHONE_POOL` (or
    /// `VOXGATE_SANDBOX_PHONE_POOL`), comma-separated.
    pub(crate) phone_pool: Vec<String>,
    /// SMS per circle per UTC day from sandbox numbers. Default 10; env
    /// `SANDBOX_PHONE_SMS_DAILY_CAP` (or `VOXGATE_SANDBOX_SMS_DAILY_CAP`).
    pub(crate) sms_daily_cap: i64,
    /// The carrier API of the pool's account. Default `https://api.46elks.com/a1`; env
    /// `VOXGATE_SANDBOX_CARRIER_API_URL`.
    pub(crate) carrier_api_url: String,
    /// The pool account's API user. Default unset (sandbox sends answer 503); env
    /// `VOXGATE_SANDBOX_USERNAME`.
    pub(crate) username: Option<String>,
    /// The pool account's API password; env `VOXGATE_SANDBOX_PASSWORD`.
    pub(crate) password: Option<String>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            phone_pool: Vec::new(),
            sms_daily_cap: voxgate_control_api::phone::DEFAULT_SANDBOX_SMS_DAILY_CAP,
            carrier_api_url: voxgate_control_api::element::phone::DEFAULT_CARRIER_API_URL
                .to_owned(),
            username: None,
            password: None,
        }
    }
}

impl std::fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxConfig")
            .field("phone_pool", &self.phone_pool)
            .field("sms_daily_cap", &self.sms_daily_cap)
            .field("carrier_api_url", &self.carrier_api_url)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish()
    }
}

/// The `[store]` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct StoreConfig {
    /// `postgres://...` for PostgreSQL. Default unset: SQLite at `data_dir/voxgate.db`;
    /// env `VOXGATE_STORE_URL`.
    pub(crate) url: Option<String>,
}

/// The `[secrets]` section.
#[derive(Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct SecretsConfig {
    /// Base64 of 32 bytes. Default unset: generated into `data_dir/secrets.key` on first
    /// start; env `VOXGATE_SECRETS_KEY`.
    pub(crate) key: Option<String>,
}

impl std::fmt::Debug for SecretsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretsConfig")
            .field("key", &self.key.as_ref().map(|_| "***"))
            .finish()
    }
}

/// The `[events]` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct EventsConfig {
    /// Append every call event (with per-turn stage times) to this file as JSON lines.
    /// Default unset (no log); env `VOXGATE_EVENTS_LOG`.
    pub(crate) log: Option<PathBuf>,
}

/// The `[bridge]` section: the 46elks Realtime WebSocket leg.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct BridgeConfig {
    /// The secret 46elks must present as `?token=` on the WebSocket URL. Default: generated
    /// on first start and kept in `data_dir/bridge.token`; env `VOXGATE_BRIDGE_TOKEN`.
    pub(crate) token: Option<String>,
    /// Most agent audio buffered at the carrier, in ms. Default 1000.
    pub(crate) max_buffered_ms: u64,
    /// Largest WebSocket message accepted, in bytes. Default 1 MiB.
    pub(crate) max_message_bytes: usize,
    /// A call with no message from the carrier for this long ends, in seconds. Default 30.
    pub(crate) idle_timeout_s: u64,
}

impl Default for BridgeConfig {
    fn default() -> Self {
        let session = SessionConfig::default();
        Self {
            token: None,
            max_buffered_ms: session.max_buffered.as_millis() as u64,
            max_message_bytes: session.max_message_bytes,
            idle_timeout_s: session.idle_timeout.as_secs(),
        }
    }
}

impl std::fmt::Debug for BridgeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BridgeConfig")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("max_buffered_ms", &self.max_buffered_ms)
            .field("max_message_bytes", &self.max_message_bytes)
            .field("idle_timeout_s", &self.idle_timeout_s)
            .finish()
    }
}

impl BridgeConfig {
    /// The per-call session settings (formats are the agent's, set by the pipeline).
    pub(crate) fn session(&self) -> SessionConfig {
        SessionConfig {
            max_buffered: std::time::Duration::from_millis(self.max_buffered_ms),
            max_message_bytes: self.max_message_bytes,
            idle_timeout: std::time::Duration::from_secs(self.idle_timeout_s),
            ..SessionConfig::default()
        }
    }

    /// The WebSocket endpoint's settings with the resolved `token`.
    pub(crate) fn ws(&self, token: String) -> WsConfig {
        WsConfig {
            token,
            max_message_bytes: self.max_message_bytes,
        }
    }
}

/// The `[http]` section.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct HttpConfig {
    /// Address of the API, webhooks, 46elks WebSocket and metrics. Default `127.0.0.1:8080`;
    /// env `VOXGATE_HTTP_LISTEN`.
    pub(crate) listen: SocketAddr,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            http: HttpConfig::default(),
            data_dir: PathBuf::from("./data"),
            models_dir: PathBuf::from("./models"),
            public_url: "http://127.0.0.1:8080".to_owned(),
            bridge: BridgeConfig::default(),
            pipeline: PipelineConfig::default(),
            agent: AgentConfig::default(),
            events: EventsConfig::default(),
            store: StoreConfig::default(),
            secrets: SecretsConfig::default(),
            sandbox: SandboxConfig::default(),
            sip: SipConfig::default(),
            email: EmailConfig::default(),
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
        }
    }
}

/// The file read when no `--config` is given, if it exists.
const DEFAULT_FILE: &str = "voxgate.toml";

impl Config {
    /// Loads `path` (or `voxgate.toml` if present, or the defaults) and applies `env`.
    pub(crate) fn load(
        path: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut config = match path {
            Some(p) => Self::from_file(p)?,
            None if Path::new(DEFAULT_FILE).exists() => Self::from_file(Path::new(DEFAULT_FILE))?,
            None => Self::default(),
        };
        for (name, value) in env {
            config.apply_env(&name, value)?;
        }
        Ok(config)
    }

    fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_owned(),
            source: Box::new(source),
        })
    }

    fn apply_env(&mut self, name: &str, value: String) -> Result<(), ConfigError> {
        match name {
            "VOXGATE_HTTP_LISTEN" => {
                self.http.listen = value.parse().map_err(|_| ConfigError::Env {
                    name: name.to_owned(),
                    value,
                    expected: "socket address",
                })?;
            }
            "VOXGATE_DATA_DIR" => self.data_dir = PathBuf::from(value),
            "VOXGATE_MODELS_DIR" => self.models_dir = PathBuf::from(value),
            "VOXGATE_PUBLIC_URL" => self.public_url = value,
            "VOXGATE_BRIDGE_TOKEN" => self.bridge.token = Some(value),
            "VOXGATE_EVENTS_LOG" => self.events.log = Some(PathBuf::from(value)),
            "VOXGATE_STORE_URL" => self.store.url = Some(value).filter(|v| !v.is_empty()),
            "VOXGATE_SECRETS_KEY" => self.secrets.key = Some(value),
            "SANDBOX_PHONE_POOL" | "VOXGATE_SANDBOX_PHONE_POOL" => {
                self.sandbox.phone_pool = value
                    .split(',')
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(str::to_owned)
                    .collect();
            }
            "SANDBOX_PHONE_SMS_DAILY_CAP" | "VOXGATE_SANDBOX_SMS_DAILY_CAP" => {
                self.sandbox.sms_daily_cap = match value.parse() {
                    Ok(n) if n >= 0 => n,
                    _ => {
                        return Err(ConfigError::Env {
                            name: name.to_owned(),
                            value,
                            expected: "number of SMS (0 or more)",
                        });
                    }
                };
            }
            "VOXGATE_SANDBOX_CARRIER_API_URL" => self.sandbox.carrier_api_url = value,
            "VOXGATE_SANDBOX_USERNAME" => self.sandbox.username = Some(value),
            "VOXGATE_SANDBOX_PASSWORD" => self.sandbox.password = Some(value),
            "VOXGATE_SIP_LISTEN" => {
                self.sip.listen = value.parse().map_err(|_| ConfigError::Env {
                    name: name.to_owned(),
                    value,
                    expected: "socket address",
                })?;
            }
            "VOXGATE_SIP_PUBLIC_ADDR" => {
                self.sip.public_addr = match value.as_str() {
                    "" => None,
                    v => Some(v.parse().map_err(|_| ConfigError::Env {
                        name: name.to_owned(),
                        value: value.clone(),
                        expected: "socket address",
                    })?),
                };
            }
            "VOXGATE_SIP_RTP_PORTS" => self.sip.rtp_ports = value,
            "VOXGATE_SIP_ANSWER_DELAY_MS" => {
                self.sip.answer_delay_ms = value.parse().map_err(|_| ConfigError::Env {
                    name: name.to_owned(),
                    value,
                    expected: "milliseconds",
                })?;
            }
            "VOXGATE_SIP_UNKNOWN_NUMBERS" => {
                self.sip.unknown_numbers = value.parse().map_err(|()| ConfigError::Env {
                    name: name.to_owned(),
                    value,
                    expected: "auto, answer or reject",
                })?;
            }
            "VOXGATE_SIP_ENABLED" => {
                self.sip.enabled = match value.as_str() {
                    "true" | "1" | "yes" => true,
                    "false" | "0" | "no" => false,
                    _ => {
                        return Err(ConfigError::Env {
                            name: name.to_owned(),
                            value,
                            expected: "true or false",
                        });
                    }
                };
            }
            "VOXGATE_PIPELINE_SLOTS" => {
                self.pipeline.slots = match value.parse() {
                    Ok(n) if n > 0 => n,
                    _ => {
                        return Err(ConfigError::Env {
                            name: name.to_owned(),
                            value,
                            expected: "number of slots (1 or more)",
                        });
                    }
                };
            }
            _ => {
                self.email.apply_env(name, value)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn sandbox_settings_come_from_the_documented_variables() {
        let c = Config::load(
            None,
            env(&[
                ("SANDBOX_PHONE_POOL", "+46766860001, +46766860002,"),
                ("SANDBOX_PHONE_SMS_DAILY_CAP", "3"),
                ("VOXGATE_SANDBOX_PASSWORD", "hunter2"),
            ]),
        )
        .expect("config");
        assert_eq!(c.sandbox.phone_pool, ["+46766860001", "+46766860002"]);
        assert_eq!(c.sandbox.sms_daily_cap, 3);
        assert!(
            !format!("{c:?}").contains("hunter2"),
            "the password is redacted"
        );
        let bad = Config::load(None, env(&[("SANDBOX_PHONE_SMS_DAILY_CAP", "-1")]));
        assert!(bad.is_err());
    }

    #[test]
    fn defaults_match_the_product_doc() {
        let c = Config::default();
        assert_eq!(c.http.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.data_dir, PathBuf::from("./data"));
        assert_eq!(c.models_dir, PathBuf::from("./models"));
        assert_eq!(c.public_url, "http://127.0.0.1:8080");
        assert_eq!(c.bridge.token, None, "generated on first start");
        assert!(c.pipeline.slots >= 1);
        assert_eq!(c.sip.listen.to_string(), "127.0.0.1:5060");
        assert!(c.sip.enabled);
        assert_eq!(c.sip.answer_delay_ms, 0);
        assert_eq!(c.sip.unknown_numbers, crate::sip::UnknownNumbers::Auto);
    }

    #[test]
    fn sip_settings_come_from_the_documented_variables() {
        let c = Config::load(
            None,
            env(&[
                ("VOXGATE_SIP_LISTEN", "0.0.0.0:5080"),
                ("VOXGATE_SIP_PUBLIC_ADDR", "203.0.113.5:5080"),
                ("VOXGATE_SIP_RTP_PORTS", "40000-40099"),
                ("VOXGATE_SIP_ENABLED", "false"),
                ("VOXGATE_SIP_ANSWER_DELAY_MS", "2500"),
                ("VOXGATE_SIP_UNKNOWN_NUMBERS", "reject"),
            ]),
        )
        .expect("config");
        assert_eq!(c.sip.listen.to_string(), "0.0.0.0:5080");
        assert_eq!(
            c.sip.public_addr.map(|a| a.to_string()).as_deref(),
            Some("203.0.113.5:5080")
        );
        assert_eq!(c.sip.rtp_range().expect("range"), 40000..=40099);
        assert!(!c.sip.enabled);
        assert_eq!(c.sip.answer_delay_ms, 2500);
        assert_eq!(c.sip.unknown_numbers, crate::sip::UnknownNumbers::Reject);
        let bad = Config::load(None, env(&[("VOXGATE_SIP_UNKNOWN_NUMBERS", "maybe")]));
        assert!(bad.is_err());
        for (name, bad) in [
            ("VOXGATE_SIP_LISTEN", "nonsense"),
            ("VOXGATE_SIP_PUBLIC_ADDR", "x"),
            ("VOXGATE_SIP_ENABLED", "maybe"),
        ] {
            assert!(
                Config::load(None, env(&[(name, bad)])).is_err(),
                "{name}={bad}"
            );
        }
    }

    #[test]
    fn the_example_file_states_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../voxgate.example.toml");
        let c = Config::load(Some(&path), env(&[])).expect("the example parses");
        assert_eq!(c, Config::default());
    }

    #[test]
    fn bridge_pipeline_and_agent_sections() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("voxgate.toml");
        let text = "[bridge]\ntoken = \"file\"\nmax_buffered_ms = 400\n[pipeline]\nslots = 3\n\
                    [agent]\ngreeting = \"\"\nlisten_format = \"pcm_16000\"\n";
        std::fs::write(&path, text).expect("write");
        let c = Config::load(Some(&path), env(&[])).expect("loads");
        assert_eq!(c.bridge.token.as_deref(), Some("file"));
        assert_eq!(c.bridge.session().max_buffered.as_millis(), 400);
        assert_eq!(c.pipeline.slots, 3);
        assert_eq!(c.agent.greeting, "");
        let vars = [
            ("VOXGATE_BRIDGE_TOKEN", "env"),
            ("VOXGATE_PIPELINE_SLOTS", "2"),
        ];
        let c = Config::load(Some(&path), env(&vars)).expect("loads");
        assert_eq!(
            (c.bridge.token.as_deref(), c.pipeline.slots),
            (Some("env"), 2)
        );
        assert!(
            !format!("{c:?}").contains("env\""),
            "the token is never printed"
        );
        for bad in ["0", "many"] {
            let err = Config::load(None, env(&[("VOXGATE_PIPELINE_SLOTS", bad)]));
            assert!(matches!(err, Err(ConfigError::Env { .. })), "{bad}");
        }
    }

    #[test]
    fn file_then_environment() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("voxgate.toml");
        std::fs::write(
            &path,
            "data_dir = \"/srv/vox\"\n[http]\nlisten = \"0.0.0.0:9000\"\n",
        )
        .expect("write");
        let c = Config::load(Some(&path), env(&[])).expect("loads");
        assert_eq!(c.http.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(c.data_dir, PathBuf::from("/srv/vox"));
        let c = Config::load(Some(&path), env(&[("VOXGATE_HTTP_LISTEN", "127.0.0.1:1")]))
            .expect("loads");
        assert_eq!(c.http.listen.to_string(), "127.0.0.1:1");
    }

    #[test]
    fn bad_input_is_a_clear_error() {
        let err = Config::load(None, env(&[("VOXGATE_HTTP_LISTEN", "nonsense")]));
        assert!(matches!(
            err,
            Err(ConfigError::Env {
                expected: "socket address",
                ..
            })
        ));
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "[http]\nlisten = 5\nbogus = true\n").expect("write");
        assert!(matches!(
            Config::load(Some(&path), env(&[])),
            Err(ConfigError::Parse { .. })
        ));
        let missing = dir.path().join("missing.toml");
        assert!(matches!(
            Config::load(Some(&missing), env(&[])),
            Err(ConfigError::Read { .. })
        ));
    }
}
