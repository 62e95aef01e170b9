//! # voxgate-pipeline: the per-call voice loop
//!
//! This crate runs, for each call in a slot of a fixed-capacity pool, the loop
//! VAD -> speech-to-text ("ears") -> brain (LLM) -> streaming text-to-speech ("mouth"), with a
//! sans-IO turn controller, barge-in, per-turn latency metrics and the provider traits with
//! their local and vendor implementations. One tokio task per call owns that call's state.
//!
//! It sits on `voxgate-media` and `voxgate-bridge`; the server wires it up.

pub mod agent;
pub mod call;
pub mod context;
pub mod engines;
pub mod error;
pub mod events;
pub mod leg;
pub mod metrics;
pub mod providers;
pub mod sentences;
pub mod slots;
pub mod turn;

pub use call::{Engines, Pipeline, PipelineConfig};
pub use error::PipelineError;
