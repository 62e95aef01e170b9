//! **IO edge**: the user agent task. It owns the SIP socket and the sans-IO
//! [`UserAgent`], turns incoming calls into call tasks (see [`super::leg`]), and carries
//! signalling between them: the caller's BYE, re-INVITEs and INFO digits to the call task,
//! the agent's hangup back to the user agent.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures::future::BoxFuture;
use rand::Rng as _;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use voxgate_media::rtp::Ssrc;
use voxgate_pipeline::Pipeline;
use voxgate_sip::codec::AudioCodec;
use voxgate_sip::rtp::{RtpConfig, RtpSession};
use voxgate_sip::sdp::{self, LocalMedia, SessionDescription};
use voxgate_sip::ua::{CallRef, EndReason, UaConfig, UaEvent, UaOutput, UserAgent};

use super::leg::{Signal, SipLeg, Who};
use super::ports::Ports;

/// Commands to the user agent task: from call tasks, admission lookups and the control
/// API's [`SipLine`](voxgate_control_api::phone::sip::SipLine).
#[derive(Debug)]
pub(super) enum Command {
    /// The agent hung up.
    Hangup(CallRef),
    /// A ringing call's admission was decided (and its answer delay is over).
    Admit {
        /// The call.
        call: CallRef,
        /// Whether the dialled number is answered here (else 404).
        admitted: bool,
    },
    /// Place a call.
    Dial(super::outbound::DialCommand),
    /// One REGISTER round trip.
    RegisterOnce(super::outbound::RegisterCommand),
    /// Keep exactly these trunks registered.
    KeepRegistered(Vec<super::outbound::Trunk>),
}

/// Signalling queued per call before its task drops behind (never reached in practice: a
/// call gets a handful of signals in its life).
const SIGNALS: usize = 16;

/// The running SIP leg.
#[derive(Debug)]
pub(crate) struct SipService {
    task: tokio::task::JoinHandle<()>,
    /// What the control API places calls and registrations through.
    line: Arc<super::outbound::SipHandle>,
}

impl SipService {
    /// Binds `listen` and starts the user agent task.
    pub(super) async fn start(
        listen: SocketAddr,
        public: Option<SocketAddr>,
        rtp_ports: RangeInclusive<u16>,
        pipeline: Pipeline,
        admission: Arc<dyn Admission>,
        answer_delay: Duration,
    ) -> anyhow::Result<Self> {
        let socket = UdpSocket::bind(listen)
            .await
            .with_context(|| format!("binding SIP on udp {listen}"))?;
        let local_addr = socket.local_addr()?;
        let public = public.unwrap_or(local_addr);
        let ua = UserAgent::new(UaConfig {
            public_addr: public,
            contact_user: "voxgate".to_owned(),
            user_agent: format!("voxgate/{}", env!("CARGO_PKG_VERSION")),
            timers: voxgate_sip::transaction::Timers::default(),
            seed: rand::rng().random(),
        });
        let (commands, inbox) = mpsc::channel(1024);
        let line = Arc::new(super::outbound::SipHandle::new(commands.clone()));
        let driver = Driver {
            socket: Arc::new(socket),
            ua,
            pipeline,
            ports: Arc::new(Ports::new(local_addr.ip(), rtp_ports)),
            media_ip: public.ip(),
            calls: HashMap::new(),
            ringing: HashMap::new(),
            admission,
            answer_delay,
            outbound: super::outbound::Outbound::default(),
            commands,
        };
        tracing::info!(%local_addr, %public, "SIP listening (udp)");
        let task = tokio::spawn(driver.run(inbox));
        Ok(Self { task, line })
    }

    /// The control API's way in: calls out, registrations.
    pub(crate) fn line(&self) -> Arc<super::outbound::SipHandle> {
        Arc::clone(&self.line)
    }
}

/// Whether a dialled number is answered here: the server implements it over the control
/// API's numbers (see `docs/sip.md`, "Which calls are answered").
pub(crate) trait Admission: Send + Sync + 'static {
    /// True to answer a call to `to_user` (the Request-URI's user part), false for 404.
    fn admits(&self, to_user: &str) -> BoxFuture<'static, bool>;
}

/// A call that rings while its admission is looked up and its answer delay runs.
struct Ringing {
    who: Who,
    offer: SessionDescription,
    peer: SocketAddr,
}

impl Drop for SipService {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A call the user agent task knows, once it runs.
pub(super) struct Entry {
    /// Signals to its task.
    pub(super) signals: mpsc::Sender<Signal>,
    /// voxgate's media, for answering re-INVITEs.
    pub(super) local: LocalMedia,
}

pub(super) struct Driver {
    socket: Arc<UdpSocket>,
    pub(super) ua: UserAgent,
    pub(super) pipeline: Pipeline,
    pub(super) ports: Arc<Ports>,
    pub(super) media_ip: IpAddr,
    /// Calls whose task runs.
    pub(super) calls: HashMap<CallRef, Entry>,
    /// Incoming calls not answered yet.
    ringing: HashMap<CallRef, Ringing>,
    admission: Arc<dyn Admission>,
    answer_delay: Duration,
    /// Calls voxgate places and registrations it keeps.
    pub(super) outbound: super::outbound::Outbound,
    pub(super) commands: mpsc::Sender<Command>,
}

impl Driver {
    async fn run(mut self, mut inbox: mpsc::Receiver<Command>) {
        let mut buf = vec![0u8; voxgate_sip::message::MAX_DATAGRAM];
        loop {
            while let Some(output) = self.ua.poll_output() {
                match output {
                    UaOutput::Transmit { to, bytes } => {
                        if let Err(e) = self.socket.send_to(&bytes, to).await {
                            tracing::debug!(%to, %e, "SIP send failed");
                        }
                    }
                    UaOutput::Event(event) => self.on_event(event).await,
                }
            }
            let wake = [self.ua.poll_timeout(), self.outbound.poll_timeout()]
                .into_iter()
                .flatten()
                .min()
                .map(tokio::time::Instant::from_std);
            tokio::select! {
                received = self.socket.recv_from(&mut buf) => match received {
                    Ok((len, from)) => {
                        let datagram = buf.get(..len).unwrap_or_default();
                        self.ua.handle_datagram(Instant::now(), from, datagram);
                    }
                    Err(e) => tracing::debug!(%e, "SIP receive failed"),
                },
                () = sleep_until(wake) => {
                    let now = Instant::now();
                    self.ua.handle_timeout(now);
                    self.ring_timeouts(now);
                }
                command = inbox.recv() => match command {
                    Some(command) => self.on_command(command).await,
                    None => return,
                },
            }
        }
    }

    async fn on_command(&mut self, command: Command) {
        let now = Instant::now();
        match command {
            Command::Hangup(call) => self.ua.hangup(now, call),
            Command::Admit { call, admitted } => self.on_admitted(call, admitted).await,
            Command::Dial(dial) => self.dial(now, dial).await,
            Command::RegisterOnce(test) => self.register_once(now, test),
            Command::KeepRegistered(trunks) => self.keep_registered(now, trunks),
        }
    }

    async fn on_event(&mut self, event: UaEvent) {
        match event {
            UaEvent::Incoming {
                call,
                call_id,
                from,
                to_user,
                offer,
                peer,
            } => {
                let who = Who {
                    call_id,
                    from,
                    to: super::dialled_number(&to_user),
                };
                self.on_incoming(call, who, &offer, peer).await;
            }
            UaEvent::Reoffer { call, offer } => self.on_reoffer(call, &offer).await,
            UaEvent::Dtmf { call, digit } => self.signal(call, Signal::Digit(digit)),
            UaEvent::Ended { call, reason } => {
                if self.ringing.remove(&call).is_some() {
                    tracing::info!(
                        ?call,
                        reason = reason.as_str(),
                        "SIP call ended before it was answered"
                    );
                }
                self.dial_ended(call, reason);
                self.signal(call, Signal::Ended(reason));
                self.calls.remove(&call);
            }
            UaEvent::Answered { call, answer } => self.on_answered(call, &answer),
            UaEvent::Registered { reg, expires } => self.on_registered(reg, expires),
            UaEvent::RegistrationFailed { reg, status } => self.on_registration_failed(reg, status),
            UaEvent::Confirmed { .. } | UaEvent::Progress { .. } | UaEvent::Unregistered { .. } => {
            }
        }
    }

    fn signal(&self, call: CallRef, signal: Signal) {
        if let Some(entry) = self.calls.get(&call)
            && entry.signals.try_send(signal).is_err()
        {
            tracing::warn!(?call, "call task not taking signals");
        }
    }

    /// An INVITE: refuse it at once (486, 488) or let it ring while its number's admission
    /// is looked up and the answer delay runs; [`Command::Admit`] goes on.
    async fn on_incoming(&mut self, call: CallRef, who: Who, offer: &[u8], peer: SocketAddr) {
        let now = Instant::now();
        if !self.has_free_slot() {
            tracing::warn!(?call, from = %who.from, to = %who.to, "no free call slot: 486 Busy Here");
            let _ = self.ua.reject(now, call, 486, None);
            return;
        }
        let offer = match SessionDescription::parse_bytes(offer) {
            Ok(offer) => offer,
            Err(e) => {
                tracing::info!(?call, code = e.code(), "unusable SDP offer: 488");
                let _ = self.ua.reject(now, call, 488, None);
                return;
            }
        };
        self.ua.ringing(now, call);
        let admits = self.admission.admits(&who.to);
        let (delay, commands) = (self.answer_delay, self.commands.clone());
        tokio::spawn(async move {
            let (admitted, ()) = tokio::join!(admits, tokio::time::sleep(delay));
            let _ = commands.send(Command::Admit { call, admitted }).await;
        });
        self.ringing.insert(call, Ringing { who, offer, peer });
    }

    /// Whether a call may start now; counts a refusal when not.
    pub(super) fn has_free_slot(&self) -> bool {
        let free = self.pipeline.slots_in_use() < self.pipeline.slots_capacity();
        if !free {
            self.pipeline
                .metrics()
                .calls_refused
                .fetch_add(1, Ordering::Relaxed);
        }
        free
    }

    /// A ringing call's admission came: answer it (or 404, 486, 488, 503).
    async fn on_admitted(&mut self, call: CallRef, admitted: bool) {
        let now = Instant::now();
        // Gone already: the caller cancelled while it rang.
        let Some(Ringing { who, offer, peer }) = self.ringing.remove(&call) else {
            return;
        };
        if !admitted {
            tracing::info!(?call, to = %who.to, "no agent answers this number: 404");
            let _ = self.ua.reject(now, call, 404, None);
            return;
        }
        if !self.has_free_slot() {
            tracing::warn!(
                ?call,
                "the last slot went while the call rang: 486 Busy Here"
            );
            let _ = self.ua.reject(now, call, 486, None);
            return;
        }
        let Some((rtp, rtcp)) = self.ports.bind().await else {
            tracing::warn!(?call, "no free RTP port: 503");
            let _ = self.ua.reject(now, call, 503, Some(5));
            return;
        };
        let port = rtp.local_addr().map_or(0, |a| a.port());
        let local = self.local_media(port);
        let (answer, params) = match sdp::answer(&offer, &local) {
            Ok((answer, Some(params))) => (answer, params),
            Ok((_, None)) | Err(_) => {
                tracing::info!(?call, "no codec in common: 488");
                let _ = self.ua.reject(now, call, 488, None);
                return;
            }
        };
        let Some(session) = new_session(&params, now) else {
            tracing::warn!(?call, "RTP session refused the settled media: 488");
            let _ = self.ua.reject(now, call, 488, None);
            return;
        };
        if self
            .ua
            .answer(now, call, answer.to_string().as_bytes())
            .is_err()
        {
            return;
        }
        tracing::info!(?call, %peer, codec = ?params.codec, remote = %params.remote, "SIP call answered");
        self.run_call(call, who, local, session, (rtp, rtcp));
    }

    /// voxgate's media on `port`: G.711 only, since the pipeline's slots run at 8 kHz (see
    /// docs/sip.md).
    pub(super) fn local_media(&self, port: u16) -> LocalMedia {
        let mut local = LocalMedia::new(self.media_ip, port, rand::rng().random());
        local.codecs = vec![AudioCodec::Pcmu, AudioCodec::Pcma];
        local
    }

    /// Starts the call task of an answered call.
    pub(super) fn run_call(
        &mut self,
        call: CallRef,
        who: Who,
        local: LocalMedia,
        session: RtpSession,
        sockets: (UdpSocket, UdpSocket),
    ) {
        let (signals, inbox) = mpsc::channel(SIGNALS);
        self.calls.insert(call, Entry { signals, local });
        let leg = SipLeg::new(call, who, session, sockets, inbox, self.commands.clone());
        let pipeline = self.pipeline.clone();
        tokio::spawn(async move { pipeline.run_leg(leg).await });
    }

    /// A re-INVITE (hold, resume, a new address): answered from the call's media, and the
    /// call task told.
    async fn on_reoffer(&mut self, call: CallRef, offer: &[u8]) {
        let now = Instant::now();
        let Some(entry) = self.calls.get_mut(&call) else {
            let _ = self.ua.reject(now, call, 481, None);
            return;
        };
        let settled = SessionDescription::parse_bytes(offer)
            .ok()
            .and_then(|offer| {
                entry.local.bump_version();
                sdp::answer(&offer, &entry.local).ok()
            });
        match settled {
            Some((answer, Some(params))) => {
                if self
                    .ua
                    .answer(now, call, answer.to_string().as_bytes())
                    .is_ok()
                {
                    self.signal(call, Signal::Media(params));
                }
            }
            _ => {
                let _ = self.ua.reject(now, call, 488, None);
            }
        }
    }
}

/// The RTP session of settled media, with random SSRC, sequence and timestamp.
pub(super) fn new_session(
    params: &voxgate_sip::codec::MediaParams,
    now: Instant,
) -> Option<RtpSession> {
    let mut rng = rand::rng();
    RtpSession::new(
        RtpConfig::default(),
        params,
        Ssrc(rng.random()),
        rng.random(),
        rng.random(),
        now,
    )
    .ok()
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// A SIP end reason as the call's: `CallerHungUp` when the caller ended it, `Completed`
/// when voxgate did, a leg failure with the SIP reason's code otherwise.
pub(super) fn call_end(reason: EndReason) -> voxgate_pipeline::call::EndReason {
    use voxgate_pipeline::call::EndReason as Call;
    match reason {
        EndReason::RemoteBye | EndReason::Cancelled => Call::CallerHungUp,
        EndReason::LocalBye | EndReason::Rejected(_) => Call::Completed,
        EndReason::Failed(_)
        | EndReason::Timeout
        | EndReason::AckTimeout
        | EndReason::TransportError => Call::LegFailed {
            code: reason.as_str(),
        },
    }
}
