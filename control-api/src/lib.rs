//! # voxgate-control-api: the thin control API (not built yet)
//!
//! This crate will hold the domain core and the axum routes around voxgate's low-latency core:
//! circles and API keys, agents, phone-number, email and websocket elements with their
//! operations, telephony REST, call records, and the storage behind a `Store` trait (SQLite
//! embedded by default, PostgreSQL when configured). It knows the domain, not the media
//! internals. See the control-API issue.
