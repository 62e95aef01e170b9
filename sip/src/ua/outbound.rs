//! What the driver asks of the user agent (answer, reject, hang up, call out) and the
//! responses to voxgate's own requests (RFC 3261 §13.2, §15.1.1, §22.2).

use std::net::SocketAddr;
use std::time::Instant;

use rsip::headers::{Header, UntypedHeader as _};
use rsip::{Method, Request, Response, SipMessage};

use super::call::{Call, CallState, Role};
use super::{CallRef, EndReason, UaEvent, UserAgent};
use crate::SipError;
use crate::auth::{Challenge, Credentials, DigestClient};
use crate::dialog::{Dialog, ViaSpec};
use crate::message::{response_to, summarize, with_to_tag};
use crate::transaction::{Output, TransactionErrorKind, TransactionKey, cancel_for};

/// Challenges answered per INVITE before giving up (a wrong password is refused again).
const MAX_AUTH_TRIES: u32 = 2;

fn unknown_call() -> SipError {
    SipError::Transaction {
        kind: TransactionErrorKind::UnknownTransaction,
    }
}

impl UserAgent {
    /// Answers an incoming call (or its re-INVITE) with 200 OK carrying the SDP `answer`.
    ///
    /// # Errors
    ///
    /// When the call is gone or has nothing to answer.
    pub fn answer(
        &mut self,
        now: Instant,
        call_ref: CallRef,
        answer: &[u8],
    ) -> Result<(), SipError> {
        let call = self.calls.get_mut(&call_ref).ok_or_else(unknown_call)?;
        let (key, request) = match (call.state, call.reinvite.take()) {
            (_, Some(pending)) => pending,
            (CallState::Ringing, None) => {
                call.state = CallState::Answering;
                if let Some(dialog) = call.dialog.as_mut() {
                    dialog.confirm();
                }
                let key = call.invite_key.clone().ok_or_else(unknown_call)?;
                (key, call.invite.clone())
            }
            _ => return Err(unknown_call()),
        };
        let tag = call.local_tag.clone();
        let mut ok = with_to_tag(response_to(&request, 200), &tag);
        ok.headers
            .push(rsip::headers::Contact::new(self.config.contact()).into());
        ok.headers
            .push(rsip::headers::Allow::new(super::inbound::ALLOW).into());
        set_body(&mut ok.headers, &mut ok.body, answer);
        self.send_2xx(now, call_ref, &key, ok);
        Ok(())
    }

    /// Sends 180 Ringing for an incoming call.
    pub fn ringing(&mut self, now: Instant, call_ref: CallRef) {
        let Some(call) = self.calls.get(&call_ref) else {
            return;
        };
        if call.state != CallState::Ringing {
            return;
        }
        let (Some(key), invite) = (call.invite_key.clone(), call.invite.clone()) else {
            return;
        };
        self.respond(now, &key, &invite, 180);
    }

    /// Refuses an incoming call with `status` (486 when no slot is free, 488 when the offer
    /// has nothing voxgate speaks, 404, 503 with `retry_after` seconds); a pending re-INVITE
    /// is refused instead, and the call goes on.
    ///
    /// # Errors
    ///
    /// When the call is gone or already answered.
    pub fn reject(
        &mut self,
        now: Instant,
        call_ref: CallRef,
        status: u16,
        retry_after: Option<u32>,
    ) -> Result<(), SipError> {
        let call = self.calls.get_mut(&call_ref).ok_or_else(unknown_call)?;
        if let Some((key, request)) = call.reinvite.take() {
            self.respond(now, &key, &request, status);
            return Ok(());
        }
        if call.state != CallState::Ringing {
            return Err(unknown_call());
        }
        let key = call.invite_key.clone().ok_or_else(unknown_call)?;
        let tag = call.local_tag.clone();
        let mut response = with_to_tag(response_to(&call.invite, status), &tag);
        if let Some(seconds) = retry_after {
            response
                .headers
                .push(rsip::headers::RetryAfter::new(seconds.to_string()).into());
        }
        self.send(now, &key, response);
        self.end(call_ref, EndReason::Rejected(status));
        Ok(())
    }

    /// Ends a call from voxgate's side: BYE once answered, CANCEL while calling out, 480
    /// while an incoming call still rings.
    pub fn hangup(&mut self, now: Instant, call_ref: CallRef) {
        let Some(call) = self.calls.get_mut(&call_ref) else {
            return;
        };
        match call.state {
            CallState::Ringing => {
                let _ = self.reject(now, call_ref, 480, None);
            }
            CallState::Answering | CallState::Confirmed => {
                self.send_bye(now, call_ref);
                self.end(call_ref, EndReason::LocalBye);
            }
            CallState::Calling => {
                call.state = CallState::Cancelling;
                if call.provisional_seen {
                    self.send_cancel(now, call_ref);
                } else {
                    call.cancel_pending = true;
                }
                self.emit(UaEvent::Ended {
                    call: call_ref,
                    reason: EndReason::LocalBye,
                });
            }
            CallState::Cancelling => {}
        }
    }

    /// Calls `target` (a SIP URI) at `peer` as `from` (a SIP URI) with the SDP `offer`,
    /// answering digest challenges with `credentials`.
    ///
    /// # Errors
    ///
    /// When `target` or `from` is not a SIP URI, or the INVITE cannot be sent.
    pub fn invite(
        &mut self,
        now: Instant,
        peer: SocketAddr,
        target: &str,
        from: &str,
        offer: &[u8],
        credentials: Option<Credentials>,
    ) -> Result<CallRef, SipError> {
        let call_id = format!("{}@voxgate", self.token(20));
        self.invite_as(now, peer, &call_id, target, from, offer, credentials)
    }

    /// [`invite`](Self::invite) with the Call-ID chosen by the caller, so that the call
    /// can be recorded under its id before the INVITE leaves. The Call-ID must be unique
    /// (RFC 3261 §8.1.1.4) and a token (`word` of §25.1).
    ///
    /// # Errors
    ///
    /// As [`invite`](Self::invite), and when `call_id` is empty or not a `word`.
    #[allow(clippy::too_many_arguments)]
    pub fn invite_as(
        &mut self,
        now: Instant,
        peer: SocketAddr,
        call_id: &str,
        target: &str,
        from: &str,
        offer: &[u8],
        credentials: Option<Credentials>,
    ) -> Result<CallRef, SipError> {
        let uri = rsip::Uri::try_from(target).map_err(|_| unknown_target())?;
        rsip::Uri::try_from(from).map_err(|_| unknown_target())?;
        if call_id.is_empty() || !call_id.bytes().all(is_word_byte) {
            return Err(unknown_target());
        }
        let call_ref = CallRef(self.next_ref());
        let local_tag = self.token(10);
        let call_id = call_id.to_owned();
        let mut headers = rsip::Headers::default();
        headers.push(self.via().header().into());
        headers.push(rsip::headers::MaxForwards::new("70").into());
        headers.push(Header::From(rsip::headers::From::new(format!(
            "<{from}>;tag={local_tag}"
        ))));
        headers.push(Header::To(rsip::headers::To::new(format!("<{target}>"))));
        headers.push(rsip::headers::CallId::new(call_id).into());
        headers.push(rsip::headers::CSeq::new("1 INVITE").into());
        headers.push(rsip::headers::Contact::new(self.config.contact()).into());
        headers.push(rsip::headers::Allow::new(super::inbound::ALLOW).into());
        headers.push(rsip::headers::UserAgent::new(self.config.user_agent.clone()).into());
        let mut body = Vec::new();
        set_body(&mut headers, &mut body, offer);
        let invite = Request {
            method: Method::Invite,
            uri,
            version: rsip::Version::V2,
            headers,
            body,
        };
        let key = self.layer.send_request(now, invite.clone(), peer)?;
        let mut call = Call::new(Role::Caller, CallState::Calling, peer, invite);
        call.invite_key = Some(key);
        call.local_tag = local_tag;
        call.auth = credentials.map(DigestClient::new);
        self.calls.insert(call_ref, call);
        self.drain_layer(now);
        Ok(call_ref)
    }

    /// voxgate's address and a fresh branch, for a request it sends.
    pub(super) fn via(&mut self) -> ViaSpec {
        ViaSpec {
            sent_by: self.config.public_addr.to_string(),
            branch: self.branch(),
        }
    }

    /// What a transaction said about one of voxgate's requests.
    pub(super) fn on_transaction_output(
        &mut self,
        now: Instant,
        key: &TransactionKey,
        output: Output,
    ) {
        if self.registration_of(key).is_some() {
            return self.on_register_output(now, key, output);
        }
        let Some(call_ref) = self
            .calls
            .iter()
            .find_map(|(r, c)| (c.invite_key.as_ref() == Some(key)).then_some(*r))
        else {
            return;
        };
        let is_caller = self
            .calls
            .get(&call_ref)
            .is_some_and(|c| c.role == Role::Caller);
        match output {
            Output::Response(response) if is_caller => {
                self.on_invite_response(now, call_ref, &response)
            }
            Output::Timeout if is_caller => self.end(call_ref, EndReason::Timeout),
            Output::TransportError => self.end(call_ref, EndReason::TransportError),
            _ => {}
        }
    }

    /// A response to voxgate's INVITE.
    fn on_invite_response(&mut self, now: Instant, call_ref: CallRef, response: &Response) {
        let status = response.status_code.code();
        match status {
            100..=199 => self.on_provisional(now, call_ref, status),
            200..=299 => self.on_invite_ok(now, call_ref, response),
            401 | 407 => {
                if !self.retry_with_credentials(now, call_ref, response) {
                    self.end(call_ref, EndReason::Failed(status));
                }
            }
            _ => {
                let cancelled = self
                    .calls
                    .get(&call_ref)
                    .is_some_and(|c| c.state == CallState::Cancelling);
                if cancelled {
                    // Ended already when voxgate hung up.
                    self.calls.remove(&call_ref);
                } else {
                    self.end(call_ref, EndReason::Failed(status));
                }
            }
        }
    }

    fn on_provisional(&mut self, now: Instant, call_ref: CallRef, status: u16) {
        let Some(call) = self.calls.get_mut(&call_ref) else {
            return;
        };
        call.provisional_seen = true;
        if call.cancel_pending {
            call.cancel_pending = false;
            return self.send_cancel(now, call_ref);
        }
        if call.state == CallState::Calling && status > 100 {
            self.emit(UaEvent::Progress {
                call: call_ref,
                status,
            });
        }
    }

    /// A 2xx to voxgate's INVITE (first or retransmitted): ACK it; the first answers the
    /// call, or, after voxgate hung up, is ended with BYE (§9.1, §15).
    fn on_invite_ok(&mut self, now: Instant, call_ref: CallRef, ok: &Response) {
        let contact = self.config.contact();
        let via = self.via();
        let Some(call) = self.calls.get_mut(&call_ref) else {
            return;
        };
        if call.ack.is_none() {
            let Ok(mut dialog) = Dialog::uac(&call.invite, ok, &contact) else {
                return self.end(call_ref, EndReason::Failed(502));
            };
            dialog.confirm();
            let seq = summarize(&SipMessage::Request(call.invite.clone())).map_or(1, |s| s.cseq);
            call.ack = Some(dialog.ack(seq, &via));
            call.dialog = Some(dialog);
        }
        let (peer, ack) = (call.peer, call.ack.clone());
        if let Some(ack) = ack {
            self.transmit(peer, &SipMessage::Request(ack));
        }
        let Some(call) = self.calls.get_mut(&call_ref) else {
            return;
        };
        match call.state {
            CallState::Calling => {
                call.state = CallState::Confirmed;
                let answer = ok.body.clone();
                self.emit(UaEvent::Answered {
                    call: call_ref,
                    answer,
                });
            }
            CallState::Cancelling => {
                self.send_bye(now, call_ref);
                self.calls.remove(&call_ref);
            }
            _ => {}
        }
    }

    /// Answers a 401/407 with a new INVITE carrying credentials; false when there are none
    /// or they were refused already.
    fn retry_with_credentials(
        &mut self,
        now: Instant,
        call_ref: CallRef,
        response: &Response,
    ) -> bool {
        let proxy = response.status_code.code() == 407;
        let via = self.via();
        let cnonce = self.token(16);
        let Some(call) = self.calls.get_mut(&call_ref) else {
            return false;
        };
        if call.auth_tries >= MAX_AUTH_TRIES {
            return false;
        }
        let Some(client) = call.auth.as_mut() else {
            return false;
        };
        let Some(challenge) = challenge_of(response, proxy) else {
            return false;
        };
        let uri = call.invite.uri.to_string();
        let Ok(authorization) = client.authorize(&challenge, "INVITE", &uri, &cnonce) else {
            return false;
        };
        call.auth_tries += 1;
        let mut invite = call.invite.clone();
        next_attempt(&mut invite, &via, proxy, &authorization.to_string());
        call.invite = invite.clone();
        let peer = call.peer;
        match self.layer.send_request(now, invite, peer) {
            Ok(key) => {
                if let Some(call) = self.calls.get_mut(&call_ref) {
                    call.invite_key = Some(key);
                }
                self.drain_layer(now);
                true
            }
            Err(_) => false,
        }
    }

    /// Sends BYE in the call's dialog (a client transaction of its own).
    pub(super) fn send_bye(&mut self, now: Instant, call_ref: CallRef) {
        let via = self.via();
        let Some(call) = self.calls.get_mut(&call_ref) else {
            return;
        };
        let Some(dialog) = call.dialog.as_mut() else {
            return;
        };
        let bye = dialog.request(Method::Bye, &via);
        let peer = call.peer;
        let _ = self.layer.send_request(now, bye, peer);
        self.drain_layer(now);
    }

    /// Sends CANCEL for the call's INVITE (§9.1).
    fn send_cancel(&mut self, now: Instant, call_ref: CallRef) {
        let Some(call) = self.calls.get(&call_ref) else {
            return;
        };
        let (peer, invite) = (call.peer, call.invite.clone());
        if let Ok(cancel) = cancel_for(&invite) {
            let _ = self.layer.send_request(now, cancel, peer);
            self.drain_layer(now);
        }
    }

    /// A response no transaction matched: a retransmitted 2xx to an INVITE whose client
    /// transaction has ended is acknowledged again (§13.2.2.4).
    pub(super) fn on_stray_response(&mut self, _now: Instant, response: &Response) {
        if !(200..300).contains(&response.status_code.code()) {
            return;
        }
        let Some(summary) = summarize(&SipMessage::Response(response.clone())) else {
            return;
        };
        let found = self.calls.values().find_map(|c| {
            let dialog = c.dialog.as_ref()?;
            (dialog.matches(&summary) && summary.method == Method::Invite)
                .then(|| (c.peer, c.ack.clone()))
        });
        if let Some((peer, Some(ack))) = found {
            self.transmit(peer, &SipMessage::Request(ack));
        }
    }
}

fn unknown_target() -> SipError {
    SipError::Message {
        kind: crate::message::MessageErrorKind::BadStartLine,
    }
}

/// The digest challenge of a 401 (`WWW-Authenticate`) or 407 (`Proxy-Authenticate`).
pub(super) fn challenge_of(response: &Response, proxy: bool) -> Option<Challenge> {
    let values: Vec<String> = response
        .headers
        .iter()
        .filter_map(|h| match h {
            Header::WwwAuthenticate(v) if !proxy => Some(v.value().to_owned()),
            Header::ProxyAuthenticate(v) if proxy => Some(v.value().to_owned()),
            _ => None,
        })
        .collect();
    Challenge::first_supported(values.iter().map(String::as_str)).ok()
}

/// Turns `request` into its next attempt after a challenge: a new branch, CSeq + 1 (§22.2),
/// and the credentials in place of any earlier ones.
pub(super) fn next_attempt(request: &mut Request, via: &ViaSpec, proxy: bool, credentials: &str) {
    let seq = summarize(&SipMessage::Request(request.clone())).map_or(1, |s| s.cseq + 1);
    let method = request.method;
    request.headers.retain(|h| {
        !matches!(
            h,
            Header::Via(_)
                | Header::CSeq(_)
                | Header::Authorization(_)
                | Header::ProxyAuthorization(_)
        )
    });
    let mut headers = rsip::Headers::default();
    headers.push(via.header().into());
    for h in request.headers.iter() {
        headers.push(h.clone());
    }
    headers.push(rsip::headers::CSeq::new(format!("{seq} {method}")).into());
    if proxy {
        headers.push(rsip::headers::ProxyAuthorization::new(credentials).into());
    } else {
        headers.push(rsip::headers::Authorization::new(credentials).into());
    }
    request.headers = headers;
}

/// Puts `body` (SDP) into a message with its Content-Type and Content-Length.
pub(super) fn set_body(headers: &mut rsip::Headers, body: &mut Vec<u8>, sdp: &[u8]) {
    headers.retain(|h| !matches!(h, Header::ContentLength(_) | Header::ContentType(_)));
    if !sdp.is_empty() {
        headers.push(rsip::headers::ContentType::new("application/sdp").into());
    }
    headers.push(rsip::headers::ContentLength::from(sdp.len() as u32).into());
    *body = sdp.to_vec();
}

/// A byte of a `word` (RFC 3261 §25.1), what a Call-ID is made of.
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~()<>:\\\"/[]?{}@".contains(&b)
}
