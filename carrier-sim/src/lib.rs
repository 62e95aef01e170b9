//! # voxgate-carrier-sim: 46elks, seen from the carrier's side
//!
//! An in-process simulator of the 46elks API for offline tests and demos. It follows the
//! 46elks documentation (`shared/reference/46elks.md`) **independently of voxgate's own
//! client**: every JSON body and webhook form here is written by hand from the reference, so
//! a misreading in the client is caught instead of mirrored.
//!
//! What it serves (one axum server, [`Simulator::start`]):
//! - **REST under `/a1`** (HTTP Basic auth on every route, form-encoded requests, JSON
//!   answers, case-insensitive paths, so `/a1/SMS` is `/a1/sms`): `POST/GET /a1/sms`,
//!   `GET /a1/sms/{id}`, `POST/GET /a1/numbers`, `POST/GET /a1/numbers/{id}`, `GET/POST
//!   /a1/me`, `POST/GET /a1/calls`, `GET /a1/calls/{id}` (doc §2).
//! - **Webhooks** (doc §3), form-encoded POSTs: delivery reports (`sent`, then `delivered`
//!   or `failed`), inbound SMS to `sms_url` with replies, `voice_start` and `next` for
//!   calls, `whenhangup`. Failed SMS and hang-up webhooks are retried.
//! - **Calls**: the callee answers, is busy or does not answer ([`/sim/callees`](#controls));
//!   an answered call runs its call actions (`connect`, `play`, `hangup`). A `connect` to a
//!   `ws://`/`wss://` URL opens the Realtime WebSocket (doc §1) with
//!   [`voxgate_bridge::caller::SimulatedCall`] and speaks a script of recorded Asterisk prompts.
//! - **Controls** under `/sim` (no auth, JSON): inbound SMS and calls, fault injection,
//!   undeliverable numbers, balances, and `GET /sim/state`, everything the simulator holds.
//!
//! # Controls
//!
//! | route | body | effect |
//! |---|---|---|
//! | `POST /sim/sms` | `{"from","to","message"}` | inbound SMS to an allocated number |
//! | `POST /sim/calls` | `{"from","to","script"?}` | inbound call to an allocated number |
//! | `GET /sim/calls/{id}` | | the call, its Realtime messages, `done` |
//! | `GET /sim/calls/{id}/agent.wav` | | agent audio received on the WebSocket |
//! | `GET /sim/calls/{id}/played.wav` | | the bytes a `play` action fetched |
//! | `POST /sim/callees` | `{"number","behaviour","after_ms","script"}` | callee behaviour |
//! | `POST`/`DELETE /sim/faults` | `{"path","method","status","body","delay_ms","count"}` | faults |
//! | `POST`/`DELETE /sim/undeliverable` | `{"numbers":[..]}` | SMS to these fail |
//! | `POST /sim/accounts/{username}/balance` | `{"balance":N}` | set a balance |
//! | `GET /sim/state` | | accounts, numbers, sms, calls, webhooks log, faults |
//!
//! # What it does not do
//!
//! No MMS, no `ivr`/`record`/`recordcall` actions (they end the call as `failed`), no
//! subaccounts, no persistence: state lives in memory for the life of the server. Webhooks
//! are retried six times in all (`webhook_retry_delay` apart), not for six hours.
//!
//! # Where the reference is silent
//!
//! - Errors: 401 `Unauthorized` (plain text), 400 with a plain-text reason, 403
//!   `{"error":"Not enough credits"}`, 403 plain text for a call `from` the account may not
//!   use and for configuring a deallocated number, 404 plain text for unknown ids, other
//!   accounts' objects, and an empty number inventory.
//! - A dry-run SMS answers without `id` and `created`, as the cited dry-run example does.
//! - Incoming SMS are free, listed with `status: "delivered"` and `delivered` = `created`.
//!   Replies from a webhook answer are listed with `direction: "outgoing-reply"`.
//! - Realtime `hello`: `from` is always the person on the phone and `to` the 46elks side,
//!   so for an outgoing call `from` is the callee; `callid` is the call's id.
//! - A call ends `success` once answered, unless its last action failed with nothing to
//!   follow (`failed`), or hung up with `busy`/`reject`. Answered calls cost
//!   `call_cost_per_minute` per started minute (at least one), both directions; `duration`
//!   is rounded up to whole seconds. `legs` starts with the call's own leg.
//! - Webhooks for the call flow (`voice_start`, `next`) are tried once; SMS and hang-up
//!   webhooks are retried. A 200-204 answer is a success.
//!
//! # Design
//!
//! Everything sits in one store behind a mutex that is never held across an
//! await; handlers and background tasks (delivery reports, calls) take it briefly. Ids and
//! timestamps come from one clock that never hands out the same `created` twice, so
//! paging on `created` is exact. This crate is an IO edge through and through: it exists to
//! talk HTTP and WebSocket, so it spawns tasks and sleeps, unlike the sans-IO protocol cores.

mod account;
mod calls;
mod clock;
mod config;
mod control;
mod error;
mod faults;
mod form;
mod numbers;
mod paging;
mod server;
mod sms;
mod store;
mod webhook;

pub use config::{Account, SimConfig};
pub use error::SimError;
pub use server::{SimHandle, Simulator, run};
