//! Tests of the SDP module: parsing tables, the writer, offer/answer against offers real
//! peers send, and property tests that no input panics the parser.

mod answer;
mod fixtures;
mod offer;
mod parse;
mod props;
mod write;

use super::{SdpErrorKind, SessionDescription};
use crate::SipError;

/// The `\r\n` form of a fixture written with `\n`.
fn crlf(text: &str) -> String {
    text.replace('\n', "\r\n")
}

/// Parses a description that must parse.
fn sdp(text: &str) -> SessionDescription {
    SessionDescription::parse(text).expect("the fixture parses")
}

/// The kind and line of an SDP error, to compare against a table.
fn refusal<T: std::fmt::Debug>(result: Result<T, SipError>) -> (SdpErrorKind, u32) {
    match result {
        Err(SipError::Sdp { kind, line }) => (kind, line),
        other => panic!("expected an SDP error, got {other:?}"),
    }
}
