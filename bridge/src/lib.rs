//! # voxgate-bridge: the 46elks Realtime Voice leg
//!
//! This crate is the carrier edge for calls that reach voxgate over 46elks' Realtime Voice
//! WebSocket API (`shared/reference/46elks.md` §1): 46elks connects to us, says `hello`,
//! and audio flows both ways as base64 inside JSON text frames until one side says `bye`.
//! It sits between `voxgate-media` (frames, G.711, PCM) and the pipeline, which drives it.
//!
//! What it holds:
//! - [`message`]: the protocol messages typed on `t`, both directions, parsed strictly and
//!   written without allocation beyond the output `String`.
//! - [`Format`]: the `pcm_8000`/`pcm_16000`/`pcm_24000`/`ulaw`/`alaw` formats and their
//!   frame codecs into caller-owned buffers.
//! - [`Session`]: the protocol as a **sans-IO** state machine, one per call. It re-frames
//!   caller audio (chunks of any size) into 20 ms [`AudioFrame`](voxgate_media::AudioFrame)s
//!   from a per-call pool, paces agent audio against an estimate of what is buffered at the
//!   carrier (wall time corrected by `sync` acks), handles barge-in (`interrupt`, then a
//!   fresh `sending`), hang-up (`bye`, drain, wait for the carrier's `bye`), idle and bye
//!   timeouts, and ends only its own call on bad input, with a typed [`BridgeError`] whose
//!   [`code`](BridgeError::code) is stable (`WS_BAD_BASE64`, ...).
//! - [`ws`]: the **IO edge**: an axum route for `GET /api/webhooks/46elks/voice/ws?token=`
//!   that checks the token (401 before upgrading) and hands each socket as a [`ws::WsLeg`]
//!   to the application's [`ws::CallHandler`].
//! - `caller` (feature `caller`): a simulated 46elks for tests and the latency harness.
//!
//! What it does not do: no speech, no turn-taking, no resampling of agent audio (frames
//! arrive at the `send_format` rate), no tasks of its own. The [`Session`] reads no clock:
//! time is always an argument, so tests run it on a virtual clock.
//!
//! # Driving a session
//!
//! The call task owns the leg and the session and runs one `select!`: socket input, the
//! session's timer, and (in the pipeline) its command channel. After every input it drains
//! [`Session::poll_output`]. Agent audio is paced with [`Session::can_send`] /
//! [`Session::next_send_at`]; [`Session::send_audio`] refuses what does not fit.
//!
//! ```no_run
//! use std::time::Instant;
//! use voxgate_bridge::{Event, Output, Session, SessionConfig, ws::WsLeg};
//!
//! async fn run_call(mut leg: WsLeg, config: SessionConfig) {
//!     let mut session = Session::new(config);
//!     session.start(Instant::now());
//!     loop {
//!         while let Some(output) = session.poll_output() {
//!             match output {
//!                 Output::Transmit(text) => {
//!                     if leg.send(text).await.is_err() {
//!                         session.handle_closed(Instant::now());
//!                     }
//!                 }
//!                 Output::Event(Event::CallerAudio(frame)) => {
//!                     // Hand the samples to the pipeline, then give the buffer back.
//!                     session.recycle(frame);
//!                 }
//!                 Output::Event(event) => tracing::info!(?event, "46elks call"),
//!                 Output::Close => return leg.close().await,
//!             }
//!         }
//!         let timer = session.poll_timeout().map(tokio::time::Instant::from_std);
//!         tokio::select! {
//!             input = leg.recv() => session.handle(Instant::now(), input.as_input()),
//!             () = sleep_until(timer) => session.handle_timeout(Instant::now()),
//!         }
//!     }
//! }
//!
//! async fn sleep_until(at: Option<tokio::time::Instant>) {
//!     match at {
//!         Some(at) => tokio::time::sleep_until(at).await,
//!         None => std::future::pending().await,
//!     }
//! }
//! ```
//!
//! # Features
//!
//! - `caller`: the `caller` module, a simulated 46elks carrier over `tokio-tungstenite`
//!   (pacing, odd chunk sizes, a playout clock that answers `sync`, barge-in).

pub mod error;
pub mod format;
pub mod message;
pub mod session;
pub mod ws;

#[cfg(feature = "caller")]
pub mod caller;

pub use error::BridgeError;
pub use format::Format;
pub use session::{Event, Input, Output, Session, SessionConfig};
