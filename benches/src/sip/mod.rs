//! `voxgate-bench sip`: the SIP leg under load, measured the way a SIP carrier sees it.
//!
//! One level places N concurrent calls on voxgate's SIP leg with the fixed providers (no
//! speech engines: what voxgate itself costs per call, VAD and turn logic included) and
//! measures:
//!
//! - **call setup**: INVITE sent to 200 OK received, per call, at SIPp ([`sipp`]);
//! - **server CPU** over the steady state (all calls up) and **RSS per call** (peak minus
//!   idle, divided by the calls), from `/proc` ([`crate::procstat`]); calls per core =
//!   calls / (CPU as a fraction of one core);
//! - **clean audio**: voxgate's RTP as each caller receives it: loss, skipped 20 ms slots,
//!   lateness against the 20 ms grid, gaps, RFC 3550 jitter, holes in the agent's replies
//!   ([`meter`]);
//! - **turns** and server-added latency from voxgate's events log, so that a level where
//!   the callers' speech went unheard cannot pass as clean.
//!
//! Who does what: SIPp ([`sipp`], scenario `benches/sipp/uac_g711.xml`) signals (INVITE
//! with a PCMA offer, ACK, hold, BYE); the harness carries each call's media ([`peer`]): the
//! SDP offer names a harness port, and the harness sends the caller's speech from it and
//! measures what voxgate sends back. SIPp's `play_pcap_audio` cannot be the caller here:
//! voxgate latches onto the address the caller's RTP comes from (symmetric RTP), so only
//! the sender of the caller's audio ever hears voxgate's, and SIPp does not measure what it
//! receives. The speech is SIPp's own `g711a.pcap`, re-framed to 20 ms ([`pcap`]).

pub mod meter;
pub mod pcap;
pub mod peer;
pub mod report;
pub mod sipp;

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::sync::{oneshot, watch};

use crate::procstat::{self, Sample};
use crate::report::Machine;
use crate::server::{self, Providers, SipListen, VoxgateSpec};
use crate::stats::Percentiles;
use peer::{MediaEnd, MediaPeer, PeerOutcome, Speech};
use report::{MediaSummary, SipSummary};
use sipp::{CallTrace, SippSpec};

/// The loopback address everything runs on.
const LOCALHOST: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
/// voxgate's RTP ports start here (away from its default 20000-29999, which tests running
/// on the same machine may use); the callers' ports follow.
const RTP_BASE: u16 = 34_000;
/// Spare RTP pairs beyond one per call (ports other processes hold are skipped).
const SPARE_PAIRS: u16 = 200;
/// The steady window starts this long after the last call was placed.
const SETTLE: Duration = Duration::from_secs(2);
/// After SIPp exits, how long the calls' media has to wind down.
const WIND_DOWN: Duration = Duration::from_secs(3);

/// One level's settings.
#[derive(Debug, Clone)]
pub struct SipConfig {
    /// Concurrent calls.
    pub calls: usize,
    /// How long each call stays up after its ACK.
    pub duration: Duration,
    /// New calls per second.
    pub rate: u32,
    /// The `voxgate` binary.
    pub voxgate_binary: PathBuf,
    /// `models_dir` (Silero).
    pub models: PathBuf,
    /// The `sipp` binary.
    pub sipp: PathBuf,
    /// The SIPp scenario.
    pub scenario: PathBuf,
    /// What the callers say.
    pub speech: Speech,
    /// `speech` in words, for the report.
    pub speech_name: String,
    /// A packet later than this against its grid makes the level not clean.
    pub late_limit: Duration,
    /// Where each level keeps its files (`sip-N/`).
    pub work_dir: PathBuf,
}

impl SipConfig {
    /// How long placing every call takes.
    pub fn ramp(&self) -> Duration {
        Duration::from_secs_f64(self.calls as f64 / f64::from(self.rate.max(1)))
    }

    /// Refuses settings under which the calls are never all up together.
    ///
    /// # Errors
    ///
    /// When placing the calls takes longer than the call duration less 5 s.
    pub fn check(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.duration >= self.ramp() + Duration::from_secs(5),
            "{} calls at {} calls/s take {:.1} s to place: --duration must be at least 5 s \
             longer, so that all calls are up together",
            self.calls,
            self.rate,
            self.ramp().as_secs_f64()
        );
        Ok(())
    }

    /// The window in which every call is up, from SIPp's start.
    fn steady(&self, start: Instant) -> (Instant, Instant) {
        (start + self.ramp() + SETTLE, start + self.duration)
    }
}

/// The callers' speech: the RTP payload of `capture` (PCMA) cut to whole 20 ms frames,
/// then `pause` of silence, looped by each caller from a different point.
///
/// # Errors
///
/// When the capture cannot be read or is not PCMA.
pub fn speech(capture: &Path, pause: Duration) -> anyhow::Result<(Speech, String)> {
    let file = std::fs::read(capture).with_context(|| format!("reading {}", capture.display()))?;
    let audio = pcap::read(&file).with_context(|| capture.display().to_string())?;
    anyhow::ensure!(
        audio.payload_type == 8,
        "{}: payload type {}, the scenario offers PCMA (8)",
        capture.display(),
        audio.payload_type
    );
    let mut bytes = audio.bytes;
    bytes.truncate(bytes.len() - bytes.len() % 160);
    let speech_s = bytes.len() as f64 / 8000.0;
    let silence = (pause.as_millis() as usize / 20) * 160;
    bytes.resize(
        bytes.len() + silence,
        voxgate_media::g711::Law::Alaw.silence(),
    );
    let name = format!(
        "{}: {speech_s:.1} s of A-law speech re-framed to 20 ms, then {:.1} s of silence, looped \
         (each caller from a different point)",
        capture
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        pause.as_secs_f64()
    );
    Ok((
        Speech {
            payload_type: 8,
            bytes: bytes.into(),
        },
        name,
    ))
}

/// Runs one level: starts voxgate, places the calls with SIPp, measures them.
///
/// # Errors
///
/// When voxgate or SIPp cannot be started; failed calls are counted instead.
pub async fn run(config: &SipConfig) -> anyhow::Result<SipSummary> {
    let dir = config.work_dir.join(format!("sip-{}", config.calls));
    std::fs::create_dir_all(&dir)?;
    let pairs = u16::try_from(config.calls)
        .ok()
        .and_then(|c| c.checked_add(SPARE_PAIRS))
        .filter(|p| u32::from(RTP_BASE) + 4 * u32::from(*p) < 65_000)
        .context("too many calls for the port ranges")?;
    let rtp_ports = (RTP_BASE, RTP_BASE + 2 * pairs - 1);
    let spec = VoxgateSpec {
        binary: config.voxgate_binary.clone(),
        models: config.models.clone(),
        providers: Providers::Fixed,
        slots: config.calls + 8,
        format: "ulaw".to_owned(),
        sip: Some(SipListen {
            listen: SocketAddr::new(LOCALHOST, free_udp_port()?),
            rtp_ports,
        }),
    };
    let server = server::spawn_voxgate(&spec, &dir).await?;
    let mut next_port = rtp_ports.1 + 1;
    let mut peers = Vec::with_capacity(config.calls);
    for _ in 0..config.calls {
        peers.push(MediaPeer::bind(LOCALHOST, &mut next_port).await?);
    }
    let media_ports = peers
        .iter()
        .map(MediaPeer::port)
        .collect::<anyhow::Result<Vec<_>>>()?;
    let idle = procstat::sample(server.pid)?;

    let start = Instant::now();
    let limit = start + config.ramp() + config.duration + Duration::from_secs(60);
    let (deadline, deadline_rx) = watch::channel(limit);
    let calls: Vec<_> = peers
        .into_iter()
        .enumerate()
        .map(|(i, p)| tokio::spawn(p.run(config.speech.clone(), i, deadline_rx.clone())))
        .collect();
    let sipp_spec = SippSpec {
        binary: config.sipp.clone(),
        scenario: std::path::absolute(&config.scenario)?,
        server: spec.sip.map(|s| s.listen).context("SIP address")?,
        local_ports: (free_udp_port()?, free_udp_port()?),
        calls: config.calls,
        rate: config.rate,
        hold: config.duration,
        media_ports,
    };
    let mut sipp = sipp::spawn(&sipp_spec, &dir)?;
    let pids = [Some(server.pid), sipp.id(), Some(std::process::id())];
    let (stop, stopped) = oneshot::channel();
    let sampler = tokio::spawn(sample_until(pids, stopped));
    let sipp_exit = match tokio::time::timeout_at(limit.into(), sipp.wait()).await {
        Ok(status) => status?.code(),
        Err(_) => {
            let _ = sipp.start_kill();
            None
        }
    };
    let _ = deadline.send(Instant::now() + WIND_DOWN);
    let mut outcomes = Vec::with_capacity(calls.len());
    for call in calls {
        outcomes.push(call.await.context("a call's media task")?);
    }
    let _ = stop.send(());
    let samples = sampler.await.unwrap_or_default();
    drop(server);

    let trace = std::fs::read_to_string(dir.join("messages.log")).unwrap_or_default();
    let traces = sipp::read_trace(&trace);
    let events = dir.join("events.jsonl");
    let measured = Measured {
        traces: &traces,
        outcomes: &outcomes,
        turns: turns_per_call(&events),
        server_added: server::read_events(&events)?.server_added,
        idle,
        samples: &samples,
        start,
        steady: config.steady(start),
        sipp_exit,
    };
    Ok(summarize(config, &measured))
}

/// A free UDP port on 127.0.0.1.
fn free_udp_port() -> anyhow::Result<u16> {
    Ok(std::net::UdpSocket::bind((LOCALHOST, 0))?
        .local_addr()?
        .port())
}

/// Samples each of `pids` (voxgate, SIPp, the harness) every 250 ms until `stop`.
async fn sample_until(pids: [Option<u32>; 3], mut stop: oneshot::Receiver<()>) -> [Vec<Sample>; 3] {
    let mut samples: [Vec<Sample>; 3] = Default::default();
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    loop {
        tokio::select! {
            _ = &mut stop => return samples,
            _ = tick.tick() => {
                for (pid, out) in pids.iter().zip(&mut samples) {
                    if let Some(s) = pid.and_then(|p| procstat::sample(p).ok()) {
                        out.push(s);
                    }
                }
            }
        }
    }
}

/// Completed turns per call, from voxgate's events log.
fn turns_per_call(events: &Path) -> HashMap<String, usize> {
    let text = std::fs::read_to_string(events).unwrap_or_default();
    let mut turns = HashMap::new();
    for line in text.lines() {
        let Ok(event) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if event.get("type").and_then(|t| t.as_str()) == Some("turn_completed")
            && let Some(id) = event.get("call_id").and_then(|c| c.as_str())
        {
            *turns.entry(id.to_owned()).or_insert(0) += 1;
        }
    }
    turns
}

/// What a level gathered, for [`summarize`].
struct Measured<'a> {
    traces: &'a [CallTrace],
    outcomes: &'a [PeerOutcome],
    turns: HashMap<String, usize>,
    server_added: Vec<Duration>,
    idle: Sample,
    samples: &'a [Vec<Sample>; 3],
    start: Instant,
    steady: (Instant, Instant),
    sipp_exit: Option<i32>,
}

fn summarize(config: &SipConfig, m: &Measured<'_>) -> SipSummary {
    let setups: Vec<Duration> = m.traces.iter().filter_map(CallTrace::setup).collect();
    let mut refused = BTreeMap::new();
    for t in m.traces {
        if let Some((status, _)) = t.answer.filter(|(s, _)| *s >= 300) {
            *refused.entry(status).or_insert(0) += 1;
        }
    }
    let answered = setups.len();
    let mean = setups.iter().map(Duration::as_secs_f64).sum::<f64>() / answered.max(1) as f64;
    let [voxgate, sipp, harness] = m.samples;
    let mut summary = SipSummary {
        server: "voxgate".to_owned(),
        leg: "SIP over UDP (SIPp), RTP G.711 A-law (PCMA) in 20 ms packets both ways".to_owned(),
        providers: Providers::Fixed.describe().to_owned(),
        caller: config.speech_name.clone(),
        calls: config.calls,
        duration_s: config.duration.as_secs_f64(),
        rate_cps: config.rate,
        answered,
        refused,
        unanswered: m.traces.iter().filter(|t| t.answer.is_none()).count()
            + config.calls.saturating_sub(m.traces.len()),
        completed: m
            .traces
            .iter()
            .filter(|t| t.setup().is_some() && t.bye_answered)
            .count(),
        sipp_exit: m.sipp_exit,
        setup_ms: Percentiles::of(&setups),
        setup_mean_ms: mean * 1e3,
        media: media(m.outcomes, config.late_limit, m.start),
        turns: m.turns.values().sum(),
        calls_with_turns: m.turns.values().filter(|n| **n > 0).count(),
        server_added_ms: Percentiles::of(&m.server_added),
        resources: crate::run::resources(config.calls, Some(m.idle), voxgate, m.steady),
        sipp_cpu_percent: window_cpu(sipp, m.steady),
        harness_cpu_percent: window_cpu(harness, m.steady),
        criterion: SipSummary::criterion_text(config.late_limit.as_secs_f64() * 1e3),
        machine: Machine::read(),
        setup_ms_values: setups.iter().map(|d| d.as_secs_f64() * 1e3).collect(),
        ..SipSummary::default()
    };
    summary.judge();
    summary
}

/// The calls' streams put together (`start`: SIPp's start).
fn media(outcomes: &[PeerOutcome], late_limit: Duration, start: Instant) -> MediaSummary {
    let sum = |f: fn(&PeerOutcome) -> u64| outcomes.iter().map(f).sum::<u64>();
    let lateness: Vec<Duration> = outcomes
        .iter()
        .flat_map(|o| o.stream.lateness.iter().copied())
        .collect();
    let jitter: Vec<Duration> = outcomes
        .iter()
        .filter(|o| o.stream.packets > 0)
        .map(|o| Duration::from_secs_f64(o.stream.jitter_mean_ms / 1e3))
        .collect();
    MediaSummary {
        calls_with_media: outcomes
            .iter()
            .filter(|o| o.end != MediaEnd::NoMedia)
            .count(),
        ended_by_bye: outcomes.iter().filter(|o| o.end == MediaEnd::Bye).count(),
        packets_sent: sum(|o| o.sent),
        packets_received: sum(|o| o.stream.packets),
        lost: sum(|o| o.stream.lost),
        reordered: sum(|o| o.stream.reordered),
        skipped_slots: sum(|o| o.stream.skipped_slots),
        gaps_over_40ms: sum(|o| o.stream.gaps),
        gaps_per_second: outcomes.iter().flat_map(|o| &o.stream.gap_times).fold(
            BTreeMap::new(),
            |mut seconds, at| {
                *seconds
                    .entry(at.saturating_duration_since(start).as_secs())
                    .or_insert(0) += 1;
                seconds
            },
        ),
        late_over_limit: lateness.iter().filter(|l| **l > late_limit).count() as u64,
        late_limit_ms: late_limit.as_secs_f64() * 1e3,
        lateness_ms: Percentiles::of(&lateness),
        jitter_mean_ms: Percentiles::of(&jitter),
        jitter_max_ms: outcomes
            .iter()
            .map(|o| o.stream.jitter_max_ms)
            .fold(0.0, f64::max),
        agent_audio_s: sum(|o| o.stream.agent_frames) as f64 * 0.02,
        agent_holes: sum(|o| o.stream.agent_holes),
    }
}

/// CPU of one process over the window, % of one core (0 without two samples in it).
fn window_cpu(samples: &[Sample], (from, to): (Instant, Instant)) -> f64 {
    let window: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.at >= from && s.at <= to)
        .collect();
    match (window.first(), window.last()) {
        (Some(a), Some(b)) if window.len() >= 2 => procstat::cpu_percent(a, b),
        _ => 0.0,
    }
}
