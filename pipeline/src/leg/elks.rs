//! The 46elks Realtime WebSocket as a [`Leg`]: `voxgate-bridge`'s sans-IO [`Session`] and
//! its [`WsLeg`] socket.

use std::time::{Duration, Instant};

use voxgate_bridge::message::ByeReason;
use voxgate_bridge::ws::{LegInput, WsLeg};
use voxgate_bridge::{BridgeError, Event, Output, Session, SessionConfig};
use voxgate_media::AudioFrame;

use super::{Leg, LegEvent, LegStep};
use crate::call::EndReason;
use crate::error::PipelineError;

/// One 46elks call: the session and its WebSocket.
#[derive(Debug)]
pub struct ElksLeg {
    session: Session,
    socket: Option<WsLeg>,
    /// What the socket delivered, until the session takes it.
    received: Option<LegInput>,
}

impl ElksLeg {
    /// A leg on an accepted WebSocket.
    pub fn new(config: SessionConfig, socket: WsLeg) -> Self {
        Self {
            session: Session::new(config),
            socket: Some(socket),
            received: None,
        }
    }
}

impl Leg for ElksLeg {
    fn start(&mut self, now: Instant) {
        self.session.start(now);
    }

    async fn next_step(&mut self, now: Instant) -> Option<LegStep> {
        loop {
            match self.session.poll_output()? {
                Output::Transmit(text) => {
                    let sent = match self.socket.as_mut() {
                        Some(socket) => socket.send(text).await.is_ok(),
                        None => false,
                    };
                    if !sent {
                        self.session.handle_closed(now);
                    }
                }
                Output::Event(event) => return Some(LegStep::Event(event_of(event))),
                Output::Close => return Some(LegStep::Close),
            }
        }
    }

    async fn recv(&mut self) {
        let Some(socket) = self.socket.as_mut() else {
            return std::future::pending().await;
        };
        self.received = Some(socket.recv().await);
    }

    fn handle_received(&mut self, now: Instant) {
        if let Some(input) = self.received.take() {
            self.session.handle(now, input.as_input());
        }
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.session.poll_timeout()
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.session.handle_timeout(now);
    }

    fn recycle(&mut self, frame: AudioFrame) {
        self.session.recycle(frame);
    }

    fn can_send(&self, now: Instant) -> bool {
        self.session.can_send(now)
    }

    fn send_audio(&mut self, now: Instant, samples: &[i16]) -> Result<(), PipelineError> {
        self.session
            .send_audio(now, samples)
            .map_err(|e| PipelineError::Leg(e.code()))
    }

    fn buffered(&self, now: Instant) -> Duration {
        self.session.buffered(now)
    }

    fn next_send_at(&self, now: Instant) -> Instant {
        self.session.next_send_at(now)
    }

    fn interrupt(&mut self, now: Instant) {
        self.session.interrupt(now);
    }

    fn hangup(&mut self, now: Instant) {
        self.session.hangup(now);
    }

    async fn close(mut self) {
        if let Some(socket) = self.socket.take() {
            socket.close().await;
        }
    }
}

/// The session's event as the call task sees it.
pub(crate) fn event_of(event: Event) -> LegEvent {
    match event {
        Event::Hello { callid, from, to } => LegEvent::Started {
            call_id: callid,
            from,
            to,
        },
        Event::CallerAudio(frame) => LegEvent::CallerAudio(frame),
        Event::Ended {
            reason,
            message,
            error,
        } => LegEvent::Ended {
            reason: end_reason(reason, error.as_ref()),
            message,
        },
    }
}

/// The session's end as a call's [`EndReason`]: a failure on our side wins over the
/// carrier's word. Our `bye` left unconfirmed (`WS_BYE_TIMEOUT`) is still a completed call.
fn end_reason(reason: ByeReason, error: Option<&BridgeError>) -> EndReason {
    match (reason, error) {
        (ByeReason::Done, _) => EndReason::Completed,
        (ByeReason::Hangup, _) => EndReason::CallerHungUp,
        (ByeReason::Error, Some(e)) => EndReason::LegFailed { code: e.code() },
        (ByeReason::Error, None) => EndReason::CarrierError,
    }
}
