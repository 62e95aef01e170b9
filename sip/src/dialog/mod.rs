//! RFC 3261 §12 dialogs: the peer-to-peer relationship an INVITE sets up, and the
//! in-dialog requests built from it.
//!
//! A [`Dialog`] is created from the INVITE and the response that carries the remote tag:
//! [`Dialog::uas`] when voxgate answers (§12.1.1), [`Dialog::uac`] when it called (§12.1.2).
//! It holds the route set (Record-Route, reversed for a UAC), the remote target (the peer's
//! Contact, updated by target-refresh requests such as re-INVITE, §12.2.2), both CSeq
//! counters and the state (`Early` until a 2xx, then `Confirmed`, then `Terminated`).
//!
//! It does no IO and keeps no timers: the call layer above decides when to send and the
//! transaction layer below retransmits. Loose routing only (RFC 3261 §16.12.1.1 `lr`): a
//! strict router in a route set is refused with [`DialogErrorKind::StrictRoute`] rather
//! than half supported.

use rsip::headers::{CallId, Contact, MaxForwards, Route, Via};
use rsip::prelude::{HasHeaders as _, HeadersExt as _, ToTypedHeader as _, UntypedHeader as _};
use rsip::{Header, Headers, Method, Request, Response, Uri};

use crate::message::{Summary, summarize};

/// Why a dialog refused a message or could not be made; a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DialogErrorKind {
    /// The request or response lacks a header a dialog needs (a tag, Contact, CSeq).
    MissingHeader,
    /// A Contact or Record-Route that does not parse as a SIP URI.
    BadUri,
    /// A route set with a strict router (no `lr`), which voxgate does not support.
    StrictRoute,
    /// An in-dialog request with a CSeq not above the last one (answered 500, §12.2.2).
    CSeqOutOfOrder,
    /// A message of another dialog.
    NotThisDialog,
}

impl DialogErrorKind {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::MissingHeader => "SIP_DIALOG_MISSING_HEADER",
            Self::BadUri => "SIP_DIALOG_BAD_URI",
            Self::StrictRoute => "SIP_DIALOG_STRICT_ROUTE",
            Self::CSeqOutOfOrder => "SIP_DIALOG_CSEQ_OUT_OF_ORDER",
            Self::NotThisDialog => "SIP_DIALOG_NOT_THIS_DIALOG",
        }
    }

    /// The status a UAS answers a request refused for this reason with.
    pub fn status(self) -> u16 {
        match self {
            Self::CSeqOutOfOrder => 500,
            Self::NotThisDialog => 481,
            _ => 400,
        }
    }
}
crate::error::display_as_code!(DialogErrorKind);

impl From<DialogErrorKind> for crate::SipError {
    fn from(kind: DialogErrorKind) -> Self {
        Self::Dialog { kind }
    }
}

/// A dialog's identity (§12): Call-ID and the two tags, from voxgate's side.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DialogId {
    /// The Call-ID.
    pub call_id: String,
    /// voxgate's tag.
    pub local_tag: String,
    /// The peer's tag.
    pub remote_tag: String,
}

/// Where a dialog stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogState {
    /// Made by a provisional response with a tag.
    Early,
    /// A 2xx was sent or received.
    Confirmed,
    /// BYE, or the INVITE failed.
    Terminated,
}

/// What voxgate puts in the Via of a request it sends: its address and a fresh branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViaSpec {
    /// `host:port` voxgate listens on.
    pub sent_by: String,
    /// A new branch starting with the RFC 3261 magic cookie `z9hG4bK`.
    pub branch: String,
}

impl ViaSpec {
    /// The Via header value, with `rport` (RFC 3581) so that replies reach us through NAT.
    pub fn header(&self) -> Via {
        Via::new(format!(
            "SIP/2.0/UDP {};rport;branch={}",
            self.sent_by, self.branch
        ))
    }
}

/// One dialog; see the [module docs](self).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialog {
    id: DialogId,
    state: DialogState,
    /// The last CSeq voxgate used.
    local_seq: u32,
    /// The last CSeq the peer used; `None` until it sends a request (UAC side).
    remote_seq: Option<u32>,
    /// voxgate's From (as UAC) or To (as UAS) value without the tag.
    local_uri: String,
    /// The peer's address of record, without the tag.
    remote_uri: String,
    /// Where in-dialog requests go: the peer's Contact.
    remote_target: Uri,
    /// Route header values, in the order requests carry them.
    route_set: Vec<String>,
    /// voxgate's Contact value.
    local_contact: String,
}

impl Dialog {
    /// The dialog a UAS makes by answering `invite` with a response carrying `local_tag`
    /// (§12.1.1): remote target from the request's Contact, route set from its
    /// Record-Route in order, remote CSeq from its CSeq.
    ///
    /// # Errors
    ///
    /// [`DialogErrorKind`] when the request lacks a From tag or Contact, or carries a URI
    /// that does not parse.
    pub fn uas(
        invite: &Request,
        local_tag: &str,
        local_contact: &str,
    ) -> Result<Self, DialogErrorKind> {
        let summary = summarize(&invite.clone().into()).ok_or(DialogErrorKind::MissingHeader)?;
        let remote_tag = summary.from_tag.ok_or(DialogErrorKind::MissingHeader)?;
        let from = invite
            .from_header()
            .map_err(|_| DialogErrorKind::MissingHeader)?;
        let to = invite
            .to_header()
            .map_err(|_| DialogErrorKind::MissingHeader)?;
        Ok(Self {
            id: DialogId {
                call_id: summary.call_id,
                local_tag: local_tag.to_owned(),
                remote_tag,
            },
            state: DialogState::Early,
            local_seq: 0,
            remote_seq: Some(summary.cseq),
            local_uri: strip_tag(to.value()),
            remote_uri: strip_tag(from.value()),
            remote_target: contact_uri(invite.headers())?,
            route_set: routes(invite.headers(), false)?,
            local_contact: local_contact.to_owned(),
        })
    }

    /// The dialog a UAC makes from its `invite` and a response with a To tag (§12.1.2):
    /// remote target from the response's Contact, route set from its Record-Route
    /// reversed. Confirmed for a 2xx, early for a 1xx.
    ///
    /// # Errors
    ///
    /// [`DialogErrorKind`] when the response has no To tag or Contact, or a URI that does
    /// not parse.
    pub fn uac(
        invite: &Request,
        response: &Response,
        local_contact: &str,
    ) -> Result<Self, DialogErrorKind> {
        let request = summarize(&invite.clone().into()).ok_or(DialogErrorKind::MissingHeader)?;
        let answer = summarize(&response.clone().into()).ok_or(DialogErrorKind::MissingHeader)?;
        let local_tag = request.from_tag.ok_or(DialogErrorKind::MissingHeader)?;
        let remote_tag = answer.to_tag.ok_or(DialogErrorKind::MissingHeader)?;
        let from = invite
            .from_header()
            .map_err(|_| DialogErrorKind::MissingHeader)?;
        let to = invite
            .to_header()
            .map_err(|_| DialogErrorKind::MissingHeader)?;
        let confirmed = answer.status.is_some_and(|s| (200..300).contains(&s));
        Ok(Self {
            id: DialogId {
                call_id: request.call_id,
                local_tag,
                remote_tag,
            },
            state: if confirmed {
                DialogState::Confirmed
            } else {
                DialogState::Early
            },
            local_seq: request.cseq,
            remote_seq: None,
            local_uri: strip_tag(from.value()),
            remote_uri: strip_tag(to.value()),
            remote_target: contact_uri(response.headers())?,
            route_set: routes(response.headers(), true)?,
            local_contact: local_contact.to_owned(),
        })
    }

    /// The dialog's identity.
    pub fn id(&self) -> &DialogId {
        &self.id
    }

    /// Where it stands.
    pub fn state(&self) -> DialogState {
        self.state
    }

    /// Where in-dialog requests go (the peer's Contact).
    pub fn remote_target(&self) -> &Uri {
        &self.remote_target
    }

    /// The route set, in the order requests carry it.
    pub fn route_set(&self) -> &[String] {
        &self.route_set
    }

    /// A 2xx was sent or received: the dialog is confirmed.
    pub fn confirm(&mut self) {
        if self.state == DialogState::Early {
            self.state = DialogState::Confirmed;
        }
    }

    /// BYE, or the INVITE failed: the dialog is over.
    pub fn terminate(&mut self) {
        self.state = DialogState::Terminated;
    }

    /// Whether `summary` (of a request the peer sent, or of a response to voxgate's
    /// request) belongs to this dialog.
    pub fn matches(&self, summary: &Summary) -> bool {
        let (ours, theirs) = if summary.status.is_some() {
            (&summary.from_tag, &summary.to_tag)
        } else {
            (&summary.to_tag, &summary.from_tag)
        };
        summary.call_id == self.id.call_id
            && ours.as_deref() == Some(self.id.local_tag.as_str())
            && theirs.as_deref() == Some(self.id.remote_tag.as_str())
    }

    /// Checks a request the peer sent in this dialog (§12.2.2): its CSeq must be above the
    /// last one, and a target-refresh request (re-INVITE, UPDATE) with a Contact moves the
    /// remote target.
    ///
    /// # Errors
    ///
    /// [`DialogErrorKind::NotThisDialog`] for another dialog's request,
    /// [`DialogErrorKind::CSeqOutOfOrder`] (answer 500) for an old CSeq.
    pub fn handle_request(&mut self, request: &Request) -> Result<(), DialogErrorKind> {
        let summary = summarize(&request.clone().into()).ok_or(DialogErrorKind::MissingHeader)?;
        if !self.matches(&summary) {
            return Err(DialogErrorKind::NotThisDialog);
        }
        // ACK and CANCEL reuse the CSeq of the INVITE they belong to.
        if !matches!(request.method, Method::Ack | Method::Cancel) {
            if self.remote_seq.is_some_and(|last| summary.cseq <= last) {
                return Err(DialogErrorKind::CSeqOutOfOrder);
            }
            self.remote_seq = Some(summary.cseq);
        }
        if matches!(request.method, Method::Invite | Method::Update)
            && let Ok(target) = contact_uri(request.headers())
        {
            self.remote_target = target;
        }
        Ok(())
    }

    /// A new in-dialog request (§12.2.1.1) with the next CSeq: BYE, re-INVITE, INFO, ...
    /// (for ACK use [`ack`](Self::ack), which reuses the INVITE's CSeq).
    pub fn request(&mut self, method: Method, via: &ViaSpec) -> Request {
        self.local_seq = self.local_seq.wrapping_add(1) & 0x7fff_ffff;
        self.build(method, self.local_seq, via)
    }

    /// The ACK for a 2xx to the INVITE with CSeq `invite_seq` (§13.2.2.4): same CSeq
    /// number, method ACK, a new branch.
    pub fn ack(&self, invite_seq: u32, via: &ViaSpec) -> Request {
        self.build(Method::Ack, invite_seq, via)
    }

    fn build(&self, method: Method, seq: u32, via: &ViaSpec) -> Request {
        let mut headers = Headers::default();
        headers.push(via.header().into());
        headers.push(MaxForwards::new("70").into());
        for route in &self.route_set {
            headers.push(Route::new(route.clone()).into());
        }
        headers.push(Header::From(rsip::headers::From::new(format!(
            "{};tag={}",
            self.local_uri, self.id.local_tag
        ))));
        headers.push(Header::To(rsip::headers::To::new(format!(
            "{};tag={}",
            self.remote_uri, self.id.remote_tag
        ))));
        headers.push(CallId::new(self.id.call_id.clone()).into());
        headers.push(rsip::headers::CSeq::new(format!("{seq} {method}")).into());
        if matches!(method, Method::Invite | Method::Update) {
            headers.push(Contact::new(self.local_contact.clone()).into());
        }
        headers.push(rsip::headers::ContentLength::from(0u32).into());
        Request {
            method,
            uri: self.remote_target.clone(),
            version: rsip::Version::V2,
            headers,
            body: Vec::new(),
        }
    }
}

/// A From or To value without its `tag` parameter (the tag is stored on its own).
fn strip_tag(value: &str) -> String {
    let lower = value.to_ascii_lowercase();
    // The tag is a header parameter, after the `>` of a name-addr.
    let params_from = value.rfind('>').map_or(0, |i| i + 1);
    match lower.get(params_from..).and_then(|p| p.find(";tag=")) {
        Some(at) => {
            let start = params_from + at;
            let rest = value.get(start + 5..).unwrap_or_default();
            let end = rest.find(';').map_or(value.len(), |i| start + 5 + i);
            let mut out = value.get(..start).unwrap_or_default().to_owned();
            out.push_str(value.get(end..).unwrap_or_default());
            out.trim().to_owned()
        }
        None => value.trim().to_owned(),
    }
}

/// The URI of the first Contact in `headers`.
fn contact_uri(headers: &Headers) -> Result<Uri, DialogErrorKind> {
    let contact = headers
        .iter()
        .find_map(|h| match h {
            Header::Contact(c) => Some(c),
            _ => None,
        })
        .ok_or(DialogErrorKind::MissingHeader)?;
    let typed = contact.typed().map_err(|_| DialogErrorKind::BadUri)?;
    Ok(typed.uri)
}

/// The route set from Record-Route headers: in order for a UAS, reversed for a UAC
/// (§12.1.1, §12.1.2). Each must be a loose router.
fn routes(headers: &Headers, reverse: bool) -> Result<Vec<String>, DialogErrorKind> {
    let mut set = Vec::new();
    for header in headers.iter() {
        let Header::RecordRoute(rr) = header else {
            continue;
        };
        let typed = rr.typed().map_err(|_| DialogErrorKind::BadUri)?;
        for uri in typed.uris() {
            if !uri.uri.params.contains(&rsip::Param::Lr) {
                return Err(DialogErrorKind::StrictRoute);
            }
            set.push(format!("<{}>", uri.uri));
        }
    }
    if reverse {
        set.reverse();
    }
    Ok(set)
}

#[cfg(test)]
mod tests;
