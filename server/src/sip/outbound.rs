//! **IO edge**: what voxgate starts on the SIP side — calls it places through a trunk and
//! the trunk registrations it keeps — and [`SipHandle`], the control API's
//! [`SipLine`] into the user agent task.
//!
//! The handle resolves the registrar's host (DNS, off the user agent task) and queues a
//! [`Command`]; the user agent task owns every call and registration and answers through a
//! oneshot channel. A placed call rings until the callee answers, refuses, or its ring
//! timeout passes (then voxgate cancels it); once answered it runs on the pipeline like any
//! incoming call, with the agent the control API stored under its Call-ID.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures::FutureExt as _;
use futures::future::BoxFuture;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};
use voxgate_control_api::phone::sip::{
    SipDial, SipFailure, SipLine, SipRegistration, registrar_host,
};
use voxgate_sip::auth::Credentials;
use voxgate_sip::sdp::{self, LocalMedia, SessionDescription};
use voxgate_sip::ua::{CallRef, EndReason, RegRef};

use super::driver::{Command, Driver, new_session};
use super::leg::Who;

/// How long a kept registration asks for (registrars may grant less; it is refreshed
/// before it runs out).
const KEPT_EXPIRES_S: u32 = 3600;

/// How long `sip-register-test` asks for: it unregisters at once anyway.
const TEST_EXPIRES_S: u32 = 60;

/// The default SIP port (RFC 3261 §19.1.2).
const SIP_PORT: u16 = 5060;

/// A trunk, resolved: where its registrar is and how to authenticate.
#[derive(Debug, Clone)]
pub(crate) struct Trunk {
    /// Registration key (the provider id).
    key: String,
    /// The registrar's address.
    peer: SocketAddr,
    /// The registrar's host as written (the domain of URIs voxgate writes).
    domain: String,
    /// The digest credentials; the user name is also the address of record's user.
    credentials: Credentials,
}

impl Trunk {
    /// `sip:{user}@{domain}`.
    fn aor(&self) -> String {
        format!("sip:{}@{}", self.credentials.username, self.domain)
    }

    /// Whether two trunks register the same way (a changed one is registered anew).
    fn same_as(&self, other: &Self) -> bool {
        self.peer == other.peer
            && self.domain == other.domain
            && self.credentials.username == other.credentials.username
            && self.credentials.password == other.credentials.password
    }
}

/// A call to place.
#[derive(Debug)]
pub(crate) struct DialCommand {
    trunk: Trunk,
    call_id: String,
    to: String,
    ring_timeout: Duration,
    reply: oneshot::Sender<Result<(), SipFailure>>,
}

/// One REGISTER round trip.
#[derive(Debug)]
pub(crate) struct RegisterCommand {
    trunk: Trunk,
    reply: oneshot::Sender<Result<u32, SipFailure>>,
}

/// A call voxgate placed that has not been answered.
struct Dialing {
    who: Who,
    local: LocalMedia,
    offer: SessionDescription,
    sockets: (UdpSocket, UdpSocket),
    ring_until: Instant,
    reply: oneshot::Sender<Result<(), SipFailure>>,
}

/// What voxgate started on the SIP side and waits on.
#[derive(Default)]
pub(super) struct Outbound {
    dialing: HashMap<CallRef, Dialing>,
    /// `sip-register-test` registrations, until their first answer.
    tests: HashMap<RegRef, oneshot::Sender<Result<u32, SipFailure>>>,
    /// Kept registrations by key.
    kept: HashMap<String, (RegRef, Trunk)>,
}

impl Outbound {
    /// The next ring timeout.
    pub(super) fn poll_timeout(&self) -> Option<Instant> {
        self.dialing.values().map(|d| d.ring_until).min()
    }
}

impl Driver {
    /// Places a call: binds its RTP ports, offers G.711 and sends the INVITE.
    pub(super) async fn dial(&mut self, now: Instant, dial: DialCommand) {
        if !self.has_free_slot() {
            let _ = dial.reply.send(Err(SipFailure::Busy));
            return;
        }
        let Some(sockets) = self.ports.bind().await else {
            let _ = dial.reply.send(Err(SipFailure::Busy));
            return;
        };
        let port = sockets.0.local_addr().map_or(0, |a| a.port());
        let local = self.local_media(port);
        let offer = sdp::offer(&local);
        let target = format!("sip:{}@{}", dial.to, dial.trunk.domain);
        let from = dial.trunk.aor();
        let sent = self.ua.invite_as(
            now,
            dial.trunk.peer,
            &dial.call_id,
            &target,
            &from,
            offer.to_string().as_bytes(),
            Some(dial.trunk.credentials.clone()),
        );
        match sent {
            Ok(call) => {
                tracing::info!(?call, call_id = %dial.call_id, to = %dial.to, peer = %dial.trunk.peer, "SIP call placed");
                let who = Who {
                    call_id: dial.call_id,
                    from,
                    to: dial.to,
                };
                self.outbound.dialing.insert(
                    call,
                    Dialing {
                        who,
                        local,
                        offer,
                        sockets,
                        ring_until: now + dial.ring_timeout,
                        reply: dial.reply,
                    },
                );
            }
            Err(e) => {
                tracing::warn!(code = e.code(), "the INVITE could not be sent");
                let _ = dial
                    .reply
                    .send(Err(SipFailure::Unreachable(e.code().to_owned())));
            }
        }
    }

    /// The callee answered a placed call: settle the media and run it.
    pub(super) fn on_answered(&mut self, call: CallRef, answer: &[u8]) {
        let Some(dialing) = self.outbound.dialing.remove(&call) else {
            return;
        };
        let now = Instant::now();
        let params = SessionDescription::parse_bytes(answer)
            .ok()
            .and_then(|answer| sdp::accept_answer(&dialing.offer, &answer).ok());
        let Some(session) = params.as_ref().and_then(|p| new_session(p, now)) else {
            tracing::warn!(?call, "the callee's SDP answer is unusable: hanging up");
            self.ua.hangup(now, call);
            let _ = dialing.reply.send(Err(SipFailure::Status(488)));
            return;
        };
        tracing::info!(?call, call_id = %dialing.who.call_id, "SIP call answered by the callee");
        let _ = dialing.reply.send(Ok(()));
        self.run_call(call, dialing.who, dialing.local, session, dialing.sockets);
    }

    /// A call ended: if voxgate placed it and it never got answered, say why.
    pub(super) fn dial_ended(&mut self, call: CallRef, reason: EndReason) {
        let Some(dialing) = self.outbound.dialing.remove(&call) else {
            return;
        };
        let failure = match reason {
            EndReason::Failed(status) | EndReason::Rejected(status) => SipFailure::Status(status),
            EndReason::Timeout | EndReason::LocalBye => SipFailure::Timeout,
            EndReason::TransportError => SipFailure::Unreachable("transport error".to_owned()),
            EndReason::Cancelled | EndReason::RemoteBye | EndReason::AckTimeout => {
                SipFailure::Status(487)
            }
        };
        tracing::info!(
            ?call,
            reason = reason.as_str(),
            "placed SIP call not answered"
        );
        let _ = dialing.reply.send(Err(failure));
    }

    /// Cancels placed calls whose ring timeout passed.
    pub(super) fn ring_timeouts(&mut self, now: Instant) {
        let late: Vec<CallRef> = self
            .outbound
            .dialing
            .iter()
            .filter(|(_, d)| d.ring_until <= now)
            .map(|(call, _)| *call)
            .collect();
        for call in late {
            if let Some(dialing) = self.outbound.dialing.remove(&call) {
                tracing::info!(?call, "no answer before the ring timeout: cancelling");
                let _ = dialing.reply.send(Err(SipFailure::Timeout));
            }
            self.ua.hangup(now, call);
        }
    }

    /// `sip-register-test`: register, answer with the outcome, unregister.
    pub(super) fn register_once(&mut self, now: Instant, test: RegisterCommand) {
        let trunk = &test.trunk;
        let reg = self.ua.register(
            now,
            trunk.peer,
            &trunk.aor(),
            Some(trunk.credentials.clone()),
            TEST_EXPIRES_S,
        );
        self.outbound.tests.insert(reg, test.reply);
    }

    /// Keeps exactly `trunks` registered.
    pub(super) fn keep_registered(&mut self, now: Instant, trunks: Vec<Trunk>) {
        let mut wanted: HashMap<String, Trunk> =
            trunks.into_iter().map(|t| (t.key.clone(), t)).collect();
        let keys: Vec<String> = self.outbound.kept.keys().cloned().collect();
        for key in keys {
            let unchanged = match (self.outbound.kept.get(&key), wanted.get(&key)) {
                (Some((_, kept)), Some(want)) => kept.same_as(want),
                _ => false,
            };
            if unchanged {
                wanted.remove(&key);
            } else if let Some((reg, _)) = self.outbound.kept.remove(&key) {
                tracing::info!(trunk = %key, "SIP trunk registration dropped");
                self.ua.unregister(now, reg);
            }
        }
        for (key, trunk) in wanted {
            let reg = self.ua.register(
                now,
                trunk.peer,
                &trunk.aor(),
                Some(trunk.credentials.clone()),
                KEPT_EXPIRES_S,
            );
            tracing::info!(trunk = %key, registrar = %trunk.peer, "SIP trunk registering");
            self.outbound.kept.insert(key, (reg, trunk));
        }
    }

    pub(super) fn on_registered(&mut self, reg: RegRef, expires: u32) {
        if let Some(reply) = self.outbound.tests.remove(&reg) {
            let _ = reply.send(Ok(expires));
            self.ua.unregister(Instant::now(), reg);
            return;
        }
        if let Some((key, _)) = self.outbound.kept.iter().find(|(_, (r, _))| *r == reg) {
            tracing::info!(trunk = %key, expires, "SIP trunk registered");
        }
    }

    pub(super) fn on_registration_failed(&mut self, reg: RegRef, status: Option<u16>) {
        if let Some(reply) = self.outbound.tests.remove(&reg) {
            let _ = reply.send(Err(status.map_or(SipFailure::Timeout, SipFailure::Status)));
            self.ua.forget_registration(reg);
            return;
        }
        if let Some((key, _)) = self.outbound.kept.iter().find(|(_, (r, _))| *r == reg) {
            // The user agent retries with backoff.
            tracing::warn!(trunk = %key, ?status, "SIP trunk registration failed; retrying");
        }
    }
}

/// The control API's [`SipLine`] into the user agent task.
#[derive(Debug)]
pub(crate) struct SipHandle {
    commands: mpsc::Sender<Command>,
}

impl SipHandle {
    pub(super) fn new(commands: mpsc::Sender<Command>) -> Self {
        Self { commands }
    }
}

/// Resolves a registration's registrar (DNS A/AAAA; no SRV) into a [`Trunk`].
async fn resolve(registration: SipRegistration) -> Result<Trunk, SipFailure> {
    let unreachable = |why: String| SipFailure::Unreachable(why);
    let host = registrar_host(&registration.registrar)
        .map_err(|_| unreachable("the registrar is not sip:host[:port]".to_owned()))?;
    let (domain, lookup, port) = split_host(host);
    let peer = tokio::net::lookup_host((lookup, port))
        .await
        .map_err(|e| unreachable(format!("{lookup}: {e}")))?
        .next()
        .ok_or_else(|| unreachable(format!("{lookup}: no address")))?;
    Ok(Trunk {
        key: registration.key,
        peer,
        domain: domain.to_owned(),
        credentials: Credentials {
            username: registration.username,
            password: registration.password.expose().to_owned(),
        },
    })
}

/// `host[:port]` or `[v6][:port]` as (the host as URIs write it, the name to look up, the
/// port).
fn split_host(host: &str) -> (&str, &str, u16) {
    let port_of = |p: Option<&str>| p.and_then(|p| p.parse().ok()).unwrap_or(SIP_PORT);
    if let Some(rest) = host.strip_prefix('[') {
        let (addr, tail) = rest.split_once(']').unwrap_or((rest, ""));
        let domain = host.get(..addr.len() + 2).unwrap_or(host);
        (domain, addr, port_of(tail.strip_prefix(':')))
    } else {
        let (name, port) = host
            .split_once(':')
            .map_or((host, None), |(n, p)| (n, Some(p)));
        (name, name, port_of(port))
    }
}

impl SipHandle {
    async fn send(&self, command: Command) -> Result<(), SipFailure> {
        self.commands
            .send(command)
            .await
            .map_err(|_| SipFailure::Unreachable("the SIP leg has stopped".to_owned()))
    }
}

impl SipLine for SipHandle {
    fn dial(&self, dial: SipDial) -> BoxFuture<'static, Result<(), SipFailure>> {
        let commands = self.commands.clone();
        async move {
            let trunk = resolve(dial.trunk).await?;
            let (reply, answer) = oneshot::channel();
            let command = DialCommand {
                trunk,
                call_id: dial.call_id,
                to: dial.to,
                ring_timeout: Duration::from_secs(u64::from(dial.ring_timeout_s)),
                reply,
            };
            SipHandle { commands }.send(Command::Dial(command)).await?;
            answer
                .await
                .unwrap_or_else(|_| Err(SipFailure::Unreachable("the SIP leg has stopped".into())))
        }
        .boxed()
    }

    fn register_once(
        &self,
        registration: SipRegistration,
    ) -> BoxFuture<'static, Result<u32, SipFailure>> {
        let commands = self.commands.clone();
        async move {
            let trunk = resolve(registration).await?;
            let (reply, answer) = oneshot::channel();
            SipHandle { commands }
                .send(Command::RegisterOnce(RegisterCommand { trunk, reply }))
                .await?;
            answer
                .await
                .unwrap_or_else(|_| Err(SipFailure::Unreachable("the SIP leg has stopped".into())))
        }
        .boxed()
    }

    fn keep_registered(&self, registrations: Vec<SipRegistration>) {
        let commands = self.commands.clone();
        tokio::spawn(async move {
            let mut trunks = Vec::with_capacity(registrations.len());
            for registration in registrations {
                let key = registration.key.clone();
                match resolve(registration).await {
                    Ok(trunk) => trunks.push(trunk),
                    Err(e) => tracing::error!(trunk = %key, %e, "SIP trunk not registered"),
                }
            }
            let _ = commands.send(Command::KeepRegistered(trunks)).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrar_hosts_split_into_domain_and_port() {
        assert_eq!(
            split_host("voip.46elks.com"),
            ("voip.46elks.com", "voip.46elks.com", 5060)
        );
        assert_eq!(
            split_host("127.0.0.1:5062"),
            ("127.0.0.1", "127.0.0.1", 5062)
        );
        assert_eq!(split_host("[::1]:5070"), ("[::1]", "::1", 5070));
        assert_eq!(split_host("[::1]"), ("[::1]", "::1", 5060));
    }
}
