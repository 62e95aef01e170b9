//! The messages a transaction writes itself: the ACK to a non-2xx (RFC 3261 §17.1.1.3), the
//! 100 Trying of a server INVITE transaction (§17.2.1, §8.2.6), and, for the TU, the CANCEL
//! of an INVITE (§9.1), which is built from the same INVITE fields as the ACK.

use rsip::prelude::*;

use super::key::{cseq, top_via_value};
use super::{TransactionErrorKind, error};
use crate::SipError;

/// What an ACK or CANCEL copies from the INVITE (§17.1.1.3, §9.1): Request-URI, the top Via
/// only (so the branch is the INVITE's), Route, From, Call-ID and the CSeq number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct InviteEcho {
    /// The INVITE's Request-URI.
    uri: rsip::Uri,
    /// The INVITE's top Via value.
    via: rsip::Header,
    /// Every Route header field of the INVITE, in order.
    routes: Vec<rsip::Header>,
    /// The INVITE's From.
    from: rsip::Header,
    /// The INVITE's Call-ID.
    call_id: rsip::Header,
    /// The INVITE's CSeq number.
    seq: u32,
}

impl InviteEcho {
    /// Takes the fields from `invite`, or says which one is missing.
    pub(super) fn of(invite: &rsip::Request) -> Result<Self, SipError> {
        let from = invite
            .from_header()
            .map_err(|_| error(TransactionErrorKind::MissingFrom))?;
        let call_id = invite
            .call_id_header()
            .map_err(|_| error(TransactionErrorKind::MissingCallId))?;
        Ok(Self {
            uri: invite.uri.clone(),
            via: top_via_value(invite)?,
            routes: invite
                .headers
                .iter()
                .filter(|header| matches!(header, rsip::Header::Route(_)))
                .cloned()
                .collect(),
            from: from.clone().into(),
            call_id: call_id.clone().into(),
            seq: cseq(invite)?.seq,
        })
    }

    /// The request of `method` with these fields and `to`, no body.
    pub(super) fn request(&self, method: rsip::Method, to: rsip::Header) -> rsip::Request {
        let mut headers = rsip::Headers::default();
        headers.push(self.via.clone());
        for route in &self.routes {
            headers.push(route.clone());
        }
        // Max-Forwards is mandatory in every request (§8.1.1.6); 70 is the RFC's default.
        headers.push(rsip::headers::MaxForwards::default().into());
        headers.push(self.from.clone());
        headers.push(to);
        headers.push(self.call_id.clone());
        headers.push(rsip::typed::CSeq::from((self.seq, method)).into());
        headers.push(rsip::headers::ContentLength::default().into());
        rsip::Request {
            method,
            uri: self.uri.clone(),
            version: rsip::Version::V2,
            headers,
            body: Vec::new(),
        }
    }
}

/// The ACK to a non-2xx final `response` (§17.1.1.3): the INVITE's fields, with the
/// response's To (and so its tag).
pub(super) fn ack_for(
    echo: &InviteEcho,
    response: &rsip::Response,
) -> Result<rsip::Request, SipError> {
    let to = response
        .to_header()
        .map_err(|_| error(TransactionErrorKind::MissingTo))?;
    Ok(echo.request(rsip::Method::Ack, to.clone().into()))
}

/// The CANCEL of `invite` (§9.1): same Request-URI, top Via (so the same branch, which puts
/// it in its own client transaction keyed by that branch and method CANCEL), Route, From,
/// To, Call-ID and CSeq number, with method CANCEL. Send it with a client non-INVITE
/// transaction, and only once a provisional response has arrived (§9.1).
pub fn cancel_for(invite: &rsip::Request) -> Result<rsip::Request, SipError> {
    if invite.method != rsip::Method::Invite {
        return Err(error(TransactionErrorKind::WrongMethod));
    }
    let to = invite
        .to_header()
        .map_err(|_| error(TransactionErrorKind::MissingTo))?;
    Ok(InviteEcho::of(invite)?.request(rsip::Method::Cancel, to.clone().into()))
}

/// The 100 Trying a server INVITE transaction sends for `request` (§8.2.6): every Via in
/// order, From, To (no tag is added to a 100), Call-ID, CSeq, and Timestamp when present.
pub(super) fn trying_for(request: &rsip::Request) -> Result<rsip::Response, SipError> {
    let mut headers = rsip::Headers::default();
    for via in request
        .headers
        .iter()
        .filter(|h| matches!(h, rsip::Header::Via(_)))
    {
        headers.push(via.clone());
    }
    if headers.is_empty() {
        return Err(error(TransactionErrorKind::MissingVia));
    }
    let from = request
        .from_header()
        .map_err(|_| error(TransactionErrorKind::MissingFrom))?;
    let to = request
        .to_header()
        .map_err(|_| error(TransactionErrorKind::MissingTo))?;
    let call_id = request
        .call_id_header()
        .map_err(|_| error(TransactionErrorKind::MissingCallId))?;
    let cseq = request
        .cseq_header()
        .map_err(|_| error(TransactionErrorKind::MissingCSeq))?;
    headers.push(from.clone().into());
    headers.push(to.clone().into());
    headers.push(call_id.clone().into());
    headers.push(cseq.clone().into());
    // §8.2.6.1: a UAS answering with 100 copies the request's Timestamp.
    if let Some(timestamp) = request
        .headers
        .iter()
        .find(|h| matches!(h, rsip::Header::Timestamp(_)))
    {
        headers.push(timestamp.clone());
    }
    headers.push(rsip::headers::ContentLength::default().into());
    Ok(rsip::Response {
        status_code: rsip::StatusCode::Trying,
        version: rsip::Version::V2,
        headers,
        body: Vec::new(),
    })
}
