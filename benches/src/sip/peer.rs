//! **IO edge**: the caller's media for one SIP call: an RTP/RTCP port pair that the call's
//! SDP offer names, speech sent from it and voxgate's stream measured on it.
//!
//! voxgate starts sending (idle silence, then its greeting) as soon as it answers, from
//! its own RTP port: the first packet tells the peer where voxgate is (the harness does not
//! see the SDP answer, SIPp does), and from then on the peer sends the caller's speech to it
//! in 20 ms packets on its own grid, from the port voxgate latches onto (symmetric RTP). The
//! call is over when voxgate's RTCP BYE arrives, when its stream has been silent for
//! [`IDLE_END`], or at the deadline the run sets.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::net::UdpSocket;
use tokio::sync::watch;
use voxgate_media::rtp::{RtpHeader, Ssrc};

use super::meter::{StreamMeter, StreamStats};

/// voxgate's stream silent this long ends the call (it sends every 20 ms while a call is up).
pub const IDLE_END: Duration = Duration::from_secs(2);
/// One packet: 20 ms of G.711 at 8 kHz.
const FRAME: Duration = Duration::from_millis(20);
const FRAME_BYTES: usize = 160;
/// RTCP packet type of BYE (RFC 3550 §6.6).
const RTCP_BYE: u8 = 203;
/// Room for one datagram.
const DATAGRAM: usize = 1500;

/// What the caller says: a G.711 byte stream in the offered payload type, looped.
#[derive(Debug, Clone)]
pub struct Speech {
    /// The RTP payload type (8, PCMA).
    pub payload_type: u8,
    /// The encoded audio, a whole number of 20 ms frames.
    pub bytes: Arc<[u8]>,
}

/// How one call ended on the media side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaEnd {
    /// No packet from voxgate before the deadline.
    NoMedia,
    /// voxgate's RTCP BYE.
    Bye,
    /// voxgate stopped sending without a BYE.
    Silent,
    /// The run's deadline.
    Deadline,
}

/// What one call's media measured.
#[derive(Debug, Clone)]
pub struct PeerOutcome {
    /// How it ended.
    pub end: MediaEnd,
    /// Packets the caller sent.
    pub sent: u64,
    /// voxgate's stream.
    pub stream: StreamStats,
}

/// One call's port pair.
#[derive(Debug)]
pub struct MediaPeer {
    rtp: UdpSocket,
    rtcp: UdpSocket,
}

impl MediaPeer {
    /// Binds the first free even/odd pair on `ip` at or above `*next`, and moves `*next`
    /// past it.
    ///
    /// # Errors
    ///
    /// When no pair is free below port 65534.
    pub async fn bind(ip: IpAddr, next: &mut u16) -> anyhow::Result<Self> {
        while *next < u16::MAX - 1 {
            let port = *next + *next % 2;
            *next = port + 2;
            let Ok(rtp) = UdpSocket::bind(SocketAddr::new(ip, port)).await else {
                continue;
            };
            if let Ok(rtcp) = UdpSocket::bind(SocketAddr::new(ip, port + 1)).await {
                return Ok(Self { rtp, rtcp });
            }
        }
        anyhow::bail!("no free RTP port pair on {ip}")
    }

    /// The RTP port (the SDP offer's `m=audio` port).
    ///
    /// # Errors
    ///
    /// When the socket has no address.
    pub fn port(&self) -> anyhow::Result<u16> {
        Ok(self.rtp.local_addr().context("RTP socket address")?.port())
    }

    /// Runs the call's media until it ends or `deadline` (which the run may bring forward)
    /// passes. `seed` picks the SSRC and where in `speech` the caller starts.
    pub async fn run(
        self,
        speech: Speech,
        seed: usize,
        mut deadline: watch::Receiver<Instant>,
    ) -> PeerOutcome {
        let mut call = Call {
            peer: self,
            speech,
            meter: StreamMeter::new(),
            remote: None,
            sent: 0,
            cursor: seed.wrapping_mul(37 * FRAME_BYTES),
            ssrc: Ssrc(0x766f_0000 | (seed as u32 & 0xffff)),
            last_heard: None,
        };
        let end = call.drive(&mut deadline).await;
        PeerOutcome {
            end,
            sent: call.sent,
            stream: call.meter.finish(),
        }
    }
}

/// A call's media in progress.
struct Call {
    peer: MediaPeer,
    speech: Speech,
    meter: StreamMeter,
    /// voxgate's RTP address and when the caller's packet 0 was due.
    remote: Option<(SocketAddr, Instant)>,
    sent: u64,
    /// Byte offset into the speech of the next packet.
    cursor: usize,
    ssrc: Ssrc,
    last_heard: Option<Instant>,
}

impl Call {
    async fn drive(&mut self, deadline: &mut watch::Receiver<Instant>) -> MediaEnd {
        let mut rtp_in = vec![0u8; DATAGRAM];
        let mut rtcp_in = vec![0u8; DATAGRAM];
        let mut out = vec![0u8; DATAGRAM];
        loop {
            let until = *deadline.borrow_and_update();
            let send_at = self.next_send();
            let idle_at = self.last_heard.map(|t| t + IDLE_END);
            tokio::select! {
                received = self.peer.rtp.recv_from(&mut rtp_in) => {
                    if let Ok((len, from)) = received {
                        self.heard(from, rtp_in.get(..len).unwrap_or_default());
                    }
                }
                received = self.peer.rtcp.recv_from(&mut rtcp_in) => {
                    if let Ok((len, _)) = received
                        && has_bye(rtcp_in.get(..len).unwrap_or_default())
                    {
                        return MediaEnd::Bye;
                    }
                }
                () = sleep_until(send_at) => self.send(&mut out).await,
                () = sleep_until(idle_at) => return MediaEnd::Silent,
                () = tokio::time::sleep_until(until.into()) => {
                    return if self.meter.started() { MediaEnd::Deadline } else { MediaEnd::NoMedia };
                }
                changed = deadline.changed() => {
                    if changed.is_err() {
                        return MediaEnd::Deadline;
                    }
                }
            }
        }
    }

    fn heard(&mut self, from: SocketAddr, datagram: &[u8]) {
        let now = Instant::now();
        self.meter.handle(now, datagram);
        self.last_heard = Some(now);
        if self.remote.is_none() && self.meter.started() {
            self.remote = Some((from, now));
        }
    }

    /// When the caller's next packet is due: on a 20 ms grid from voxgate's first packet.
    fn next_send(&self) -> Option<Instant> {
        let (_, start) = self.remote?;
        Some(start + FRAME * u32::try_from(self.sent).unwrap_or(u32::MAX))
    }

    async fn send(&mut self, out: &mut [u8]) {
        let Some((to, _)) = self.remote else {
            return;
        };
        let audio = &self.speech.bytes;
        if audio.len() < FRAME_BYTES {
            return;
        }
        let at = self.cursor % (audio.len() - audio.len() % FRAME_BYTES);
        let payload = audio.get(at..at + FRAME_BYTES).unwrap_or_default();
        self.cursor = at + FRAME_BYTES;
        let mut header = RtpHeader::new(
            self.speech.payload_type,
            self.sent as u16,
            (self.sent as u32).wrapping_mul(FRAME_BYTES as u32),
            self.ssrc,
        );
        header.marker = self.sent == 0;
        self.sent += 1;
        if let Ok(len) = header.write(payload, out) {
            // A send that fails (voxgate's port gone at the end) is not the measurement.
            let _ = self
                .peer
                .rtp
                .send_to(out.get(..len).unwrap_or_default(), to)
                .await;
        }
    }
}

/// Whether an RTCP compound packet holds a BYE.
fn has_bye(mut compound: &[u8]) -> bool {
    while let [first, pt, len_hi, len_lo, ..] = *compound {
        if first >> 6 != 2 {
            return false;
        }
        if pt == RTCP_BYE {
            return true;
        }
        let len = (usize::from(u16::from_be_bytes([len_hi, len_lo])) + 1) * 4;
        compound = compound.get(len..).unwrap_or_default();
    }
    false
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byes_are_found_in_compounds() {
        // RR (no blocks), SDES with one chunk, then BYE.
        let rr = [0x80, 201, 0, 1, 0, 0, 0, 9];
        let sdes = [0x81, 202, 0, 2, 0, 0, 0, 9, 1, 1, b'x', 0];
        let bye = [0x81, RTCP_BYE, 0, 1, 0, 0, 0, 9];
        assert!(has_bye(&[rr.as_slice(), &sdes, &bye].concat()));
        assert!(!has_bye(&[rr.as_slice(), &sdes].concat()));
        assert!(!has_bye(b"garbage"));
        assert!(!has_bye(&[]));
    }

    #[tokio::test]
    async fn a_call_is_answered_measured_and_ended_by_bye() {
        let ip = IpAddr::from([127, 0, 0, 1]);
        let mut next = 41000;
        let peer = MediaPeer::bind(ip, &mut next).await.expect("binds");
        let port = peer.port().expect("port");
        assert_eq!(port % 2, 0);
        let speech = Speech {
            payload_type: 8,
            bytes: vec![0xd5; 1600].into(),
        };
        let (_keep, deadline) = watch::channel(Instant::now() + Duration::from_secs(10));
        let call = tokio::spawn(peer.run(speech, 1, deadline));
        // voxgate's side: five packets of silence, then an RTCP BYE.
        let server = UdpSocket::bind((ip, 0)).await.expect("binds");
        for i in 0..5u16 {
            let mut out = [0u8; 200];
            let len = RtpHeader::new(8, i, u32::from(i) * 160, Ssrc(1))
                .write(&[0xd5; 160], &mut out)
                .expect("fits");
            server.send_to(&out[..len], (ip, port)).await.expect("sent");
            tokio::time::sleep(FRAME).await;
        }
        let mut got = [0u8; DATAGRAM];
        let (len, _) = server.recv_from(&mut got).await.expect("the caller speaks");
        assert_eq!(len, 12 + FRAME_BYTES);
        server
            .send_to(&[0x80, RTCP_BYE, 0, 1, 0, 0, 0, 1], (ip, port + 1))
            .await
            .expect("sent");
        let outcome = call.await.expect("joins");
        assert_eq!(outcome.end, MediaEnd::Bye);
        assert_eq!(outcome.stream.packets, 5);
        assert!(outcome.sent >= 3, "{}", outcome.sent);
    }
}
