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
mod ports;

use std::net::SocketAddr;
use std::ops::RangeInclusive;

use anyhow::Context as _;
use serde::Deserialize;
use voxgate_pipeline::Pipeline;

pub(crate) use driver::SipService;

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
}

impl Default for SipConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 5060)),
            public_addr: None,
            rtp_ports: "20000-29999".to_owned(),
            enabled: true,
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
/// (whose agent must speak at 8 kHz: G.711 is what the SIP leg carries).
pub(crate) async fn start(config: &SipConfig, pipeline: Pipeline) -> anyhow::Result<SipService> {
    let range = config.rtp_range()?;
    SipService::start(config.listen, config.public_addr, range, pipeline).await
}

#[cfg(test)]
mod tests {
    use super::*;

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
