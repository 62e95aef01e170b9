//! Transaction tests as message flows on a virtual clock.
//!
//! Messages are literal SIP text parsed by `rsip`. Each flow records what a machine outputs
//! as `(ms since t0, summary)` rows, where a summary is `tx INVITE`, `tx 486` (sent), `up 180`
//! (a response to the TU), `ack` (an ACK to the TU), `timeout`, `transport error` or
//! `terminated`, so the tables read like the RFC's figures.

use std::time::{Duration, Instant};

use super::{ClientInvite, ClientNonInvite, Output, ServerInvite, ServerNonInvite};

mod client_invite;
mod client_non_invite;
mod invariants;
mod key;
mod layer;
mod server_invite;
mod server_non_invite;

/// The branch of the transaction under test.
const BRANCH: &str = "z9hG4bK74bf9";
/// Alice's sent-by.
const SENT_BY: &str = "client.atlanta.example.com:5060";

/// Parses SIP text written with `\n` line ends.
fn sip(text: &str) -> rsip::SipMessage {
    let text = text.replace('\n', "\r\n");
    rsip::SipMessage::try_from(text.as_str()).expect("test message parses")
}

/// A request from SIP text.
fn request(text: &str) -> rsip::Request {
    match sip(text) {
        rsip::SipMessage::Request(request) => request,
        rsip::SipMessage::Response(_) => panic!("expected a request"),
    }
}

/// A response from SIP text.
fn response(text: &str) -> rsip::Response {
    match sip(text) {
        rsip::SipMessage::Response(response) => response,
        rsip::SipMessage::Request(_) => panic!("expected a response"),
    }
}

/// Alice's request `method` with CSeq 1, from `sent_by` with `branch`, and a Route.
fn request_from(method: &str, branch: &str, sent_by: &str) -> rsip::Request {
    request(&format!(
        "{method} sip:bob@biloxi.example.com SIP/2.0
Via: SIP/2.0/UDP {sent_by};branch={branch}
Via: SIP/2.0/UDP proxy.atlanta.example.com;branch=z9hG4bKproxy
Max-Forwards: 70
Route: <sip:ss1.atlanta.example.com;lr>
From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl
To: Bob <sip:bob@biloxi.example.com>
Call-ID: 3848276298220188511@atlanta.example.com
CSeq: 1 {method}
Timestamp: 54
Contact: <sip:alice@client.atlanta.example.com>
Content-Length: 0

"
    ))
}

/// Alice's INVITE with [`BRANCH`] from [`SENT_BY`].
fn invite() -> rsip::Request {
    request_from("INVITE", BRANCH, SENT_BY)
}

/// A response `status` (e.g. `486 Busy Here`) to CSeq `1 <method>` on `branch`, with a To
/// tag unless `to_tag` is empty.
fn response_on(status: &str, method: &str, branch: &str, to_tag: &str) -> rsip::Response {
    let tag = if to_tag.is_empty() {
        String::new()
    } else {
        format!(";tag={to_tag}")
    };
    response(&format!(
        "SIP/2.0 {status}
Via: SIP/2.0/UDP {SENT_BY};branch={branch};received=192.0.2.101
Via: SIP/2.0/UDP proxy.atlanta.example.com;branch=z9hG4bKproxy
From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl
To: Bob <sip:bob@biloxi.example.com>{tag}
Call-ID: 3848276298220188511@atlanta.example.com
CSeq: 1 {method}
Content-Length: 0

"
    ))
}

/// A response `status` to the INVITE on [`BRANCH`], To tag `8321234356`.
fn answer(status: &str) -> rsip::Response {
    response_on(status, "INVITE", BRANCH, "8321234356")
}

/// `n` milliseconds.
fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// What a flow table compares: an output in a word or two.
fn summary(output: &Output) -> String {
    match output {
        Output::Transmit(rsip::SipMessage::Request(request)) => format!("tx {}", request.method),
        Output::Transmit(rsip::SipMessage::Response(response)) => {
            format!("tx {}", response.status_code.code())
        }
        Output::Response(response) => format!("up {}", response.status_code.code()),
        Output::Ack(_) => "ack".into(),
        Output::Timeout => "timeout".into(),
        Output::TransportError => "transport error".into(),
        Output::Terminated => "terminated".into(),
    }
}

/// The four machines, as the flow driver sees them.
trait Machine {
    /// Next output.
    fn poll_output(&mut self) -> Option<Output>;
    /// Next deadline.
    fn poll_timeout(&self) -> Option<Instant>;
    /// Fires due timers.
    fn handle_timeout(&mut self, now: Instant);
}

/// Implements [`Machine`] by delegating to the inherent methods.
macro_rules! machine {
    ($($ty:ty),*) => {$(
        impl Machine for $ty {
            fn poll_output(&mut self) -> Option<Output> {
                <$ty>::poll_output(self)
            }
            fn poll_timeout(&self) -> Option<Instant> {
                <$ty>::poll_timeout(self)
            }
            fn handle_timeout(&mut self, now: Instant) {
                <$ty>::handle_timeout(self, now)
            }
        }
    )*};
}
machine!(ClientInvite, ClientNonInvite, ServerInvite, ServerNonInvite);

/// Every output queued now.
fn drain(machine: &mut impl Machine) -> Vec<Output> {
    std::iter::from_fn(|| machine.poll_output()).collect()
}

/// Summaries of every output queued now, stamped `at` ms.
fn drain_at(machine: &mut impl Machine, at: u64) -> Vec<(u64, String)> {
    drain(machine).iter().map(|o| (at, summary(o))).collect()
}

/// Runs the machine's timers from `t0` until `end_ms`, firing each deadline at its exact
/// instant, and returns the summaries stamped with the ms they came out.
fn run_timers(machine: &mut impl Machine, t0: Instant, end_ms: u64) -> Vec<(u64, String)> {
    let end = t0 + ms(end_ms);
    let mut rows = Vec::new();
    while let Some(at) = machine.poll_timeout().filter(|at| *at <= end) {
        machine.handle_timeout(at);
        let stamp = u64::try_from(at.duration_since(t0).as_millis()).expect("short test");
        rows.extend(drain_at(machine, stamp));
    }
    rows
}

/// Table rows from `(ms, summary)` literals.
fn rows(table: &[(u64, &str)]) -> Vec<(u64, String)> {
    table.iter().map(|(at, s)| (*at, (*s).to_owned())).collect()
}

/// The transaction error kind of a result.
fn kind<T: std::fmt::Debug>(result: Result<T, crate::SipError>) -> super::TransactionErrorKind {
    match result {
        Err(crate::SipError::Transaction { kind }) => kind,
        other => panic!("expected a transaction error, got {other:?}"),
    }
}
