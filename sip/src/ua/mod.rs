//! The user agent core (RFC 3261 §8, §12-§15): calls in and out over one UDP socket.
//!
//! [`UserAgent`] sits on the [`transaction`](crate::transaction) layer and the
//! [`dialog`](crate::dialog)s it makes, and turns SIP into a few call [`UaEvent`]s for the
//! driver above (the server's SIP task): a call came in with an offer, a call was answered,
//! the caller hung up, a digit arrived by INFO. The driver answers with commands:
//! [`answer`](UserAgent::answer) with an SDP answer, [`reject`](UserAgent::reject) with a
//! status, [`hangup`](UserAgent::hangup), [`invite`](UserAgent::invite).
//!
//! SDP stays opaque here (bodies in, bodies out): the driver negotiates media with
//! [`sdp`](crate::sdp), because only it can open an RTP socket.
//!
//! # Driving it
//!
//! ```text
//! loop {
//!     select! {
//!         (len, from) = socket.recv_from(&mut buf) => ua.handle_datagram(now, from, &buf[..len]),
//!         _ = sleep_until(ua.poll_timeout()) => ua.handle_timeout(now),
//!         command = commands.recv() => /* ua.answer(..), ua.hangup(..), ... */,
//!     }
//!     while let Some(output) = ua.poll_output() {
//!         match output {
//!             UaOutput::Transmit { to, bytes } => socket.send_to(&bytes, to),
//!             UaOutput::Event(event) => /* to the call's task */,
//!         }
//!     }
//! }
//! ```
//!
//! # Decisions
//!
//! - Responses go back to the address the request came from (RFC 3581 `rport` behaviour for
//!   every request): the NAT-friendly choice, and what every peer that matters expects.
//! - Randomness (tags, branches, Call-IDs) comes from a seeded generator in [`UaConfig`], so
//!   tests are reproducible; the driver seeds it from the OS.
//! - A 2xx to INVITE is retransmitted here (§13.3.1.4: T1 doubling up to T2 until the ACK,
//!   for 64×T1, then BYE), since RFC 6026 takes it out of the transaction.

mod call;
mod inbound;
mod outbound;
mod register;

#[cfg(test)]
mod tests;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use rsip::SipMessage;

use self::call::Call;
pub use self::register::{MAX_RETRY_AFTER, RETRY_AFTER, RegRef, Registration, refresh_after};
use crate::auth::Credentials;
use crate::message::{self, MessageErrorKind};
use crate::transaction::{Routed, Timers, TransactionLayer};

/// What a user agent needs to know about itself.
#[derive(Debug, Clone)]
pub struct UaConfig {
    /// The address peers reach voxgate's SIP socket at (`host:port` in Via and Contact).
    pub public_addr: SocketAddr,
    /// The user part of voxgate's Contact URI.
    pub contact_user: String,
    /// The `User-Agent` / `Server` header value.
    pub user_agent: String,
    /// The transaction timers (RFC values by default).
    pub timers: Timers,
    /// Seed for tags, branches and Call-IDs.
    pub seed: u64,
}

impl UaConfig {
    /// voxgate's Contact value.
    pub fn contact(&self) -> String {
        format!("<sip:{}@{}>", self.contact_user, self.public_addr)
    }
}

/// A call of this user agent, in or out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallRef(pub u64);

/// Why a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// The caller cancelled before voxgate answered.
    Cancelled,
    /// The peer sent BYE.
    RemoteBye,
    /// voxgate hung up (BYE sent, or CANCEL of an outbound call).
    LocalBye,
    /// voxgate refused the call with this status.
    Rejected(u16),
    /// The callee refused voxgate's call with this status.
    Failed(u16),
    /// No final response to voxgate's INVITE (timer B).
    Timeout,
    /// voxgate's 2xx was never acknowledged (§13.3.1.4): BYE sent.
    AckTimeout,
    /// The transport could not send.
    TransportError,
}

impl EndReason {
    /// A stable name for logs, metrics and call records.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cancelled => "cancelled",
            Self::RemoteBye => "remote_bye",
            Self::LocalBye => "local_bye",
            Self::Rejected(_) => "rejected",
            Self::Failed(_) => "failed",
            Self::Timeout => "timeout",
            Self::AckTimeout => "ack_timeout",
            Self::TransportError => "transport_error",
        }
    }
}

/// What happened, for the driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UaEvent {
    /// A new INVITE: answer, reject, or let it ring. `offer` is its body (empty for a late
    /// offer, RFC 3261 §13.2.1).
    Incoming {
        /// The call.
        call: CallRef,
        /// The INVITE's Call-ID (globally unique: the call's id in records and logs).
        call_id: String,
        /// The caller's URI (From).
        from: String,
        /// The user part of the Request-URI (the dialled number or extension).
        to_user: String,
        /// The SDP offer.
        offer: Vec<u8>,
        /// Where the INVITE came from.
        peer: SocketAddr,
    },
    /// The caller acknowledged voxgate's 2xx: media may flow both ways.
    Confirmed {
        /// The call.
        call: CallRef,
    },
    /// A provisional response to voxgate's INVITE.
    Progress {
        /// The call.
        call: CallRef,
        /// 180, 183, ...
        status: u16,
    },
    /// The callee answered voxgate's INVITE with `answer` (already acknowledged).
    Answered {
        /// The call.
        call: CallRef,
        /// The SDP answer.
        answer: Vec<u8>,
    },
    /// A re-INVITE with a new offer (hold, resume, a new address): call
    /// [`UserAgent::answer`] again or [`UserAgent::reject`] it (488 keeps the call).
    Reoffer {
        /// The call.
        call: CallRef,
        /// The new offer.
        offer: Vec<u8>,
    },
    /// A DTMF digit sent with INFO (`application/dtmf-relay`).
    Dtmf {
        /// The call.
        call: CallRef,
        /// The digit.
        digit: char,
    },
    /// The call is over.
    Ended {
        /// The call.
        call: CallRef,
        /// Why.
        reason: EndReason,
    },
    /// A registration succeeded (or was refreshed) for `expires` seconds.
    Registered {
        /// The registration.
        reg: RegRef,
        /// Granted seconds.
        expires: u32,
    },
    /// A registration failed with this status (`None`: no answer); it retries.
    RegistrationFailed {
        /// The registration.
        reg: RegRef,
        /// The registrar's final status.
        status: Option<u16>,
    },
    /// A registration was removed (expires 0 acknowledged).
    Unregistered {
        /// The registration.
        reg: RegRef,
    },
}

/// What the driver must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UaOutput {
    /// Send these bytes to `to`.
    Transmit {
        /// Destination.
        to: SocketAddr,
        /// The datagram.
        bytes: Vec<u8>,
    },
    /// Tell the call's owner.
    Event(UaEvent),
}

/// The user agent; see the [module docs](self).
#[derive(Debug)]
pub struct UserAgent {
    config: UaConfig,
    rng: StdRng,
    layer: TransactionLayer,
    calls: HashMap<CallRef, Call>,
    registrations: HashMap<RegRef, Registration>,
    next_ref: u64,
    outputs: VecDeque<UaOutput>,
    /// Datagrams refused, by code (for metrics).
    refused: u64,
}

impl UserAgent {
    /// A user agent with no calls.
    pub fn new(config: UaConfig) -> Self {
        Self {
            rng: StdRng::seed_from_u64(config.seed),
            layer: TransactionLayer::new(config.timers),
            calls: HashMap::new(),
            registrations: HashMap::new(),
            next_ref: 1,
            outputs: VecDeque::new(),
            refused: 0,
            config,
        }
    }

    /// Its configuration.
    pub fn config(&self) -> &UaConfig {
        &self.config
    }

    /// Live calls.
    pub fn calls(&self) -> usize {
        self.calls.len()
    }

    /// Datagrams refused as malformed so far.
    pub fn refused(&self) -> u64 {
        self.refused
    }

    /// A datagram from `from`. Malformed requests are answered with the status their
    /// [`MessageErrorKind`] names where a response can be built; everything else malformed
    /// is dropped and counted.
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, datagram: &[u8]) {
        if message::is_keepalive(datagram) {
            return;
        }
        let parsed = match message::parse(datagram) {
            Ok(parsed) => parsed,
            Err(kind) => return self.refuse(from, datagram, kind),
        };
        let routed = match self.layer.handle_message(now, parsed) {
            Ok(routed) => routed,
            Err(_) => return self.refuse(from, datagram, MessageErrorKind::BadVia),
        };
        match routed {
            Routed::Matched(_) => {}
            Routed::NewRequest(request) => self.on_request(now, from, request),
            Routed::Cancel { request, invite } => self.on_cancel(now, from, &request, invite),
            Routed::StrayResponse(response) => self.on_stray_response(now, &response),
        }
        self.drain_layer(now);
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.layer.handle_timeout(now);
        self.drain_layer(now);
        let due: Vec<CallRef> = self
            .calls
            .iter()
            .filter(|(_, c)| c.poll_timeout().is_some_and(|at| at <= now))
            .map(|(r, _)| *r)
            .collect();
        for call in due {
            self.on_call_timer(now, call);
        }
        let regs: Vec<RegRef> = self
            .registrations
            .iter()
            .filter(|(_, r)| r.poll_timeout().is_some_and(|at| at <= now))
            .map(|(r, _)| *r)
            .collect();
        for reg in regs {
            self.on_registration_timer(now, reg);
        }
        self.drain_layer(now);
    }

    /// The earliest deadline of any transaction, call or registration.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let calls = self.calls.values().filter_map(Call::poll_timeout);
        let regs = self
            .registrations
            .values()
            .filter_map(Registration::poll_timeout);
        self.layer
            .poll_timeout()
            .into_iter()
            .chain(calls)
            .chain(regs)
            .min()
    }

    /// The next thing the driver must do.
    pub fn poll_output(&mut self) -> Option<UaOutput> {
        self.outputs.pop_front()
    }

    /// A new call or registration handle.
    fn next_ref(&mut self) -> u64 {
        let r = self.next_ref;
        self.next_ref += 1;
        r
    }

    /// A random token of `len` lowercase letters and digits.
    fn token(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        (0..len)
            .map(|_| {
                let i = self.rng.random_range(0..ALPHABET.len());
                char::from(ALPHABET.get(i).copied().unwrap_or(b'0'))
            })
            .collect()
    }

    /// A fresh RFC 3261 branch.
    fn branch(&mut self) -> String {
        format!("{}{}", crate::transaction::MAGIC_COOKIE, self.token(16))
    }

    fn emit(&mut self, event: UaEvent) {
        self.outputs.push_back(UaOutput::Event(event));
    }

    fn transmit(&mut self, to: SocketAddr, message: &SipMessage) {
        self.outputs.push_back(UaOutput::Transmit {
            to,
            bytes: message.to_string().into_bytes(),
        });
    }

    fn refuse(&mut self, from: SocketAddr, datagram: &[u8], kind: MessageErrorKind) {
        self.refused += 1;
        if let Some(bytes) = message::refusal(datagram, kind.status()) {
            self.outputs
                .push_back(UaOutput::Transmit { to: from, bytes });
        }
    }

    /// Moves the transaction layer's outputs on: transmissions to the driver, responses and
    /// timeouts to the calls and registrations they belong to.
    fn drain_layer(&mut self, now: Instant) {
        while let Some(out) = self.layer.poll_output() {
            match out.output {
                crate::transaction::Output::Transmit(message) => self.transmit(out.peer, &message),
                other => self.on_transaction_output(now, &out.key, other),
            }
        }
    }

    /// 64×T1: how long a 2xx is retransmitted without an ACK (§13.3.1.4).
    fn ack_wait(&self) -> Duration {
        self.config.timers.t1 * 64
    }

    /// Starts a registration of `aor` at `registrar` for `expires` seconds, refreshed
    /// before it runs out and retried on failure; see [`Registration`].
    pub fn register(
        &mut self,
        now: Instant,
        registrar: SocketAddr,
        aor: &str,
        credentials: Option<Credentials>,
        expires: u32,
    ) -> RegRef {
        let reg = RegRef(self.next_ref());
        let call_id = format!("{}@voxgate", self.token(20));
        let from_tag = self.token(10);
        let registration = Registration::new(
            registrar,
            aor.to_owned(),
            credentials,
            expires,
            call_id,
            from_tag,
        );
        self.registrations.insert(reg, registration);
        self.send_register(now, reg);
        self.drain_layer(now);
        reg
    }
}
