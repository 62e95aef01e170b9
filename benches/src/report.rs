//! The JSON summary of a run, a sweep and a comparison.

use std::collections::BTreeMap;

use crate::stats::Percentiles;

/// Everything one run measured.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    /// `voxgate` or `pipecat`.
    pub server: String,
    /// Provider mode, spelled out.
    pub providers: String,
    /// The leg's wire format.
    pub format: String,
    /// Concurrent calls placed.
    pub calls: usize,
    /// Seconds each call lasted.
    pub duration_s: f64,
    /// Calls that ran their script to the end.
    pub calls_completed: usize,
    /// Calls refused (no free slot).
    pub calls_refused: usize,
    /// Calls that failed (and why, first few).
    pub calls_failed: usize,
    /// The first failures' reasons.
    pub failures: Vec<String>,
    /// Turns answered.
    pub turns: usize,
    /// Turns that got no reply.
    pub unanswered: usize,
    /// Turns whose reply began before the caller had finished (the VAD ended the turn in
    /// a pause inside the utterance).
    pub early_replies: usize,
    /// Barge-ins answered by a flush / not.
    pub barge_ins: usize,
    /// Barge-ins that got no flush.
    pub barge_ins_missed: usize,
    /// Latencies in ms: `voice_to_voice` and `barge_in_reaction` at the edge,
    /// `server_added` (end-of-turn decision to first reply frame sent) from the server's
    /// own per-turn log, and voxgate's stages from the end of the caller's speech.
    pub latency_ms: BTreeMap<String, Percentiles>,
    /// Agent playout at the carrier.
    pub playout: Playout,
    /// The server process.
    pub resources: Resources,
    /// Protocol violations the carriers saw.
    pub violations: usize,
    /// Where it ran.
    pub machine: Machine,
    /// Raw voice-to-voice values in ms (for the CDF plot).
    pub voice_to_voice_ms: Vec<f64>,
    /// Raw server-added values in ms.
    pub server_added_ms: Vec<f64>,
}

impl Summary {
    /// A clean run: every call answered and completed, no underruns, no missed replies.
    pub fn clean(&self, max_server_added_p99_ms: f64) -> bool {
        self.calls_refused == 0
            && self.calls_failed == 0
            && self.unanswered == 0
            && self.playout.underruns == 0
            && self
                .latency_ms
                .get("server_added")
                .is_some_and(|p| p.n > 0 && p.p99 <= max_server_added_p99_ms)
    }
}

/// Agent audio as the carrier played it.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Playout {
    /// Seconds of agent audio received.
    pub agent_audio_s: f64,
    /// Times playout ran dry mid-reply.
    pub underruns: usize,
    /// Total dry time, ms.
    pub underrun_ms: f64,
    /// 20 ms frames that arrived after their playout time.
    pub late_frames: usize,
}

/// The server process's CPU and memory, in the steady part of the run.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Resources {
    /// CPU used, % of one core.
    pub cpu_percent: f64,
    /// CPU per call, % of one core.
    pub cpu_percent_per_call: f64,
    /// Resident memory before the calls, MB.
    pub rss_mb_idle: f64,
    /// Peak resident memory during the calls, MB.
    pub rss_mb_peak: f64,
    /// (peak - idle) / calls, MB.
    pub rss_mb_per_call: f64,
    /// Calls per core of server CPU at this load: calls / (cpu_percent / 100).
    pub calls_per_server_core: f64,
    /// The whole machine's busy CPU (server, harness and the rest), % of all its cores.
    #[serde(default)]
    pub machine_cpu_percent: f64,
}

/// The machine and build.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Machine {
    /// CPU model.
    pub cpu: String,
    /// Cores available.
    pub cores: usize,
    /// Total memory, GB.
    pub memory_gb: f64,
    /// Kernel release.
    pub kernel: String,
    /// voxgate version and git commit.
    pub build: String,
    /// The harness's own build profile.
    pub harness_profile: String,
}

impl Machine {
    /// Reads this machine.
    pub fn read() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map_or_else(String::new, |(_, v)| v.trim().to_owned());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_gb = meminfo
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0 / 1024.0);
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .unwrap_or_default()
            .trim()
            .to_owned();
        let commit = std::process::Command::new("git")
            .args(["rev-parse", "--short", "HEAD"])
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default();
        Self {
            cpu,
            cores: std::thread::available_parallelism().map_or(1, usize::from),
            memory_gb,
            kernel,
            build: format!("voxgate {} ({commit})", env!("CARGO_PKG_VERSION")),
            harness_profile: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            }
            .to_owned(),
        }
    }
}

/// A sweep: runs at rising numbers of calls.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Sweep {
    /// `voxgate` or `pipecat`.
    pub server: String,
    /// What counts as clean.
    pub criterion: String,
    /// Each level's summary (without raw values).
    pub levels: Vec<Summary>,
    /// The most calls that ran clean.
    pub max_clean_calls: usize,
    /// max_clean_calls / the machine's cores.
    pub clean_calls_per_core: f64,
    /// At the largest clean level: calls / server CPU cores used.
    pub calls_per_server_core: f64,
    /// The most calls that ran usable (clean but for a server-added p99 up to 50 ms).
    #[serde(default)]
    pub usable_calls: usize,
    /// At the largest usable level: calls / server CPU cores used.
    #[serde(default)]
    pub usable_calls_per_server_core: f64,
    /// Index in `levels` of the largest clean level.
    #[serde(default)]
    pub clean_level: Option<usize>,
    /// Index in `levels` of the largest usable level.
    #[serde(default)]
    pub usable_level: Option<usize>,
    /// Why the sweep stopped where it did.
    #[serde(default)]
    pub stop: String,
}

impl Sweep {
    /// The largest usable level's summary.
    pub fn usable(&self) -> Option<&Summary> {
        self.usable_level.and_then(|i| self.levels.get(i))
    }
}
