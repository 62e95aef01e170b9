//! # voxgate: the binary
//!
//! `voxgate serve` loads the configuration (a TOML file plus `VOXGATE_*` environment
//! variables, see [`config`]), loads the agent's engines ([`engines`]), builds the call
//! pipeline ([`app`]), binds the HTTP listener (health, metrics, the 46elks WebSocket) and
//! serves until SIGINT or SIGTERM, then shuts down gracefully. `voxgate demo` does the same
//! and places one simulated 46elks call against itself ([`demo`]). The control API
//! ([`control`]) shares the listener; `voxgate keys create` makes API keys against the
//! same store, also while the server runs.

mod app;
mod config;
mod control;
mod demo;
mod email;
mod engines;
mod events_log;
mod http;
mod secrets;
mod sip;
mod voice;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// voxgate: a real-time voice-agent media server.
#[derive(Debug, Parser)]
#[command(name = "voxgate", version, about)]
struct Cli {
    /// Configuration file (TOML). Defaults to `voxgate.toml` in the working directory if it
    /// exists; every key can be overridden by `VOXGATE_<KEY>` (dots become underscores).
    #[arg(long, global = true, env = "VOXGATE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server on the configured (or embedded default) settings.
    Serve,
    /// Run the server, place one simulated 46elks call against it and print the
    /// conversation with per-turn latencies; then keep serving.
    Demo,
    /// Manage control-API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Run the 46elks carrier simulator (REST API, webhooks, Realtime calls) for offline
    /// tests and demos; point an element's `carrier_api_url` at the URL it prints.
    CarrierSim {
        /// Where to listen.
        #[arg(long, default_value = "127.0.0.1:9080")]
        listen: std::net::SocketAddr,
        /// The API account, `user:password`.
        #[arg(long, default_value = "sim:sim-secret")]
        account: String,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Create a key and print it (only now); the circle is created if it does not exist.
    Create {
        /// The circle (tenant) the key belongs to.
        #[arg(long, default_value = "default")]
        circle: String,
        /// read | write | execute | admin.
        #[arg(long)]
        role: String,
    },
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let config = config::Config::load(cli.config.as_deref(), std::env::vars())
        .context("loading configuration")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    match cli.command {
        Command::Serve => runtime.block_on(serve(config)),
        Command::Demo => runtime.block_on(demo::run(config)),
        Command::Keys(KeysCommand::Create { circle, role }) => {
            runtime.block_on(create_key(&config, &circle, &role))
        }
        Command::CarrierSim { listen, account } => runtime.block_on(carrier_sim(listen, &account)),
    }
}

/// `voxgate carrier-sim`: serves until SIGINT, printing where and as whom.
#[allow(clippy::print_stdout)]
async fn carrier_sim(listen: std::net::SocketAddr, account: &str) -> anyhow::Result<()> {
    let (user, password) = account
        .split_once(':')
        .filter(|(u, p)| !u.is_empty() && !p.is_empty())
        .context("--account must be user:password")?;
    let config = voxgate_carrier_sim::SimConfig {
        listen,
        accounts: vec![voxgate_carrier_sim::Account::new(user, password)],
        ..voxgate_carrier_sim::SimConfig::default()
    };
    let sim = voxgate_carrier_sim::Simulator::start(config)
        .await
        .context("starting the carrier simulator")?;
    println!("46elks simulator: {} (account {user})", sim.api_url());
    println!("controls: http://{}/sim/state", sim.addr());
    tokio::signal::ctrl_c()
        .await
        .context("waiting for ctrl-c")?;
    sim.shutdown().await;
    Ok(())
}

/// `voxgate keys create`: prints the new key alone on stdout, for scripts.
#[allow(clippy::print_stdout)]
async fn create_key(config: &config::Config, circle: &str, role: &str) -> anyhow::Result<()> {
    let role = role.parse().context("--role")?;
    let store = control::open_store(config).await?;
    let key = voxgate_control_api::bootstrap::create_key(&*store, circle, role)
        .await
        .context("creating the key")?;
    println!("{key}");
    Ok(())
}

/// Loads the engines, then binds and serves until a shutdown signal.
async fn serve(config: config::Config) -> anyhow::Result<()> {
    let app = {
        let config = config.clone();
        tokio::task::spawn_blocking(move || app::App::build(&config)).await??
    };
    if let Some(path) = &config.events.log {
        events_log::spawn(&app.bus, path).await?;
    }
    let control = control::Control::open(&config, &app.ws.token).await?;
    control.attach(&app);
    let _sip = control.start_sip(&config, &app).await?;
    let _email = control.start_email(&config).await?;
    let listener = http::bind(config.http.listen).await?;
    http::serve(listener, http::router(Some(&app), Some(&control))).await
}
