//! # voxgate-control-api: the thin control API around the voice core
//!
//! The layer operators and other systems touch. It knows the domain — circles (tenants)
//! and their API keys, elements (`phone-number`, `email`, `websocket`) with versioned specs,
//! agents, carrier credentials and numbers, call records and conversation threads — and
//! nothing of the media path. It does no audio and holds no call state; the server feeds it
//! the voice core's call events ([`recorder`]) and asks it, when a call comes in, which agent
//! answers and what that agent remembers of the caller ([`directory`]).
//!
//! Layers, top down:
//! - [`routes`]: axum handlers; [`router`] builds them over an [`AppState`]. Tested with
//!   `oneshot`, no socket.
//! - [`auth`]: Bearer keys (stored as SHA-256) and roles read < write < execute < admin.
//! - [`element`], [`agent`]: validation, defaults, deep merge (RFC 7396).
//! - [`store`]: the [`Store`](store::Store) trait and [`SqlStore`](store::SqlStore) on
//!   SQLite (embedded default, WAL) or PostgreSQL, with embedded migrations.
//! - [`email`]: the email element's operations (sending with outbox, suppressions, consent,
//!   daily cap and tracking; receiving; mailboxes over IMAP; domains; the audit log).
//! - [`secrets`]: ChaCha20-Poly1305 sealing of carrier credentials.
//!
//! Every failure is an [`ApiError`] with an HTTP status and a stable code, answered as
//! `{"error": {"code", "message", "retryable"}}`. The OpenAPI document is served at
//! `GET /api/openapi.json`.

pub mod agent;
pub mod auth;
pub mod bootstrap;
pub mod carrier;
pub mod directory;
pub mod e164;
pub mod element;
pub mod email;
mod error;
pub mod ids;
pub mod ops;
pub mod phone;
mod provider;
pub mod recorder;
pub mod routes;
pub mod secrets;
mod state;
pub mod store;
mod validate;

pub use error::{ApiError, ErrorBody, ErrorCode, ErrorDetail};
pub use routes::openapi::ApiDoc;
pub use routes::router;
pub use state::AppState;
