//! Orchestration: one run (start the server, place the calls, sample the process, gather
//! the figures), a sweep of runs at rising load, and the side-by-side with Pipecat.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use voxgate_bridge::Format;

use crate::call::{CallOutcome, Script, WireClip};
use crate::clips::Clip;
use crate::elks::{Connect, ElksLeg};
use crate::procstat::{self, Sample};
use crate::report::{Machine, Playout, Resources, Summary, Sweep};
use crate::server::{self, PipecatSpec, Providers, Spawned, VoxgateSpec};
use crate::stats::Percentiles;
use crate::twilio::TwilioLeg;

/// Which server answers the calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ServerKind {
    /// voxgate over the 46elks Realtime protocol.
    Voxgate,
    /// The Pipecat bot (`benches/pipecat/bot.py`) over Twilio Media Streams.
    Pipecat,
}

impl ServerKind {
    /// What the reports call it: `voxgate` or `pipecat`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Voxgate => "voxgate",
            Self::Pipecat => "pipecat",
        }
    }
}

/// One run's settings.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Who answers.
    pub server: ServerKind,
    /// Concurrent calls.
    pub calls: usize,
    /// How long each call talks.
    pub duration: Duration,
    /// voxgate's engines (Pipecat always runs the fixed equivalents).
    pub providers: Providers,
    /// voxgate's wire format (Pipecat's Twilio leg is always μ-law).
    pub format: Format,
    /// Every n-th turn barges in; 0 for never.
    pub barge_in_every: usize,
    /// Calls start spread over this long.
    pub ramp: Duration,
    /// An already-running voxgate: its 46elks WebSocket URL (with token) and, optionally,
    /// its process id and events log.
    pub target: Option<Target>,
    /// How to start voxgate.
    pub voxgate_binary: PathBuf,
    /// `models_dir` for a started voxgate.
    pub models: PathBuf,
    /// How to start the Pipecat bot.
    pub pipecat: PipecatSpec,
    /// Where the started server keeps its files.
    pub work_dir: PathBuf,
}

/// A server the harness did not start.
#[derive(Debug, Clone)]
pub struct Target {
    /// The WebSocket URL calls go to.
    pub ws_url: String,
    /// Its process id, for CPU and memory.
    pub pid: Option<u32>,
    /// Its events log, for server-added latency.
    pub events: Option<PathBuf>,
}

/// Places `config.calls` calls and measures them.
///
/// # Errors
///
/// When the server cannot be started; individual call failures are counted instead.
pub async fn run(config: &RunConfig, clips: &[Clip]) -> anyhow::Result<Summary> {
    std::fs::create_dir_all(&config.work_dir)?;
    let spawned = start(config).await?;
    let (ws_url, pid, events) = match (&spawned, &config.target) {
        (Some(s), _) => (s.ws_url.clone(), Some(s.pid), Some(s.events.clone())),
        (None, Some(t)) => (t.ws_url.clone(), t.pid, t.events.clone()),
        (None, None) => anyhow::bail!("no server to call"),
    };
    let format = match config.server {
        ServerKind::Voxgate => config.format,
        ServerKind::Pipecat => Format::Ulaw,
    };
    let wire = Arc::new(encode(clips, format)?);
    let idle = pid.map(procstat::sample).transpose()?;

    let start = Instant::now();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let sampler = pid.map(|pid| tokio::spawn(sample_until(pid, stopped)));
    let mut calls = Vec::with_capacity(config.calls);
    for i in 0..config.calls {
        let offset = config.ramp.mul_f64(i as f64 / config.calls.max(1) as f64);
        let script = Script {
            duration: config.duration,
            barge_in_every: config.barge_in_every,
            pause: Duration::from_millis(300 + (i as u64 * 37) % 400),
            patience: Duration::from_secs(15),
        };
        let (url, wire, kind) = (ws_url.clone(), Arc::clone(&wire), config.server);
        calls.push(tokio::spawn(async move {
            tokio::time::sleep_until((start + offset).into()).await;
            one_call(kind, &url, i, &wire, script).await
        }));
    }
    let mut outcomes = Vec::with_capacity(calls.len());
    for call in calls {
        outcomes.push(call.await.unwrap_or_else(|e| CallOutcome {
            failed: Some(format!("call task: {e}")),
            ..CallOutcome::default()
        }));
    }
    let _ = stop.send(());
    let samples = match sampler {
        Some(task) => task.await.unwrap_or_default(),
        None => Vec::new(),
    };
    drop(spawned);
    let figures = match events {
        Some(path) => server::read_events(&path)?,
        None => server::TurnFigures::default(),
    };
    let steady = (
        start + config.ramp + Duration::from_secs(3),
        start + config.duration,
    );
    Ok(summarize(
        config, format, &outcomes, &figures, idle, &samples, steady,
    ))
}

async fn start(config: &RunConfig) -> anyhow::Result<Option<Spawned>> {
    if config.target.is_some() {
        return Ok(None);
    }
    let dir = config
        .work_dir
        .join(format!("{}-{}", config.server.name(), config.calls));
    std::fs::create_dir_all(&dir)?;
    let spawned = match config.server {
        ServerKind::Voxgate => {
            let spec = VoxgateSpec {
                binary: config.voxgate_binary.clone(),
                models: config.models.clone(),
                providers: config.providers,
                slots: config.calls + 8,
                format: config.format.to_string(),
                sip: None,
            };
            server::spawn_voxgate(&spec, &dir).await?
        }
        ServerKind::Pipecat => server::spawn_pipecat(&config.pipecat, &dir).await?,
    };
    Ok(Some(spawned))
}

/// The clips in the wire `format`.
fn encode(clips: &[Clip], format: Format) -> anyhow::Result<Vec<WireClip>> {
    clips
        .iter()
        .map(|c| {
            let samples = voxgate_bridge::caller::convert(&c.samples, c.rate, format.rate())?;
            let mut bytes = vec![0u8; samples.len() * format.bytes_per_sample()];
            format.encode(&samples, &mut bytes)?;
            Ok(WireClip {
                name: c.name.clone(),
                bytes,
                onset: c.onset,
                end: c.end,
            })
        })
        .collect()
}

async fn one_call(
    kind: ServerKind,
    url: &str,
    i: usize,
    clips: &[WireClip],
    script: Script,
) -> CallOutcome {
    let callid = format!("bench{i:05}");
    let failed = |e: anyhow::Error| CallOutcome {
        failed: Some(format!("{callid}: {e:#}")),
        ..CallOutcome::default()
    };
    match kind {
        ServerKind::Voxgate => match ElksLeg::connect(url, &callid).await {
            Ok(Connect::Answered(leg)) => {
                named(&callid, crate::call::run(*leg, clips, script, i).await)
            }
            Ok(Connect::Refused) => CallOutcome {
                refused: true,
                ..CallOutcome::default()
            },
            Err(e) => failed(e),
        },
        ServerKind::Pipecat => match TwilioLeg::connect(url, &callid).await {
            Ok(leg) => named(&callid, crate::call::run(leg, clips, script, i).await),
            Err(e) => failed(e),
        },
    }
}

/// Prefixes a failure with the call id.
fn named(callid: &str, mut outcome: CallOutcome) -> CallOutcome {
    if let Some(f) = outcome.failed.take() {
        outcome.failed = Some(format!("{callid}: {f}"));
    }
    outcome
}

/// Samples `pid` every 250 ms until `stop` fires or the process is gone.
async fn sample_until(pid: u32, mut stop: tokio::sync::oneshot::Receiver<()>) -> Vec<Sample> {
    let mut samples = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    loop {
        tokio::select! {
            _ = &mut stop => return samples,
            _ = tick.tick() => match procstat::sample(pid) {
                Ok(s) => samples.push(s),
                Err(_) => return samples,
            },
        }
    }
}

/// Puts a run's figures together.
fn summarize(
    config: &RunConfig,
    format: Format,
    outcomes: &[CallOutcome],
    figures: &server::TurnFigures,
    idle: Option<Sample>,
    samples: &[Sample],
    steady: (Instant, Instant),
) -> Summary {
    let all = |f: fn(&CallOutcome) -> &Vec<Duration>| -> Vec<Duration> {
        outcomes.iter().flat_map(|o| f(o).iter().copied()).collect()
    };
    let v2v = all(|o| &o.voice_to_voice);
    let barge = all(|o| &o.barge_in);
    let mut latency = std::collections::BTreeMap::new();
    latency.insert("voice_to_voice".to_owned(), Percentiles::of(&v2v));
    latency.insert("barge_in_reaction".to_owned(), Percentiles::of(&barge));
    latency.insert(
        "server_added".to_owned(),
        Percentiles::of(&figures.server_added),
    );
    for (name, values) in &figures.stages {
        if !values.is_empty() {
            latency.insert(format!("stage_{name}"), Percentiles::of(values));
        }
    }
    let sum = |f: fn(&CallOutcome) -> usize| outcomes.iter().map(f).sum::<usize>();
    let failures: Vec<String> = outcomes
        .iter()
        .filter_map(|o| o.failed.clone())
        .take(5)
        .collect();
    let calls_failed = outcomes.iter().filter(|o| o.failed.is_some()).count();
    let calls_refused = outcomes.iter().filter(|o| o.refused).count();
    let playout = Playout {
        agent_audio_s: outcomes.iter().map(|o| o.agent_audio.as_secs_f64()).sum(),
        underruns: sum(|o| o.underruns),
        underrun_ms: outcomes
            .iter()
            .map(|o| o.underrun_time.as_secs_f64() * 1e3)
            .sum(),
        late_frames: sum(|o| o.late_frames),
    };
    let ms = |v: &[Duration]| v.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    Summary {
        server: config.server.name().to_owned(),
        providers: match config.server {
            ServerKind::Voxgate => config.providers.describe().to_owned(),
            ServerKind::Pipecat => "fixed: the same zero-time ears, scripted reply and instant \
                                   1.5 s tone mouth, as Pipecat processors"
                .to_owned(),
        },
        format: format.to_string(),
        calls: config.calls,
        duration_s: config.duration.as_secs_f64(),
        calls_completed: outcomes
            .iter()
            .filter(|o| !o.refused && o.failed.is_none())
            .count(),
        calls_refused,
        calls_failed,
        failures,
        turns: v2v.len(),
        unanswered: sum(|o| o.unanswered),
        early_replies: sum(|o| o.early_replies),
        barge_ins: barge.len(),
        barge_ins_missed: sum(|o| o.barge_in_missed),
        latency_ms: latency,
        playout,
        resources: resources(config.calls, idle, samples, steady),
        violations: sum(|o| o.violations),
        machine: Machine::read(),
        voice_to_voice_ms: ms(&v2v),
        server_added_ms: ms(&figures.server_added),
    }
}

/// CPU over the steady window, memory at its peak.
pub(crate) fn resources(
    calls: usize,
    idle: Option<Sample>,
    samples: &[Sample],
    (from, to): (Instant, Instant),
) -> Resources {
    let window: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.at >= from && s.at <= to)
        .collect();
    let (first, last) = match (window.first(), window.last()) {
        (Some(a), Some(b)) if window.len() >= 2 => (*a, *b),
        _ => match (samples.first(), samples.last()) {
            (Some(a), Some(b)) => (a, b),
            _ => return Resources::default(),
        },
    };
    let cpu = procstat::cpu_percent(first, last);
    let machine = procstat::machine_percent(first, last);
    let mb = |b: u64| b as f64 / 1024.0 / 1024.0;
    let peak = samples.iter().map(|s| s.rss).max().unwrap_or(0);
    let idle_rss = idle.map_or(0, |s| s.rss);
    let calls_f = calls.max(1) as f64;
    Resources {
        cpu_percent: cpu,
        cpu_percent_per_call: cpu / calls_f,
        machine_cpu_percent: machine,
        rss_mb_idle: mb(idle_rss),
        rss_mb_peak: mb(peak),
        rss_mb_per_call: mb(peak.saturating_sub(idle_rss)) / calls_f,
        calls_per_server_core: if cpu > 0.0 {
            calls_f / (cpu / 100.0)
        } else {
            0.0
        },
    }
}

/// How a sweep climbs and when it stops.
#[derive(Debug, Clone)]
pub struct SweepPlan {
    /// The first level (calls).
    pub start: usize,
    /// Each level has this many times the calls of the one before.
    pub factor: f64,
    /// The highest level tried.
    pub max: usize,
    /// A clean level's server-added p99 is at most this, ms.
    pub clean_p99_ms: f64,
    /// A usable level's server-added p99 is at most this, ms.
    pub usable_p99_ms: f64,
    /// A level counts only with at least this many turns: a p99 of fewer is just a maximum.
    /// Calls talk longer than the base duration at small levels to get them.
    pub min_turns: usize,
    /// The longest a level's calls may talk.
    pub max_duration: Duration,
    /// The server's CPU is saturated at this, % of one core (90 % of the cores it can use).
    pub server_saturated_percent: f64,
    /// The machine is saturated at this busy %, of all cores: the harness can no longer
    /// drive the load honestly.
    pub machine_saturated_percent: f64,
}

impl SweepPlan {
    /// How long the calls of a `calls` level talk: the base duration, or longer when
    /// `turn_rate` (turns per call-second, from the level before) would give fewer than
    /// `min_turns` turns, with a quarter to spare.
    pub fn duration(&self, base: Duration, calls: usize, turn_rate: f64) -> Duration {
        let rate = (calls.max(1) as f64 * turn_rate).max(1e-3);
        let needed = Duration::from_secs_f64((self.min_turns as f64 * 1.25 / rate).ceil());
        base.max(needed).min(self.max_duration.max(base))
    }

    /// Why the sweep stops after `level`, if it does: the server failed (a call refused
    /// or failed, or more than [`GLITCH_RATE`] of the turns unanswered or cut by an
    /// underrun), or its CPU or the machine's saturated.
    pub fn stop(&self, level: &Summary) -> Option<String> {
        if level.calls_refused + level.calls_failed > 0 || !glitches_within(level) {
            return Some(format!(
                "the server failed at {} calls: {} refused, {} failed, {} of {} turns unanswered, {} underruns (machine {:.0} % busy)",
                level.calls,
                level.calls_refused,
                level.calls_failed,
                level.unanswered,
                level.turns + level.unanswered,
                level.playout.underruns,
                level.resources.machine_cpu_percent
            ));
        }
        let r = &level.resources;
        if r.cpu_percent >= self.server_saturated_percent {
            return Some(format!(
                "the server's CPU saturated at {} calls ({:.0} % of a core)",
                level.calls, r.cpu_percent
            ));
        }
        if r.machine_cpu_percent >= self.machine_saturated_percent {
            return Some(format!(
                "the machine saturated at {} calls ({:.0} % busy, server and harness)",
                level.calls, r.machine_cpu_percent
            ));
        }
        None
    }

    /// A clean level: enough turns, nothing refused, failed or unanswered, no underruns, and
    /// a server-added p99 within `clean_p99_ms`.
    pub fn clean(&self, level: &Summary) -> bool {
        level.turns >= self.min_turns && level.clean(self.clean_p99_ms)
    }

    /// A usable level: enough turns, nothing refused or failed, at most [`GLITCH_RATE`] of
    /// the turns unanswered or cut by an underrun, and a server-added p99 within
    /// `usable_p99_ms`: what a caller would still call a working line.
    pub fn usable(&self, level: &Summary) -> bool {
        level.turns >= self.min_turns
            && level.calls_refused + level.calls_failed == 0
            && glitches_within(level)
            && level
                .latency_ms
                .get("server_added")
                .is_some_and(|p| p.n > 0 && p.p99 <= self.usable_p99_ms)
    }
}

/// The share of turns that may go unanswered, or may be cut by an underrun, at a usable
/// level (and before a sweep calls the server failed): one in a hundred.
pub const GLITCH_RATE: f64 = 0.01;

fn glitches_within(level: &Summary) -> bool {
    let turns = (level.turns + level.unanswered).max(1) as f64;
    level.unanswered as f64 <= GLITCH_RATE * turns
        && level.playout.underruns as f64 <= GLITCH_RATE * turns
}

/// Runs `base` at `plan.start` calls, then `plan.factor` times more each time, past the
/// first unclean level, until the server fails, its CPU or the machine's saturates, or
/// `plan.max` is passed. Reports the largest clean and the largest usable level.
///
/// # Errors
///
/// When a server cannot be started.
pub async fn sweep(
    base: &RunConfig,
    clips: &[Clip],
    plan: &SweepPlan,
    mut progress: impl FnMut(&Summary),
) -> anyhow::Result<Sweep> {
    let mut levels: Vec<Summary> = Vec::new();
    let mut calls = plan.start.max(1);
    // A turn per 3.3 s of a call (the script's pace) until a level has measured it.
    let mut turn_rate = 0.3;
    let mut stop = format!("the highest level tried ({} calls) was reached", plan.max);
    while calls <= plan.max {
        let config = RunConfig {
            calls,
            duration: plan.duration(base.duration, calls, turn_rate),
            ..base.clone()
        };
        let mut summary = run(&config, clips)
            .await
            .with_context(|| format!("{} calls", calls))?;
        progress(&summary);
        summary.voice_to_voice_ms.clear();
        summary.server_added_ms.clear();
        if summary.turns > 0 {
            turn_rate = summary.turns as f64 / (calls as f64 * summary.duration_s.max(1.0));
        }
        let reason = plan.stop(&summary);
        levels.push(summary);
        if let Some(reason) = reason {
            stop = reason;
            break;
        }
        calls = ((calls as f64 * plan.factor).ceil() as usize).max(calls + 1);
    }
    let largest = |ok: &dyn Fn(&Summary) -> bool| {
        levels
            .iter()
            .enumerate()
            .filter(|(_, l)| ok(l))
            .max_by_key(|(_, l)| l.calls)
            .map(|(i, _)| i)
    };
    let clean = largest(&|l| plan.clean(l));
    let usable = largest(&|l| plan.usable(l));
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let calls_at = |i: Option<usize>| i.map_or(0, |i| levels[i].calls);
    let per_core_at =
        |i: Option<usize>| i.map_or(0.0, |i| levels[i].resources.calls_per_server_core);
    Ok(Sweep {
        server: base.server.name().to_owned(),
        criterion: format!(
            "clean = at least {} turns, no refused, failed or unanswered call, zero underruns, \
             server-added p99 <= {} ms; usable = at least {} turns, no refused or failed call, \
             at most {} % of turns unanswered or cut by underruns, p99 <= {} ms",
            plan.min_turns,
            plan.clean_p99_ms,
            plan.min_turns,
            GLITCH_RATE * 100.0,
            plan.usable_p99_ms
        ),
        max_clean_calls: calls_at(clean),
        clean_calls_per_core: calls_at(clean) as f64 / cores as f64,
        calls_per_server_core: per_core_at(clean),
        usable_calls: calls_at(usable),
        usable_calls_per_server_core: per_core_at(usable),
        clean_level: clean,
        usable_level: usable,
        stop,
        levels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Resources;

    fn plan() -> SweepPlan {
        SweepPlan {
            start: 2,
            factor: 2.0,
            max: 100,
            clean_p99_ms: 5.0,
            usable_p99_ms: 50.0,
            min_turns: 200,
            max_duration: Duration::from_secs(600),
            server_saturated_percent: 180.0,
            machine_saturated_percent: 95.0,
        }
    }

    fn level(calls: usize, turns: usize, p99: f64, cpu: f64, machine: f64) -> Summary {
        let mut s = Summary {
            calls,
            turns,
            resources: Resources {
                cpu_percent: cpu,
                machine_cpu_percent: machine,
                ..Resources::default()
            },
            ..Summary::default()
        };
        s.latency_ms.insert(
            "server_added".into(),
            crate::stats::Percentiles {
                n: turns,
                p99,
                ..Default::default()
            },
        );
        s
    }

    #[test]
    fn small_levels_talk_longer_to_reach_the_turns_a_p99_needs() {
        let p = plan();
        let base = Duration::from_secs(30);
        // 2 calls at a turn per 4 s: 200 turns (and a quarter to spare) take 500 s.
        assert_eq!(p.duration(base, 2, 0.25), Duration::from_secs(500));
        // 100 calls get 200 turns in 10 s: the base duration stands.
        assert_eq!(p.duration(base, 100, 0.25), base);
        // Never past the cap, never under the base.
        assert_eq!(p.duration(base, 1, 0.001), Duration::from_secs(600));
        assert_eq!(
            p.duration(Duration::from_secs(900), 1, 0.001),
            Duration::from_secs(900)
        );
    }

    #[test]
    fn the_sweep_goes_on_past_an_unclean_level_until_the_server_fails_or_saturates() {
        let p = plan();
        // A slow p99 is not a reason to stop.
        assert_eq!(p.stop(&level(8, 300, 900.0, 50.0, 40.0)), None);
        let failed = Summary {
            calls_failed: 1,
            ..level(8, 300, 1.0, 50.0, 40.0)
        };
        assert!(
            p.stop(&failed)
                .is_some_and(|r| r.contains("failed at 8 calls"))
        );
        // One glitch in a hundred turns is not a failed server; more is.
        let mut dry = level(8, 300, 1.0, 50.0, 40.0);
        dry.playout.underruns = 3;
        dry.unanswered = 3;
        assert_eq!(p.stop(&dry), None);
        assert!(p.usable(&dry) && !p.clean(&dry));
        dry.playout.underruns = 4;
        assert!(p.stop(&dry).is_some_and(|r| r.contains("4 underruns")));
        assert!(!p.usable(&dry));
        assert!(
            p.stop(&level(8, 300, 1.0, 185.0, 96.0))
                .is_some_and(|r| r.contains("server's CPU saturated"))
        );
        assert!(
            p.stop(&level(8, 300, 1.0, 100.0, 97.0))
                .is_some_and(|r| r.contains("machine saturated"))
        );
    }

    #[test]
    fn a_level_counts_only_with_enough_turns() {
        let p = plan();
        assert!(p.clean(&level(8, 200, 4.0, 10.0, 10.0)));
        assert!(
            !p.clean(&level(8, 199, 4.0, 10.0, 10.0)),
            "a p99 of 199 is a maximum"
        );
        assert!(!p.usable(&level(8, 199, 4.0, 10.0, 10.0)));
        assert!(!p.clean(&level(8, 300, 6.0, 10.0, 10.0)));
        assert!(p.usable(&level(8, 300, 6.0, 10.0, 10.0)));
        assert!(!p.usable(&level(8, 300, 51.0, 10.0, 10.0)));
    }
}
