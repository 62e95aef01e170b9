//! Tests across the auth module: RFC vectors, challenges as real servers write them, garbage
//! and property tests. Unit tables for each piece sit beside it.

mod garbage;
mod peers;
mod vectors;

use crate::SipError;

use super::AuthErrorKind;

/// The kind of an auth error; panics (failing the test) on any other error.
pub(super) fn kind(e: SipError) -> AuthErrorKind {
    match e {
        SipError::Auth { kind } => kind,
        other => panic!("not an auth error: {other:?}"),
    }
}
