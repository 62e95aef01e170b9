//! How the jitter buffer sizes and adapts its play-out delay.

use std::time::Duration;

/// The largest play-out delay a config can ask for; larger values are capped.
const MAX_DEPTH: Duration = Duration::from_secs(2);
/// The most packet slots a buffer preallocates (10 s of 20 ms packets).
const MAX_CAPACITY: usize = 500;
/// The longest arrival-delay window, in packets (20 s).
const MAX_WINDOW: usize = 1000;
/// The longest fade before silence, in frames (1 s).
const MAX_FADE_FRAMES: u32 = 50;

/// Configuration of a [`JitterBuffer`](super::JitterBuffer): depth bounds, capacity, how
/// jitter is measured and how losses are concealed.
///
/// Inconsistent values are repaired, not refused, when the buffer is made: `max_depth` is
/// raised to `min_depth` and capped at 2 s, `initial_depth` is clamped between them,
/// `capacity` is raised to hold `max_depth` plus two frames (and capped at 500), `window` is
/// kept between 1 and 1000 and `fade_frames` at most 50.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JitterConfig {
    /// Smallest play-out delay the buffer adapts down to. Default 20 ms (one packet): on a
    /// clean network a packet waits one frame.
    pub min_depth: Duration,
    /// Largest play-out delay the buffer adapts up to. Default 200 ms: past that, waiting
    /// for a straggler costs more conversational latency than concealing it does.
    pub max_depth: Duration,
    /// Play-out delay for the first packet, before any jitter has been measured. Default
    /// 40 ms, enough for the 10-20 ms of jitter typical of carrier SIP trunks.
    pub initial_depth: Duration,
    /// Packet slots preallocated; each holds the largest payload of the codec (1275 bytes
    /// for Opus, RFC 6716). A packet this many frames or more ahead of (or behind) the
    /// play-out position is taken as a stream restart. Default 50 (1 s of audio).
    pub capacity: usize,
    /// Packets in the window over which arrival delay is measured: the spread between its
    /// fastest and slowest packet sets the target depth. Default 100 (2 s of audio), so a
    /// delay spike is remembered for 2 s before the depth shrinks back.
    pub window: usize,
    /// Concealment frames (repeat with a linear fade, or Opus PLC) played for consecutive
    /// missing packets before the output turns to silence. Default 3 (60 ms).
    pub fade_frames: u32,
    /// Polls a needed depth change waits for a safe point (a missing or quiet frame) before
    /// it is made anyway. Default 25 (500 ms).
    pub adapt_patience: u32,
}

impl Default for JitterConfig {
    fn default() -> Self {
        Self {
            min_depth: Duration::from_millis(20),
            max_depth: Duration::from_millis(200),
            initial_depth: Duration::from_millis(40),
            capacity: 50,
            window: 100,
            fade_frames: 3,
            adapt_patience: 25,
        }
    }
}

impl JitterConfig {
    /// This config with its values made consistent (see the type's doc).
    pub(super) fn normalized(self) -> Self {
        let max_depth = self.max_depth.max(self.min_depth).min(MAX_DEPTH);
        let min_depth = self.min_depth.min(max_depth);
        let frame = Duration::from_millis(u64::from(crate::FRAME_MS));
        let depth_frames = max_depth.as_micros().div_ceil(frame.as_micros());
        let needed = usize::try_from(depth_frames).unwrap_or(MAX_CAPACITY) + 2;
        Self {
            min_depth,
            max_depth,
            initial_depth: self.initial_depth.clamp(min_depth, max_depth),
            capacity: self.capacity.max(needed).min(MAX_CAPACITY),
            window: self.window.clamp(1, MAX_WINDOW),
            fade_frames: self.fade_frames.min(MAX_FADE_FRAMES),
            adapt_patience: self.adapt_patience,
        }
    }
}
