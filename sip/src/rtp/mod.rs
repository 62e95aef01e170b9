//! The per-call RTP session: voxgate's audio on a SIP leg, sans-IO.
//!
//! [`RtpSession`] runs one call's media as offer/answer settled it
//! ([`MediaParams`](crate::codec::MediaParams)): it paces agent audio out in 20 ms packets,
//! turns the peer's packets into 20 ms caller frames through `voxgate-media`'s jitter
//! buffer, carries RFC 4733 DTMF both ways and keeps a minimal RTCP conversation going. It
//! does no IO and reads no clock; the call task owns the two UDP sockets (RTP, and RTCP on
//! the next port) and drives it:
//!
//! ```text
//! loop {
//!     select! {
//!         (n, from) = rtp.recv_from(&mut buf)  => session.handle_rtp(now, from, &buf[..n]),
//!         (n, from) = rtcp.recv_from(&mut buf) => session.handle_rtcp(now, from, &buf[..n]),
//!         _ = sleep_until(session.poll_timeout()) => session.handle_timeout(now),
//!     }
//!     while let Some(event) = session.poll_event() { .. }       // caller audio, DTMF, BYE
//!     while let Some(t) = session.poll_transmit(now, &mut out) { // RTP and RTCP due now
//!         let socket = if t.rtcp { &rtcp } else { &rtp };        // rtcp-mux: the RTP one
//!         socket.send_to(&out[..t.len], t.to);
//!     }
//!     while session.can_send(now) { session.send_audio(now, next_agent_frame)?; }
//! }
//! ```
//!
//! # Outbound: pacing
//!
//! Packet `n` is due at `anchor + n × 20 ms`, a grid fixed when the session starts, so a
//! driver that wakes a little late never makes the stream drift. A driver that wakes 60 ms
//! or more after a slot's time gets at most [`MAX_BURST`] packets at once: the older slots
//! are skipped (the grid is kept, so the next packets are on time again) and their
//! timestamps left out, which the peer's jitter buffer takes for a short loss rather than a
//! burst it must absorb; queued agent audio is not lost, only sent in later slots. The RTP
//! timestamp belongs to the slot (one frame per 20 ms, audio or not); the sequence number
//! grows by one per packet sent. A slot sends, in order of preference: the next RFC 4733
//! DTMF packet, the next queued agent frame, or encoded silence when
//! [`RtpConfig::idle_silence`] is on (it keeps NAT pinholes and the peer's jitter buffer
//! alive). The marker bit starts each talkspurt and follows any gap (RFC 3551 §4.1). While
//! voxgate's direction does not send (hold, RFC 3264 §8.4) or the peer's address is
//! unspecified, slots send nothing and consume queued agent audio unheard, so the
//! pipeline's pacing goes on.
//!
//! # Inbound: symmetric RTP and demultiplexing
//!
//! Packets go to `params.remote` until the peer's own packets show where it really is
//! (symmetric RTP, RFC 4961; the "comedia" latching SBCs do behind NAT). The rule against
//! hijacking: the first valid packet (well-formed, a negotiated payload type or comfort
//! noise) latches the address; garbage never does. Later, a packet from another address
//! moves the latch at once only if it carries the SSRC being received (a NAT rebinding keeps
//! the SSRC, which an off-path attacker cannot see); with any other SSRC it needs the current
//! stream to have been silent for [`RELATCH_AFTER`] (2 s). A new SSRC from the latched
//! address is accepted after [`SSRC_SWITCH_GAP`] (100 ms) of silence from the old one, or at
//! once as the first packet after [`RtpSession::update`] (a re-INVITE often restarts the
//! peer's stream). RTCP latches the same way, keyed on the SSRC of the RTP stream.
//!
//! A datagram on the RTP port whose second byte is 192-223 (RTCP packet types, or RTP
//! payload types 64-95 with the marker set) and whose payload type was not negotiated is
//! RTCP (RFC 5761 §4): rtcp-mux works, and once the peer multiplexes, so does voxgate.
//! Telephone-events become [`RtpEvent::Dtmf`] once per event, comfort noise (PT 13, RFC
//! 3389) only keeps the stream alive, and audio goes into the jitter buffer.
//!
//! # RTCP
//!
//! A compound of SR (if voxgate sent RTP since its last report) or RR, with one report block
//! about the peer's stream, and SDES CNAME goes out every [`RtpConfig::rtcp_interval`]
//! (RFC 3550 §6.4; no randomization, which only matters with many participants), plus BYE on
//! [`RtpSession::close`]. RTCP goes to the SDP address's next port (RFC 3550 §11) until the
//! peer's own RTCP shows where it is, and keeps going on hold (RFC 3264 §8.4). The NTP
//! timestamps count from the session's start, not from 1900: a sans-IO session has no wall
//! clock, and the peer only echoes them (as LSR, RFC 3550 §6.4.1) so that voxgate can
//! measure the round trip. A peer BYE naming the stream voxgate receives is
//! [`RtpEvent::RemoteBye`].
//!
//! # What it does not do
//!
//! No SRTP, no RTP header extensions, no ptime other than 20 ms (whatever `a=ptime` says,
//! voxgate sends 20 ms and the jitter buffer rejects other packet lengths), no sender-side
//! transcoding: agent audio comes at [`RtpSession::audio_rate`]. After [`RtpSession::new`]
//! and [`RtpSession::update`] it allocates nothing per packet or frame.

mod config;
mod dtmf;
mod inbound;
mod outbound;
mod pacer;
mod queue;
mod reception;
mod report;
pub mod rtcp;
mod session;

#[cfg(test)]
mod tests;

pub use config::RtpConfig;
pub use inbound::{RELATCH_AFTER, SSRC_SWITCH_GAP};
pub use pacer::MAX_BURST;
pub use session::RtpSession;

use std::net::SocketAddr;
use std::time::Duration;

use voxgate_media::AudioFrame;

/// One 20 ms packet time: the only one voxgate sends or receives.
pub const FRAME: Duration = Duration::from_millis(20);

/// What the session tells its driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RtpEvent {
    /// 20 ms of the caller at [`RtpSession::audio_rate`], in order, one every 20 ms once the
    /// peer's first packet arrived (concealment or silence fills gaps). Give it back with
    /// [`RtpSession::recycle`].
    CallerAudio(AudioFrame),
    /// A DTMF digit (`0`-`9`, `*`, `#`, `A`-`D`), once per RFC 4733 event.
    Dtmf(char),
    /// The peer sent an RTCP BYE for its stream (RFC 3550 §6.6).
    RemoteBye,
    /// No RTP arrived for [`RtpConfig::media_timeout`] while media flowed both ways. Given
    /// once; armed again by the next packet or [`RtpSession::update`].
    MediaTimeout,
}

/// A datagram [`RtpSession::poll_transmit`] wrote into the caller's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transmit {
    /// Where to send it.
    pub to: SocketAddr,
    /// Its length at the start of the buffer.
    pub len: usize,
    /// Send it from the RTCP socket: RTCP on its own port. False for RTP, and for RTCP
    /// multiplexed on the RTP port (RFC 5761) once the peer does so.
    pub rtcp: bool,
}

/// Counters and the state of the latch, for metrics and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpStats {
    /// RTP packets sent.
    pub packets_sent: u64,
    /// RTP payload octets sent (what an SR counts).
    pub bytes_sent: u64,
    /// RTP packets accepted from the peer (audio, DTMF and comfort noise).
    pub packets_received: u64,
    /// RTP payload octets accepted.
    pub bytes_received: u64,
    /// Packets of the current peer stream lost (RFC 3550 A.3: expected minus received;
    /// duplicates can make it negative).
    pub lost: i64,
    /// Interarrival jitter of the peer's stream (RFC 3550 A.8).
    pub jitter: Duration,
    /// Audio packets that arrived after their play-out time.
    pub late: u64,
    /// Audio packets the jitter buffer rejected, dropped or found duplicate.
    pub dropped: u64,
    /// Caller frames concealed or filled with silence.
    pub concealed: u64,
    /// Caller frames that had to be allocated because they were not given back with
    /// [`RtpSession::recycle`] (0 in a well-behaved driver: nothing allocates per frame).
    pub frame_allocations: u64,
    /// Datagrams on the RTP port that are not RTP (nor muxed RTCP).
    pub malformed: u64,
    /// RTP packets of a payload type not negotiated.
    pub unknown_payload_type: u64,
    /// RTP packets refused by the latching rule (another address or SSRC).
    pub foreign: u64,
    /// Pacing slots skipped because the driver woke more than 60 ms late.
    pub skipped_slots: u64,
    /// Agent frames consumed unsent while voxgate's direction does not send.
    pub discarded_frames: u64,
    /// RTCP compound packets sent.
    pub rtcp_sent: u64,
    /// RTCP compound packets accepted from the peer.
    pub rtcp_received: u64,
    /// RTCP datagrams refused: malformed, or another stream's.
    pub rtcp_refused: u64,
    /// Where RTP goes now.
    pub remote: SocketAddr,
    /// Where RTCP goes now.
    pub rtcp_remote: SocketAddr,
    /// Whether the RTP destination came from the peer's packets rather than the SDP.
    pub latched: bool,
    /// The round trip from the peer's last report about our stream (RFC 3550 §6.4.1).
    pub round_trip: Option<Duration>,
}

/// Why the RTP session refused a packet or a command; a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RtpSessionErrorKind {
    /// A payload type the session cannot carry: above 127, one RFC 3551 §3 reserves to tell
    /// RTP from RTCP (72-76), or the same number for audio and telephone-event.
    UnknownPayloadType,
    /// `send_audio` while the outbound queue is full (`can_send` was false).
    QueueFull,
    /// A command after [`RtpSession::close`].
    Closed,
    /// `send_dtmf` with a character that is not `0`-`9`, `*`, `#` or `A`-`D`.
    InvalidDigit,
    /// `send_dtmf` on a call that did not negotiate telephone-event.
    DtmfNotNegotiated,
    /// `send_dtmf` with 16 digits already waiting.
    DtmfQueueFull,
    /// `send_dtmf` while voxgate's direction does not send (hold).
    NotSending,
    /// An RTCP packet shorter than its fixed part.
    RtcpTooShort,
    /// An RTCP packet whose version is not 2.
    RtcpBadVersion,
    /// An RTCP length field that runs past the datagram.
    RtcpBadLength,
    /// RTCP padding on a packet that is not the last, or a padding count that does not fit.
    RtcpBadPadding,
    /// An RTCP report, source or item count that does not fit the packet.
    RtcpBadCount,
    /// The buffer is too small for the RTCP compound packet.
    RtcpOutputTooSmall,
}

impl RtpSessionErrorKind {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::UnknownPayloadType => "RTP_UNKNOWN_PAYLOAD_TYPE",
            Self::QueueFull => "RTP_QUEUE_FULL",
            Self::Closed => "RTP_SESSION_CLOSED",
            Self::InvalidDigit => "RTP_INVALID_DIGIT",
            Self::DtmfNotNegotiated => "RTP_DTMF_NOT_NEGOTIATED",
            Self::DtmfQueueFull => "RTP_DTMF_QUEUE_FULL",
            Self::NotSending => "RTP_NOT_SENDING",
            Self::RtcpTooShort => "RTCP_TOO_SHORT",
            Self::RtcpBadVersion => "RTCP_BAD_VERSION",
            Self::RtcpBadLength => "RTCP_BAD_LENGTH",
            Self::RtcpBadPadding => "RTCP_BAD_PADDING",
            Self::RtcpBadCount => "RTCP_BAD_COUNT",
            Self::RtcpOutputTooSmall => "RTCP_OUTPUT_TOO_SMALL",
        }
    }
}
crate::error::display_as_code!(RtpSessionErrorKind);

/// The error for `kind`.
fn error(kind: RtpSessionErrorKind) -> crate::SipError {
    crate::SipError::RtpSession { kind }
}
