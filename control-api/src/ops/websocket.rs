//! The websocket element's own operations: none yet (the live-events issue builds the
//! element); it has the common ones.

use super::{ElementCx, Op};

/// The websocket operations.
pub(super) fn ops() -> Vec<Op<ElementCx>> {
    Vec::new()
}
