//! Per-turn latency metrics and their Prometheus exposition.
//!
//! Each stage of a turn is timed from the moment the caller stopped speaking (the end of
//! their last speech chunk): the end-of-turn decision, the final transcript, the brain's
//! first token, the mouth's first audio and the first reply frame handed to the leg; plus
//! the barge-in reaction (caller speech onset to `interrupt`). A [`TurnMetrics`] travels with
//! the turn's event; [`Metrics`] aggregates them into lock-free histograms rendered at
//! `GET /metrics` in the Prometheus text format.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// One turn's stage times, each measured from the end of the caller's speech.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct TurnMetrics {
    /// End of speech -> end-of-turn decision (the endpointing silence).
    pub end_of_turn: Option<Duration>,
    /// End of speech -> final transcript.
    pub stt_final: Option<Duration>,
    /// End of speech -> first text from the brain.
    pub first_token: Option<Duration>,
    /// End of speech -> first synthesized audio.
    pub first_audio: Option<Duration>,
    /// End of speech -> first reply frame handed to the leg.
    pub first_frame_sent: Option<Duration>,
    /// End-of-turn decision -> first reply frame handed to the leg: what voxgate and the
    /// engines add once the caller's turn is over (with zero-time providers, what voxgate
    /// alone adds).
    pub server_added: Option<Duration>,
}

/// Histogram bucket upper bounds in seconds: 50 us to 10 s (fine at the low end, where
/// `server_added` lives with zero-time providers).
const BUCKETS: [f64; 21] = [
    0.00005, 0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2,
    0.3, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0,
];

/// A Prometheus histogram with fixed buckets, updated with atomics (no lock).
#[derive(Debug, Default)]
pub struct Histogram {
    counts: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|&b| secs <= b) {
            self.counts[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// Observations so far.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (bound, c) in BUCKETS.iter().zip(&self.counts) {
            cumulative += c.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let count = self.count();
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {count}");
    }
}

/// The pipeline's counters and histograms, shared by all calls.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Calls that got a slot.
    pub calls_started: AtomicU64,
    /// Calls refused because no slot was free.
    pub calls_refused: AtomicU64,
    /// Calls that ended with an error.
    pub calls_failed: AtomicU64,
    /// Turns completed.
    pub turns: AtomicU64,
    /// Barge-ins.
    pub barge_ins: AtomicU64,
    /// End of speech -> end-of-turn decision.
    pub end_of_turn: Histogram,
    /// End of speech -> final transcript.
    pub stt_final: Histogram,
    /// End of speech -> first brain token.
    pub first_token: Histogram,
    /// End of speech -> first TTS audio.
    pub first_audio: Histogram,
    /// End of speech -> first reply frame sent.
    pub first_frame_sent: Histogram,
    /// End-of-turn decision -> first reply frame sent.
    pub server_added: Histogram,
    /// Caller speech onset -> `interrupt` sent.
    pub barge_in_reaction: Histogram,
}

impl Metrics {
    /// Adds one completed turn.
    pub fn record_turn(&self, t: &TurnMetrics) {
        self.turns.fetch_add(1, Ordering::Relaxed);
        let pairs = [
            (&self.end_of_turn, t.end_of_turn),
            (&self.stt_final, t.stt_final),
            (&self.first_token, t.first_token),
            (&self.first_audio, t.first_audio),
            (&self.first_frame_sent, t.first_frame_sent),
            (&self.server_added, t.server_added),
        ];
        for (h, d) in pairs {
            if let Some(d) = d {
                h.observe(d);
            }
        }
    }

    /// The Prometheus text exposition of everything, plus `slots_in_use` from the pool.
    pub fn render(&self, slots_in_use: usize, slots_capacity: usize) -> String {
        let mut out = String::with_capacity(8 * 1024);
        let counters = [
            (
                "voxgate_calls_started_total",
                "Calls that got a slot.",
                &self.calls_started,
            ),
            (
                "voxgate_calls_refused_total",
                "Calls refused: no free slot.",
                &self.calls_refused,
            ),
            (
                "voxgate_calls_failed_total",
                "Calls that ended with an error.",
                &self.calls_failed,
            ),
            ("voxgate_turns_total", "Completed turns.", &self.turns),
            (
                "voxgate_barge_ins_total",
                "Caller barge-ins.",
                &self.barge_ins,
            ),
        ];
        for (name, help, c) in counters {
            let v = c.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
            );
        }
        let gauges = [
            ("voxgate_slots_in_use", "Call slots in use.", slots_in_use),
            (
                "voxgate_slots_capacity",
                "Call slots in the pool.",
                slots_capacity,
            ),
        ];
        for (name, help, v) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        }
        let histograms = [
            (
                "end_of_turn",
                "End of caller speech to end-of-turn decision.",
                &self.end_of_turn,
            ),
            (
                "stt_final",
                "End of caller speech to final transcript.",
                &self.stt_final,
            ),
            (
                "first_token",
                "End of caller speech to first brain token.",
                &self.first_token,
            ),
            (
                "first_audio",
                "End of caller speech to first TTS audio.",
                &self.first_audio,
            ),
            (
                "first_frame_sent",
                "End of caller speech to first reply frame sent.",
                &self.first_frame_sent,
            ),
            (
                "server_added",
                "End-of-turn decision to first reply frame sent.",
                &self.server_added,
            ),
            (
                "barge_in_reaction",
                "Caller speech onset to interrupt sent.",
                &self.barge_in_reaction,
            ),
        ];
        for (name, help, h) in histograms {
            h.render(&mut out, &format!("voxgate_turn_{name}_seconds"), help);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::default();
        let turn = TurnMetrics {
            stt_final: Some(Duration::from_millis(40)),
            first_frame_sent: Some(Duration::from_millis(700)),
            server_added: Some(Duration::from_micros(80)),
            ..TurnMetrics::default()
        };
        m.record_turn(&turn);
        m.record_turn(&TurnMetrics {
            stt_final: Some(Duration::from_secs(20)),
            ..turn
        });
        let text = m.render(1, 4);
        assert!(text.contains("voxgate_turns_total 2"), "{text}");
        assert!(text.contains("voxgate_turn_stt_final_seconds_bucket{le=\"0.025\"} 0"));
        assert!(text.contains("voxgate_turn_stt_final_seconds_bucket{le=\"0.05\"} 1"));
        assert!(text.contains("voxgate_turn_stt_final_seconds_bucket{le=\"10\"} 1"));
        assert!(text.contains("voxgate_turn_stt_final_seconds_bucket{le=\"+Inf\"} 2"));
        assert!(text.contains("voxgate_turn_stt_final_seconds_sum 20.04"));
        assert!(text.contains("voxgate_turn_first_frame_sent_seconds_count 2"));
        assert!(text.contains("voxgate_turn_first_token_seconds_count 0"));
        assert!(text.contains("voxgate_turn_server_added_seconds_bucket{le=\"0.00005\"} 0"));
        assert!(text.contains("voxgate_turn_server_added_seconds_bucket{le=\"0.0001\"} 2"));
        assert!(text.contains("voxgate_slots_in_use 1"));
    }
}
