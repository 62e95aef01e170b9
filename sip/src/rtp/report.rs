//! The RTCP side of the session: when reports go out and where, and what the peer's say.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use voxgate_media::rtp::Ssrc;

use super::rtcp::{Compound, ReportBlock, RtcpPacket, RtcpWriter, SenderInfo};

/// Whether the BYE of [`RtpSession::close`](super::RtpSession::close) is still to go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Goodbye {
    Open,
    Due,
    Sent,
}

/// What a peer's compound packet meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Heard {
    /// Refused: another stream's, or malformed.
    Refused,
    /// Accepted.
    Report,
    /// Accepted, and it says goodbye for the first time.
    Bye,
}

/// RTCP counters.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct RtcpStats {
    pub(super) sent: u64,
    pub(super) received: u64,
    pub(super) refused: u64,
}

/// The RTCP schedule, destination and what the peer reported.
#[derive(Debug)]
pub(super) struct Control {
    ssrc: Ssrc,
    cname: Box<[u8]>,
    /// The origin of our NTP timestamps (RFC 3550 §4 allows elapsed time).
    epoch: Instant,
    interval: Duration,
    next_report: Option<Instant>,
    /// Where RTCP goes when not multiplexed: the SDP address's next port, or a latched one.
    destination: SocketAddr,
    latched: bool,
    /// The peer sends RTCP on the RTP port (RFC 5761), so ours goes there too.
    mux: bool,
    /// The middle 32 bits of the peer's last SR and when it came.
    last_sr: Option<(u32, Instant)>,
    pub(super) round_trip: Option<Duration>,
    goodbye: Goodbye,
    remote_bye: bool,
    pub(super) stats: RtcpStats,
}

impl Control {
    /// RTCP for the stream `ssrc` whose peer is at `remote` (RTP), starting `now`.
    pub(super) fn new(ssrc: Ssrc, remote: SocketAddr, interval: Duration, now: Instant) -> Self {
        Self {
            ssrc,
            // RFC 7022 wants a CNAME unique to the session; the SSRC is random per call.
            cname: format!("voxgate-{:08x}", ssrc.0)
                .into_bytes()
                .into_boxed_slice(),
            epoch: now,
            interval,
            next_report: now.checked_add(interval),
            destination: rtcp_address(remote),
            latched: false,
            mux: false,
            last_sr: None,
            round_trip: None,
            goodbye: Goodbye::Open,
            remote_bye: false,
            stats: RtcpStats::default(),
        }
    }

    /// A new SDP address drops the latch and the multiplexing.
    pub(super) fn set_remote(&mut self, remote: SocketAddr) {
        self.destination = rtcp_address(remote);
        self.latched = false;
        self.mux = false;
    }

    /// Where RTCP goes, given where RTP goes; true when multiplexed on the RTP port.
    pub(super) fn destination(&self, rtp: SocketAddr) -> (SocketAddr, bool) {
        if self.mux {
            (rtp, true)
        } else {
            (self.destination, false)
        }
    }

    /// Sends the BYE with the next compound, at once.
    pub(super) fn close(&mut self) {
        if self.goodbye == Goodbye::Open {
            self.goodbye = Goodbye::Due;
        }
    }

    /// When a compound is due: `Some(now)`-like for a pending BYE (the epoch, long past),
    /// else the next report; `None` after the BYE.
    pub(super) fn deadline(&self) -> Option<Instant> {
        match self.goodbye {
            Goodbye::Due => Some(self.epoch),
            Goodbye::Open => self.next_report,
            Goodbye::Sent => None,
        }
    }

    /// LSR and DLSR for a report block about the peer (RFC 3550 §6.4.1).
    pub(super) fn last_sr(&self, now: Instant) -> (u32, u32) {
        match self.last_sr {
            Some((lsr, at)) => (lsr, to_units(now.saturating_duration_since(at))),
            None => (0, 0),
        }
    }

    /// Our NTP timestamp at `now`.
    pub(super) fn ntp(&self, now: Instant) -> u64 {
        let elapsed = now.saturating_duration_since(self.epoch);
        let fraction = (u64::from(elapsed.subsec_nanos()) << 32) / 1_000_000_000;
        (elapsed.as_secs() << 32) | fraction
    }

    /// Writes the due compound: SR (with `sender`) or RR, the report block about the peer
    /// if any, SDES CNAME, and BYE when closing. Moves the schedule on.
    pub(super) fn write(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        sender: Option<SenderInfo>,
        block: Option<ReportBlock>,
    ) -> Option<usize> {
        let bye = self.goodbye == Goodbye::Due;
        self.next_report = now.checked_add(self.interval);
        if bye {
            self.goodbye = Goodbye::Sent;
        }
        let blocks = block.as_slice();
        let mut w = RtcpWriter::new(buf);
        let report = match &sender {
            Some(info) => w.sender_report(self.ssrc, info, blocks),
            None => w.receiver_report(self.ssrc, blocks),
        };
        report.ok()?;
        w.cname(self.ssrc, &self.cname).ok()?;
        if bye {
            w.bye(self.ssrc).ok()?;
        }
        self.stats.sent += 1;
        Some(w.len())
    }

    /// Takes a peer datagram (`muxed`: it came on the RTP port). Accepted when its sender is
    /// the stream voxgate receives, or any sender before RTP told which; the first accepted
    /// packet latches the RTCP destination, later ones from the stream's SSRC move it.
    pub(super) fn handle(
        &mut self,
        now: Instant,
        from: SocketAddr,
        datagram: &[u8],
        muxed: bool,
        peer: Option<Ssrc>,
    ) -> Heard {
        let Ok(compound) = Compound::parse(datagram) else {
            self.stats.refused += 1;
            return Heard::Refused;
        };
        let sender = compound.sender();
        let known = peer.is_some() && sender == peer;
        if peer.is_some() && !known {
            self.stats.refused += 1;
            return Heard::Refused;
        }
        self.stats.received += 1;
        if muxed {
            self.mux = true;
        } else if !self.latched || known {
            self.destination = from;
            self.latched = true;
        }
        let mut bye = false;
        for packet in compound.packets() {
            bye |= self.take(now, &packet, sender);
        }
        if bye && !self.remote_bye {
            self.remote_bye = true;
            return Heard::Bye;
        }
        Heard::Report
    }

    /// Takes one packet; true for a BYE of the sender.
    fn take(&mut self, now: Instant, packet: &RtcpPacket<'_>, sender: Option<Ssrc>) -> bool {
        let reports = match packet {
            RtcpPacket::SenderReport { info, reports, .. } => {
                // The middle 32 bits of the NTP timestamp (RFC 3550 §6.4.1, LSR).
                self.last_sr = Some(((info.ntp >> 16) as u32, now));
                reports
            }
            RtcpPacket::ReceiverReport { reports, .. } => reports,
            RtcpPacket::Bye(bye) => return bye.ssrcs().any(|s| Some(s) == sender),
            RtcpPacket::SourceDescription(_) | RtcpPacket::Other { .. } => return false,
        };
        if let Some(block) = reports.iter().find(|b| b.ssrc == self.ssrc) {
            self.round_trip = self.round_trip_from(now, &block).or(self.round_trip);
        }
        false
    }

    /// RTT = now - LSR - DLSR, in the middle-32-bit NTP units (RFC 3550 §6.4.1).
    fn round_trip_from(&self, now: Instant, block: &ReportBlock) -> Option<Duration> {
        if block.last_sr == 0 {
            return None;
        }
        let now_mid = (self.ntp(now) >> 16) as u32;
        let units = now_mid
            .wrapping_sub(block.last_sr)
            .wrapping_sub(block.delay_since_last_sr);
        // A negative result (a wrong DLSR) wraps to a huge value: ignore it.
        (units < 1 << 31).then(|| from_units(units))
    }
}

/// The RTCP port of an RTP address: the next one (RFC 3550 §11), or the same one for the
/// last port.
fn rtcp_address(rtp: SocketAddr) -> SocketAddr {
    let mut addr = rtp;
    addr.set_port(rtp.port().checked_add(1).unwrap_or(rtp.port()));
    addr
}

/// A duration in 1/65536 s, saturating.
fn to_units(d: Duration) -> u32 {
    let units = d.as_nanos() * 65_536 / 1_000_000_000;
    u32::try_from(units).unwrap_or(u32::MAX)
}

/// 1/65536 s units as a duration.
fn from_units(units: u32) -> Duration {
    Duration::from_nanos(u64::from(units) * 1_000_000_000 / 65_536)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ntp_and_units() {
        let t0 = Instant::now();
        let c = Control::new(
            Ssrc(1),
            "192.0.2.1:4000".parse().expect("addr"),
            Duration::from_secs(5),
            t0,
        );
        let table = [
            (Duration::ZERO, 0u64),
            (Duration::from_millis(500), 1 << 31),
            (Duration::from_millis(2250), (2 << 32) | (1 << 30)),
        ];
        for (d, ntp) in table {
            assert_eq!(c.ntp(t0 + d), ntp, "{d:?}");
        }
        assert_eq!(to_units(Duration::from_millis(1500)), 98_304);
        assert_eq!(from_units(98_304), Duration::from_millis(1500));
        assert_eq!(c.destination(c.destination).0.port(), 4001);
        let last = rtcp_address("192.0.2.1:65535".parse().expect("addr"));
        assert_eq!(last.port(), 65535);
    }
}
