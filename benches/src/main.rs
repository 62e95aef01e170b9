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
use voxgate_benches::compare::{Comparison, Repeat};
use voxgate_benches::report::{Machine, Summary, Sweep};
use voxgate_benches::run::{self, RunConfig, ServerKind, SweepPlan, Target};
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
    /// Raise the number of concurrent calls, past the first level that is not clean, until
    /// the server fails or its CPU (or the machine's) saturates.
    Sweep(SweepArgs),
    /// voxgate and the equivalent Pipecat bot, each swept to its own limit, the pair
    /// repeated (3 times by default, alternating who goes first): medians and ranges of every
    /// figure and ratio.
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
    /// uvicorn worker processes for the Pipecat bot (default: one per core).
    #[arg(long)]
    pipecat_workers: Option<usize>,
    /// Where the JSON and SVG go.
    #[arg(long, default_value = "bench-out")]
    out: PathBuf,
}

#[derive(Debug, Clone, Args)]
struct SweepArgs {
    #[command(flatten)]
    run: RunArgs,
    /// First level (calls). Default: 100 for voxgate, 2 for Pipecat.
    #[arg(long)]
    start: Option<usize>,
    /// Each level has this many times the calls of the one before. Default: 1.5 for
    /// voxgate, 2 for Pipecat (its small levels talk for minutes to reach the turns needed).
    #[arg(long)]
    factor: Option<f64>,
    /// Highest level tried.
    #[arg(long, default_value_t = 4000)]
    max: usize,
    /// Largest clean server-added p99, ms.
    #[arg(long, default_value_t = 5.0)]
    max_p99_ms: f64,
    /// Largest usable server-added p99, ms.
    #[arg(long, default_value_t = 50.0)]
    usable_p99_ms: f64,
    /// A level counts with at least this many turns; small levels talk longer to get them.
    #[arg(long, default_value_t = 200)]
    min_turns: usize,
    /// The longest a level's calls talk, seconds.
    #[arg(long, default_value_t = 600)]
    max_duration: u64,
    /// Run the whole sweep (or comparison) this many times. Default: 1 for `sweep`, 3 for
    /// `compare`.
    #[arg(long)]
    repeat: Option<usize>,
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
                repeated(&args, "sweep", &[args.run.server], args.repeat.unwrap_or(1)).await
            }
            Some(Command::Compare(args)) => {
                let servers = [ServerKind::Voxgate, ServerKind::Pipecat];
                repeated(&args, "compare", &servers, args.repeat.unwrap_or(3)).await
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
    let workers = args.pipecat_workers.unwrap_or_else(cores);
    let pipecat = if server == ServerKind::Pipecat {
        pipecat_venv(&args.pipecat_venv, workers)?
    } else {
        PipecatSpec {
            python: args.pipecat_venv.join("bin/python"),
            bot: bot_path(),
            workers,
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

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// The Pipecat venv, made from the pinned requirements if it does not exist yet, and brought
/// up to them when they changed since (a copy of what it was made from is kept in it).
fn pipecat_venv(venv: &Path, workers: usize) -> anyhow::Result<PipecatSpec> {
    let python = venv.join("bin/python");
    let requirements = Path::new(env!("CARGO_MANIFEST_DIR")).join("pipecat/requirements.txt");
    let wanted = std::fs::read_to_string(&requirements)?;
    let stamp = venv.join("voxgate-requirements.txt");
    let made = std::fs::read_to_string(&stamp).unwrap_or_default();
    if !python.is_file() || made != wanted {
        println!("setting up the Pipecat venv in {}", venv.display());
        let ok = (python.is_file()
            || std::process::Command::new("python3")
                .args(["-m", "venv"])
                .arg(venv)
                .status()?
                .success())
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
        std::fs::write(&stamp, wanted)?;
    }
    Ok(PipecatSpec {
        python,
        bot: bot_path(),
        workers,
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
    // Saturated at 90 % of the cores the server can use: the machine's for voxgate (one
    // process, a thread per core), one per uvicorn worker for the Pipecat bot.
    let usable_cores = match server {
        ServerKind::Voxgate => cores(),
        ServerKind::Pipecat => config.pipecat.workers.clamp(1, cores()),
    };
    let plan = SweepPlan {
        start: args.start.unwrap_or(match server {
            ServerKind::Voxgate => 100,
            ServerKind::Pipecat => 2,
        }),
        factor: args.factor.unwrap_or(match server {
            ServerKind::Voxgate => 1.5,
            ServerKind::Pipecat => 2.0,
        }),
        max: args.max,
        clean_p99_ms: args.max_p99_ms,
        usable_p99_ms: args.usable_p99_ms,
        min_turns: args.min_turns,
        max_duration: Duration::from_secs(args.max_duration),
        server_saturated_percent: 90.0 * usable_cores as f64,
        machine_saturated_percent: 95.0,
    };
    println!(
        "sweep of {} from {} calls, x{} per level, at least {} turns per level",
        server_name(&args.run, server),
        plan.start,
        plan.factor,
        plan.min_turns
    );
    let sweep = run::sweep(&config, &clips, &plan, print_summary).await?;
    println!(
        "{}: largest clean level {} calls, largest usable level {} calls ({:.0} calls per server core); stopped because {}",
        sweep.server,
        sweep.max_clean_calls,
        sweep.usable_calls,
        sweep.usable_calls_per_server_core,
        sweep.stop
    );
    Ok(sweep)
}

/// Sweeps `servers` `repeat` times, the order alternating between repeats so neither always
/// runs on the warmer (or busier) machine, and writes `<name>.json` (every level of every
/// repeat) after each repeat, then the plots and the Markdown table.
async fn repeated(
    args: &SweepArgs,
    name: &str,
    servers: &[ServerKind],
    repeat: usize,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.run.out)?;
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let mut repeats = Vec::with_capacity(repeat);
    for index in 1..=repeat.max(1) {
        let mut order = servers.to_vec();
        if index % 2 == 0 {
            order.reverse();
        }
        let mut sweeps = Vec::with_capacity(order.len());
        for server in order {
            println!("repeat {index} of {repeat}");
            sweeps.push(sweep(args, server).await?);
        }
        // The servers in their canonical order, whichever ran first.
        sweeps.sort_by_key(|s| servers.iter().position(|k| k.name() == s.server));
        repeats.push(Repeat { index, sweeps });
        let partial = Comparison::new(command.clone(), Machine::read(), repeats.clone());
        std::fs::write(
            args.run.out.join(format!("{name}.json")),
            serde_json::to_string_pretty(&partial)?,
        )?;
    }
    let comparison = Comparison::new(command, Machine::read(), repeats);
    let json = args.run.out.join(format!("{name}.json"));
    std::fs::write(&json, serde_json::to_string_pretty(&comparison)?)?;
    let plot = args.run.out.join(format!("{name}.svg"));
    std::fs::write(&plot, svg::render(&comparison.charts()))?;
    let table = args.run.out.join(format!("{name}.md"));
    std::fs::write(&table, voxgate_benches::compare::report(&comparison))?;
    print!("{}", comparison.summary());
    println!(
        "wrote {}, {} and {}",
        json.display(),
        plot.display(),
        table.display()
    );
    Ok(())
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
