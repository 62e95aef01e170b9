//! A call leg as the harness drives it: the carrier side of one call, whatever the protocol.
//!
//! The script (`call`) only streams caller audio and asks two questions of what the server
//! sent (has reply audio arrived since a moment; has it all played out); the analysis reads
//! the [`CallLog`] at the end. Two legs implement it: 46elks Realtime (`elks`, for voxgate)
//! and Twilio Media Streams (`twilio`, for Pipecat's Twilio serializer).

use std::future::Future;
use std::time::{Duration, Instant};

/// Something the carrier heard from the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard {
    /// Agent audio that would be played, and how long it lasts.
    Audio {
        /// When it arrived.
        at: Instant,
        /// Its length.
        len: Duration,
    },
    /// The server flushed the carrier's queue (46elks `interrupt`, Twilio `clear`).
    Interrupt {
        /// When it arrived.
        at: Instant,
    },
}

impl Heard {
    /// When it arrived.
    pub fn at(&self) -> Instant {
        match *self {
            Self::Audio { at, .. } | Self::Interrupt { at } => at,
        }
    }
}

/// Everything a call's carrier side heard.
#[derive(Debug, Clone, Default)]
pub struct CallLog {
    /// In arrival order.
    pub heard: Vec<Heard>,
    /// Protocol violations the carrier noticed.
    pub violations: usize,
}

/// The carrier side of one call.
pub trait CallerLeg: Send + Sync {
    /// Streams wire bytes (in the call's format) in real time, 20 ms per message, each
    /// leaving when its last sample would have been spoken. Returns when streaming started.
    fn stream(&self, bytes: &[u8]) -> impl Future<Output = anyhow::Result<Instant>> + Send;
    /// 20 ms of silence in the call's format.
    fn silence(&self) -> &[u8];
    /// Whether agent audio arrived at or after `since`.
    fn audio_since(&self, since: Instant) -> bool;
    /// When the agent audio that arrived at or after `since` ends playing at 1x from its
    /// arrival (cut short by a flush); `None` if none arrived.
    fn playout_end_since(&self, since: Instant) -> Option<Instant>;
    /// When the last flush (`interrupt` / `clear`) arrived.
    fn last_flush(&self) -> Option<Instant>;
    /// Whether the server closed the call.
    fn closed(&self) -> bool;
    /// Hangs up (the carrier's `bye` / `stop`), waits briefly for the close and returns
    /// the log.
    fn finish(self) -> impl Future<Output = CallLog> + Send;
}

/// Playout end of `heard` entries at or after `since` (entries in arrival order).
pub fn playout_end(heard: impl Iterator<Item = Heard>, since: Instant) -> Option<Instant> {
    let mut end: Option<Instant> = None;
    for h in heard {
        match h {
            Heard::Audio { at, len } if at >= since => {
                end = Some(end.map_or(at, |e| e.max(at)) + len);
            }
            Heard::Interrupt { at } if at >= since => end = end.map(|e| e.min(at)),
            _ => {}
        }
    }
    end
}

/// Streams `bytes` of `bytes_per_second` paced in 20 ms pieces through `send`.
pub async fn paced(
    bytes: &[u8],
    bytes_per_second: u64,
    mut send: impl FnMut(&[u8]) -> anyhow::Result<()>,
) -> anyhow::Result<Instant> {
    let piece = (bytes_per_second / 50).max(1) as usize;
    let start = tokio::time::Instant::now();
    let mut offset = 0u64;
    for chunk in bytes.chunks(piece) {
        offset += chunk.len() as u64;
        let due = start + Duration::from_nanos(offset * 1_000_000_000 / bytes_per_second);
        tokio::time::sleep_until(due).await;
        send(chunk)?;
    }
    Ok(start.into_std())
}

/// Audio of `len` arriving `at` (for tests).
#[cfg(test)]
pub(crate) fn audio(at: Instant, len: Duration) -> Heard {
    Heard::Audio { at, len }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn playout_counts_only_audio_since() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let heard = [
            audio(t0, ms(500)),
            audio(t0 + ms(100), ms(100)),
            audio(t0 + ms(1000), ms(200)),
            audio(t0 + ms(1010), ms(200)),
        ];
        assert_eq!(playout_end(heard.into_iter(), t0), Some(t0 + ms(1400)));
        assert_eq!(
            playout_end(heard[..2].iter().copied(), t0),
            Some(t0 + ms(600))
        );
        let cut = [heard[2], Heard::Interrupt { at: t0 + ms(1050) }];
        assert_eq!(
            playout_end(cut.into_iter(), t0 + ms(900)),
            Some(t0 + ms(1050))
        );
        assert_eq!(playout_end(heard.into_iter(), t0 + ms(2000)), None);
    }
}
