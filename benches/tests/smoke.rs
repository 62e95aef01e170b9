//! Smoke runs of the real `voxgate-bench` binary against the real `voxgate` binary (debug
//! builds, `fixed` providers): a few calls for a few seconds, then the JSON and SVG it
//! wrote are checked. The figures themselves are measured by release builds (see
//! `docs/latency-budget.md`); here they only have to be sane.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// `target/<profile>/voxgate`, built by the workspace's test build (the server's own
/// integration tests need it).
fn voxgate() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps");
    let bin = dir.join("voxgate");
    assert!(
        bin.is_file(),
        "{} is missing: run the workspace tests (`cargo nextest run --workspace`) or \
         `cargo build -p voxgate-server` first",
        bin.display()
    );
    bin
}

fn bench(args: &[&str], out: &Path) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_voxgate-bench"))
        .args(args)
        .arg("--voxgate")
        .arg(voxgate())
        .arg("--out")
        .arg(out)
        .output()
        .expect("voxgate-bench runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "voxgate-bench failed\nstdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("valid JSON")
}

fn number(v: &Value, pointer: &str) -> f64 {
    v.pointer(pointer)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("{pointer} missing in {v:#}"))
}

#[test]
fn a_short_run_measures_every_call_at_the_edge() {
    let out = tempfile::tempdir().expect("temp dir");
    let stdout = bench(
        &[
            "--calls",
            "3",
            "--duration",
            "14",
            "--providers",
            "fixed",
            "--barge-in-every",
            "2",
            "--ramp",
            "1",
        ],
        out.path(),
    );
    assert!(stdout.contains("voice to voice"), "{stdout}");
    let s = read_json(&out.path().join("summary.json"));
    assert_eq!(s["server"], "voxgate");
    assert!(
        s["providers"]
            .as_str()
            .is_some_and(|p| p.starts_with("fixed"))
    );
    for (key, want) in [
        ("/calls", 3.0),
        ("/calls_completed", 3.0),
        ("/calls_refused", 0.0),
        ("/calls_failed", 0.0),
        ("/unanswered", 0.0),
        ("/violations", 0.0),
        ("/playout/underruns", 0.0),
    ] {
        assert_eq!(number(&s, key), want, "{key} in {s:#}");
    }
    assert!(number(&s, "/turns") >= 3.0, "{s:#}");
    assert!(number(&s, "/barge_ins") >= 1.0, "{s:#}");
    // Voice to voice is at least the 300 ms endpointing silence, and (with zero-time
    // providers) not much more.
    let v2v = number(&s, "/latency_ms/voice_to_voice/p50");
    assert!(
        (300.0..1500.0).contains(&v2v),
        "voice to voice p50 {v2v} ms"
    );
    // Every answered turn's server-added latency was logged by the server (which also
    // logs the turns cut short by a barge-in).
    assert!(
        number(&s, "/latency_ms/server_added/n") >= number(&s, "/turns"),
        "{s:#}"
    );
    assert!(number(&s, "/latency_ms/server_added/p99") < 250.0, "{s:#}");
    // The barge-in fired after the 200 ms of speech it needs.
    let barge = number(&s, "/latency_ms/barge_in_reaction/p50");
    assert!((200.0..1000.0).contains(&barge), "barge-in {barge} ms");
    assert!(number(&s, "/resources/cpu_percent") > 0.0, "{s:#}");
    assert!(number(&s, "/resources/rss_mb_peak") > 1.0, "{s:#}");
    assert!(number(&s, "/machine/cores") >= 1.0, "{s:#}");
    let svg = std::fs::read_to_string(out.path().join("latency.svg")).expect("plot written");
    assert!(
        svg.starts_with("<svg") && svg.matches("<polyline").count() == 2,
        "{svg}"
    );
}

#[test]
fn a_sweep_stops_at_its_maximum_and_writes_its_report() {
    let out = tempfile::tempdir().expect("temp dir");
    bench(
        &[
            "sweep",
            "--start",
            "1",
            "--factor",
            "2",
            "--max",
            "2",
            "--duration",
            "8",
            "--barge-in-every",
            "0",
            "--ramp",
            "0.5",
            "--max-p99-ms",
            "250",
            "--usable-p99-ms",
            "250",
            "--min-turns",
            "1",
        ],
        out.path(),
    );
    let report = read_json(&out.path().join("sweep.json"));
    let sweep = &report["repeats"][0]["sweeps"][0];
    assert_eq!(sweep["server"], "voxgate");
    let levels: Vec<f64> = sweep["levels"]
        .as_array()
        .expect("levels")
        .iter()
        .map(|l| number(l, "/calls"))
        .collect();
    assert_eq!(levels, [1.0, 2.0], "{sweep:#}");
    assert_eq!(number(sweep, "/max_clean_calls"), 2.0, "{sweep:#}");
    assert_eq!(number(sweep, "/usable_calls"), 2.0, "{sweep:#}");
    assert!(
        sweep["stop"]
            .as_str()
            .is_some_and(|s| s.contains("highest level")),
        "{sweep:#}"
    );
    let svg = std::fs::read_to_string(out.path().join("sweep.svg")).expect("plot written");
    assert_eq!(svg.matches("<polyline").count(), 5, "{svg}");
    let md = std::fs::read_to_string(out.path().join("sweep.md")).expect("table written");
    assert!(md.contains("| calls per server core |"), "{md}");
}
