//! Instruction counts of the call workloads under `valgrind --tool=callgrind`, and the
//! gate that holds them to `benches/baseline/instructions.json`.
//!
//! Instructions, not time: on these shared 2-core machines timings swing by 30 % from run
//! to run, while callgrind counts the same instructions whatever else runs. Only the
//! measured functions are counted (`--toggle-collect=*measured_*`), so preparing the input
//! does not dilute a regression of the hot path.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::workload::{CALL_SECONDS, Regression, Workload};

/// How much a workload may cost over its baseline before the gate fails.
pub const TOLERANCE: f64 = 0.03;

/// One workload's count.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Count {
    /// Instructions executed in the measured function.
    pub instructions: u64,
    /// The same per call-second of the workload.
    pub per_call_second: u64,
}

/// Counts of every workload, by name.
pub type Counts = BTreeMap<String, Count>;

/// Counts `workload` once: `binary` (voxgate-instructions) under callgrind.
///
/// # Errors
///
/// When valgrind is missing, the run fails, or its output has no totals.
pub fn measure(binary: &Path, workload: Workload, regression: Regression) -> anyhow::Result<Count> {
    let dir = tempfile_dir()?;
    let out = dir.join("callgrind.out");
    let mut command = Command::new("valgrind");
    command
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg("--toggle-collect=*measured_*")
        .arg(binary)
        .arg(workload.name());
    match regression {
        Regression::None => {}
        Regression::Copy => {
            command.args(["--regress", "copy"]);
        }
        Regression::Resample => {
            command.args(["--regress", "resample"]);
        }
    }
    let output = command
        .output()
        .context("running valgrind (Debian package valgrind; scripts/setup installs it)")?;
    anyhow::ensure!(
        output.status.success(),
        "callgrind of {} failed: {}",
        workload.name(),
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(&out).context("reading callgrind's output")?;
    let _ = std::fs::remove_dir_all(&dir);
    let instructions = totals(&text)
        .with_context(|| format!("no totals in callgrind's output for {}", workload.name()))?;
    anyhow::ensure!(instructions > 0, "{}: nothing was counted", workload.name());
    Ok(Count {
        instructions,
        per_call_second: instructions / CALL_SECONDS,
    })
}

/// The `totals:` (or `summary:`) line of a callgrind output file: the first event, `Ir`.
pub fn totals(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| {
            l.strip_prefix("totals:")
                .or_else(|| l.strip_prefix("summary:"))
        })
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("voxgate-callgrind-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// One workload held to its baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// The workload.
    pub workload: String,
    /// Its baseline per call-second (absent: a new workload, which passes).
    pub baseline: Option<u64>,
    /// Now.
    pub current: u64,
    /// current / baseline.
    pub ratio: Option<f64>,
    /// Within the tolerance.
    pub pass: bool,
}

/// Holds `current` to `baseline`: a workload fails when it costs more than
/// [`TOLERANCE`] over its baseline per call-second; one missing from `current` fails too.
pub fn check(baseline: &Counts, current: &Counts) -> Vec<Verdict> {
    let mut out: Vec<Verdict> = current
        .iter()
        .map(|(name, count)| {
            let base = baseline.get(name).map(|b| b.per_call_second);
            let ratio = base.map(|b| count.per_call_second as f64 / b.max(1) as f64);
            Verdict {
                workload: name.clone(),
                baseline: base,
                current: count.per_call_second,
                ratio,
                pass: ratio.is_none_or(|r| r <= 1.0 + TOLERANCE),
            }
        })
        .collect();
    for (name, count) in baseline {
        if !current.contains_key(name) {
            out.push(Verdict {
                workload: name.clone(),
                baseline: Some(count.per_call_second),
                current: 0,
                ratio: None,
                pass: false,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(pairs: &[(&str, u64)]) -> Counts {
        pairs
            .iter()
            .map(|(n, c)| {
                (
                    (*n).to_owned(),
                    Count {
                        instructions: c * CALL_SECONDS,
                        per_call_second: *c,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn the_gate_allows_three_percent_and_no_more() {
        let baseline = counts(&[("a", 1000), ("b", 1000), ("gone", 5)]);
        let verdicts = check(&baseline, &counts(&[("a", 1030), ("b", 1031), ("new", 7)]));
        let pass: Vec<(&str, bool)> = verdicts
            .iter()
            .map(|v| (v.workload.as_str(), v.pass))
            .collect();
        assert_eq!(
            pass,
            [("a", true), ("b", false), ("new", true), ("gone", false)]
        );
    }

    #[test]
    fn totals_are_read_from_callgrind_output() {
        let text = "version: 1\nevents: Ir\nfn=main\n1 5\nsummary: 123456\ntotals: 123456\n";
        assert_eq!(totals(text), Some(123_456));
        assert_eq!(totals("events: Ir\n"), None);
    }
}
