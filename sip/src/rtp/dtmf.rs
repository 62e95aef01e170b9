//! Sending DTMF as RFC 4733 telephone-events.
//!
//! An event of `k` frames takes `k + 2` pacing slots: packets with the event's start
//! timestamp and a duration growing by one frame (§2.5.1.2), the first with the marker bit
//! (§2.5.1.1), then the final duration three times with the E bit (§2.5.1.4: the end is sent
//! three times so that one loss does not lose it). Each packet has its own sequence number.
//! Durations are counted in the audio codec's RTP clock, the rate the SDP module negotiates
//! telephone-event at (8000 for G.711, 48000 for Opus).

use std::collections::VecDeque;
use std::time::Duration;

use voxgate_media::rtp::TelephoneEvent;

use super::FRAME;

/// Digits that can wait behind the one being sent.
pub(super) const MAX_PENDING: usize = 16;

/// The shortest event sent: 40 ms, as short as receivers reliably detect.
const MIN_FRAMES: u32 = 2;

/// Volume of generated events: -10 dBm0, the level RFC 4733 §2.5.2.2 examples use.
const VOLUME: u8 = 10;

/// One packet of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct DtmfPacket {
    /// The payload.
    pub(super) event: TelephoneEvent,
    /// The event's start timestamp (the same for all its packets).
    pub(super) timestamp: u32,
    /// First packet of the event.
    pub(super) marker: bool,
}

/// The event being sent.
#[derive(Debug, Clone, Copy)]
struct Tone {
    code: u8,
    frames: u32,
    timestamp: u32,
    sent: u32,
}

/// Queued digits and the event in progress.
#[derive(Debug)]
pub(super) struct DtmfSender {
    pending: VecDeque<(u8, u32)>,
    current: Option<Tone>,
    ts_per_frame: u32,
}

impl DtmfSender {
    /// A sender whose durations count `ts_per_frame` units per 20 ms.
    pub(super) fn new(ts_per_frame: u32) -> Self {
        Self {
            pending: VecDeque::with_capacity(MAX_PENDING),
            current: None,
            ts_per_frame: ts_per_frame.max(1),
        }
    }

    /// Queues event `code` lasting `duration` (rounded up to whole frames, at least 40 ms,
    /// at most what the 16-bit duration field holds); false when [`MAX_PENDING`] wait.
    pub(super) fn push(&mut self, code: u8, duration: Duration) -> bool {
        if self.pending.len() >= MAX_PENDING {
            return false;
        }
        let frames = duration.as_micros().div_ceil(FRAME.as_micros());
        let max = u32::from(u16::MAX) / self.ts_per_frame;
        let frames = u32::try_from(frames).unwrap_or(max).clamp(MIN_FRAMES, max);
        self.pending.push_back((code, frames));
        true
    }

    /// Whether an event is being or waiting to be sent.
    pub(super) fn is_active(&self) -> bool {
        self.current.is_some() || !self.pending.is_empty()
    }

    /// Drops the event in progress and every waiting digit.
    pub(super) fn clear(&mut self) {
        self.pending.clear();
        self.current = None;
    }

    /// Changes the clock (a new codec); waiting digits keep their frame counts.
    pub(super) fn set_ts_per_frame(&mut self, ts_per_frame: u32) {
        self.ts_per_frame = ts_per_frame.max(1);
        self.current = None;
    }

    /// The packet for the slot with `timestamp`, if an event is due.
    pub(super) fn next(&mut self, timestamp: u32) -> Option<DtmfPacket> {
        if self.current.is_none() {
            let (code, frames) = self.pending.pop_front()?;
            self.current = Some(Tone {
                code,
                frames,
                timestamp,
                sent: 0,
            });
        }
        let tone = self.current.as_mut()?;
        let done = (tone.sent + 1).min(tone.frames);
        let packet = DtmfPacket {
            event: TelephoneEvent {
                event: tone.code,
                end: tone.sent + 1 >= tone.frames,
                volume: VOLUME,
                duration: u16::try_from(done * self.ts_per_frame).unwrap_or(u16::MAX),
            },
            timestamp: tone.timestamp,
            marker: tone.sent == 0,
        };
        tone.sent += 1;
        if tone.sent >= tone.frames + 2 {
            self.current = None;
        }
        Some(packet)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_packets_table() {
        let mut tx = DtmfSender::new(160);
        assert!(tx.push(5, Duration::from_millis(50))); // 3 frames
        assert!(tx.push(11, Duration::ZERO)); // raised to 2 frames
        /// (event, end, duration, timestamp, marker)
        type Want = (u8, bool, u16, u32, bool);
        // (slot timestamp, the packet expected in that slot)
        let table: &[(u32, Want)] = &[
            (1000, (5, false, 160, 1000, true)),
            (1160, (5, false, 320, 1000, false)),
            (1320, (5, true, 480, 1000, false)),
            (1480, (5, true, 480, 1000, false)),
            (1640, (5, true, 480, 1000, false)),
            (1800, (11, false, 160, 1800, true)),
            (1960, (11, true, 320, 1800, false)),
            (2120, (11, true, 320, 1800, false)),
            (2280, (11, true, 320, 1800, false)),
        ];
        for &(ts, want) in table {
            let p = tx.next(ts).expect("an event is due");
            let e = p.event;
            assert_eq!((e.event, e.end, e.duration, p.timestamp, p.marker), want);
        }
        assert!(!tx.is_active());
        assert_eq!(tx.next(2440), None);
    }

    #[test]
    fn limits() {
        let mut tx = DtmfSender::new(960);
        assert!(tx.push(1, Duration::from_secs(60)));
        let packets = std::iter::from_fn(|| tx.next(0)).count();
        assert_eq!(packets, 68 + 2, "capped at 65535 / 960 = 68 frames");
        for _ in 0..MAX_PENDING {
            assert!(tx.push(1, FRAME));
        }
        assert!(!tx.push(1, FRAME), "queue full");
        tx.clear();
        assert!(!tx.is_active());
    }
}
