//! RFC 4733 telephone-events (DTMF over RTP).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     event     |E|R| volume    |          duration             |
//! ```
//!
//! One event is sent as several packets with the same RTP timestamp (the event start) and a
//! growing duration; the last three carry the E bit (RFC 4733 §2.5.1.4). [`DtmfReceiver`]
//! turns that stream back into one digit per event.

use crate::error::MediaError;

/// One telephone-event payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// Event code: 0-9 digits, 10 `*`, 11 `#`, 12-15 `A`-`D` (RFC 4733 §3.2); others allowed.
    pub event: u8,
    /// E bit: this is (a retransmission of) the final packet of the event.
    pub end: bool,
    /// Power level as -dBm0, 0..=63.
    pub volume: u8,
    /// Duration so far, in timestamp units of the payload clock (8 kHz for telephone-event/8000).
    pub duration: u16,
}

/// Payload length of a telephone-event.
const PAYLOAD_LEN: usize = 4;

impl TelephoneEvent {
    /// Parses a 4-byte payload. The R bit is ignored as the RFC requires.
    pub fn parse(payload: &[u8]) -> Result<Self, MediaError> {
        let [event, flags, d0, d1] = *payload else {
            return Err(MediaError::TelephoneEvent);
        };
        Ok(Self {
            event,
            end: flags & 0x80 != 0,
            volume: flags & 0x3f,
            duration: u16::from_be_bytes([d0, d1]),
        })
    }

    /// Writes the 4-byte payload.
    pub fn write(&self) -> [u8; PAYLOAD_LEN] {
        let [d0, d1] = self.duration.to_be_bytes();
        [
            self.event,
            (u8::from(self.end) << 7) | (self.volume & 0x3f),
            d0,
            d1,
        ]
    }

    /// The DTMF digit this event names, if it is one.
    pub fn digit(&self) -> Option<char> {
        dtmf_digit(self.event)
    }
}

/// The DTMF character for an event code 0..=15.
pub fn dtmf_digit(event: u8) -> Option<char> {
    const DIGITS: &[u8; 16] = b"0123456789*#ABCD";
    DIGITS.get(usize::from(event)).map(|&b| char::from(b))
}

/// The event code for a DTMF character (`0`-`9`, `*`, `#`, `A`-`D`, case-insensitive).
pub fn dtmf_event(digit: char) -> Option<u8> {
    match digit.to_ascii_uppercase() {
        d @ '0'..='9' => Some(d as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        d @ 'A'..='D' => Some(d as u8 - b'A' + 12),
        _ => None,
    }
}

/// Turns a stream of telephone-event packets into one digit per event.
///
/// Events are keyed by RTP timestamp: the first packet of a new timestamp reports its digit,
/// later updates and the end retransmissions of the same event are swallowed.
#[derive(Debug, Clone, Default)]
pub struct DtmfReceiver {
    last_timestamp: Option<u32>,
}

impl DtmfReceiver {
    /// A receiver that has seen no event.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one packet (its RTP timestamp and payload); returns a digit once per event.
    pub fn handle(&mut self, timestamp: u32, event: &TelephoneEvent) -> Option<char> {
        if self.last_timestamp == Some(timestamp) {
            return None;
        }
        self.last_timestamp = Some(timestamp);
        event.digit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_table() {
        let table: &[([u8; 4], TelephoneEvent)] = &[
            (
                [0x05, 0x0a, 0x00, 0xa0],
                TelephoneEvent {
                    event: 5,
                    end: false,
                    volume: 10,
                    duration: 160,
                },
            ),
            (
                [0x0b, 0x8a, 0x03, 0x20],
                TelephoneEvent {
                    event: 11,
                    end: true,
                    volume: 10,
                    duration: 800,
                },
            ),
        ];
        for (bytes, ev) in table {
            assert_eq!(TelephoneEvent::parse(bytes), Ok(*ev));
            assert_eq!(&ev.write(), bytes);
        }
        // The R bit (0x40) is ignored on receipt.
        let with_r = TelephoneEvent::parse(&[1, 0xc0 | 7, 0, 1]).map(|e| (e.end, e.volume));
        assert_eq!(with_r, Ok((true, 7)));
        assert_eq!(
            TelephoneEvent::parse(&[1, 2, 3]),
            Err(MediaError::TelephoneEvent)
        );
        assert_eq!(
            TelephoneEvent::parse(&[1, 2, 3, 4, 5]),
            Err(MediaError::TelephoneEvent)
        );
    }

    #[test]
    fn digits_round_trip() {
        for (code, ch) in (0u8..16).zip("0123456789*#ABCD".chars()) {
            assert_eq!(dtmf_digit(code), Some(ch));
            assert_eq!(dtmf_event(ch), Some(code));
        }
        assert_eq!(dtmf_event('d'), Some(15));
        assert_eq!(dtmf_digit(16), None);
        assert_eq!(dtmf_event('E'), None);
    }

    #[test]
    fn receiver_reports_each_event_once() {
        let mut rx = DtmfReceiver::new();
        let ev = |event, end, duration| TelephoneEvent {
            event,
            end,
            volume: 10,
            duration,
        };
        // Digit 1 at ts 1000: start, two updates, three end packets; then digit 1 again.
        let stream = [
            (1000, ev(1, false, 160)),
            (1000, ev(1, false, 320)),
            (1000, ev(1, false, 480)),
            (1000, ev(1, true, 640)),
            (1000, ev(1, true, 640)),
            (1000, ev(1, true, 640)),
            (2600, ev(1, false, 160)),
            (2600, ev(1, true, 320)),
            (4000, ev(11, true, 320)),
        ];
        let digits: String = stream
            .iter()
            .filter_map(|(ts, e)| rx.handle(*ts, e))
            .collect();
        assert_eq!(digits, "11#");
    }
}
