//! **IO edge**: the user agent task. It owns the SIP socket and the sans-IO
//! [`UserAgent`], turns incoming calls into call tasks (see [`super::leg`]), and carries
//! signalling between them: the caller's BYE, re-INVITEs and INFO digits to the call task,
//! the agent's hangup back to the user agent.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::Context as _;
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

/// Commands from call tasks to the user agent task.
#[derive(Debug)]
pub(super) enum Command {
    /// The agent hung up.
    Hangup(CallRef),
}

/// Signalling queued per call before its task drops behind (never reached in practice: a
/// call gets a handful of signals in its life).
const SIGNALS: usize = 16;

/// The running SIP leg.
#[derive(Debug)]
pub(crate) struct SipService {
    task: tokio::task::JoinHandle<()>,
}

impl SipService {
    /// Binds `listen` and starts the user agent task.
    pub(super) async fn start(
        listen: SocketAddr,
        public: Option<SocketAddr>,
        rtp_ports: RangeInclusive<u16>,
        pipeline: Pipeline,
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
        let driver = Driver {
            socket: Arc::new(socket),
            ua,
            pipeline,
            ports: Arc::new(Ports::new(local_addr.ip(), rtp_ports)),
            media_ip: public.ip(),
            calls: HashMap::new(),
            commands,
        };
        tracing::info!(%local_addr, %public, "SIP listening (udp)");
        let task = tokio::spawn(driver.run(inbox));
        Ok(Self { task })
    }
}

impl Drop for SipService {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A call the user agent task knows.
struct Entry {
    /// Signals to its task (none until it runs).
    signals: mpsc::Sender<Signal>,
    /// voxgate's media, for answering re-INVITEs.
    local: LocalMedia,
}

struct Driver {
    socket: Arc<UdpSocket>,
    ua: UserAgent,
    pipeline: Pipeline,
    ports: Arc<Ports>,
    media_ip: IpAddr,
    calls: HashMap<CallRef, Entry>,
    commands: mpsc::Sender<Command>,
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
            let wake = self.ua.poll_timeout().map(tokio::time::Instant::from_std);
            tokio::select! {
                received = self.socket.recv_from(&mut buf) => match received {
                    Ok((len, from)) => {
                        let datagram = buf.get(..len).unwrap_or_default();
                        self.ua.handle_datagram(Instant::now(), from, datagram);
                    }
                    Err(e) => tracing::debug!(%e, "SIP receive failed"),
                },
                () = sleep_until(wake) => self.ua.handle_timeout(Instant::now()),
                command = inbox.recv() => match command {
                    Some(Command::Hangup(call)) => self.ua.hangup(Instant::now(), call),
                    None => return,
                },
            }
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
                    to: to_user,
                };
                self.on_incoming(call, who, &offer, peer).await;
            }
            UaEvent::Reoffer { call, offer } => self.on_reoffer(call, &offer).await,
            UaEvent::Dtmf { call, digit } => self.signal(call, Signal::Digit(digit)),
            UaEvent::Ended { call, reason } => {
                self.signal(call, Signal::Ended(reason));
                self.calls.remove(&call);
            }
            UaEvent::Confirmed { .. }
            | UaEvent::Progress { .. }
            | UaEvent::Answered { .. }
            | UaEvent::Registered { .. }
            | UaEvent::RegistrationFailed { .. }
            | UaEvent::Unregistered { .. } => {}
        }
    }

    fn signal(&self, call: CallRef, signal: Signal) {
        if let Some(entry) = self.calls.get(&call)
            && entry.signals.try_send(signal).is_err()
        {
            tracing::warn!(?call, "call task not taking signals");
        }
    }

    /// An INVITE: refuse it (486, 400, 488, 503) or answer it and start its call task.
    async fn on_incoming(&mut self, call: CallRef, who: Who, offer: &[u8], peer: SocketAddr) {
        let now = Instant::now();
        let Who { from, to, .. } = &who;
        if self.pipeline.slots_in_use() >= self.pipeline.slots_capacity() {
            tracing::warn!(?call, %from, %to, "no free call slot: 486 Busy Here");
            self.pipeline
                .metrics()
                .calls_refused
                .fetch_add(1, Ordering::Relaxed);
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
        let Some((rtp, rtcp)) = self.ports.bind().await else {
            tracing::warn!(?call, "no free RTP port: 503");
            let _ = self.ua.reject(now, call, 503, Some(5));
            return;
        };
        let port = rtp.local_addr().map_or(0, |a| a.port());
        let mut local = LocalMedia::new(self.media_ip, port, rand::rng().random());
        // The pipeline's slots run at 8 kHz: G.711 only on this leg (see docs/sip.md).
        local.codecs = vec![AudioCodec::Pcmu, AudioCodec::Pcma];
        let (answer, params) = match sdp::answer(&offer, &local) {
            Ok((answer, Some(params))) => (answer, params),
            Ok((_, None)) | Err(_) => {
                tracing::info!(?call, "no codec in common: 488");
                let _ = self.ua.reject(now, call, 488, None);
                return;
            }
        };
        let mut rng = rand::rng();
        let session = match RtpSession::new(
            RtpConfig::default(),
            &params,
            Ssrc(rng.random()),
            rng.random(),
            rng.random(),
            now,
        ) {
            Ok(session) => session,
            Err(e) => {
                tracing::warn!(?call, %e, "RTP session refused the settled media: 488");
                let _ = self.ua.reject(now, call, 488, None);
                return;
            }
        };
        if self
            .ua
            .answer(now, call, answer.to_string().as_bytes())
            .is_err()
        {
            return;
        }
        let (signals, inbox) = mpsc::channel(SIGNALS);
        self.calls.insert(call, Entry { signals, local });
        let leg = SipLeg::new(
            call,
            who,
            session,
            (rtp, rtcp),
            inbox,
            self.commands.clone(),
        );
        tracing::info!(?call, %peer, codec = ?params.codec, remote = %params.remote, "SIP call answered");
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

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// How a SIP end reason reads in call records: `hangup` when the caller ended it, `done`
/// when voxgate did, `error` otherwise (the words the 46elks leg uses).
pub(super) fn reason_word(reason: EndReason) -> &'static str {
    match reason {
        EndReason::RemoteBye | EndReason::Cancelled => "hangup",
        EndReason::LocalBye | EndReason::Rejected(_) => "done",
        EndReason::Failed(_)
        | EndReason::Timeout
        | EndReason::AckTimeout
        | EndReason::TransportError => "error",
    }
}
