//! What the carrier sends: `hello`, `audio`, `sync`, `bye`, and the socket's own events.

use std::time::Instant;

use super::{Event, Input, Output, Session, State};
use crate::error::BridgeError;
use crate::message::{AudioData, Bye, ByeReason, Hello, Incoming, Outgoing};
use crate::session::playout::Ack;

impl Session {
    /// Feeds one socket input at `now`.
    pub fn handle(&mut self, now: Instant, input: Input<'_>) {
        match input {
            Input::Text(text) => self.handle_text(now, text),
            Input::Binary { len } => self.handle_binary(now, len),
            Input::TooLarge { len } => self.handle_too_large(now, len),
            Input::Closed => self.handle_closed(now),
        }
    }

    /// A text frame from the carrier. Bad input (not JSON, not a valid message, bad
    /// base64, audio before `hello`, a second `hello`, too large) ends the session with the
    /// typed error; an unknown `t` is logged and ignored.
    pub fn handle_text(&mut self, now: Instant, text: &str) {
        if self.state == State::Ended {
            return;
        }
        self.idle_deadline = Some(now + self.config.idle_timeout);
        let max = self.config.max_message_bytes;
        if text.len() > max {
            let len = Some(text.len());
            return self.fail(BridgeError::MessageTooLarge { len, max });
        }
        match Incoming::parse(text) {
            Ok(Incoming::Hello(hello)) => self.on_hello(hello),
            Ok(Incoming::Audio(data)) => self.on_audio(&data),
            Ok(Incoming::Sync) => self.on_sync(now),
            Ok(Incoming::Bye(bye)) => self.on_bye(bye),
            Ok(Incoming::Unknown(t)) => {
                tracing::debug!(callid = ?self.callid, t, "ignoring unknown 46elks message");
            }
            Err(e) => self.fail(e),
        }
    }

    /// A binary frame: not part of the protocol; ends the session.
    pub fn handle_binary(&mut self, _now: Instant, len: usize) {
        if self.state != State::Ended {
            self.fail(BridgeError::BinaryFrame { len });
        }
    }

    /// A frame the socket layer refused as too large; ends the session.
    pub fn handle_too_large(&mut self, _now: Instant, len: Option<usize>) {
        if self.state != State::Ended {
            let max = self.config.max_message_bytes;
            self.fail(BridgeError::MessageTooLarge { len, max });
        }
    }

    /// The socket closed or failed before the carrier's `bye`. After our own `bye` the call
    /// is ending as asked (reason `done`); otherwise it is an error. Either way the error is
    /// `WS_SOCKET_LOST`.
    pub fn handle_closed(&mut self, _now: Instant) {
        match self.state {
            State::Ended => {}
            State::Draining { .. } => {
                self.end(ByeReason::Done, None, Some(BridgeError::SocketLost));
            }
            State::AwaitingHello | State::Active => self.fail(BridgeError::SocketLost),
        }
    }

    fn on_hello(&mut self, hello: Hello) {
        if self.state != State::AwaitingHello {
            return self.fail(BridgeError::DuplicateHello);
        }
        self.state = State::Active;
        let Hello { callid, from, to } = hello;
        tracing::debug!(%callid, "46elks hello");
        self.callid = Some(callid.clone());
        let event = Event::Hello { callid, from, to };
        self.outputs.push_back(Output::Event(event));
        // The official example's order: listening first, then sending (doc §1.3).
        self.transmit(&Outgoing::Listening(self.config.listen_format));
        self.transmit(&Outgoing::Sending(self.config.send_format));
    }

    /// Caller audio keeps flowing while we drain after our `bye`, for whoever records it.
    fn on_audio(&mut self, data: &AudioData<'_>) {
        if self.state == State::AwaitingHello {
            return self.fail(BridgeError::AudioBeforeHello);
        }
        let mut bytes = std::mem::take(&mut self.inbound);
        let result = data
            .decode_into(&mut bytes)
            .and_then(|()| self.reframer.push(&bytes, &mut self.outputs));
        self.inbound = bytes;
        if let Err(e) = result {
            self.fail(e);
        }
    }

    /// Never echoed: a `sync` from 46elks only ever answers ours (doc §1.4).
    fn on_sync(&mut self, now: Instant) {
        let ack = self.playout.ack(now);
        if ack != Ack::Matched {
            tracing::debug!(callid = ?self.callid, ?ack, "46elks sync not matched to a checkpoint");
        }
    }

    /// "ALWAYS the last message": the call is over, whatever state we were in.
    fn on_bye(&mut self, bye: Bye) {
        let Bye { reason, message } = bye;
        self.end(reason, message, None);
    }
}
