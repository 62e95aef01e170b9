//! Agent audio out: the queue, the pacer, the encoder and the packets of each slot.

use std::net::SocketAddr;
use std::time::Instant;

use voxgate_media::MediaError;
use voxgate_media::g711::Law;
use voxgate_media::opus::{MAX_PACKET, OpusEncoder};
use voxgate_media::rtp::{RtpHeader, Ssrc};

use super::dtmf::{DtmfPacket, DtmfSender};
use super::pacer::{Pacer, Slot};
use super::queue::FrameQueue;
use crate::SipError;
use crate::codec::{AudioCodec, MediaParams};

/// The codec state agent audio is encoded with.
#[derive(Debug)]
enum Encoder {
    G711(Law),
    Opus(OpusEncoder),
}

impl Encoder {
    fn new(codec: AudioCodec) -> Result<Self, SipError> {
        Ok(match codec.law() {
            Some(law) => Self::G711(law),
            None => Self::Opus(OpusEncoder::new(codec.audio_rate())?),
        })
    }

    /// Encodes one frame into `out`; returns the payload length.
    fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> Result<usize, SipError> {
        match self {
            Self::G711(law) => {
                let (expected, actual) = (pcm.len(), out.len());
                let out = out
                    .get_mut(..expected)
                    .ok_or(MediaError::BufferLength { expected, actual })?;
                law.encode(pcm, out)?;
                Ok(expected)
            }
            Self::Opus(encoder) => Ok(encoder.encode(pcm, out)?),
        }
    }
}

/// What the previous slot did, for the marker bit (RFC 3551 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Last {
    /// No packet (start, idle, hold, skipped slots): the next packet starts a stream.
    Gap,
    /// Silence or a telephone-event: the next agent audio starts a talkspurt.
    Quiet,
    /// Agent audio.
    Speech,
}

/// Counters of the outbound stream.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct SendStats {
    pub(super) packets: u64,
    pub(super) octets: u64,
    pub(super) skipped_slots: u64,
    pub(super) discarded_frames: u64,
}

/// The outbound half of the session.
#[derive(Debug)]
pub(super) struct Outbound {
    ssrc: Ssrc,
    payload_type: u8,
    dtmf_payload_type: Option<u8>,
    sequence: u16,
    encoder: Encoder,
    queue: FrameQueue,
    queue_frames: usize,
    /// One encoded payload, before the header goes in front of it.
    scratch: Box<[u8]>,
    /// One frame of zeros, what Opus encodes for silence.
    zeros: Box<[i16]>,
    pub(super) pacer: Pacer,
    pub(super) dtmf: DtmfSender,
    idle_silence: bool,
    last: Last,
    /// Whether a packet went out since the last RTCP report (SR rather than RR).
    pub(super) sent_since_report: bool,
    pub(super) stats: SendStats,
}

impl Outbound {
    /// The outbound stream for `params`, every buffer allocated now.
    pub(super) fn new(
        params: &MediaParams,
        queue_frames: usize,
        idle_silence: bool,
        (ssrc, sequence, timestamp): (Ssrc, u16, u32),
        now: Instant,
    ) -> Result<Self, SipError> {
        let codec = params.codec;
        let frame_len = codec.audio_rate().samples_per_frame();
        let pacer = Pacer::new(now, timestamp, codec.clock_rate());
        Ok(Self {
            ssrc,
            payload_type: params.payload_type,
            dtmf_payload_type: params.dtmf_payload_type,
            sequence,
            encoder: Encoder::new(codec)?,
            queue: FrameQueue::new(queue_frames, frame_len),
            queue_frames,
            scratch: vec![0; MAX_PACKET].into_boxed_slice(),
            zeros: vec![0; frame_len].into_boxed_slice(),
            dtmf: DtmfSender::new(pacer.ts_per_frame()),
            pacer,
            idle_silence,
            last: Last::Gap,
            sent_since_report: false,
            stats: SendStats::default(),
        })
    }

    /// Takes new media parameters; a new codec gets a new encoder and, at another audio
    /// rate, a new queue (the queued frames are dropped: they are at the old rate).
    pub(super) fn update(&mut self, params: &MediaParams, old: AudioCodec) -> Result<(), SipError> {
        let codec = params.codec;
        if codec != old {
            self.encoder = Encoder::new(codec)?;
            self.pacer.set_clock(codec.clock_rate());
            self.dtmf.set_ts_per_frame(self.pacer.ts_per_frame());
            self.last = Last::Gap;
        }
        let frame_len = codec.audio_rate().samples_per_frame();
        if frame_len != self.queue.frame_len() {
            self.queue = FrameQueue::new(self.queue_frames, frame_len);
            self.zeros = vec![0; frame_len].into_boxed_slice();
        }
        self.payload_type = params.payload_type;
        self.dtmf_payload_type = params.dtmf_payload_type;
        if self.dtmf_payload_type.is_none() {
            self.dtmf.clear();
        }
        Ok(())
    }

    /// The queue, for the session's pacing questions.
    pub(super) fn queue(&self) -> &FrameQueue {
        &self.queue
    }

    /// Copies one frame into the queue; false when full or of the wrong length.
    pub(super) fn push(&mut self, pcm: &[i16]) -> bool {
        self.queue.push(pcm)
    }

    /// Barge-in: drops the queue; the next agent audio starts a talkspurt.
    pub(super) fn interrupt(&mut self) {
        self.queue.clear();
        if self.last == Last::Speech {
            self.last = Last::Quiet;
        }
    }

    /// Whether the pacing slots have anything to do: audio or DTMF to send, silence to send,
    /// or (not `sending`) queued audio to consume. An idle stream leaves its slots alone.
    pub(super) fn busy(&self, sending: bool) -> bool {
        !self.queue.is_empty() || (sending && (self.dtmf.is_active() || self.idle_silence))
    }

    /// Called before work is added: a stream idle until `now` starts on the current slot
    /// rather than catching up on the idle ones, and a gap before it starts a stream.
    pub(super) fn wake(&mut self, now: Instant, sending: bool) {
        if self.busy(sending) {
            return;
        }
        let before = self.pacer.due();
        self.pacer.resume(now);
        if self.pacer.due() != before {
            self.last = Last::Gap;
        }
    }

    /// Starts sending again after a pause: on the current slot, as a new stream.
    pub(super) fn restart(&mut self, now: Instant) {
        self.pacer.resume(now);
        self.last = Last::Gap;
    }

    /// Stops sending (hold, an unspecified address, close): waiting DTMF is dropped and the
    /// next packet after it starts a stream.
    pub(super) fn pause(&mut self) {
        self.dtmf.clear();
        self.last = Last::Gap;
    }

    /// Writes the packet of the next due slot into `buf`; `None` when no slot is due or the
    /// due slots have nothing to send. `to` is `None` while not sending: due slots then
    /// consume queued frames unsent.
    pub(super) fn poll(
        &mut self,
        now: Instant,
        to: Option<SocketAddr>,
        buf: &mut [u8],
    ) -> Option<usize> {
        while self.busy(to.is_some()) {
            let slot = self.pacer.take(now)?;
            if slot.skipped > 0 {
                self.stats.skipped_slots += slot.skipped;
                self.last = Last::Gap;
            }
            if to.is_none() {
                if self.queue.pop() {
                    self.stats.discarded_frames += 1;
                }
                self.last = Last::Gap;
                continue;
            }
            if let Some(len) = self.fill(slot, buf) {
                return Some(len);
            }
        }
        None
    }

    /// The packet of one slot: DTMF, agent audio or silence, in that order.
    fn fill(&mut self, slot: Slot, buf: &mut [u8]) -> Option<usize> {
        if let Some(pt) = self.dtmf_payload_type
            && let Some(packet) = self.dtmf.next(slot.timestamp)
        {
            self.last = Last::Quiet;
            return self.write_dtmf(pt, packet, buf);
        }
        let (payload_len, speech) = match self.queue.front() {
            Some(frame) => (self.encoder.encode(frame, &mut self.scratch), true),
            None if self.idle_silence => (self.encode_silence(), false),
            None => {
                self.last = Last::Gap;
                return None;
            }
        };
        if speech {
            self.queue.pop();
        }
        // A frame the encoder refused leaves the slot empty: a gap, then the stream goes on.
        let Ok(payload_len) = payload_len else {
            self.last = Last::Gap;
            return None;
        };
        let marker = self.last == Last::Gap || (speech && self.last != Last::Speech);
        self.last = if speech { Last::Speech } else { Last::Quiet };
        let mut header =
            RtpHeader::new(self.payload_type, self.sequence, slot.timestamp, self.ssrc);
        header.marker = marker;
        let payload = self.scratch.get(..payload_len)?;
        let len = header.write(payload, buf).ok()?;
        self.count_sent(payload_len);
        Some(len)
    }

    fn encode_silence(&mut self) -> Result<usize, SipError> {
        match &mut self.encoder {
            Encoder::G711(law) => {
                let n = self.zeros.len();
                let out = self.scratch.get_mut(..n).unwrap_or_default();
                out.fill(law.silence());
                Ok(out.len())
            }
            Encoder::Opus(encoder) => Ok(encoder.encode(&self.zeros, &mut self.scratch)?),
        }
    }

    fn write_dtmf(&mut self, pt: u8, packet: DtmfPacket, buf: &mut [u8]) -> Option<usize> {
        let mut header = RtpHeader::new(pt, self.sequence, packet.timestamp, self.ssrc);
        header.marker = packet.marker;
        let payload = packet.event.write();
        let len = header.write(&payload, buf).ok()?;
        self.count_sent(payload.len());
        Some(len)
    }

    /// A packet went out: the next one takes the next sequence number.
    fn count_sent(&mut self, payload_len: usize) {
        self.sequence = self.sequence.wrapping_add(1);
        self.stats.packets += 1;
        self.stats.octets += payload_len as u64;
        self.sent_since_report = true;
    }
}
