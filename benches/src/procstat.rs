//! CPU time and resident memory of a process and its children, and the whole machine's CPU,
//! from `/proc`.

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
    /// Busy CPU time of the whole machine so far (every core; `/proc/stat` minus idle and
    /// iowait).
    pub machine_busy: Duration,
    /// All CPU time of the whole machine so far (every core).
    pub machine_total: Duration,
}

/// Kernel clock ticks per second for `/proc/*/stat` times (`getconf CLK_TCK`; 100 on
/// every Linux x86_64 and arm64 build).
const TICKS_PER_SECOND: u64 = 100;

/// Reads the CPU time and RSS of `pid` and every process descended from it (a server that
/// forks workers, as uvicorn does with `--workers`, is counted whole), and the machine's CPU.
///
/// # Errors
///
/// When `pid` is gone or `/proc` is unreadable.
pub fn sample(pid: u32) -> anyhow::Result<Sample> {
    let (mut cpu, mut rss) = one(pid)?;
    for child in descendants(pid) {
        // A worker may exit between the listing and the reading: it then counts for nothing.
        if let Ok((c, r)) = one(child) {
            cpu += c;
            rss += r;
        }
    }
    let (machine_busy, machine_total) = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| parse_machine(&s))
        .unwrap_or_default();
    Ok(Sample {
        at: Instant::now(),
        cpu,
        rss,
        machine_busy,
        machine_total,
    })
}

/// One process's CPU time and RSS.
fn one(pid: u32) -> anyhow::Result<(Duration, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    Ok((parse_cpu(&stat)?, parse_rss(&status)?))
}

/// Every process whose parent chain reaches `root`.
pub fn descendants(root: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let parents: Vec<(u32, u32)> = entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            Some((pid, parse_ppid(&stat)?))
        })
        .collect();
    let mut found = vec![root];
    let mut i = 0;
    while let Some(&parent) = found.get(i) {
        found.extend(
            parents
                .iter()
                .filter(|(_, p)| *p == parent)
                .map(|(c, _)| *c),
        );
        i += 1;
    }
    found.remove(0);
    found
}

/// The fields of a `/proc/PID/stat` line from field 3 (state) on. The command name (field 2)
/// may hold spaces and parentheses, so fields are counted after its last `)`.
fn fields_after_name(stat: &str) -> Option<Vec<&str>> {
    let (_, rest) = stat.rsplit_once(')')?;
    Some(rest.split_whitespace().collect())
}

/// The parent pid (field 4).
fn parse_ppid(stat: &str) -> Option<u32> {
    fields_after_name(stat)?.get(1)?.parse().ok()
}

/// (busy, total) CPU time of the machine from `/proc/stat`'s `cpu` line: user nice system
/// idle iowait irq softirq steal; busy is everything but idle and iowait.
fn parse_machine(stat: &str) -> Option<(Duration, Duration)> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let ticks: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    let total: u64 = ticks.iter().sum();
    let idle = ticks.get(3)? + ticks.get(4).copied().unwrap_or(0);
    let d = |t: u64| Duration::from_millis(t * 1000 / TICKS_PER_SECOND);
    Some((d(total - idle), d(total)))
}

/// utime + stime (fields 14 and 15) from a `/proc/PID/stat` line.
fn parse_cpu(stat: &str) -> anyhow::Result<Duration> {
    let fields = fields_after_name(stat).ok_or_else(|| anyhow::anyhow!("malformed /proc stat"))?;
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

/// The whole machine's busy CPU between two readings, as a percentage of all its cores.
pub fn machine_percent(from: &Sample, to: &Sample) -> f64 {
    let total = to
        .machine_total
        .saturating_sub(from.machine_total)
        .as_secs_f64();
    if total <= 0.0 {
        return 0.0;
    }
    100.0
        * to.machine_busy
            .saturating_sub(from.machine_busy)
            .as_secs_f64()
        / total
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
        assert_eq!(parse_ppid(stat), Some(1));
        assert_eq!(parse_ppid("garbage"), None);
        let (busy, total) =
            parse_machine("cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3\n").expect("parses");
        assert_eq!(
            (busy, total),
            (Duration::from_millis(1500), Duration::from_secs(10))
        );
        assert_eq!(parse_machine("intr 1 2 3\n"), None);
    }

    #[test]
    fn counts_the_children_of_a_process() {
        // A shell whose child burns CPU: the tree's CPU grows though the shell itself idles.
        let mut shell = std::process::Command::new("sh")
            .args(["-c", "sh -c 'while :; do :; done' & wait"])
            .spawn()
            .expect("sh runs");
        std::thread::sleep(Duration::from_millis(300));
        let pid = shell.id();
        let children = descendants(pid);
        assert!(!children.is_empty(), "the busy child is found");
        let a = sample(pid).expect("readable");
        std::thread::sleep(Duration::from_millis(500));
        let b = sample(pid).expect("readable");
        assert!(cpu_percent(&a, &b) > 20.0, "the child's CPU is counted");
        assert!(machine_percent(&a, &b) > 0.0);
        for child in children {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &child.to_string()])
                .status();
        }
        let _ = shell.kill();
        let _ = shell.wait();
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
