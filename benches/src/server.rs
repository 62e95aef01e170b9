//! The server under test: voxgate or the Pipecat bot, started by the harness or already
//! running, and what it wrote about each turn.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::process::{Child, Command};

/// Which engines voxgate runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Providers {
    /// Zero-time ears (fixed text), the scripted brain and an instant tone mouth: what
    /// voxgate itself costs (transport, codecs, resampling, VAD, turn logic, pacing).
    Fixed,
    /// The real thing: Whisper ears, the scripted brain, espeak-ng.
    Local,
}

impl Providers {
    /// How reports name the mode.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Fixed => {
                "fixed: zero-time providers (fixed-text ears, scripted brain, instant 1.5 s tone \
                 mouth); the figures are what the server itself adds"
            }
            Self::Local => "local: Whisper tiny.en ears, scripted brain, espeak-ng mouth",
        }
    }
}

/// A server the harness started; killed on drop.
#[derive(Debug)]
pub struct Spawned {
    child: Child,
    /// Its process id, for `/proc` sampling.
    pub pid: u32,
    /// The WebSocket URL calls go to (with the token for voxgate).
    pub ws_url: String,
    /// The per-turn events file it writes.
    pub events: PathBuf,
}

impl Drop for Spawned {
    fn drop(&mut self) {
        // Its workers (uvicorn forks them) go too; a Ctrl-C reaches them all anyway, as they
        // stay in the harness's process group.
        let children: Vec<String> = crate::procstat::descendants(self.pid)
            .iter()
            .map(u32::to_string)
            .collect();
        if !children.is_empty() {
            let _ = std::process::Command::new("kill")
                .arg("-KILL")
                .args(&children)
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.child.start_kill();
    }
}

/// How to start voxgate.
#[derive(Debug, Clone)]
pub struct VoxgateSpec {
    /// The `voxgate` binary.
    pub binary: PathBuf,
    /// `models_dir`.
    pub models: PathBuf,
    /// Engines.
    pub providers: Providers,
    /// Slots (calls at once).
    pub slots: usize,
    /// Both directions' format (`ulaw`, `pcm_16000`, ...).
    pub format: String,
    /// Where its SIP leg listens; `None` for a free port nobody calls.
    pub sip: Option<SipListen>,
}

/// voxgate's SIP leg, for `voxgate-bench sip`.
#[derive(Debug, Clone, Copy)]
pub struct SipListen {
    /// The UDP address it answers SIP on (`VOXGATE_SIP_LISTEN`).
    pub listen: std::net::SocketAddr,
    /// Its RTP ports, first and last (`VOXGATE_SIP_RTP_PORTS`).
    pub rtp_ports: (u16, u16),
}

/// A free TCP port on 127.0.0.1.
fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Starts voxgate in `dir` with a config written for `spec` and waits until it is ready.
///
/// # Errors
///
/// When it does not start or never becomes ready (its log is in `dir/server.log`).
pub async fn spawn_voxgate(spec: &VoxgateSpec, dir: &Path) -> anyhow::Result<Spawned> {
    let port = free_port()?;
    let token = format!("bench{:x}", std::process::id() ^ u32::from(port) << 8);
    let events = dir.join("events.jsonl");
    let _ = std::fs::remove_file(&events);
    let (ears, mouth) = match spec.providers {
        Providers::Fixed => (
            "engine = \"fixed\"\ntext = \"what are your opening hours\"",
            "engine = \"tone\"\ntone_ms = 1500",
        ),
        Providers::Local => ("engine = \"whisper\"", "engine = \"espeak\""),
    };
    let models = std::path::absolute(&spec.models)?;
    let config = format!(
        "data_dir = {data:?}\nmodels_dir = {models:?}\n[http]\nlisten = \"127.0.0.1:{port}\"\n\
         [bridge]\ntoken = \"{token}\"\n[pipeline]\nslots = {slots}\n[events]\nlog = {events:?}\n\
         [agent]\nlisten_format = \"{format}\"\nsend_format = \"{format}\"\n\
         [agent.ears]\n{ears}\n[agent.mouth]\n{mouth}\n",
        data = dir.join("data"),
        slots = spec.slots,
        format = spec.format,
    );
    let config_path = dir.join("voxgate.toml");
    std::fs::write(&config_path, config)?;
    let mut command = Command::new(&spec.binary);
    command
        .arg("--config")
        .arg(&config_path)
        .arg("serve")
        .env("RUST_LOG", "warn")
        .env(
            "ORT_DYLIB_PATH",
            models.join("onnxruntime/libonnxruntime.so.1.22.1"),
        )
        .env("VOXGATE_EMAIL_SMTP_LISTEN", "127.0.0.1:0");
    match spec.sip {
        Some(sip) => command
            .env("VOXGATE_SIP_LISTEN", sip.listen.to_string())
            .env(
                "VOXGATE_SIP_RTP_PORTS",
                format!("{}-{}", sip.rtp_ports.0, sip.rtp_ports.1),
            ),
        None => command.env("VOXGATE_SIP_LISTEN", "127.0.0.1:0"),
    };
    let ws_path = format!("/api/webhooks/46elks/voice/ws?token={token}");
    launch(command, dir, port, &ws_path, "/readyz", events).await
}

/// How to start the Pipecat bot.
#[derive(Debug, Clone)]
pub struct PipecatSpec {
    /// The venv's python.
    pub python: PathBuf,
    /// `benches/pipecat/bot.py`.
    pub bot: PathBuf,
    /// uvicorn worker processes (one per core: Pipecat's way past the GIL).
    pub workers: usize,
}

/// Starts the Pipecat bot and waits until it is ready.
///
/// # Errors
///
/// When it does not start or never becomes ready (its log is in `dir/server.log`).
pub async fn spawn_pipecat(spec: &PipecatSpec, dir: &Path) -> anyhow::Result<Spawned> {
    let port = free_port()?;
    let events = dir.join("events.jsonl");
    let _ = std::fs::remove_file(&events);
    let mut command = Command::new(&spec.python);
    command
        .arg(&spec.bot)
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--workers",
            &spec.workers.max(1).to_string(),
            "--loop",
            "uvloop",
            "--events-log",
        ])
        .arg(&events);
    launch(command, dir, port, "/ws", "/healthz", events).await
}

/// Starts `command` (listening on `port`) with its output in `dir/server.log`, and waits
/// until `ready_path` answers.
async fn launch(
    mut command: Command,
    dir: &Path,
    port: u16,
    ws_path: &str,
    ready_path: &str,
    events: PathBuf,
) -> anyhow::Result<Spawned> {
    let log = std::fs::File::create(dir.join("server.log"))?;
    let program = command.as_std().get_program().to_owned();
    let child = command
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", program.display()))?;
    let spawned = Spawned {
        pid: child.id().context("the server exited at once")?,
        child,
        ws_url: format!("ws://127.0.0.1:{port}{ws_path}"),
        events,
    };
    wait_ready(&format!("http://127.0.0.1:{port}{ready_path}"), dir).await?;
    Ok(spawned)
}

/// Polls `url` until it answers 200, for up to two minutes (model loads).
async fn wait_ready(url: &str, dir: &Path) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let start = Instant::now();
    loop {
        if let Ok(r) = client.get(url).send().await
            && r.status().is_success()
        {
            return Ok(());
        }
        anyhow::ensure!(
            start.elapsed() < Duration::from_secs(120),
            "{url} not ready after 2 minutes; see {}",
            dir.join("server.log").display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Per-turn figures the server logged.
#[derive(Debug, Clone, Default)]
pub struct TurnFigures {
    /// End-of-turn decision to first reply frame handed to the transport.
    pub server_added: Vec<Duration>,
    /// voxgate's stages, each from the end of the caller's speech.
    pub stages: Vec<(&'static str, Vec<Duration>)>,
}

/// Reads an events log: voxgate's `turn_completed` events (with `metrics`) or the Pipecat
/// bot's (with `server_added_us`).
///
/// # Errors
///
/// When the file cannot be read.
pub fn read_events(path: &Path) -> anyhow::Result<TurnFigures> {
    const STAGES: [&str; 5] = [
        "end_of_turn",
        "stt_final",
        "first_token",
        "first_audio",
        "first_frame_sent",
    ];
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut figures = TurnFigures {
        stages: STAGES.iter().map(|s| (*s, Vec::new())).collect(),
        ..TurnFigures::default()
    };
    for line in text.lines() {
        let Ok(event) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if event.get("type").and_then(|t| t.as_str()) != Some("turn_completed") {
            continue;
        }
        if let Some(us) = event
            .get("server_added_us")
            .and_then(serde_json::Value::as_u64)
        {
            figures.server_added.push(Duration::from_micros(us));
        }
        let Some(metrics) = event.get("metrics") else {
            continue;
        };
        if let Some(d) = duration(metrics.get("server_added")) {
            figures.server_added.push(d);
        }
        for (name, values) in &mut figures.stages {
            if let Some(d) = duration(metrics.get(*name)) {
                values.push(d);
            }
        }
    }
    Ok(figures)
}

/// A serde `Duration` (`{"secs":..,"nanos":..}`).
fn duration(v: Option<&serde_json::Value>) -> Option<Duration> {
    let v = v?;
    let secs = v.get("secs")?.as_u64()?;
    let nanos = u32::try_from(v.get("nanos")?.as_u64()?).ok()?;
    Some(Duration::new(secs, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_event_logs_are_read() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("events.jsonl");
        let lines = [
            r#"{"type":"started","call_id":"a"}"#,
            r#"{"type":"turn_completed","call_id":"a","metrics":{"end_of_turn":{"secs":0,"nanos":320000000},"stt_final":null,"server_added":{"secs":0,"nanos":250000}}}"#,
            r#"{"type":"turn_completed","call_id":"b","server_added_us":4100}"#,
            r#"{"type":"refused","call_id":"c"}"#,
            "not json",
        ];
        std::fs::write(&path, lines.join("\n")).expect("write");
        let f = read_events(&path).expect("reads");
        assert_eq!(
            f.server_added,
            [Duration::from_micros(250), Duration::from_micros(4100)]
        );
        assert_eq!(
            f.stages[0],
            ("end_of_turn", vec![Duration::from_millis(320)])
        );
        assert!(f.stages[1].1.is_empty());
    }
}
