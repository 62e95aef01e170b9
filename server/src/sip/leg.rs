//! **IO edge**: one SIP call as the pipeline's [`Leg`]: its RTP and RTCP sockets, its
//! sans-IO [`RtpSession`], and the signals the user agent task sends it.

use std::time::{Duration, Instant};

use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use voxgate_media::AudioFrame;
use voxgate_pipeline::PipelineError;
use voxgate_pipeline::call::EndReason as CallEnd;
use voxgate_pipeline::leg::{Leg, LegEvent, LegStep};
use voxgate_sip::codec::MediaParams;
use voxgate_sip::rtp::{RtpEvent, RtpSession};
use voxgate_sip::ua::{CallRef, EndReason};

use super::driver::{Command, call_end};

/// What the user agent task tells a call.
#[derive(Debug)]
pub(super) enum Signal {
    /// A DTMF digit sent by INFO.
    Digit(char),
    /// A re-INVITE settled new media (hold, resume, a new address).
    Media(MediaParams),
    /// The call ended on the signalling side.
    Ended(EndReason),
}

/// Who an incoming call is: its Call-ID, caller and the number called.
pub(super) struct Who {
    pub(super) call_id: String,
    pub(super) from: String,
    pub(super) to: String,
}

/// Room for one RTP or RTCP datagram.
const DATAGRAM: usize = 1500;

/// One SIP call; see the [module docs](self).
pub(super) struct SipLeg {
    call: CallRef,
    /// Taken for the `Started` event.
    who: Option<Who>,
    rtp: RtpSession,
    rtp_socket: UdpSocket,
    rtcp_socket: UdpSocket,
    signals: mpsc::Receiver<Signal>,
    commands: mpsc::Sender<Command>,
    /// The end, once known; given after what is pending, then `Close`.
    ending: Option<LegEvent>,
    /// `Ended` was given: the next step is `Close`.
    ended: bool,
    /// A digit INFO brought, not yet given.
    pending_digit: Option<char>,
    out: Box<[u8; DATAGRAM]>,
    rtp_in: Box<[u8; DATAGRAM]>,
    rtcp_in: Box<[u8; DATAGRAM]>,
    /// What `recv` received, until `handle_received` hands it on.
    received: Option<Received>,
}

/// One input `recv` waited for (datagrams stay in their buffers).
#[derive(Debug)]
enum Received {
    Rtp {
        len: usize,
        from: std::net::SocketAddr,
    },
    Rtcp {
        len: usize,
        from: std::net::SocketAddr,
    },
    Signal(Signal),
    Stopped,
}

impl SipLeg {
    /// A call answered on the SIP side: its media session, its RTP and RTCP sockets, the
    /// signals the user agent task sends it, and where its hangup goes.
    pub(super) fn new(
        call: CallRef,
        who: Who,
        rtp: RtpSession,
        (rtp_socket, rtcp_socket): (UdpSocket, UdpSocket),
        signals: mpsc::Receiver<Signal>,
        commands: mpsc::Sender<Command>,
    ) -> Self {
        Self {
            call,
            who: Some(who),
            rtp,
            rtp_socket,
            rtcp_socket,
            signals,
            commands,
            ending: None,
            ended: false,
            pending_digit: None,
            out: Box::new([0; DATAGRAM]),
            rtp_in: Box::new([0; DATAGRAM]),
            rtcp_in: Box::new([0; DATAGRAM]),
            received: None,
        }
    }

    fn end(&mut self, reason: CallEnd) {
        if self.ending.is_none() && !self.ended {
            self.ending = Some(LegEvent::Ended {
                reason,
                message: None,
            });
        }
    }

    fn on_signal(&mut self, now: Instant, signal: Signal) {
        match signal {
            Signal::Digit(digit) => self.pending_digit = Some(digit),
            Signal::Media(params) => {
                if let Err(e) = self.rtp.update(&params, now) {
                    tracing::warn!(call = ?self.call, %e, "re-INVITE media refused by the RTP session");
                }
            }
            Signal::Ended(reason) => {
                self.rtp.close(now);
                self.end(call_end(reason));
            }
        }
    }
}

impl Leg for SipLeg {
    fn start(&mut self, _now: Instant) {}

    async fn next_step(&mut self, now: Instant) -> Option<LegStep> {
        if let Some(Who { call_id, from, to }) = self.who.take() {
            return Some(LegStep::Event(LegEvent::Started { call_id, from, to }));
        }
        if self.ended {
            return Some(LegStep::Close);
        }
        while let Some(t) = self.rtp.poll_transmit(now, &mut self.out[..]) {
            let socket = if t.rtcp {
                &self.rtcp_socket
            } else {
                &self.rtp_socket
            };
            let datagram = self.out.get(..t.len).unwrap_or_default();
            if let Err(e) = socket.send_to(datagram, t.to).await {
                tracing::debug!(call = ?self.call, to = %t.to, %e, "RTP send failed");
            }
        }
        if let Some(digit) = self.pending_digit.take() {
            return Some(LegStep::Event(LegEvent::Digit(digit)));
        }
        while let Some(event) = self.rtp.poll_event() {
            match event {
                RtpEvent::CallerAudio(frame) => {
                    return Some(LegStep::Event(LegEvent::CallerAudio(frame)));
                }
                RtpEvent::Dtmf(digit) => return Some(LegStep::Event(LegEvent::Digit(digit))),
                RtpEvent::RemoteBye => tracing::debug!(call = ?self.call, "RTCP BYE from the peer"),
                RtpEvent::MediaTimeout => {
                    tracing::warn!(call = ?self.call, "no RTP from the peer: hanging up");
                    self.hangup(now);
                }
            }
        }
        let ending = self.ending.take()?;
        self.ended = true;
        Some(LegStep::Event(ending))
    }

    async fn recv(&mut self) {
        if self.ended || self.ending.is_some() || self.received.is_some() {
            return std::future::pending().await;
        }
        self.received = Some(tokio::select! {
            received = self.rtp_socket.recv_from(&mut self.rtp_in[..]) => match received {
                Ok((len, from)) => Received::Rtp { len, from },
                Err(_) => return,
            },
            received = self.rtcp_socket.recv_from(&mut self.rtcp_in[..]) => match received {
                Ok((len, from)) => Received::Rtcp { len, from },
                Err(_) => return,
            },
            signal = self.signals.recv() => match signal {
                Some(signal) => Received::Signal(signal),
                // The user agent task is gone (shutdown): the call is over.
                None => Received::Stopped,
            },
        });
    }

    fn handle_received(&mut self, now: Instant) {
        match self.received.take() {
            Some(Received::Rtp { len, from }) => {
                let datagram = self.rtp_in.get(..len).unwrap_or_default();
                self.rtp.handle_rtp(now, from, datagram);
            }
            Some(Received::Rtcp { len, from }) => {
                let datagram = self.rtcp_in.get(..len).unwrap_or_default();
                self.rtp.handle_rtcp(now, from, datagram);
            }
            Some(Received::Signal(signal)) => self.on_signal(now, signal),
            Some(Received::Stopped) => self.end(CallEnd::LegFailed {
                code: "SIP_STOPPED",
            }),
            None => {}
        }
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.rtp.poll_timeout()
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.rtp.handle_timeout(now);
    }

    fn recycle(&mut self, frame: AudioFrame) {
        self.rtp.recycle(frame);
    }

    fn can_send(&self, now: Instant) -> bool {
        self.ending.is_none() && !self.ended && self.rtp.can_send(now)
    }

    fn send_audio(&mut self, now: Instant, samples: &[i16]) -> Result<(), PipelineError> {
        self.rtp
            .send_audio(now, samples)
            .map_err(|e| PipelineError::Leg(e.code()))
    }

    fn buffered(&self, now: Instant) -> Duration {
        self.rtp.buffered(now)
    }

    fn next_send_at(&self, now: Instant) -> Instant {
        self.rtp.next_send_at(now)
    }

    fn interrupt(&mut self, now: Instant) {
        self.rtp.interrupt(now);
    }

    fn hangup(&mut self, now: Instant) {
        if self.ending.is_some() || self.ended {
            return;
        }
        if self.commands.try_send(Command::Hangup(self.call)).is_err() {
            tracing::warn!(call = ?self.call, "SIP task gone: the hangup is not signalled");
        }
        self.rtp.close(now);
        self.end(CallEnd::Completed);
    }

    async fn close(self) {}
}
