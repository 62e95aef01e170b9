//! Repeated side-by-side sweeps, reduced to figures a skeptic can check: the median and the
//! range of every figure over the repeats, and of every ratio between the servers, with who
//! is ahead said plainly.
//!
//! A ratio is taken within each repeat (both servers swept back to back on the same machine
//! state), and only then summarised over the repeats: the spread of the ratios is the
//! benchmark's own noise, which a single run cannot show.

use std::fmt::Write as _;

use crate::report::{Machine, Summary, Sweep};
use crate::svg::{Chart, Series};

/// One repeat: every server swept once, in the order given.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Repeat {
    /// 1-based.
    pub index: usize,
    /// The servers' sweeps, in one fixed order whichever ran first (see `index` for who
    /// went first: odd repeats run the first server first).
    pub sweeps: Vec<Sweep>,
}

/// Whether a figure is better high or low.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    /// More is better (capacity).
    Higher,
    /// Less is better (latency, cost).
    Lower,
}

/// A figure read from one sweep.
#[derive(Debug, Clone, Copy)]
pub struct Figure {
    /// Its key in the JSON.
    pub key: &'static str,
    /// What the summary calls it.
    pub name: &'static str,
    /// Its unit, as printed after a value ("" for none).
    pub unit: &'static str,
    /// Which way is better.
    pub better: Better,
    read: fn(&Sweep) -> Option<f64>,
}

impl Figure {
    /// Its value in `sweep`, if the sweep has one.
    pub fn read(&self, sweep: &Sweep) -> Option<f64> {
        (self.read)(sweep)
    }
}

fn at_usable(sweep: &Sweep, f: fn(&Summary) -> f64) -> Option<f64> {
    sweep.usable().map(f)
}

/// A latency at the usable level; none when that level measured none.
fn latency_at_usable(
    sweep: &Sweep,
    name: &str,
    f: fn(&crate::stats::Percentiles) -> f64,
) -> Option<f64> {
    let p = sweep.usable()?.latency_ms.get(name)?;
    (p.n > 0).then(|| f(p))
}

fn latency(level: &Summary, name: &str, f: fn(&crate::stats::Percentiles) -> f64) -> f64 {
    level.latency_ms.get(name).map_or(0.0, f)
}

/// Every figure the comparison reports. Capacity comes from the largest clean and usable
/// levels; the per-call costs and latencies from each server's largest usable level, the
/// most load under which it still serves every call well.
pub const FIGURES: &[Figure] = &[
    Figure {
        key: "usable_calls_per_server_core",
        name: "calls per server core",
        unit: "",
        better: Better::Higher,
        read: |s| s.usable().map(|_| s.usable_calls_per_server_core),
    },
    Figure {
        key: "usable_calls",
        name: "largest usable level (p99 <= 50 ms)",
        unit: " calls",
        better: Better::Higher,
        read: |s| Some(s.usable_calls as f64),
    },
    Figure {
        key: "clean_calls",
        name: "largest clean level (p99 <= 5 ms)",
        unit: " calls",
        better: Better::Higher,
        read: |s| Some(s.max_clean_calls as f64),
    },
    Figure {
        key: "cpu_percent_per_call",
        name: "CPU per call",
        unit: " % of a core",
        better: Better::Lower,
        read: |s| at_usable(s, |l| l.resources.cpu_percent_per_call),
    },
    Figure {
        key: "rss_mb_per_call",
        name: "RSS per call",
        unit: " MB",
        better: Better::Lower,
        read: |s| at_usable(s, |l| l.resources.rss_mb_per_call),
    },
    Figure {
        key: "server_added_p99_ms",
        name: "server-added p99",
        unit: " ms",
        better: Better::Lower,
        read: |s| latency_at_usable(s, "server_added", |p| p.p99),
    },
    Figure {
        key: "voice_to_voice_p50_ms",
        name: "voice to voice p50",
        unit: " ms",
        better: Better::Lower,
        read: |s| latency_at_usable(s, "voice_to_voice", |p| p.p50),
    },
    Figure {
        key: "voice_to_voice_p99_ms",
        name: "voice to voice p99",
        unit: " ms",
        better: Better::Lower,
        read: |s| latency_at_usable(s, "voice_to_voice", |p| p.p99),
    },
    Figure {
        key: "barge_in_p50_ms",
        name: "barge-in reaction p50",
        unit: " ms",
        better: Better::Lower,
        read: |s| latency_at_usable(s, "barge_in_reaction", |p| p.p50),
    },
    Figure {
        key: "early_replies_percent",
        name: "early replies",
        unit: " % of turns",
        better: Better::Lower,
        read: |s| {
            at_usable(s, |l| {
                100.0 * l.early_replies as f64 / (l.turns + l.early_replies).max(1) as f64
            })
        },
    },
];

/// The median and range of some values.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Spread {
    /// How many values (repeats that had the figure).
    pub n: usize,
    /// Median (the mean of the middle two for an even count).
    pub median: f64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
}

impl Spread {
    /// The spread of `values`; `None` for none.
    pub fn of(values: &[f64]) -> Option<Self> {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = match n {
            0 => return None,
            _ if n % 2 == 1 => v[n / 2],
            _ => (v[n / 2 - 1] + v[n / 2]) / 2.0,
        };
        Some(Self {
            n,
            median,
            min: v[0],
            max: v[n - 1],
        })
    }
}

/// One figure of the comparison.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Row {
    /// The figure's key.
    pub key: String,
    /// Its name.
    pub name: String,
    /// Its unit.
    pub unit: String,
    /// Which way is better.
    pub better: Better,
    /// Per server (in the order of the first repeat): its spread over the repeats.
    pub servers: Vec<(String, Option<Spread>)>,
    /// With two servers: how many times better the first is than the second in each repeat
    /// (first / second for a higher-is-better figure, second / first otherwise), spread
    /// over the repeats. Below 1, the second server is ahead.
    pub advantage: Option<Spread>,
}

impl Row {
    /// Who is ahead on the median advantage, if anyone: `None` when even (within 2 %).
    pub fn ahead(&self) -> Option<&str> {
        let a = self.advantage?;
        match (self.servers.first(), self.servers.get(1)) {
            (Some((first, _)), _) if a.median > 1.02 => Some(first),
            (_, Some((second, _))) if a.median < 1.0 / 1.02 => Some(second),
            _ => None,
        }
    }

    /// A value of this figure as printed: calls are whole.
    fn value(&self, x: f64) -> String {
        if self.unit == " calls" {
            format!("{x:.0}")
        } else {
            num(x)
        }
    }

    /// Where one server's value is zero there is no ratio: a capacity of zero is behind, a
    /// cost of zero (no early replies) is ahead.
    fn zero_verdict(&self) -> Option<String> {
        let [(a, Some(x)), (b, Some(y))] = self.servers.as_slice() else {
            return None;
        };
        let (zero, other) = match (x.median == 0.0, y.median == 0.0) {
            (true, false) => (a, b),
            (false, true) => (b, a),
            _ => return None,
        };
        Some(match self.better {
            Better::Higher => format!("{other} ahead: {zero} has none"),
            Better::Lower => format!("{zero} ahead: {zero} has none"),
        })
    }

    /// The summary line, e.g. `calls per server core: 983 vs 22 (voxgate 44-47x ahead over
    /// 3 runs)`.
    pub fn line(&self) -> String {
        let values: Vec<String> = self
            .servers
            .iter()
            .map(|(_, s)| s.map_or("-".to_owned(), |s| self.value(s.median)))
            .collect();
        let mut line = format!("{}: {}{}", self.name, values.join(" vs "), self.unit);
        if let Some(a) = self.advantage {
            let runs = plural(a.n);
            let _ = match self.ahead() {
                Some(who) if self.servers.first().is_some_and(|(f, _)| f == who) => {
                    write!(line, " ({who} {} ahead over {runs})", times(a.min, a.max))
                }
                Some(who) => write!(
                    line,
                    " ({who} {} ahead over {runs})",
                    times(1.0 / a.max, 1.0 / a.min)
                ),
                None => write!(line, " (even: {} over {runs})", times(a.min, a.max)),
            };
        } else if let Some(verdict) = self.zero_verdict() {
            let _ = write!(line, " ({verdict})");
        }
        line
    }
}

fn plural(n: usize) -> String {
    if n == 1 {
        "1 run".to_owned()
    } else {
        format!("{n} runs")
    }
}

/// `44-47x`, or `44x` when the range is one value.
fn times(lo: f64, hi: f64) -> String {
    let (lo, hi) = (ratio(lo), ratio(hi));
    if lo == hi {
        format!("{lo}x")
    } else {
        format!("{lo}-{hi}x")
    }
}

fn ratio(x: f64) -> String {
    if x >= 10.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

/// A value as the summary prints it: three significant figures, no more decimals than two.
pub fn num(x: f64) -> String {
    if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else if x.abs() >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// A whole comparison as `compare.json` holds it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Comparison {
    /// The command that ran it.
    pub command: String,
    /// Where it ran.
    pub machine: Machine,
    /// Every repeat, with every level of every sweep.
    pub repeats: Vec<Repeat>,
    /// The figures, summarised over the repeats.
    pub rows: Vec<Row>,
}

impl Comparison {
    /// Summarises `repeats` (each holding the same servers).
    pub fn new(command: String, machine: Machine, repeats: Vec<Repeat>) -> Self {
        let rows = rows(&repeats);
        Self {
            command,
            machine,
            repeats,
            rows,
        }
    }

    /// The printed summary, one line per figure.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        for r in &self.rows {
            let _ = writeln!(out, "{}", r.line());
        }
        out
    }

    /// A Markdown table of the figures: each server's median and range, and who is ahead.
    pub fn markdown(&self) -> String {
        let names: Vec<&str> = self.servers();
        let mut out = String::from("| figure |");
        for n in &names {
            let _ = write!(out, " {n} median (range) |");
        }
        out.push_str(" ahead (range of the ratio) |\n|---|");
        for _ in &names {
            out.push_str("---:|");
        }
        out.push_str("---|\n");
        for r in &self.rows {
            let unit = r.unit.trim();
            let _ = write!(
                out,
                "| {}{} |",
                r.name,
                if unit.is_empty() {
                    String::new()
                } else {
                    format!(", {unit}")
                }
            );
            for (_, s) in &r.servers {
                let cell = s.map_or("-".to_owned(), |s| {
                    if s.min == s.max {
                        r.value(s.median)
                    } else {
                        let v = |x| r.value(x);
                        format!("{} ({}-{})", v(s.median), v(s.min), v(s.max))
                    }
                });
                let _ = write!(out, " {cell} |");
            }
            let verdict = match (r.advantage, r.ahead()) {
                (None, _) => r.zero_verdict().unwrap_or_else(|| "-".to_owned()),
                (Some(a), Some(who)) if names.first() == Some(&who) => {
                    format!("**{who}** {}", times(a.min, a.max))
                }
                (Some(a), Some(who)) => format!("**{who}** {}", times(1.0 / a.max, 1.0 / a.min)),
                (Some(a), None) => format!("even ({})", times(a.min, a.max)),
            };
            let _ = writeln!(out, " {verdict} |");
        }
        out
    }

    /// The servers, in the order of the first repeat.
    pub fn servers(&self) -> Vec<&str> {
        self.repeats
            .first()
            .map(|r| r.sweeps.iter().map(|s| s.server.as_str()).collect())
            .unwrap_or_default()
    }

    /// The sweep plots: every level of every repeat, one line per server and repeat, on a
    /// log axis of calls (the servers' levels lie orders of magnitude apart).
    pub fn charts(&self) -> Vec<Chart> {
        let series = |f: fn(&Summary) -> f64| -> Vec<Series> {
            let mut out = Vec::new();
            for r in &self.repeats {
                for s in &r.sweeps {
                    let pts = s.levels.iter().map(|l| (l.calls as f64, f(l))).collect();
                    out.push((format!("{} #{}", s.server, r.index), pts));
                }
            }
            out
        };
        let chart = |title: &str, y: &str, f: fn(&Summary) -> f64| Chart {
            title: title.to_owned(),
            x_label: "concurrent calls (log scale)".to_owned(),
            y_label: y.to_owned(),
            log_x: true,
            series: series(f),
        };
        vec![
            chart(
                "server CPU against concurrent calls",
                "CPU, % of one core",
                |l| l.resources.cpu_percent,
            ),
            chart(
                "server-added latency p99 against concurrent calls",
                "p99 ms",
                |l| latency(l, "server_added", |p| p.p99),
            ),
            chart("voice to voice p50 at the carrier edge", "p50 ms", |l| {
                latency(l, "voice_to_voice", |p| p.p50)
            }),
            chart("barge-in reaction p50", "p50 ms", |l| {
                latency(l, "barge_in_reaction", |p| p.p50)
            }),
            chart("RSS per call", "MB per call", |l| {
                l.resources.rss_mb_per_call
            }),
        ]
    }
}

/// The whole Markdown report `--out` gets: the machine and command, the figures table, and
/// every level of every sweep with why each sweep stopped.
pub fn report(c: &Comparison) -> String {
    let m = &c.machine;
    let mut out = format!(
        "Machine: {} ({} cores, {:.0} GB, Linux {}), {}.\n\nCommand: `{}`\n\n",
        m.cpu, m.cores, m.memory_gb, m.kernel, m.build, c.command
    );
    out.push_str(&c.markdown());
    for r in &c.repeats {
        for s in &r.sweeps {
            let _ = writeln!(
                out,
                "\n**{} #{}**: largest clean level {} calls, largest usable level {} calls; stopped because {}.\n",
                s.server, r.index, s.max_clean_calls, s.usable_calls, s.stop
            );
            out.push_str(
                "| calls | seconds | turns | server CPU % | machine CPU % | server-added p99 ms | voice to voice p50 ms | barge-in p50 ms | RSS MB/call | refused+failed | underruns | level |\n\
                 |---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
            );
            for (i, l) in s.levels.iter().enumerate() {
                let mark = if Some(i) == s.clean_level {
                    "largest clean"
                } else if Some(i) == s.usable_level {
                    "largest usable"
                } else {
                    ""
                };
                let lat =
                    |name: &str, f: fn(&crate::stats::Percentiles) -> f64| num(latency(l, name, f));
                let _ = writeln!(
                    out,
                    "| {} | {:.0} | {} | {:.0} | {:.0} | {} | {} | {} | {} | {} | {} | {mark} |",
                    l.calls,
                    l.duration_s,
                    l.turns,
                    l.resources.cpu_percent,
                    l.resources.machine_cpu_percent,
                    lat("server_added", |p| p.p99),
                    lat("voice_to_voice", |p| p.p50),
                    lat("barge_in_reaction", |p| p.p50),
                    num(l.resources.rss_mb_per_call),
                    l.calls_refused + l.calls_failed,
                    l.playout.underruns,
                );
            }
        }
    }
    out
}

/// The sweep of server `name` in repeat `r`.
fn sweep_of<'a>(r: &'a Repeat, name: &str) -> Option<&'a Sweep> {
    r.sweeps.iter().find(|s| s.server == name)
}

fn rows(repeats: &[Repeat]) -> Vec<Row> {
    let names: Vec<String> = repeats
        .first()
        .map(|r| r.sweeps.iter().map(|s| s.server.clone()).collect())
        .unwrap_or_default();
    FIGURES
        .iter()
        .map(|f| {
            let servers = names
                .iter()
                .map(|n| {
                    let values: Vec<f64> = repeats
                        .iter()
                        .filter_map(|r| f.read(sweep_of(r, n)?))
                        .collect();
                    (n.clone(), Spread::of(&values))
                })
                .collect();
            let advantage = match names.as_slice() {
                [a, b] => {
                    let ratios: Vec<f64> = repeats
                        .iter()
                        .filter_map(|r| {
                            let x = f.read(sweep_of(r, a)?)?;
                            let y = f.read(sweep_of(r, b)?)?;
                            let (num, den) = match f.better {
                                Better::Higher => (x, y),
                                Better::Lower => (y, x),
                            };
                            (den > 0.0 && num > 0.0).then(|| num / den)
                        })
                        .collect();
                    Spread::of(&ratios)
                }
                _ => None,
            };
            Row {
                key: f.key.to_owned(),
                name: f.name.to_owned(),
                unit: f.unit.to_owned(),
                better: f.better,
                servers,
                advantage,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Resources;
    use crate::stats::Percentiles;

    fn level(calls: usize, cpu: f64, barge_p50: f64) -> Summary {
        let mut s = Summary {
            calls,
            turns: 300,
            resources: Resources {
                cpu_percent: cpu,
                cpu_percent_per_call: cpu / calls as f64,
                calls_per_server_core: calls as f64 / (cpu / 100.0),
                rss_mb_per_call: 1.0,
                ..Resources::default()
            },
            ..Summary::default()
        };
        let p = |v: f64| Percentiles {
            n: 300,
            p50: v,
            p95: v,
            p99: v,
            max: v,
        };
        s.latency_ms.insert("server_added".into(), p(1.0));
        s.latency_ms.insert("voice_to_voice".into(), p(400.0));
        s.latency_ms
            .insert("barge_in_reaction".into(), p(barge_p50));
        s
    }

    fn sweep(server: &str, l: Summary) -> Sweep {
        Sweep {
            server: server.into(),
            usable_calls: l.calls,
            usable_calls_per_server_core: l.resources.calls_per_server_core,
            usable_level: Some(0),
            levels: vec![l],
            ..Sweep::default()
        }
    }

    fn comparison() -> Comparison {
        // voxgate: 100 calls per core in every run; pipecat 2, 2.2 and 2.5; Pipecat reacts
        // to barge-in faster (150 ms against 260 ms).
        let repeats = [(2.0, 0), (2.2, 1), (2.5, 2)]
            .into_iter()
            .map(|(pipecat_per_core, i)| Repeat {
                index: i + 1,
                sweeps: vec![
                    sweep("voxgate", level(1000, 1000.0, 260.0)),
                    sweep("pipecat", level(20, 2000.0 / pipecat_per_core, 150.0)),
                ],
            })
            .collect();
        Comparison::new("test".into(), Machine::default(), repeats)
    }

    #[test]
    fn spreads_are_median_and_range() {
        let s = Spread::of(&[3.0, 1.0, 2.0]).expect("values");
        assert_eq!((s.n, s.median, s.min, s.max), (3, 2.0, 1.0, 3.0));
        let s = Spread::of(&[4.0, 1.0]).expect("values");
        assert_eq!(s.median, 2.5);
        assert_eq!(Spread::of(&[]), None);
        assert_eq!(Spread::of(&[f64::NAN]), None);
    }

    #[test]
    fn ratios_are_taken_per_repeat_and_name_who_is_ahead() {
        let c = comparison();
        let row = |key: &str| c.rows.iter().find(|r| r.key == key).expect("row");
        let per_core = row("usable_calls_per_server_core");
        let a = per_core.advantage.expect("two servers");
        assert_eq!((a.n, a.min, a.median, a.max), (3, 40.0, 100.0 / 2.2, 50.0));
        assert_eq!(per_core.ahead(), Some("voxgate"));
        assert_eq!(
            per_core.line(),
            "calls per server core: 100 vs 2.20 (voxgate 40-50x ahead over 3 runs)"
        );
        // Where the peer is faster, the summary says so.
        let barge = row("barge_in_p50_ms");
        assert_eq!(barge.ahead(), Some("pipecat"));
        assert_eq!(
            barge.line(),
            "barge-in reaction p50: 260 vs 150 ms (pipecat 1.73x ahead over 3 runs)"
        );
        let v2v = row("voice_to_voice_p50_ms");
        assert_eq!(v2v.ahead(), None);
        assert!(
            v2v.line().ends_with("(even: 1.00x over 3 runs)"),
            "{}",
            v2v.line()
        );
    }

    #[test]
    fn the_markdown_table_has_a_row_per_figure_with_ranges() {
        let c = comparison();
        let md = c.markdown();
        assert_eq!(md.lines().count(), 2 + FIGURES.len());
        assert!(
            md.contains("| calls per server core | 100 | 2.20 (2.00-2.50) | **voxgate** 40-50x |"),
            "{md}"
        );
        assert!(
            md.contains("| barge-in reaction p50, ms | 260 | 150 | **pipecat** 1.73x |"),
            "{md}"
        );
        assert_eq!(c.servers(), ["voxgate", "pipecat"]);
        let charts = c.charts();
        assert_eq!(charts[0].series.len(), 6, "a line per server and repeat");
        let report = report(&c);
        assert_eq!(report.matches("| calls | seconds |").count(), 6, "{report}");
        assert!(report.contains("| 1000 | 0 | 300 | 1000 |"), "{report}");
    }

    #[test]
    fn a_server_without_a_usable_level_has_no_per_call_figures() {
        let mut c = comparison();
        for r in &mut c.repeats {
            r.sweeps[1].usable_level = None;
            r.sweeps[1].usable_calls = 0;
        }
        let c = Comparison::new(c.command, c.machine, c.repeats);
        let row = c
            .rows
            .iter()
            .find(|r| r.key == "rss_mb_per_call")
            .expect("row");
        assert_eq!(row.servers[1].1, None);
        assert_eq!(row.advantage, None);
        assert!(row.line().contains("1.00 vs -"), "{}", row.line());
        let clean = c
            .rows
            .iter()
            .find(|r| r.key == "usable_calls")
            .expect("row");
        assert_eq!(
            clean.line(),
            "largest usable level (p99 <= 50 ms): 1000 vs 0 calls (voxgate ahead: pipecat has none)"
        );
        let md = c.markdown();
        assert!(
            md.contains("| 1000 | 0 | voxgate ahead: pipecat has none |"),
            "{md}"
        );
    }
}
