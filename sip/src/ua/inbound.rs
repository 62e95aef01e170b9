//! Requests that reach the user agent core: new calls, in-dialog requests, CANCEL, and the
//! methods voxgate refuses (RFC 3261 §8.2, §12.2.2, §13.3, §15.1.2).

use std::net::SocketAddr;
use std::time::Instant;

use rsip::headers::{Header, UntypedHeader as _};
use rsip::prelude::{HeadersExt as _, ToTypedHeader as _};
use rsip::{Method, Request, SipMessage};

use super::call::{Call, CallState, Retransmit, Role};
use super::{CallRef, EndReason, UaEvent, UserAgent};
use crate::dialog::{Dialog, DialogState};
use crate::message::{response_to, summarize, with_to_tag};
use crate::transaction::TransactionKey;

/// The methods voxgate answers (the `Allow` header of its responses).
pub(super) const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO";

impl UserAgent {
    /// A request no transaction matched (or an ACK to a 2xx).
    pub(super) fn on_request(&mut self, now: Instant, from: SocketAddr, request: Request) {
        if request.method == Method::Ack {
            return self.on_ack(now, &request);
        }
        let Ok(key) = self.layer.create_server(now, &request, from) else {
            return;
        };
        if request
            .max_forwards_header()
            .ok()
            .and_then(|m| m.num().ok())
            == Some(0)
        {
            return self.respond(now, &key, &request, 483);
        }
        if let Some(unsupported) = required_extensions(&request) {
            let mut response = response_to(&request, 420);
            response
                .headers
                .push(rsip::headers::Unsupported::new(unsupported).into());
            return self.send(now, &key, response);
        }
        if request.method == Method::Invite && !is_sdp_or_empty(&request) {
            let mut response = response_to(&request, 415);
            response
                .headers
                .push(rsip::headers::Accept::new("application/sdp").into());
            return self.send(now, &key, response);
        }
        let has_to_tag =
            summarize(&SipMessage::Request(request.clone())).is_some_and(|s| s.to_tag.is_some());
        match (request.method, has_to_tag) {
            (Method::Invite, false) => self.on_invite(now, from, key, request),
            (Method::Invite, true) => self.on_reinvite(now, key, request),
            (Method::Bye, _) => self.on_bye(now, &key, &request),
            (Method::Options, _) => {
                let mut ok = response_to(&request, 200);
                ok.headers.push(rsip::headers::Allow::new(ALLOW).into());
                ok.headers
                    .push(rsip::headers::Accept::new("application/sdp").into());
                self.send(now, &key, ok);
            }
            (Method::Info, _) => self.on_info(now, &key, &request),
            _ => {
                let mut refused = response_to(&request, 405);
                refused
                    .headers
                    .push(rsip::headers::Allow::new(ALLOW).into());
                self.send(now, &key, refused);
            }
        }
    }

    /// A new INVITE: a call, or a 400 when it cannot make a dialog.
    fn on_invite(&mut self, now: Instant, from: SocketAddr, key: TransactionKey, invite: Request) {
        let call_ref = CallRef(self.next_ref());
        let local_tag = self.token(10);
        let contact = self.config.contact();
        let dialog = match Dialog::uas(&invite, &local_tag, &contact) {
            Ok(dialog) => dialog,
            Err(kind) => return self.respond(now, &key, &invite, kind.status()),
        };
        let caller = invite
            .from_header()
            .ok()
            .and_then(|f| f.typed().ok())
            .map(|f| f.uri.to_string())
            .unwrap_or_default();
        let to_user = invite.uri.user().unwrap_or_default().to_owned();
        let offer = invite.body.clone();
        let call_id = dialog.id().call_id.clone();
        let mut call = Call::new(Role::Callee, CallState::Ringing, from, invite);
        call.invite_key = Some(key);
        call.dialog = Some(dialog);
        call.local_tag = local_tag;
        self.calls.insert(call_ref, call);
        self.emit(UaEvent::Incoming {
            call: call_ref,
            call_id,
            from: caller,
            to_user,
            offer,
            peer: from,
        });
    }

    /// A re-INVITE: a new offer for the driver, or 481 / 491 / 500.
    fn on_reinvite(&mut self, now: Instant, key: TransactionKey, request: Request) {
        let Some(call_ref) = self.call_of(&request) else {
            return self.respond(now, &key, &request, 481);
        };
        let status = {
            let Some(call) = self.calls.get_mut(&call_ref) else {
                return;
            };
            let busy = call.reinvite.is_some() || call.state != CallState::Confirmed;
            match call.dialog.as_mut().map(|d| d.handle_request(&request)) {
                Some(Err(kind)) => Some(kind.status()),
                _ if busy => Some(491),
                _ => None,
            }
        };
        if let Some(status) = status {
            return self.respond(now, &key, &request, status);
        }
        let offer = request.body.clone();
        if let Some(call) = self.calls.get_mut(&call_ref) {
            call.reinvite = Some((key, request));
        }
        self.emit(UaEvent::Reoffer {
            call: call_ref,
            offer,
        });
    }

    /// The ACK to voxgate's 2xx: stop retransmitting; the first one confirms the call.
    fn on_ack(&mut self, _now: Instant, ack: &Request) {
        let Some(call_ref) = self.call_of(ack) else {
            return;
        };
        let cseq = summarize(&SipMessage::Request(ack.clone())).map(|s| s.cseq);
        let Some(call) = self.calls.get_mut(&call_ref) else {
            return;
        };
        // An ACK for an older 2xx (a retransmitted ACK of the first INVITE) does not
        // acknowledge the 2xx of a re-INVITE.
        if call
            .retransmit
            .as_ref()
            .is_some_and(|r| Some(r.cseq) != cseq)
        {
            return;
        }
        call.retransmit = None;
        if call.state == CallState::Answering {
            call.state = CallState::Confirmed;
            // A late offer (an INVITE without SDP) is answered in the ACK.
            let answer = ack.body.clone();
            self.emit(UaEvent::Confirmed { call: call_ref });
            if !answer.is_empty() {
                self.emit(UaEvent::Reoffer {
                    call: call_ref,
                    offer: answer,
                });
            }
        }
    }

    /// BYE: 200 and the end of the call, or 481 for no such dialog.
    fn on_bye(&mut self, now: Instant, key: &TransactionKey, bye: &Request) {
        let Some(call_ref) = self.call_of(bye) else {
            return self.respond(now, key, bye, 481);
        };
        let checked = self
            .calls
            .get_mut(&call_ref)
            .and_then(|c| c.dialog.as_mut())
            .map(|d| d.handle_request(bye));
        if let Some(Err(kind)) = checked {
            return self.respond(now, key, bye, kind.status());
        }
        self.respond(now, key, bye, 200);
        // A BYE before voxgate answered ends the INVITE with 487 (§15.1.2).
        if let Some(call) = self.calls.get(&call_ref)
            && call.state == CallState::Ringing
            && let Some(invite_key) = call.invite_key.clone()
        {
            let invite = call.invite.clone();
            self.respond(now, &invite_key, &invite, 487);
        }
        self.end(call_ref, EndReason::RemoteBye);
    }

    /// INFO: 200, and a digit for the driver when it carries `application/dtmf-relay`.
    fn on_info(&mut self, now: Instant, key: &TransactionKey, info: &Request) {
        let Some(call_ref) = self.call_of(info) else {
            return self.respond(now, key, info, 481);
        };
        let checked = self
            .calls
            .get_mut(&call_ref)
            .and_then(|c| c.dialog.as_mut())
            .map(|d| d.handle_request(info));
        if let Some(Err(kind)) = checked {
            return self.respond(now, key, info, kind.status());
        }
        self.respond(now, key, info, 200);
        let is_dtmf = info.headers.iter().any(|h| {
            matches!(h, Header::ContentType(t) if t.value().trim().eq_ignore_ascii_case("application/dtmf-relay"))
        });
        if let Some(digit) = is_dtmf.then(|| dtmf_relay_digit(&info.body)).flatten() {
            self.emit(UaEvent::Dtmf {
                call: call_ref,
                digit,
            });
        }
    }

    /// CANCEL (§9.2): 200 to it; 487 to the INVITE if still ringing; 481 with no INVITE.
    pub(super) fn on_cancel(
        &mut self,
        now: Instant,
        from: SocketAddr,
        cancel: &Request,
        invite: Option<TransactionKey>,
    ) {
        let Ok(key) = self.layer.create_server(now, cancel, from) else {
            return;
        };
        let Some(invite_key) = invite else {
            return self.respond(now, &key, cancel, 481);
        };
        self.respond(now, &key, cancel, 200);
        let ringing = self.calls.iter().find_map(|(r, c)| {
            (c.invite_key.as_ref() == Some(&invite_key) && c.state == CallState::Ringing)
                .then_some(*r)
        });
        if let Some(call_ref) = ringing {
            let invite = self.calls.get(&call_ref).map(|c| c.invite.clone());
            if let Some(invite) = invite {
                self.respond(now, &invite_key, &invite, 487);
            }
            self.end(call_ref, EndReason::Cancelled);
        }
    }

    /// The call whose dialog `request` belongs to.
    pub(super) fn call_of(&self, request: &Request) -> Option<CallRef> {
        let summary = summarize(&SipMessage::Request(request.clone()))?;
        self.calls.iter().find_map(|(r, c)| {
            let dialog = c.dialog.as_ref()?;
            (dialog.state() != DialogState::Terminated && dialog.matches(&summary)).then_some(*r)
        })
    }

    /// Answers `request` on transaction `key` with `status`, with voxgate's tag.
    pub(super) fn respond(
        &mut self,
        now: Instant,
        key: &TransactionKey,
        request: &Request,
        status: u16,
    ) {
        let tag = self
            .calls
            .values()
            .find(|c| c.invite_key.as_ref() == Some(key))
            .map(|c| c.local_tag.clone());
        let response = response_to(request, status);
        let response = match (status, tag) {
            (100, _) => response,
            (_, Some(tag)) => with_to_tag(response, &tag),
            (_, None) => {
                let tag = self.token(10);
                with_to_tag(response, &tag)
            }
        };
        self.send(now, key, response);
    }

    /// Hands `response` to its server transaction.
    pub(super) fn send(
        &mut self,
        now: Instant,
        key: &TransactionKey,
        mut response: rsip::Response,
    ) {
        response
            .headers
            .push(rsip::headers::Server::new(self.config.user_agent.clone()).into());
        let _ = self.layer.send_response(now, key, response);
        self.drain_layer(now);
    }

    /// Sends a 2xx and keeps retransmitting it until the ACK (§13.3.1.4).
    pub(super) fn send_2xx(
        &mut self,
        now: Instant,
        call_ref: CallRef,
        key: &TransactionKey,
        ok: rsip::Response,
    ) {
        let t1 = self.config.timers.t1;
        let give_up = now + self.ack_wait();
        let cseq = summarize(&SipMessage::Response(ok.clone())).map_or(0, |s| s.cseq);
        self.send(now, key, ok.clone());
        if let Some(call) = self.calls.get_mut(&call_ref) {
            call.retransmit = Some(Retransmit {
                response: ok,
                next: now + t1,
                interval: t1,
                give_up,
                cseq,
            });
        }
    }

    /// A call's own timer: 2xx retransmission, or giving up on the ACK.
    pub(super) fn on_call_timer(&mut self, now: Instant, call_ref: CallRef) {
        let t2 = self.config.timers.t2;
        let Some(call) = self.calls.get_mut(&call_ref) else {
            return;
        };
        let Some(retransmit) = call.retransmit.as_mut() else {
            return;
        };
        if now >= retransmit.give_up {
            call.retransmit = None;
            // §13.3.1.4: no ACK within 64×T1: the session ends with BYE.
            self.send_bye(now, call_ref);
            return self.end(call_ref, EndReason::AckTimeout);
        }
        let response = retransmit.response.clone();
        retransmit.interval = (retransmit.interval * 2).min(t2);
        retransmit.next = now + retransmit.interval;
        let peer = call.peer;
        self.transmit(peer, &SipMessage::Response(response));
    }

    /// Forgets a call and tells the driver why it ended (once).
    pub(super) fn end(&mut self, call_ref: CallRef, reason: EndReason) {
        if let Some(mut call) = self.calls.remove(&call_ref) {
            if let Some(dialog) = call.dialog.as_mut() {
                dialog.terminate();
            }
            self.emit(UaEvent::Ended {
                call: call_ref,
                reason,
            });
        }
    }
}

/// Whether an INVITE's body is one voxgate reads: none (a late offer), or SDP without a
/// content coding. Anything else is answered 415 with `Accept: application/sdp`
/// (§21.4.13, §8.2.3).
fn is_sdp_or_empty(request: &Request) -> bool {
    if request.body.is_empty() {
        return true;
    }
    let mut sdp = false;
    for header in request.headers.iter() {
        match header {
            Header::ContentType(t) => {
                let media = t.value().split(';').next().unwrap_or_default().trim();
                sdp = media.eq_ignore_ascii_case("application/sdp");
            }
            Header::ContentEncoding(e) if !e.value().trim().eq_ignore_ascii_case("identity") => {
                return false;
            }
            _ => {}
        }
    }
    sdp
}

/// The extensions a request requires (its `Require` header); voxgate supports none, so any
/// is answered 420 with them in `Unsupported` (§8.2.2.3). ACK and CANCEL are never refused.
fn required_extensions(request: &Request) -> Option<String> {
    if matches!(request.method, Method::Ack | Method::Cancel) {
        return None;
    }
    let required: Vec<String> = request
        .headers
        .iter()
        .filter_map(|h| match h {
            Header::Require(r) => Some(r.value().trim().to_owned()),
            _ => None,
        })
        .filter(|v| !v.is_empty())
        .collect();
    (!required.is_empty()).then(|| required.join(", "))
}

/// The digit of an `application/dtmf-relay` body (`Signal=5\r\nDuration=160`).
fn dtmf_relay_digit(body: &[u8]) -> Option<char> {
    let text = std::str::from_utf8(body).ok()?;
    text.lines().find_map(|line| {
        let (name, value) = line.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("signal") {
            return None;
        }
        let mut chars = value.trim().chars();
        let digit = chars.next()?.to_ascii_uppercase();
        (chars.next().is_none() && "0123456789*#ABCD".contains(digit)).then_some(digit)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn dtmf_relay_bodies() {
        for (body, want) in [
            (&b"Signal=5\r\nDuration=160\r\n"[..], Some('5')),
            (b"signal= #\nDuration=100", Some('#')),
            (b"Signal=a", Some('A')),
            (b"Signal=55", None),
            (b"Duration=160", None),
            (b"\xff", None),
        ] {
            assert_eq!(super::dtmf_relay_digit(body), want, "{body:?}");
        }
    }
}
