//! **IO edge**: RTP/RTCP port pairs from the configured range.

use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicU16, Ordering};

use tokio::net::UdpSocket;

/// Hands out port pairs round-robin from a range, binding each to prove it is free (a port
/// another process holds is skipped). Round-robin rather than lowest-free: a port just
/// released may still receive the last call's stray packets.
#[derive(Debug)]
pub(crate) struct Ports {
    ip: IpAddr,
    first: u16,
    pairs: u16,
    next: AtomicU16,
}

impl Ports {
    /// Pairs on `ip` in `range` (its first port rounded up to even).
    pub(crate) fn new(ip: IpAddr, range: RangeInclusive<u16>) -> Self {
        let first = range.start().saturating_add(range.start() % 2);
        let pairs = (range.end().saturating_sub(first).saturating_add(1)) / 2;
        Self {
            ip,
            first,
            pairs,
            next: AtomicU16::new(0),
        }
    }

    /// Binds the next free pair: (RTP socket, RTCP socket). `None` when every pair is taken.
    pub(crate) async fn bind(&self) -> Option<(UdpSocket, UdpSocket)> {
        for _ in 0..self.pairs {
            let i = self.next.fetch_add(1, Ordering::Relaxed) % self.pairs.max(1);
            let port = self.first + 2 * i;
            let Ok(rtp) = UdpSocket::bind(SocketAddr::new(self.ip, port)).await else {
                continue;
            };
            if let Ok(rtcp) = UdpSocket::bind(SocketAddr::new(self.ip, port + 1)).await {
                return Some((rtp, rtcp));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pairs_are_even_odd_and_taken_ports_are_skipped() {
        let ip = IpAddr::from([127, 0, 0, 1]);
        // Find a free even pair region by binding a probe.
        let probe = UdpSocket::bind((ip, 0)).await.expect("probe");
        let base = probe.local_addr().expect("addr").port() & !1;
        drop(probe);
        let first = if base > 60000 { 40000 } else { base };
        let ports = Ports::new(ip, first + 1..=first + 5);
        let (rtp, rtcp) = ports.bind().await.expect("a pair");
        let port = rtp.local_addr().expect("addr").port();
        assert_eq!(port % 2, 0);
        assert_eq!(rtcp.local_addr().expect("addr").port(), port + 1);
        let (second, _) = ports.bind().await.expect("another pair");
        assert_ne!(second.local_addr().expect("addr").port(), port);
        // Both pairs of the range are held: none is left.
        assert!(ports.bind().await.is_none());
        drop((rtp, rtcp));
        assert!(
            ports.bind().await.is_some(),
            "a released pair is used again"
        );
    }
}
