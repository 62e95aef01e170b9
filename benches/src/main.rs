//! `voxgate-bench`: the latency and capacity harness (see the crate docs).
//!
//! ```text
//! voxgate-bench --calls 100 --duration 30 --providers fixed --out bench-out
//! voxgate-bench --calls 4 --duration 60 --providers local --out bench-out
//! voxgate-bench --calls 50 --target ws://127.0.0.1:8080 --token T --out bench-out
//! voxgate-bench sweep --start 50 --out bench-out
//! voxgate-bench compare --out bench-out
//! voxgate-bench sip --calls 50,100 --duration 30 --out bench-out
//! ```

// A command-line tool: its report goes to standard output.
#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use voxgate_benches::report::{Summary, Sweep};
use voxgate_benches::run::{self, RunConfig, ServerKind, Target};
use voxgate_benches::server::{PipecatSpec, Providers};
use voxgate_benches::sip::SipConfig;
use voxgate_benches::svg::{self, Chart};
use voxgate_benches::{clips, stats::Percentiles};
use voxgate_bridge::Format;

/// Simulated 46elks callers against voxgate (or Twilio callers against Pipecat), measured
/// at the carrier edge.
#[derive(Debug, Parser)]
#[command(
    name = "voxgate-bench",
    version,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Raise the number of concurrent calls until a level is not clean (underruns, missed
    /// replies, refused calls, or server-added p99 over the limit).
    Sweep(SweepArgs),
    /// voxgate and the equivalent Pipecat bot, swept one after the other on this machine.
    Compare(SweepArgs),
    /// SIP calls placed by SIPp on voxgate's SIP leg (fixed providers): call setup, server
    /// CPU and memory per call, and the RTP voxgate sends back.
    Sip(SipArgs),
    /// Instructions per call-second of the fixed call workloads, counted by callgrind (the
    /// same on a busy machine as on an idle one); with `--check`, the CI gate.
    Instructions(InstructionsArgs),
}

#[derive(Debug, Clone, Args)]
struct InstructionsArgs {
    /// Fail when a workload costs more than 3 % over this baseline.
    #[arg(long)]
    check: Option<std::path::PathBuf>,
    /// Write the counts as the new baseline here (an ordinary commit says why).
    #[arg(long)]
    write: Option<std::path::PathBuf>,
    /// Count the workloads with a deliberate per-frame regression (the gate's own test).
    #[arg(long, value_enum, default_value = "none")]
    regress: voxgate_benches::workload::Regression,
    /// Only these workloads (default: all).
    #[arg(long, value_enum, value_delimiter = ',')]
    workloads: Vec<voxgate_benches::workload::Workload>,
}

#[derive(Debug, Clone, Args)]
struct SipArgs {
    /// Concurrent calls; a comma-separated list runs one level after another.
    #[arg(long, value_delimiter = ',', default_values_t = [10])]
    calls: Vec<usize>,
    /// Seconds each call stays up after its ACK.
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// New calls per second while placing them.
    #[arg(long, default_value_t = 20)]
    rate: u32,
    /// The SIPp program.
    #[arg(long, default_value = "/usr/bin/sipp")]
    sipp: PathBuf,
    /// The SIPp scenario.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/sipp/uac_g711.xml"))]
    scenario: PathBuf,
    /// What the callers say: a capture of PCMA RTP (SIPp's own by default).
    #[arg(long, default_value = "/usr/share/sip-tester/g711a.pcap")]
    pcap: PathBuf,
    /// Seconds of silence after each pass of the speech.
    #[arg(long, default_value_t = 3.0)]
    pause: f64,
    /// A packet later than this (ms) against its call's 20 ms grid makes a level not clean.
    #[arg(long, default_value_t = 40.0)]
    late_ms: f64,
    /// The voxgate binary to start. Default: `voxgate` beside this program.
    #[arg(long)]
    voxgate: Option<PathBuf>,
    /// `models_dir` for the started voxgate (Silero).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../models"))]
    models: PathBuf,
    /// Where the JSON and SVG go.
    #[arg(long, default_value = "bench-out")]
    out: PathBuf,
}

#[derive(Debug, Clone, Args)]
struct RunArgs {
    /// Concurrent calls.
    #[arg(long, default_value_t = 10)]
    calls: usize,
    /// Seconds each call talks.
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// Engines: `fixed` (zero-time: what the server itself costs) or `local` (Whisper,
    /// scripted brain, espeak-ng).
    #[arg(long, value_enum, default_value_t = Providers::Fixed)]
    providers: Providers,
    /// The 46elks audio format both ways.
    #[arg(long, default_value = "ulaw")]
    format: String,
    /// Every n-th turn speaks over the agent's reply; 0 for never.
    #[arg(long, default_value_t = 3)]
    barge_in_every: usize,
    /// Which server to start (ignored with --target).
    #[arg(long, value_enum, default_value_t = ServerKind::Voxgate)]
    server: ServerKind,
    /// A running voxgate (`ws://host:port` or `http://host:port`) instead of starting one.
    #[arg(long, requires = "token")]
    target: Option<String>,
    /// Its bridge token.
    #[arg(long)]
    token: Option<String>,
    /// Its process id, to sample CPU and memory.
    #[arg(long)]
    target_pid: Option<u32>,
    /// Its events log (`events.log`), for server-added latency.
    #[arg(long)]
    target_events: Option<PathBuf>,
    /// The voxgate binary to start. Default: `voxgate` beside this program (build both
    /// with `cargo build --release -p voxgate-server -p voxgate-benches`).
    #[arg(long)]
    voxgate: Option<PathBuf>,
    /// `models_dir` for the started voxgate.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../models"))]
    models: PathBuf,
    /// The venv for the Pipecat bot; made with `benches/pipecat/requirements.txt` if
    /// missing.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/pipecat-venv"))]
    pipecat_venv: PathBuf,
    /// Calls start spread over this many seconds.
    #[arg(long, default_value_t = 2.0)]
    ramp: f64,
    /// Where the JSON and SVG go.
    #[arg(long, default_value = "bench-out")]
    out: PathBuf,
}

#[derive(Debug, Clone, Args)]
struct SweepArgs {
    #[command(flatten)]
    run: RunArgs,
    /// First level (calls).
    #[arg(long)]
    start: Option<usize>,
    /// Each level has this many times the calls of the one before.
    #[arg(long, default_value_t = 1.5)]
    factor: f64,
    /// Highest level tried.
    #[arg(long, default_value_t = 4000)]
    max: usize,
    /// Largest clean server-added p99, ms.
    #[arg(long, default_value_t = 5.0)]
    max_p99_ms: f64,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            None => single(&cli.run).await,
            Some(Command::Sweep(args)) => {
                let sweep = sweep(&args, args.run.server).await?;
                write_sweeps(&args.run.out, "sweep", &[sweep])
            }
            Some(Command::Compare(args)) => {
                let voxgate = sweep(&args, ServerKind::Voxgate).await?;
                let pipecat = sweep(&args, ServerKind::Pipecat).await?;
                write_sweeps(&args.run.out, "compare", &[voxgate, pipecat])
            }
            Some(Command::Sip(args)) => sip(&args).await,
            Some(Command::Instructions(args)) => instructions(&args),
        }
    })
}

/// `instructions`: counts every workload, prints the JSON, and holds it to a baseline.
fn instructions(args: &InstructionsArgs) -> anyhow::Result<()> {
    use voxgate_benches::callgrind::{self, Counts};
    use voxgate_benches::workload::Workload;
    let binary = std::env::current_exe()?.with_file_name("voxgate-instructions");
    anyhow::ensure!(
        binary.exists(),
        "{} is missing: cargo build --release -p voxgate-benches --bin voxgate-instructions",
        binary.display()
    );
    let workloads = if args.workloads.is_empty() {
        Workload::ALL.to_vec()
    } else {
        args.workloads.clone()
    };
    let mut counts = Counts::new();
    for workload in workloads {
        let count = callgrind::measure(&binary, workload, args.regress)?;
        counts.insert(workload.name().to_owned(), count);
    }
    let json = serde_json::to_string_pretty(&counts)?;
    println!("{json}");
    if let Some(path) = &args.write {
        std::fs::write(path, format!("{json}\n"))?;
        eprintln!("instructions: baseline written to {}", path.display());
    }
    if let Some(path) = &args.check {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let baseline: Counts = serde_json::from_str(&text)?;
        let verdicts = callgrind::check(&baseline, &counts);
        for v in &verdicts {
            let ratio = v.ratio.map_or("new".to_owned(), |r| format!("{r:.4}"));
            let base = v.baseline.map_or("-".to_owned(), |b| b.to_string());
            eprintln!(
                "instructions: {:<12} per call-second: baseline {base}, now {}, ratio {ratio} {}",
                v.workload,
                v.current,
                if v.pass { "ok" } else { "OVER THE 3 % GATE" }
            );
        }
        anyhow::ensure!(
            verdicts.iter().all(|v| v.pass),
            "the hot path costs more than 3 % over benches/baseline/instructions.json (lower the baseline in a commit that says why, or fix the regression)"
        );
    }
    Ok(())
}

fn config(args: &RunArgs, server: ServerKind) -> anyhow::Result<RunConfig> {
    let format: Format = args
        .format
        .parse()
        .map_err(|_| anyhow::anyhow!("unknown format {:?}", args.format))?;
    let target = args.target.as_ref().map(|t| {
        let base = t
            .trim_end_matches('/')
            .replacen("http://", "ws://", 1)
            .replacen("https://", "wss://", 1);
        Target {
            ws_url: format!(
                "{base}/api/webhooks/46elks/voice/ws?token={}",
                args.token.as_deref().unwrap_or_default()
            ),
            pid: args.target_pid,
            events: args.target_events.clone(),
        }
    });
    let voxgate_binary = voxgate_binary(
        args.voxgate.as_deref(),
        target.is_none() && server == ServerKind::Voxgate,
    )?;
    let pipecat = if server == ServerKind::Pipecat {
        pipecat_venv(&args.pipecat_venv)?
    } else {
        PipecatSpec {
            python: args.pipecat_venv.join("bin/python"),
            bot: bot_path(),
        }
    };
    Ok(RunConfig {
        server,
        calls: args.calls,
        duration: Duration::from_secs(args.duration),
        providers: args.providers,
        format,
        barge_in_every: args.barge_in_every,
        ramp: Duration::from_secs_f64(args.ramp),
        target,
        voxgate_binary,
        models: args.models.clone(),
        pipecat,
        work_dir: args.out.join("servers"),
    })
}

/// The voxgate binary: `given`, or `voxgate` beside this program; checked when `needed`.
fn voxgate_binary(given: Option<&Path>, needed: bool) -> anyhow::Result<PathBuf> {
    let binary = match given {
        Some(p) => p.to_owned(),
        None => std::env::current_exe()?
            .parent()
            .context("no directory for this program")?
            .join("voxgate"),
    };
    anyhow::ensure!(
        !needed || binary.is_file(),
        "{} not found: build it with `cargo build --release -p voxgate-server`, or pass \
         --voxgate PATH (or --target URL)",
        binary.display()
    );
    Ok(binary)
}

fn bot_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("pipecat/bot.py")
}

/// The Pipecat venv, made from the pinned requirements if it does not exist yet.
fn pipecat_venv(venv: &Path) -> anyhow::Result<PipecatSpec> {
    let python = venv.join("bin/python");
    if !python.is_file() {
        let requirements = Path::new(env!("CARGO_MANIFEST_DIR")).join("pipecat/requirements.txt");
        println!("setting up the Pipecat venv in {} (once)", venv.display());
        let ok = std::process::Command::new("python3")
            .args(["-m", "venv"])
            .arg(venv)
            .status()?
            .success()
            && std::process::Command::new(venv.join("bin/pip"))
                .args(["install", "-q", "-r"])
                .arg(&requirements)
                .status()?
                .success();
        anyhow::ensure!(
            ok,
            "could not set up the Pipecat venv in {}",
            venv.display()
        );
    }
    Ok(PipecatSpec {
        python,
        bot: bot_path(),
    })
}

async fn single(args: &RunArgs) -> anyhow::Result<()> {
    let config = config(args, args.server)?;
    let clips = clips::load()?;
    println!(
        "{} calls for {} s against {} ({})",
        config.calls,
        args.duration,
        server_name(args, args.server),
        config.providers.describe()
    );
    let summary = run::run(&config, &clips).await?;
    print_summary(&summary);
    std::fs::create_dir_all(&args.out)?;
    let json = args.out.join("summary.json");
    std::fs::write(&json, serde_json::to_string_pretty(&summary)?)?;
    let chart = Chart::cdf(
        &format!(
            "{} concurrent calls, {}: latency CDF",
            summary.calls, summary.server
        ),
        &[
            (
                "voice to voice (edge)".to_owned(),
                summary.voice_to_voice_ms,
            ),
            ("server added".to_owned(), summary.server_added_ms),
        ],
    );
    let plot = args.out.join("latency.svg");
    std::fs::write(&plot, svg::render(&[chart]))?;
    println!("wrote {} and {}", json.display(), plot.display());
    Ok(())
}

async fn sweep(args: &SweepArgs, server: ServerKind) -> anyhow::Result<Sweep> {
    let config = config(&args.run, server)?;
    let clips = clips::load()?;
    let start = args.start.unwrap_or(match server {
        ServerKind::Voxgate => 50,
        ServerKind::Pipecat => 2,
    });
    println!(
        "sweep of {} from {start} calls, x{} per level",
        server_name(&args.run, server),
        args.factor
    );
    run::sweep(
        &config,
        &clips,
        start,
        args.factor,
        args.max,
        args.max_p99_ms,
        print_summary,
    )
    .await
}

/// What the reports call the server under test.
fn server_name(args: &RunArgs, server: ServerKind) -> &'static str {
    match (args.target.is_some(), server) {
        (true, _) => "a running voxgate",
        (false, ServerKind::Voxgate) => "voxgate",
        (false, ServerKind::Pipecat) => "the Pipecat bot",
    }
}

fn print_summary(s: &Summary) {
    let p = |name: &str| s.latency_ms.get(name).copied().unwrap_or_default();
    let line = |name: &str, q: Percentiles| {
        println!(
            "  {name:<22} n={:<6} p50={:>8.2} p95={:>8.2} p99={:>8.2} max={:>8.2} ms",
            q.n, q.p50, q.p95, q.p99, q.max
        );
    };
    println!(
        "{} x{} ({}): completed {}, refused {}, failed {}, turns {}, unanswered {}, early replies {}, barge-ins {} (missed {})",
        s.server,
        s.calls,
        s.format,
        s.calls_completed,
        s.calls_refused,
        s.calls_failed,
        s.turns,
        s.unanswered,
        s.early_replies,
        s.barge_ins,
        s.barge_ins_missed
    );
    line("voice to voice (edge)", p("voice_to_voice"));
    line("server added", p("server_added"));
    line("barge-in reaction", p("barge_in_reaction"));
    println!(
        "  playout: {:.0} s of agent audio, {} underruns ({:.0} ms), {} late frames; violations {}",
        s.playout.agent_audio_s,
        s.playout.underruns,
        s.playout.underrun_ms,
        s.playout.late_frames,
        s.violations
    );
    let r = &s.resources;
    println!(
        "  server: CPU {:.1} % ({:.3} %/call, {:.0} calls per server core), RSS {:.0} MB idle, {:.0} MB peak ({:.2} MB/call)",
        r.cpu_percent,
        r.cpu_percent_per_call,
        r.calls_per_server_core,
        r.rss_mb_idle,
        r.rss_mb_peak,
        r.rss_mb_per_call
    );
    for f in &s.failures {
        println!("  failure: {f}");
    }
}

async fn sip(args: &SipArgs) -> anyhow::Result<()> {
    let (speech, speech_name) =
        voxgate_benches::sip::speech(&args.pcap, Duration::from_secs_f64(args.pause))?;
    let voxgate_binary = voxgate_binary(args.voxgate.as_deref(), true)?;
    let configs: Vec<SipConfig> = args
        .calls
        .iter()
        .map(|&calls| SipConfig {
            calls,
            duration: Duration::from_secs(args.duration),
            rate: args.rate,
            voxgate_binary: voxgate_binary.clone(),
            models: args.models.clone(),
            sipp: args.sipp.clone(),
            scenario: args.scenario.clone(),
            speech: speech.clone(),
            speech_name: speech_name.clone(),
            late_limit: Duration::from_secs_f64(args.late_ms / 1e3),
            work_dir: args.out.join("servers"),
        })
        .collect();
    for c in &configs {
        c.check()?;
    }
    let mut levels = Vec::with_capacity(configs.len());
    for config in &configs {
        println!(
            "{} SIP calls for {} s, {} new per second, against voxgate ({})",
            config.calls,
            args.duration,
            config.rate,
            voxgate_benches::server::Providers::Fixed.describe()
        );
        let summary = voxgate_benches::sip::run(config)
            .await
            .with_context(|| format!("{} SIP calls", config.calls))?;
        println!("{}", summary.text());
        levels.push(summary);
    }
    println!("{}", voxgate_benches::sip::report::table(&levels));
    let (json, plot) = voxgate_benches::sip::report::write(&args.out, &levels)?;
    println!("wrote {} and {}", json.display(), plot.display());
    Ok(())
}

fn write_sweeps(out: &Path, name: &str, sweeps: &[Sweep]) -> anyhow::Result<()> {
    std::fs::create_dir_all(out)?;
    for s in sweeps {
        println!(
            "{}: largest clean level {} calls = {:.0} calls per core of this machine; {:.0} calls per core of server CPU ({})",
            s.server,
            s.max_clean_calls,
            s.clean_calls_per_core,
            s.calls_per_server_core,
            s.criterion
        );
    }
    if let [voxgate, pipecat] = sweeps
        && pipecat.clean_calls_per_core > 0.0
    {
        println!(
            "voxgate / Pipecat: {:.1}x the clean calls per core, {:.1}x per core of server CPU",
            voxgate.clean_calls_per_core / pipecat.clean_calls_per_core,
            voxgate.calls_per_server_core / pipecat.calls_per_server_core.max(f64::MIN_POSITIVE)
        );
    }
    let json = out.join(format!("{name}.json"));
    std::fs::write(&json, serde_json::to_string_pretty(sweeps)?)?;
    let series = |f: fn(&Summary) -> f64| -> Vec<svg::Series> {
        sweeps
            .iter()
            .map(|s| {
                let pts = s.levels.iter().map(|l| (l.calls as f64, f(l))).collect();
                (s.server.clone(), pts)
            })
            .collect()
    };
    let charts = [
        Chart {
            title: "server CPU against concurrent calls".into(),
            x_label: "concurrent calls".into(),
            y_label: "CPU, % of one core".into(),
            log_x: false,
            series: series(|l| l.resources.cpu_percent),
        },
        Chart {
            title: "server-added latency p99 against concurrent calls".into(),
            x_label: "concurrent calls".into(),
            y_label: "p99 ms".into(),
            log_x: false,
            series: series(|l| l.latency_ms.get("server_added").map_or(0.0, |p| p.p99)),
        },
    ];
    let plot = out.join(format!("{name}.svg"));
    std::fs::write(&plot, svg::render(&charts))?;
    println!("wrote {} and {}", json.display(), plot.display());
    Ok(())
}
