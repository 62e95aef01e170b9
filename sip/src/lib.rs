//! # voxgate-sip: the SIP/RTP call leg (not built yet)
//!
//! This crate will hold voxgate's SIP user agent as a stack of sans-IO layers, each driven by
//! `handle(now, input)` / `poll()` / `poll_timeout()` with time as an argument:
//!
//! - message parsing and writing (via `rsip`), with RFC 4475 torture tests;
//! - RFC 3261 client and server transactions (INVITE and non-INVITE, timers A-K with the named
//!   constants T1, T2, T4; the RFC 6026 Accepted state);
//! - dialogs (early, confirmed, terminated; route set, CSeq, re-INVITE, BYE, CANCEL);
//! - REGISTER with digest authentication and refresh before expiry;
//! - SDP offer/answer for audio (PCMU, PCMA, Opus, telephone-event, ptime, hold/resume);
//! - the per-call RTP session on top of `voxgate-media`'s RTP header and jitter buffer.
//!
//! It depends on `voxgate-media` only; the pipeline drives it. See the SIP/RTP issue.
