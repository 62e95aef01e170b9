//! The RTP session's policy: jitter buffering, the outbound cap, idle silence and timers.

use std::time::Duration;

use voxgate_media::jitter::JitterConfig;

/// Configuration of an [`RtpSession`](super::RtpSession).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpConfig {
    /// The jitter buffer for the caller's audio. Default: [`JitterConfig::default`] (40 ms
    /// to start, adapting between 20 and 200 ms).
    pub jitter: JitterConfig,
    /// The most agent audio queued and not yet sent; `can_send` is false beyond it. Default
    /// 200 ms (ten frames). The pipeline pushes reply audio as fast as `can_send` allows, so
    /// the queue sits at this cap while the agent speaks: it is how far the agent's words run
    /// ahead of what the caller has heard, which the turn controller must account for at
    /// barge-in (the queue itself is dropped at once by `interrupt`). 200 ms rides out a late
    /// text-to-speech chunk or a busy scheduler without keeping much unsaid audio in flight.
    /// At least one frame is always queued; values are rounded down to whole frames.
    pub max_queued: Duration,
    /// Send encoded silence when there is nothing to say, so that NAT pinholes and the
    /// peer's jitter buffer and media timeout stay alive. Default true: carriers and SBCs
    /// expect a continuous stream from a voice call.
    pub idle_silence: bool,
    /// How often an RTCP report goes out. Default 5 s, RFC 3550 §6.2's minimum interval.
    pub rtcp_interval: Duration,
    /// No RTP for this long while media flows both ways gives `RtpEvent::MediaTimeout`.
    /// Default 30 s, long enough for a peer that pauses its stream in silence (DTX) and
    /// short enough to hang up a call whose far side vanished without a BYE.
    pub media_timeout: Duration,
}

impl Default for RtpConfig {
    fn default() -> Self {
        Self {
            jitter: JitterConfig::default(),
            max_queued: Duration::from_millis(200),
            idle_silence: true,
            rtcp_interval: Duration::from_secs(5),
            media_timeout: Duration::from_secs(30),
        }
    }
}

/// The most frames the outbound queue holds whatever `max_queued` says (5 s).
const MAX_QUEUE_FRAMES: usize = 250;

/// The shortest RTCP interval honoured: faster reports only cost bandwidth.
const MIN_RTCP_INTERVAL: Duration = Duration::from_millis(100);

impl RtpConfig {
    /// Frames the outbound queue holds: `max_queued` in whole frames, between 1 and 250.
    pub(super) fn queue_frames(&self) -> usize {
        let frames = self.max_queued.as_micros() / super::FRAME.as_micros();
        usize::try_from(frames)
            .unwrap_or(MAX_QUEUE_FRAMES)
            .clamp(1, MAX_QUEUE_FRAMES)
    }

    /// The RTCP interval, at least 100 ms.
    pub(super) fn report_interval(&self) -> Duration {
        self.rtcp_interval.max(MIN_RTCP_INTERVAL)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_frames_table() {
        let table = [
            (0, 1),
            (19, 1),
            (20, 1),
            (200, 10),
            (219, 10),
            (1000, 50),
            (60_000, 250),
        ];
        for (ms, frames) in table {
            let config = RtpConfig {
                max_queued: Duration::from_millis(ms),
                ..RtpConfig::default()
            };
            assert_eq!(config.queue_frames(), frames, "{ms} ms");
        }
    }
}
