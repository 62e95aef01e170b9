//! # voxgate-benches: where voxgate's speed is measured
//!
//! Two tools live here.
//!
//! - **Criterion micro-benchmarks** (`benches/media.rs`, `benches/engines.rs`): the media
//!   primitives per 20 ms frame and the per-call engines (Silero and earshot per window,
//!   Whisper per utterance, espeak-ng per sentence, the 46elks message codec per frame),
//!   each with its budget. `cargo bench -p voxgate-benches`.
//! - **`voxgate-bench`**, the latency and capacity harness: hundreds of simulated carrier
//!   calls against a real server process, measured at the carrier edge. It starts its own
//!   voxgate (or targets a running one), places N concurrent calls that speak recorded
//!   speech in real time following a multi-turn script with barge-ins ([`call`]), samples
//!   the server's CPU and memory from `/proc` ([`procstat`]), reads the server's per-turn
//!   log for server-added latency ([`server`]), and writes a JSON summary ([`report`]) and
//!   SVG plots ([`svg`]). `sweep` raises the load until a level is not clean; `compare`
//!   does the same for voxgate and for an equivalent Pipecat bot (`pipecat/bot.py`, over
//!   Twilio Media Streams, [`twilio`]) in one run. `sip` places SIP calls with SIPp on
//!   voxgate's SIP leg and measures call setup, CPU and memory per call and the RTP voxgate
//!   sends back ([`sip`]).
//!
//! Everything is measured at the edge the way a carrier sees it: the harness knows when the
//! caller stopped speaking because it sent the audio, and times what comes back. The only
//! figure taken from inside the servers is `server_added` (end-of-turn decision to first
//! reply frame handed to the transport), which both servers log per turn with the same
//! definition. See `docs/latency-budget.md` for the budget and the measured figures.

pub mod call;
pub mod callgrind;
pub mod clips;
pub mod compare;
pub mod elks;
pub mod leg;
pub mod procstat;
pub mod report;
pub mod run;
pub mod server;
pub mod sip;
pub mod stats;
pub mod svg;
pub mod twilio;
pub mod workload;
