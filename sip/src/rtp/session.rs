//! [`RtpSession`]: the outbound and inbound halves and RTCP, behind one sans-IO face.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use voxgate_media::rtp::{Ssrc, dtmf_event};
use voxgate_media::{AudioFrame, MediaError, SampleRate};

use super::inbound::Inbound;
use super::outbound::Outbound;
use super::report::{Control, Heard};
use super::rtcp::SenderInfo;
use super::{FRAME, RtpConfig, RtpEvent, RtpSessionErrorKind as Kind, RtpStats, Transmit, error};
use crate::SipError;
use crate::codec::{Direction, MediaParams};

/// Events held for the driver; more are dropped (a peer flooding DTMF events).
const MAX_EVENTS: usize = 64;

/// One call's RTP session; see the [module docs](super).
#[derive(Debug)]
pub struct RtpSession {
    config: RtpConfig,
    params: MediaParams,
    /// The latest `now` any call brought; caller frames are polled against it.
    now: Instant,
    outbound: Outbound,
    inbound: Inbound,
    control: Control,
    events: VecDeque<RtpEvent>,
    /// Media is expected from here on (start, or the last `update`).
    media_since: Instant,
    /// When `MediaTimeout` was given, until media or an update arms it again.
    timed_out: Option<Instant>,
    closed: bool,
}

impl RtpSession {
    /// A session for `params` sending as `ssrc` from sequence number `seq` and RTP timestamp
    /// `timestamp` (RFC 3550 §5.1: pick all three at random), with its pacing grid anchored
    /// at `now`. Every buffer is allocated here.
    pub fn new(
        config: RtpConfig,
        params: &MediaParams,
        ssrc: Ssrc,
        seq: u16,
        timestamp: u32,
        now: Instant,
    ) -> Result<Self, SipError> {
        check(params)?;
        let idle = config.idle_silence;
        let origin = (ssrc, seq, timestamp);
        let outbound = Outbound::new(params, config.queue_frames(), idle, origin, now)?;
        let mut session = Self {
            inbound: Inbound::new(params, config.jitter)?,
            control: Control::new(ssrc, params.remote, config.report_interval(), now),
            outbound,
            config,
            params: params.clone(),
            now,
            events: VecDeque::with_capacity(MAX_EVENTS),
            media_since: now,
            timed_out: None,
            closed: false,
        };
        if !session.sending() {
            session.outbound.pause();
        }
        Ok(session)
    }

    /// Takes what a re-INVITE settled: a new remote address (the latches start over), a new
    /// direction (hold and resume), the same codec or a new one (new encoder and jitter
    /// buffer; timestamps and sequence numbers go on). Params with unusable payload types
    /// are refused and leave the session as it was.
    pub fn update(&mut self, params: &MediaParams, now: Instant) -> Result<(), SipError> {
        check(params)?;
        self.tick(now);
        let was_sending = self.sending();
        let old = self.params.clone();
        self.inbound.update(params, &old, self.config.jitter)?;
        self.outbound.update(params, old.codec)?;
        if params.remote != old.remote {
            self.control.set_remote(params.remote);
        }
        self.params = params.clone();
        self.media_since = now;
        self.timed_out = None;
        match (was_sending, self.sending()) {
            (true, false) => self.outbound.pause(),
            (false, true) => self.outbound.restart(now),
            _ => {}
        }
        Ok(())
    }

    /// The rate of caller frames and of the agent audio `send_audio` takes.
    pub fn audio_rate(&self) -> SampleRate {
        self.params.codec.audio_rate()
    }

    /// A datagram from the RTP port. RTCP is told apart by its packet type (RFC 5761 §4),
    /// so rtcp-mux works too. Never fails: what is not usable is counted and dropped.
    pub fn handle_rtp(&mut self, now: Instant, from: SocketAddr, datagram: &[u8]) {
        self.tick(now);
        if self.closed {
            return;
        }
        if let Some(&second) = datagram.get(1)
            && self.inbound.is_muxed_rtcp(second)
        {
            self.take_rtcp(now, from, datagram, true);
            return;
        }
        if let Some(digit) = self.inbound.handle(now, from, datagram) {
            self.push_event(RtpEvent::Dtmf(digit));
        }
        if self
            .timed_out
            .is_some_and(|at| self.inbound.last_heard() > Some(at))
        {
            self.timed_out = None;
        }
    }

    /// A datagram from the RTCP port.
    pub fn handle_rtcp(&mut self, now: Instant, from: SocketAddr, datagram: &[u8]) {
        self.tick(now);
        if !self.closed {
            self.take_rtcp(now, from, datagram, false);
        }
    }

    /// Time passes: gives `MediaTimeout` when due. Caller frames due by `now` come out of
    /// [`poll_event`](Self::poll_event), and packets due out of
    /// [`poll_transmit`](Self::poll_transmit).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.tick(now);
        if self.media_deadline().is_some_and(|at| at <= now) {
            self.timed_out = Some(now);
            self.push_event(RtpEvent::MediaTimeout);
        }
    }

    /// The earliest of: the next pacing slot with something to send, the next caller frame,
    /// the next RTCP report and the media timeout. `None` only once closed and the BYE is out.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let slot = self
            .outbound
            .busy(self.sending() && !self.closed)
            .then(|| self.outbound.pacer.due())
            .flatten();
        let frame = (!self.closed)
            .then(|| self.inbound.jitter.poll_timeout())
            .flatten();
        [slot, frame, self.control.deadline(), self.media_deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    /// The next event: DTMF, BYE and timeout first, then the caller frames due by the
    /// latest `now` seen.
    pub fn poll_event(&mut self) -> Option<RtpEvent> {
        if let Some(event) = self.events.pop_front() {
            return Some(event);
        }
        if self.closed {
            return None;
        }
        self.inbound
            .jitter
            .poll(self.now)
            .map(RtpEvent::CallerAudio)
    }

    /// Gives a `CallerAudio` frame back, so the next ones need no allocation.
    pub fn recycle(&mut self, frame: AudioFrame) {
        self.inbound.jitter.recycle(frame);
    }

    /// Writes the next due packet, RTP first, then RTCP, into `buf` (1500 bytes hold any);
    /// `None` when nothing is due at `now`. Call until `None`.
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        self.tick(now);
        let (rtp_to, _) = self.inbound.destination();
        let to = (self.sending() && !self.closed).then_some(rtp_to);
        if let Some(len) = self.outbound.poll(now, to, buf) {
            return Some(Transmit {
                to: rtp_to,
                len,
                rtcp: false,
            });
        }
        self.poll_rtcp(now, rtp_to, buf)
    }

    /// Whether `send_audio` takes a frame now: the queue is below `max_queued`.
    pub fn can_send(&self, _now: Instant) -> bool {
        !self.closed && self.outbound.queue().has_room()
    }

    /// Queues one 20 ms frame of agent audio at [`audio_rate`](Self::audio_rate), copied into
    /// a preallocated slot. Refused: the wrong length, a full queue (`can_send` false),
    /// after `close`. On hold the frame is consumed unsent at its slot.
    pub fn send_audio(&mut self, now: Instant, pcm: &[i16]) -> Result<(), SipError> {
        self.tick(now);
        if self.closed {
            return Err(error(Kind::Closed));
        }
        let expected = self.outbound.queue().frame_len();
        if pcm.len() != expected {
            let actual = pcm.len();
            return Err(MediaError::BufferLength { expected, actual }.into());
        }
        if !self.outbound.queue().has_room() {
            return Err(error(Kind::QueueFull));
        }
        self.outbound.wake(now, self.sending());
        self.outbound.push(pcm);
        Ok(())
    }

    /// Agent audio queued and not yet sent (20 ms per frame).
    pub fn buffered(&self, _now: Instant) -> Duration {
        FRAME * u32::try_from(self.outbound.queue().len()).unwrap_or(u32::MAX / 20)
    }

    /// When `can_send` turns true again: `now` if it is, else the next slot, which takes a
    /// frame off the queue (unless a DTMF event holds it).
    pub fn next_send_at(&self, now: Instant) -> Instant {
        if self.can_send(now) {
            return now;
        }
        self.outbound.pacer.due().map_or(now, |due| due.max(now))
    }

    /// Barge-in: drops every queued frame at once. Timestamps and sequence numbers go on;
    /// the next agent audio starts a talkspurt (marker bit).
    pub fn interrupt(&mut self, now: Instant) {
        self.tick(now);
        self.outbound.interrupt();
    }

    /// Sends `digit` as an RFC 4733 event lasting `duration` (whole 20 ms packets, at least
    /// 40 ms), after any digit still going out. It takes the pacing slots, so agent audio
    /// waits meanwhile.
    pub fn send_dtmf(
        &mut self,
        now: Instant,
        digit: char,
        duration: Duration,
    ) -> Result<(), SipError> {
        self.tick(now);
        if self.closed {
            return Err(error(Kind::Closed));
        }
        let code = dtmf_event(digit).ok_or(error(Kind::InvalidDigit))?;
        if self.params.dtmf_payload_type.is_none() {
            return Err(error(Kind::DtmfNotNegotiated));
        }
        if !self.sending() {
            return Err(error(Kind::NotSending));
        }
        self.outbound.wake(now, true);
        if !self.outbound.dtmf.push(code, duration) {
            return Err(error(Kind::DtmfQueueFull));
        }
        Ok(())
    }

    /// Ends the session: no more RTP either way, queued audio dropped, and an RTCP BYE
    /// (with a last report) goes out from the next `poll_transmit`.
    pub fn close(&mut self, now: Instant) {
        self.tick(now);
        self.closed = true;
        self.outbound.interrupt();
        self.outbound.pause();
        self.control.close();
    }

    /// Counters, the latched destinations and the round trip.
    pub fn stats(&self) -> RtpStats {
        let sent = self.outbound.stats;
        let received = self.inbound.stats;
        let rtcp = self.control.stats;
        let (remote, latched) = self.inbound.destination();
        let jitter = self.inbound.jitter_counters();
        let reception = self.inbound.reception();
        RtpStats {
            packets_sent: sent.packets,
            bytes_sent: sent.octets,
            packets_received: received.packets,
            bytes_received: received.octets,
            lost: reception.map_or(0, |r| r.lost()),
            jitter: reception.map_or(Duration::ZERO, |r| r.jitter()),
            late: jitter.late,
            dropped: jitter.dropped,
            concealed: jitter.concealed,
            frame_allocations: jitter.allocations,
            malformed: received.malformed,
            unknown_payload_type: received.unknown_payload_type,
            foreign: received.foreign,
            skipped_slots: sent.skipped_slots,
            discarded_frames: sent.discarded_frames,
            rtcp_sent: rtcp.sent,
            rtcp_received: rtcp.received,
            rtcp_refused: rtcp.refused,
            remote,
            rtcp_remote: self.control.destination(remote).0,
            latched,
            round_trip: self.control.round_trip,
        }
    }

    /// Whether RTP goes out: voxgate's direction sends and the peer gave an address (an
    /// unspecified one, `c=0.0.0.0`, is RFC 2543 hold).
    fn sending(&self) -> bool {
        self.params.direction.sends() && !self.params.remote.ip().is_unspecified()
    }

    fn tick(&mut self, now: Instant) {
        self.now = self.now.max(now);
    }

    fn push_event(&mut self, event: RtpEvent) {
        if self.events.len() < MAX_EVENTS {
            self.events.push_back(event);
        }
    }

    fn take_rtcp(&mut self, now: Instant, from: SocketAddr, datagram: &[u8], muxed: bool) {
        let peer = self.inbound.peer_ssrc();
        if self.control.handle(now, from, datagram, muxed, peer) == Heard::Bye {
            self.push_event(RtpEvent::RemoteBye);
        }
    }

    /// The RTCP compound, if one is due.
    fn poll_rtcp(&mut self, now: Instant, rtp_to: SocketAddr, buf: &mut [u8]) -> Option<Transmit> {
        if self.control.deadline().is_none_or(|at| now < at) {
            return None;
        }
        let sender = std::mem::take(&mut self.outbound.sent_since_report).then(|| {
            let stats = self.outbound.stats;
            SenderInfo {
                ntp: self.control.ntp(now),
                rtp_timestamp: self.outbound.pacer.timestamp_at(now),
                // The SR counts wrap at 2^32 (RFC 3550 §6.4.1).
                packets: stats.packets as u32,
                octets: stats.octets as u32,
            }
        });
        let (lsr, dlsr) = self.control.last_sr(now);
        let block = self
            .inbound
            .reception_mut()
            .map(|r| r.report_block(lsr, dlsr));
        let len = self.control.write(now, buf, sender, block)?;
        let (to, muxed) = self.control.destination(rtp_to);
        if to.ip().is_unspecified() {
            return None;
        }
        Some(Transmit {
            to,
            len,
            rtcp: !muxed,
        })
    }

    /// When `MediaTimeout` is due: only while media flows both ways, and not again until
    /// media or an update came after the last one.
    fn media_deadline(&self) -> Option<Instant> {
        if self.closed || self.params.direction != Direction::SendRecv {
            return None;
        }
        let since = self
            .inbound
            .last_heard()
            .map_or(self.media_since, |at| at.max(self.media_since));
        if self.timed_out.is_some_and(|fired| since <= fired) {
            return None;
        }
        since.checked_add(self.config.media_timeout)
    }
}

/// Refuses params the session cannot run: payload types above 127 or in RFC 3551's
/// reserved 72-76 (they would read as RTCP), or one number for audio and telephone-event.
fn check(params: &MediaParams) -> Result<(), SipError> {
    let usable = |pt: u8| pt <= 127 && !(72..=76).contains(&pt);
    let dtmf_ok = params
        .dtmf_payload_type
        .is_none_or(|pt| usable(pt) && pt != params.payload_type);
    if !usable(params.payload_type) || !dtmf_ok {
        return Err(error(Kind::UnknownPayloadType));
    }
    Ok(())
}
