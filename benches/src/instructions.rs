//! Runs one fixed call workload ([`voxgate_benches::workload`]) once, for callgrind to
//! count: `voxgate-instructions <workload> [--regress copy|resample]`. `voxgate-bench instructions`
//! runs it under valgrind; run alone it prints what the workload did.

// A command-line tool: it reports on stdout.
#![allow(clippy::print_stdout)]

use clap::Parser;
use voxgate_benches::workload::{self, Regression, Workload};

#[derive(Debug, Parser)]
#[command(name = "voxgate-instructions")]
struct Cli {
    /// Which workload.
    #[arg(value_enum)]
    workload: Workload,
    /// A deliberate per-frame regression on top (the gate's own test).
    #[arg(long, value_enum, default_value = "none")]
    regress: Regression,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let caller = workload::caller_audio()?;
    let tally = workload::run(cli.workload, &caller, cli.regress)?;
    println!("{} {tally:?}", cli.workload.name());
    Ok(())
}
