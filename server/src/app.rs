//! Composition: the engines, the pipeline, the event bus and the bridge endpoint, built
//! from the configuration. `serve` and `demo` share it.

use std::sync::Arc;

use anyhow::Context as _;
use voxgate_bridge::Format;
use voxgate_bridge::ws::WsConfig;
use voxgate_pipeline::Pipeline;
use voxgate_pipeline::events::BroadcastBus;
use voxgate_pipeline::providers::Mouth;

use crate::config::Config;
use crate::{engines, secrets};

/// Events kept for slow subscribers of the in-process bus.
const BUS_CAPACITY: usize = 1024;

/// Everything the HTTP router serves.
pub(crate) struct App {
    /// Answers 46elks calls.
    pub(crate) pipeline: Pipeline,
    /// Call events (started, turn completed, ended).
    pub(crate) bus: BroadcastBus,
    /// The 46elks WebSocket endpoint, with its token.
    pub(crate) ws: WsConfig,
    /// The mouth the pipeline speaks with, shared with `call-message`.
    pub(crate) mouth: Arc<dyn Mouth>,
    /// A second pipeline at 8 kHz on the same engines for SIP calls, when the agent's
    /// 46elks formats are wider; `None` (the default agent speaks G.711) shares `pipeline`
    /// and its slots.
    sip_only: Option<Pipeline>,
}

impl App {
    /// Loads the engines and builds the slot pool. Blocks for the model loads.
    pub(crate) fn build(config: &Config) -> anyhow::Result<Self> {
        let token = secrets::bridge_token(config.bridge.token.as_deref(), &config.data_dir)?;
        let engines = engines::load(&config.agent, &config.models_dir)?;
        let mouth = Arc::clone(&engines.mouth);
        let bus = BroadcastBus::new(BUS_CAPACITY);
        let pipeline = Pipeline::new(
            config.agent.clone(),
            config.bridge.session(),
            &config.pipeline,
            engines.clone(),
            Arc::new(bus.clone()),
        )
        .context("building the call pipeline")?;
        let narrowband = |f: Format| f.rate() == voxgate_media::SampleRate::HZ_8000;
        let sip_only =
            if narrowband(config.agent.listen_format) && narrowband(config.agent.send_format) {
                None
            } else {
                let mut agent = config.agent.clone();
                agent.listen_format = Format::Ulaw;
                agent.send_format = Format::Ulaw;
                let sip = Pipeline::new(
                    agent,
                    config.bridge.session(),
                    &config.pipeline,
                    engines,
                    Arc::new(bus.clone()),
                )
                .context("building the SIP call pipeline")?;
                Some(sip)
            };
        Ok(Self {
            pipeline,
            bus,
            ws: config.bridge.ws(token),
            mouth,
            sip_only,
        })
    }

    /// The pipeline SIP calls run on (8 kHz).
    pub(crate) fn sip_pipeline(&self) -> &Pipeline {
        self.sip_only.as_ref().unwrap_or(&self.pipeline)
    }

    /// Every distinct pipeline, for settings they all need.
    pub(crate) fn pipelines(&self) -> impl Iterator<Item = &Pipeline> {
        std::iter::once(&self.pipeline).chain(self.sip_only.as_ref())
    }
}
