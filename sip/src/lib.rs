//! # voxgate-sip: the SIP/RTP call leg
//!
//! voxgate's SIP user agent as a stack of sans-IO layers. None of them does IO, reads a clock
//! or spawns a task: each takes `handle(now, input)` and gives `poll() -> Option<Output>` and
//! `poll_timeout() -> Option<Instant>`, so every layer runs the same on a virtual clock in
//! tests as on a live call. The server's thin tokio drivers own the sockets.
//!
//! The layers, bottom up:
//!
//! - [`message`]: SIP messages parsed and written with `rsip`, behind size limits and the
//!   checks RFC 3261 §8.2 and §18 ask for, so that garbage is a typed error, never a panic;
//! - [`transaction`]: RFC 3261 §17 client and server transactions, INVITE and non-INVITE,
//!   timers A-K from the named constants T1, T2, T4, and the RFC 6026 `Accepted` state;
//! - [`dialog`]: RFC 3261 §12 dialogs: route set, remote target, CSeq, in-dialog requests;
//! - [`sdp`]: RFC 4566 session descriptions and RFC 3264 offer/answer for one audio stream
//!   (PCMU, PCMA, Opus, telephone-event, ptime, hold and resume);
//! - [`auth`]: RFC 7616 / RFC 2617 digest authentication (MD5 and SHA-256, `qop=auth`);
//! - [`rtp`]: the per-call RTP session on `voxgate-media`'s RTP header, jitter buffer and
//!   codecs: symmetric RTP, 20 ms pacing, RFC 4733 DTMF, minimal RTCP.
//!
//! It depends on `voxgate-media` only; the pipeline and the server drive it.

pub mod auth;
pub mod codec;
pub mod dialog;
pub mod error;
pub mod message;
pub mod rtp;
pub mod sdp;
pub mod transaction;
pub mod ua;

pub use error::SipError;
