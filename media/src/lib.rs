//! # voxgate-media: the bit-exact, allocation-free audio layer
//!
//! This crate is the bottom layer of voxgate. Everything above it (the SIP/RTP leg, the 46elks
//! bridge, the per-call pipeline) moves audio through the types defined here.
//!
//! What it holds:
//! - [`SampleRate`], [`MediaTime`] and [`AudioFrame`]: 20 ms of mono 16-bit audio stamped with
//!   the media time of its first sample, and a [`FramePool`] that recycles frame buffers so
//!   the per-call hot path allocates nothing after the call starts.
//! - Codecs: [`g711`] (μ-law and A-law, exhaustively tested), [`pcm`] (s16le pack/unpack into
//!   caller-owned buffers) and [`opus`] (libopus, built from vendored source).
//! - [`resample::Resampler`]: a streaming resampler over rubato's synchronous FFT resampler with
//!   the `process_into(&in, &mut out)` shape and its delay reported.
//! - [`rtp`]: the RFC 3550 fixed header with sequence and timestamp extension, and RFC 4733
//!   telephone-events.
//! - [`jitter::JitterBuffer`]: a sans-IO jitter buffer (`push(now, packet)`, `poll(now)`,
//!   `poll_timeout()`).
//! - [`file`](mod@file): audio file input (WAV via hound, other containers via symphonia) cut into frames
//!   at any rate; this one allocates and is meant for prompts, tests and the caller simulator,
//!   not the per-frame path.
//!
//! What it does not do: no IO besides reading files in [`file`](mod@file), no async, no tokio, no clock.
//! Time is always an argument (`now: Instant` or a [`MediaTime`]), so every state machine here
//! runs the same under a virtual clock in tests as on a live call.
//!
//! # Example: a μ-law frame from the carrier, up to the 16 kHz the speech engines want
//!
//! ```
//! use voxgate_media::{g711::Law, resample::Resampler, FramePool, MediaTime, SampleRate};
//!
//! // Made once per call slot:
//! let mut pool = FramePool::new(SampleRate::HZ_16000, 8);
//! let mut up = Resampler::new(SampleRate::HZ_8000, SampleRate::HZ_16000)?;
//! let mut pcm8 = [0i16; 160];
//!
//! // Per 20 ms frame: no allocation.
//! let payload = [Law::Ulaw.silence(); 160];
//! Law::Ulaw.decode(&payload, &mut pcm8)?;
//! let mut frame = pool.take(MediaTime::zero(SampleRate::HZ_8000));
//! up.process_into(&pcm8, frame.samples_mut())?;
//! assert_eq!(frame.samples().len(), 320);
//! pool.give(frame);
//! assert_eq!(pool.allocations(), 0);
//! # Ok::<(), voxgate_media::MediaError>(())
//! ```

pub mod error;
pub mod file;
pub mod frame;
pub mod g711;
pub mod jitter;
pub mod opus;
pub mod pcm;
pub mod resample;
pub mod rtp;
pub mod time;

pub use error::MediaError;
pub use frame::{AudioFrame, FRAME_MS, FramePool, MAX_FRAME_SAMPLES};
pub use time::{MediaTime, SampleRate};
