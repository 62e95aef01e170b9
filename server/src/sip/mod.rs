//! **IO edge**: the SIP leg. One UDP socket for signalling, driven by one task that owns
//! `voxgate-sip`'s [`UserAgent`](voxgate_sip::ua::UserAgent); one task per call that owns
//! the call's RTP sockets and its [`RtpSession`](voxgate_sip::rtp::RtpSession) and runs the
//! pipeline on it (see [`leg`]).
//!
//! An INVITE is answered when a slot is free (else `486 Busy Here`) and its offer has a
//! codec voxgate speaks (else `488`): voxgate binds an RTP/RTCP port pair from the
//! configured range, answers with SDP, and starts the call task at once, so the greeting
//! plays as soon as the caller's ACK is on its way. The caller's BYE, voxgate's hangup, a
//! media timeout or an RTCP BYE end the call.

mod driver;
mod leg;
mod outbound;
mod ports;

use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use serde::Deserialize;
use voxgate_pipeline::Pipeline;

pub(crate) use driver::{Admission, SipService};

/// The `[sip]` section.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct SipConfig {
    /// The UDP address SIP is answered on. Default `127.0.0.1:5060`; env
    /// `VOXGATE_SIP_LISTEN`. Port 0 picks a free port (tests).
    pub(crate) listen: SocketAddr,
    /// The address peers reach voxgate at, written in Via, Contact and SDP. Default: the
    /// bound address; env `VOXGATE_SIP_PUBLIC_ADDR`. Set it behind NAT.
    pub(crate) public_addr: Option<SocketAddr>,
    /// RTP ports (each call takes an even port and the odd one above it for RTCP).
    /// Default `20000-29999`; env `VOXGATE_SIP_RTP_PORTS` (`first-last`).
    pub(crate) rtp_ports: String,
    /// Whether the SIP leg runs at all. Default true; env `VOXGATE_SIP_ENABLED`.
    pub(crate) enabled: bool,
    /// How long an incoming call rings (`180 Ringing`) before voxgate answers, in ms.
    /// Default 0: answered as soon as its number is looked up; env
    /// `VOXGATE_SIP_ANSWER_DELAY_MS`.
    pub(crate) answer_delay_ms: u64,
    /// Calls to numbers not registered in the control API: `auto` (the default: answered
    /// by the `default` circle's agent while no number is registered at all, so a fresh
    /// install answers any call; `404` once numbers are registered), `answer` or `reject`.
    /// Env `VOXGATE_SIP_UNKNOWN_NUMBERS`.
    pub(crate) unknown_numbers: UnknownNumbers,
}

/// What a call to a number the control API does not know gets; see
/// [`SipConfig::unknown_numbers`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum UnknownNumbers {
    /// Answered while no number is registered; `404` after.
    Auto,
    /// Always answered by the `default` circle's agent.
    Answer,
    /// Always `404 Not Found`.
    Reject,
}

impl std::str::FromStr for UnknownNumbers {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "auto" => Ok(Self::Auto),
            "answer" => Ok(Self::Answer),
            "reject" => Ok(Self::Reject),
            _ => Err(()),
        }
    }
}

impl Default for SipConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 5060)),
            public_addr: None,
            rtp_ports: "20000-29999".to_owned(),
            enabled: true,
            answer_delay_ms: 0,
            unknown_numbers: UnknownNumbers::Auto,
        }
    }
}

impl SipConfig {
    /// The RTP port range, checked: even first port, at least one pair.
    pub(crate) fn rtp_range(&self) -> anyhow::Result<RangeInclusive<u16>> {
        let (first, last) = self
            .rtp_ports
            .split_once('-')
            .context("sip.rtp_ports must be `first-last`")?;
        let first: u16 = first.trim().parse().context("sip.rtp_ports: first port")?;
        let last: u16 = last.trim().parse().context("sip.rtp_ports: last port")?;
        anyhow::ensure!(
            first > 0 && last > first,
            "sip.rtp_ports: `{first}-{last}` holds no port pair"
        );
        Ok(first..=last)
    }
}

/// Binds the SIP socket and starts the user agent task, answering calls with `pipeline`
/// (whose agent must speak at 8 kHz: G.711 is what the SIP leg carries) when `admission`
/// admits their number.
pub(crate) async fn start(
    config: &SipConfig,
    pipeline: Pipeline,
    admission: Arc<dyn Admission>,
) -> anyhow::Result<SipService> {
    let range = config.rtp_range()?;
    SipService::start(
        config.listen,
        config.public_addr,
        range,
        pipeline,
        admission,
        Duration::from_millis(config.answer_delay_ms),
    )
    .await
}

/// The number a Request-URI's user part dials: `46700000001` and `+46700000001` are both
/// `+46700000001` (46elks and most trunks send E.164 without the `+`); anything else (an
/// extension with letters, a name) stays as it is.
pub(crate) fn dialled_number(user: &str) -> String {
    let digits = user.strip_prefix('+').unwrap_or(user);
    if (2..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
    {
        format!("+{digits}")
    } else {
        user.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialled_numbers_read_as_e164() {
        assert_eq!(dialled_number("46700000001"), "+46700000001");
        assert_eq!(dialled_number("+46700000001"), "+46700000001");
        assert_eq!(dialled_number("0701234567"), "0701234567");
        assert_eq!(dialled_number("agent"), "agent");
        assert_eq!(dialled_number("1"), "1");
        assert_eq!(dialled_number("1234567890123456"), "1234567890123456");
    }

    #[test]
    fn rtp_ranges_are_checked() {
        let with = |ports: &str| SipConfig {
            rtp_ports: ports.to_owned(),
            ..SipConfig::default()
        };
        assert_eq!(
            with("20000-20009").rtp_range().expect("range"),
            20000..=20009
        );
        for bad in ["", "20000", "9-3", "0-10", "a-b", "20000-20000"] {
            assert!(with(bad).rtp_range().is_err(), "{bad}");
        }
    }
}
