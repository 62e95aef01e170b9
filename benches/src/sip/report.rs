//! The JSON summary of one `voxgate-bench sip` level, and what makes a level clean.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::report::{Machine, Resources};
use crate::stats::Percentiles;
use crate::svg::{self, Chart};

/// Everything one level measured.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct SipSummary {
    /// The server under test.
    pub server: String,
    /// The leg: signalling, media, codec, packet time.
    pub leg: String,
    /// Provider mode, spelled out.
    pub providers: String,
    /// What each caller says.
    pub caller: String,
    /// Concurrent calls placed.
    pub calls: usize,
    /// Seconds each call stays up after its ACK.
    pub duration_s: f64,
    /// New calls per second while placing them.
    pub rate_cps: u32,
    /// Calls whose INVITE got a 2xx.
    pub answered: usize,
    /// Calls whose INVITE got a final non-2xx, by status.
    pub refused: BTreeMap<u16, usize>,
    /// Calls whose INVITE got no final response.
    pub unanswered: usize,
    /// Answered calls whose BYE got a 2xx.
    pub completed: usize,
    /// SIPp's exit status (0: every call succeeded).
    pub sipp_exit: Option<i32>,
    /// Call setup, ms: INVITE sent to 200 OK received, at SIPp.
    pub setup_ms: Percentiles,
    /// Its mean, ms.
    pub setup_mean_ms: f64,
    /// voxgate's RTP to the callers.
    pub media: MediaSummary,
    /// Turns voxgate completed (its events log).
    pub turns: usize,
    /// Calls with at least one completed turn: the caller's speech was heard and answered.
    pub calls_with_turns: usize,
    /// End-of-turn decision to first reply frame handed to the leg, ms (voxgate's events
    /// log, the same definition as the 46elks runs).
    pub server_added_ms: Percentiles,
    /// voxgate's CPU (steady state, all calls up) and memory.
    pub resources: Resources,
    /// SIPp's CPU over the same window, % of one core (it shares the machine).
    pub sipp_cpu_percent: f64,
    /// The harness's own CPU (the callers' RTP), % of one core.
    pub harness_cpu_percent: f64,
    /// Whether the level is clean (see `criterion`).
    pub clean: bool,
    /// Why not, when it is not.
    pub not_clean: Vec<String>,
    /// What counts as clean.
    pub criterion: String,
    /// Where it ran.
    pub machine: Machine,
    /// Raw setup times, ms (for the CDF plot).
    pub setup_ms_values: Vec<f64>,
}

/// voxgate's RTP streams as the callers received them (see `sip::meter`).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct MediaSummary {
    /// Calls on which voxgate's RTP arrived.
    pub calls_with_media: usize,
    /// Calls whose stream ended with voxgate's RTCP BYE.
    pub ended_by_bye: usize,
    /// Packets the callers sent.
    pub packets_sent: u64,
    /// Packets received from voxgate.
    pub packets_received: u64,
    /// Sequence numbers that never arrived.
    pub lost: u64,
    /// Packets that arrived after a later one.
    pub reordered: u64,
    /// 20 ms slots voxgate's pacer skipped (woke 60 ms or more late).
    pub skipped_slots: u64,
    /// Arrivals more than 40 ms after the previous packet of the call.
    pub gaps_over_40ms: u64,
    /// Those gaps by second of the run (from SIPp's start), across calls: a stall of the
    /// whole process (or of the machine) shows as one second with a gap on most calls.
    pub gaps_per_second: BTreeMap<u64, u64>,
    /// Packets later than `late_limit_ms` against their call's 20 ms grid.
    pub late_over_limit: u64,
    /// The limit, ms.
    pub late_limit_ms: f64,
    /// Every packet's lateness against its call's grid, ms (as received by the harness, so
    /// the harness's own scheduling delay is included).
    pub lateness_ms: Percentiles,
    /// Per call, the mean RFC 3550 interarrival jitter, ms: percentiles across calls.
    pub jitter_mean_ms: Percentiles,
    /// The largest RFC 3550 jitter estimate on any call, ms.
    pub jitter_max_ms: f64,
    /// Seconds of agent audio (frames above -45 dBFS).
    pub agent_audio_s: f64,
    /// Holes of 20-100 ms in the agent's audio: reply underruns.
    pub agent_holes: u64,
}

impl SipSummary {
    /// The criterion, in words.
    pub fn criterion_text(late_limit_ms: f64) -> String {
        format!(
            "clean = every call answered and completed, voxgate's RTP on every call, at least \
             one answered turn on every call, no lost packet, no skipped 20 ms slot, no hole in \
             the agent's audio, no packet later than {late_limit_ms} ms against its grid"
        )
    }

    /// Sets `clean` and `not_clean` from the figures.
    pub fn judge(&mut self) {
        let m = &self.media;
        let checks = [
            (self.completed < self.calls, "calls not completed"),
            (m.calls_with_media < self.calls, "calls without voxgate RTP"),
            (self.calls_with_turns < self.calls, "calls without a turn"),
            (m.lost > 0, "lost packets"),
            (m.skipped_slots > 0, "skipped slots"),
            (m.agent_holes > 0, "holes in agent audio"),
            (m.late_over_limit > 0, "late packets"),
        ];
        self.not_clean = checks
            .iter()
            .filter(|(failed, _)| *failed)
            .map(|(_, why)| (*why).to_owned())
            .collect();
        self.clean = self.not_clean.is_empty();
    }
}

impl SipSummary {
    /// The level's figures as the harness prints them.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let m = &self.media;
        let r = &self.resources;
        let q = |p: &Percentiles| {
            format!(
                "n={:<6} p50={:>7.2} p95={:>7.2} p99={:>7.2} max={:>7.2} ms",
                p.n, p.p50, p.p95, p.p99, p.max
            )
        };
        let _ = writeln!(
            out,
            "{} x{} SIP calls ({:.0} s each, {} calls/s): answered {}, refused {:?}, unanswered {}, \
             completed {} (SIPp exit {:?})",
            self.server,
            self.calls,
            self.duration_s,
            self.rate_cps,
            self.answered,
            self.refused,
            self.unanswered,
            self.completed,
            self.sipp_exit
        );
        let _ = writeln!(
            out,
            "  call setup (INVITE -> 200 OK)  {} (mean {:.2})",
            q(&self.setup_ms),
            self.setup_mean_ms
        );
        let _ = writeln!(
            out,
            "  voxgate RTP: {} packets on {} calls ({} ended by RTCP BYE); lost {}, reordered {}, \
             skipped slots {}, gaps > 40 ms {}, later than {} ms {}",
            m.packets_received,
            m.calls_with_media,
            m.ended_by_bye,
            m.lost,
            m.reordered,
            m.skipped_slots,
            m.gaps_over_40ms,
            m.late_limit_ms,
            m.late_over_limit
        );
        let _ = writeln!(
            out,
            "  lateness against the grid      {}",
            q(&m.lateness_ms)
        );
        if !m.gaps_per_second.is_empty() {
            let seconds: Vec<String> = m
                .gaps_per_second
                .iter()
                .take(12)
                .map(|(s, n)| format!("{s} s: {n}"))
                .collect();
            let more = if m.gaps_per_second.len() > 12 {
                ", ..."
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "  gaps > 40 ms by second of the run: {}{more}",
                seconds.join(", ")
            );
        }
        let _ = writeln!(
            out,
            "  RFC 3550 jitter, mean per call {} (largest estimate {:.2} ms)",
            q(&m.jitter_mean_ms),
            m.jitter_max_ms
        );
        let _ = writeln!(
            out,
            "  agent audio {:.0} s, {} holes; {} turns on {} calls; server added {}",
            m.agent_audio_s,
            m.agent_holes,
            self.turns,
            self.calls_with_turns,
            q(&self.server_added_ms)
        );
        let _ = writeln!(
            out,
            "  server: CPU {:.1} % ({:.3} %/call, {:.0} calls per server core), RSS {:.0} MB idle, \
             {:.0} MB peak ({:.2} MB/call); SIPp CPU {:.1} %, harness CPU {:.1} %",
            r.cpu_percent,
            r.cpu_percent_per_call,
            r.calls_per_server_core,
            r.rss_mb_idle,
            r.rss_mb_peak,
            r.rss_mb_per_call,
            self.sipp_cpu_percent,
            self.harness_cpu_percent
        );
        let verdict = if self.clean {
            "yes".to_owned()
        } else {
            format!("no: {}", self.not_clean.join(", "))
        };
        let _ = write!(out, "  clean: {verdict}");
        out
    }
}

/// The levels side by side, as a Markdown table.
pub fn table(levels: &[SipSummary]) -> String {
    let mut out = String::from(
        "| calls | setup p50 / p99 | server CPU | calls per core | RSS per call | RTP lateness p99 / max | lost / skipped / holes | turns | clean |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    for s in levels {
        let (m, r) = (&s.media, &s.resources);
        let _ = writeln!(
            out,
            "| {} | {:.2} / {:.2} ms | {:.1} % | {:.0} | {:.2} MB | {:.1} / {:.1} ms | {} / {} / {} | {} | {} |",
            s.calls,
            s.setup_ms.p50,
            s.setup_ms.p99,
            r.cpu_percent,
            r.calls_per_server_core,
            r.rss_mb_per_call,
            m.lateness_ms.p99,
            m.lateness_ms.max,
            m.lost,
            m.skipped_slots,
            m.agent_holes,
            s.turns,
            if s.clean { "yes" } else { "no" }
        );
    }
    out
}

/// Writes `sip.json` (every level) and `sip.svg` (the setup-time CDF of each) into `out`;
/// returns their paths.
///
/// # Errors
///
/// When a file cannot be written.
pub fn write(out: &Path, levels: &[SipSummary]) -> anyhow::Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(out)?;
    let json = out.join("sip.json");
    std::fs::write(&json, serde_json::to_string_pretty(levels)?)?;
    let sets: Vec<(String, Vec<f64>)> = levels
        .iter()
        .map(|l| (format!("{} calls", l.calls), l.setup_ms_values.clone()))
        .collect();
    let mut chart = Chart::cdf("SIP call setup: INVITE sent -> 200 OK received", &sets);
    chart.x_label = "setup (ms, log scale)".to_owned();
    chart.y_label = "fraction of calls".to_owned();
    let plot = out.join("sip.svg");
    std::fs::write(&plot, svg::render(&[chart]))?;
    Ok((json, plot))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_level_is_clean_only_when_everything_is() {
        let mut s = SipSummary {
            calls: 2,
            completed: 2,
            calls_with_turns: 2,
            media: MediaSummary {
                calls_with_media: 2,
                ..MediaSummary::default()
            },
            ..SipSummary::default()
        };
        s.judge();
        assert!(s.clean, "{:?}", s.not_clean);
        s.media.agent_holes = 1;
        s.calls_with_turns = 1;
        s.judge();
        assert!(!s.clean);
        assert_eq!(
            s.not_clean,
            ["calls without a turn", "holes in agent audio"]
        );
    }
}
