//! What of the agent's reply did the caller actually hear? Sans-IO bookkeeping.
//!
//! The reply's text pieces (sentences) are queued with the length of audio synthesized for
//! them. When the caller barges in, the leg knows how much reply audio has been played (sent
//! minus still buffered at the carrier); pieces played in full count as heard, and of the
//! piece playing at that moment the share of its words proportional to the share of its audio
//! played. The transcript then records what the caller heard, not what the brain wrote.

use std::time::Duration;

/// One text piece and where its audio sits on the reply's audio timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Piece {
    text: String,
    start: Duration,
    len: Duration,
}

/// The reply's pieces in order, with their audio spans.
#[derive(Debug, Clone, Default)]
pub(crate) struct HeardText {
    pieces: Vec<Piece>,
    /// End of the audio queued so far.
    queued: Duration,
}

impl HeardText {
    /// Starts a new piece of text; audio added from now on belongs to it.
    pub(crate) fn start_piece(&mut self, text: &str) {
        self.pieces.push(Piece {
            text: text.to_owned(),
            start: self.queued,
            len: Duration::ZERO,
        });
    }

    /// `len` more audio was queued for the current piece.
    pub(crate) fn add_audio(&mut self, len: Duration) {
        self.queued += len;
        if let Some(p) = self.pieces.last_mut() {
            p.len += len;
        }
    }

    /// The whole reply text (what the caller hears if nothing interrupts).
    pub(crate) fn full(&self) -> String {
        self.heard(Duration::MAX)
    }

    /// The text heard once `played` of the reply's audio has been played.
    pub(crate) fn heard(&self, played: Duration) -> String {
        let mut words: Vec<&str> = Vec::new();
        for p in &self.pieces {
            // A piece the mouth gave no audio for (it failed or stalled) was never heard.
            if p.len.is_zero() {
                continue;
            }
            if played >= p.start + p.len {
                words.extend(p.text.split_whitespace());
                continue;
            }
            if played > p.start && !p.len.is_zero() {
                let share = (played - p.start).as_secs_f64() / p.len.as_secs_f64();
                let all: Vec<&str> = p.text.split_whitespace().collect();
                let n = (all.len() as f64 * share).floor() as usize;
                words.extend(&all[..n.min(all.len())]);
            }
            break;
        }
        words.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn heard_table() {
        let mut h = HeardText::default();
        h.start_piece("Hello there.");
        h.add_audio(ms(600));
        h.add_audio(ms(400));
        h.start_piece("How can I help you today?");
        h.add_audio(ms(2000));
        let table = [
            (ms(0), ""),
            (ms(499), ""),
            (ms(500), "Hello"),
            (ms(1000), "Hello there."),
            (ms(1400), "Hello there. How"),
            (ms(2999), "Hello there. How can I help you"),
            (ms(3000), "Hello there. How can I help you today?"),
            (Duration::MAX, "Hello there. How can I help you today?"),
        ];
        for (played, want) in table {
            assert_eq!(h.heard(played), want, "{played:?}");
        }
        assert_eq!(h.full(), "Hello there. How can I help you today?");
        assert_eq!(HeardText::default().full(), "");
    }
}
