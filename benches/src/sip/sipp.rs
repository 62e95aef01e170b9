//! SIPp as the callers' SIP side: started with the scenario in `benches/sipp/`, and its
//! message trace read back into per-call setup times and outcomes.
//!
//! SIPp's own response-time figures (`-trace_rtt`) count whole milliseconds, too coarse
//! for a sub-millisecond setup on loopback; its message trace (`-trace_msg`) stamps every
//! message it sends or receives to the microsecond, so setup is read from there: the first
//! INVITE sent to the first final response received, per Call-ID.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context as _;
use tokio::process::{Child, Command};

/// Line SIPp writes before each traced message.
const SEPARATOR: &str = "-----------------------------------------------";

/// How to run SIPp for one level.
#[derive(Debug, Clone)]
pub struct SippSpec {
    /// The `sipp` program.
    pub binary: PathBuf,
    /// The scenario (`benches/sipp/uac_g711.xml`).
    pub scenario: PathBuf,
    /// voxgate's SIP address.
    pub server: SocketAddr,
    /// SIPp's own SIP port and media port (unused: the harness carries the media).
    pub local_ports: (u16, u16),
    /// Calls, all at once.
    pub calls: usize,
    /// New calls per second.
    pub rate: u32,
    /// How long each call stays up after its ACK.
    pub hold: Duration,
    /// Each call's RTP port, for its SDP offer (the injection file, one line per call).
    pub media_ports: Vec<u16>,
}

/// Starts SIPp in `dir` (its traces and log go there).
///
/// # Errors
///
/// When the injection file cannot be written or SIPp not started.
pub fn spawn(spec: &SippSpec, dir: &Path) -> anyhow::Result<Child> {
    let mut calls = String::from("SEQUENTIAL\n");
    for port in &spec.media_ports {
        calls.push_str(&format!("{port};\n"));
    }
    std::fs::write(dir.join("calls.csv"), calls)?;
    let ramp = spec.calls as u64 / u64::from(spec.rate.max(1));
    let log = std::fs::File::create(dir.join("sipp.log"))?;
    let n = spec.calls.to_string();
    let child = Command::new(&spec.binary)
        .current_dir(dir)
        .arg("-sf")
        .arg(&spec.scenario)
        .args(["-inf", "calls.csv", "-i", "127.0.0.1", "-s", "voxgate"])
        .args(["-p", &spec.local_ports.0.to_string()])
        .args(["-mp", &spec.local_ports.1.to_string()])
        .args(["-m", &n, "-l", &n])
        .args(["-r", &spec.rate.max(1).to_string(), "-rp", "1000"])
        .args(["-d", &spec.hold.as_millis().to_string()])
        .args(["-trace_msg", "-message_file", "messages.log"])
        .args(["-trace_err", "-error_file", "errors.log"])
        .args(["-recv_timeout", "30000"])
        .args(["-timeout", &format!("{}s", ramp + spec.hold.as_secs() + 60)])
        .arg("-nostdin")
        .arg(spec.server.to_string())
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", spec.binary.display()))?;
    Ok(child)
}

/// One call as SIPp's message trace shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallTrace {
    /// Its Call-ID.
    pub call_id: String,
    /// When its first INVITE left, seconds on the trace's clock.
    pub invite_sent: Option<f64>,
    /// The first final response to the INVITE: its status and arrival.
    pub answer: Option<(u16, f64)>,
    /// Whether a 2xx to its BYE arrived.
    pub bye_answered: bool,
}

impl CallTrace {
    /// INVITE sent to 200 OK received, when the call was answered.
    pub fn setup(&self) -> Option<Duration> {
        match (self.invite_sent, self.answer) {
            (Some(sent), Some((200..=299, at))) if at >= sent => {
                Some(Duration::from_secs_f64(at - sent))
            }
            _ => None,
        }
    }
}

/// The calls in a SIPp message trace (`-trace_msg`), in the order they first appear.
pub fn read_trace(text: &str) -> Vec<CallTrace> {
    let mut calls: Vec<CallTrace> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for block in text.split(SEPARATOR).skip(1) {
        let Some(message) = Message::parse(block) else {
            continue;
        };
        let i = *index.entry(message.call_id.to_owned()).or_insert_with(|| {
            calls.push(CallTrace {
                call_id: message.call_id.to_owned(),
                ..CallTrace::default()
            });
            calls.len() - 1
        });
        let call = &mut calls[i];
        match (message.sent, message.status, message.cseq_method) {
            (true, None, "INVITE") => {
                call.invite_sent.get_or_insert(message.at);
            }
            (false, Some(status), "INVITE") if status >= 200 && call.answer.is_none() => {
                call.answer = Some((status, message.at));
            }
            (false, Some(200..=299), "BYE") => call.bye_answered = true,
            _ => {}
        }
    }
    calls
}

/// The parts of one traced message that matter here.
struct Message<'a> {
    at: f64,
    sent: bool,
    /// The status of a response; `None` for a request.
    status: Option<u16>,
    call_id: &'a str,
    cseq_method: &'a str,
}

impl<'a> Message<'a> {
    /// ` 2026-11-23 21:26:36.514354\nUDP message sent (538 bytes):\n\nINVITE ...`.
    fn parse(block: &'a str) -> Option<Self> {
        let mut lines = block.lines();
        let at = timestamp(lines.next()?.trim())?;
        let sent = lines.next()?.contains("message sent");
        let mut lines = lines.skip_while(|l| l.trim().is_empty());
        let start = lines.next()?.trim();
        let status = start
            .strip_prefix("SIP/2.0 ")
            .map(|rest| rest.get(..3).and_then(|s| s.parse().ok()))
            .map(|s| s.unwrap_or(0));
        let mut call_id = None;
        let mut cseq_method = None;
        for line in lines.take_while(|l| !l.trim().is_empty()) {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let name = name.trim();
            if name.eq_ignore_ascii_case("call-id") || name == "i" {
                call_id = Some(value.trim());
            } else if name.eq_ignore_ascii_case("cseq") {
                cseq_method = value.split_whitespace().nth(1);
            }
        }
        Some(Self {
            at,
            sent,
            status,
            call_id: call_id?,
            cseq_method: cseq_method?,
        })
    }
}

/// `2026-11-23 21:26:36.514354` as seconds since 1970 (the trace's local time; only
/// differences are used).
fn timestamp(text: &str) -> Option<f64> {
    let (date, time) = text.split_once(' ')?;
    let mut ymd = date.split('-').map(str::parse::<i64>);
    let (y, m, d) = (ymd.next()?.ok()?, ymd.next()?.ok()?, ymd.next()?.ok()?);
    let mut hms = time.split(':');
    let (h, min) = (
        hms.next()?.parse::<f64>().ok()?,
        hms.next()?.parse::<f64>().ok()?,
    );
    let s = hms.next()?.parse::<f64>().ok()?;
    let days = days_from_civil(y, m, d) as f64;
    Some(days * 86_400.0 + h * 3600.0 + min * 60.0 + s)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(at: &str, sent: bool, start: &str, call_id: &str, cseq: &str) -> String {
        let how = if sent {
            "UDP message sent (538 bytes):"
        } else {
            "UDP message received [306] bytes :"
        };
        format!(
            "{SEPARATOR} 2026-11-23 {at}\n{how}\n\n{start}\nVia: SIP/2.0/UDP 127.0.0.1:5070\n\
             Call-ID: {call_id}\nCSeq: {cseq}\nContent-Length: 0\n\n"
        )
    }

    #[test]
    fn setup_and_outcome_per_call() {
        let trace = [
            block(
                "23:59:59.999800",
                true,
                "INVITE sip:voxgate@x SIP/2.0",
                "a",
                "1 INVITE",
            ),
            block(
                "23:59:59.999900",
                true,
                "INVITE sip:voxgate@x SIP/2.0",
                "b",
                "1 INVITE",
            ),
            block(
                "23:59:59.999950",
                false,
                "SIP/2.0 100 Trying",
                "a",
                "1 INVITE",
            ),
            // Across midnight: the date changes.
            block("00:00:00.000300", false, "SIP/2.0 200 OK", "a", "1 INVITE"),
            block(
                "00:00:00.000400",
                false,
                "SIP/2.0 486 Busy Here",
                "b",
                "1 INVITE",
            ),
            block("00:00:00.100000", false, "SIP/2.0 200 OK", "a", "1 INVITE"),
            block(
                "00:00:00.200000",
                true,
                "INVITE sip:voxgate@x SIP/2.0",
                "c",
                "1 INVITE",
            ),
            block(
                "00:00:01.000000",
                true,
                "BYE sip:voxgate@x SIP/2.0",
                "a",
                "2 BYE",
            ),
            block("00:00:01.000200", false, "SIP/2.0 200 OK", "a", "2 BYE"),
        ]
        .concat()
        .replace("2026-11-23 00:", "2026-11-24 00:");
        let calls = read_trace(&trace);
        let ids: Vec<&str> = calls.iter().map(|c| c.call_id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        let us = |c: &CallTrace| c.setup().map(|d| d.as_secs_f64() * 1e6).map(f64::round);
        assert_eq!(us(&calls[0]), Some(500.0));
        assert!(calls[0].bye_answered);
        assert_eq!(calls[1].answer.map(|a| a.0), Some(486));
        assert_eq!((us(&calls[1]), calls[1].bye_answered), (None, false));
        assert_eq!((calls[2].answer, us(&calls[2])), (None, None));
    }

    #[test]
    fn sipps_own_trace_format_is_read() {
        let text = "----------------------------------------------- 2026-11-23 21:26:36.514354\n\
                    UDP message sent (538 bytes):\n\n\
                    INVITE sip:voxgate@127.0.0.1:15060 SIP/2.0\n\
                    Call-ID: 1-17477@127.0.0.1\nCSeq: 1 INVITE\nContent-Length:   149\n\n\
                    v=0\nc=IN IP4 127.0.0.1\n\n\
                    ----------------------------------------------- 2026-11-23 21:26:36.515494\n\
                    UDP message received [466] bytes :\n\n\
                    SIP/2.0 200 OK\nCall-ID: 1-17477@127.0.0.1\nCSeq: 1 INVITE\n\n";
        let calls = read_trace(text);
        assert_eq!(calls.len(), 1);
        let setup = calls[0].setup().expect("answered").as_secs_f64();
        assert!((setup - 0.001_140).abs() < 1e-6, "{setup}");
    }

    #[test]
    fn garbage_is_skipped() {
        assert!(read_trace("").is_empty());
        assert!(read_trace(&format!("{SEPARATOR} not a date\nUDP message sent\n\nX\n")).is_empty());
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }
}
