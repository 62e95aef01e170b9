//! CPU time and resident memory of a process, from `/proc`.

use std::time::{Duration, Instant};

/// One reading of a process.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// When it was read.
    pub at: Instant,
    /// User plus system CPU time so far.
    pub cpu: Duration,
    /// Resident set size in bytes.
    pub rss: u64,
}

/// Kernel clock ticks per second for `/proc/*/stat` times (`getconf CLK_TCK`; 100 on
/// every Linux x86_64 and arm64 build).
const TICKS_PER_SECOND: u64 = 100;

/// Reads `pid`'s CPU time and RSS now.
///
/// # Errors
///
/// When the process is gone or `/proc` is unreadable.
pub fn sample(pid: u32) -> anyhow::Result<Sample> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    Ok(Sample {
        at: Instant::now(),
        cpu: parse_cpu(&stat)?,
        rss: parse_rss(&status)?,
    })
}

/// utime + stime (fields 14 and 15) from a `/proc/PID/stat` line. The command name (field 2)
/// may hold spaces and parentheses, so fields are counted after its last `)`.
fn parse_cpu(stat: &str) -> anyhow::Result<Duration> {
    let rest = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| anyhow::anyhow!("malformed /proc stat"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state): utime is field 14, stime field 15.
    let ticks = |i: usize| -> anyhow::Result<u64> {
        Ok(fields
            .get(i - 3)
            .ok_or_else(|| anyhow::anyhow!("short /proc stat"))?
            .parse()?)
    };
    let total = ticks(14)? + ticks(15)?;
    Ok(Duration::from_millis(total * 1000 / TICKS_PER_SECOND))
}

fn parse_rss(status: &str) -> anyhow::Result<u64> {
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .ok_or_else(|| anyhow::anyhow!("no VmRSS"))?;
    let kb: u64 = line
        .split_whitespace()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("malformed VmRSS"))?
        .parse()?;
    Ok(kb * 1024)
}

/// CPU used between two readings, as a percentage of one core.
pub fn cpu_percent(from: &Sample, to: &Sample) -> f64 {
    let wall = to.at.saturating_duration_since(from.at).as_secs_f64();
    if wall <= 0.0 {
        return 0.0;
    }
    let cpu = to.cpu.saturating_sub(from.cpu).as_secs_f64();
    100.0 * cpu / wall
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_a_tricky_name() {
        let stat = "4242 (my (odd) name) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 9 0 1 2 3";
        assert_eq!(parse_cpu(stat).expect("parses"), Duration::from_secs(3));
        assert!(parse_cpu("garbage").is_err());
        let status = "Name:\tvoxgate\nVmRSS:\t   20480 kB\nThreads:\t9\n";
        assert_eq!(parse_rss(status).expect("parses"), 20 * 1024 * 1024);
        assert!(parse_rss("Name: x\n").is_err());
    }

    #[test]
    fn reads_this_process() {
        let a = sample(std::process::id()).expect("readable");
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        let b = sample(std::process::id()).expect("readable");
        assert!(b.cpu >= a.cpu && b.rss > 0);
        assert!(cpu_percent(&a, &b) >= 0.0);
    }
}
