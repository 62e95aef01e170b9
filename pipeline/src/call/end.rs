//! Why a call ended, typed from the leg to the stored call record.
//!
//! A leg reports how its side ended ([`LegEvent::Ended`](crate::leg::LegEvent::Ended)); the
//! call core refines it with what only it knows (the agent said goodbye, the caller stayed
//! silent) and publishes it in [`CallEvent::Ended`](crate::events::CallEvent::Ended). The
//! stored call record and the event's JSON keep the documented words (`done`, `hangup`,
//! `agent`, `error`, ...) from [`EndReason::as_str`]; the stable code of a failure, if one
//! ended the call, from [`EndReason::code`].

/// Why a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndReason {
    /// The call completed normally (the carrier's `bye` with reason `done`, our own `bye`
    /// confirmed).
    Completed,
    /// The caller hung up.
    CallerHungUp,
    /// The agent ended the call after its reply (the brain asked to hang up).
    AgentHungUp,
    /// The caller said nothing for the agent's idle timeout: the agent hung up.
    Idle,
    /// The carrier ended the call with an error of its own (46elks `bye` reason `error`).
    CarrierError,
    /// The leg failed: a lost socket, bad input, a dead carrier, a timeout; `code` is the
    /// leg's stable code (`WS_IDLE_TIMEOUT`, `SIP_STOPPED`, ...).
    LegFailed {
        /// The stable code.
        code: &'static str,
    },
    /// No slot was free: the call was refused at once.
    RefusedNoSlot,
}

impl EndReason {
    /// The documented word stored on the call record and sent in events.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Completed => "done",
            Self::CallerHungUp => "hangup",
            Self::AgentHungUp => "agent",
            Self::Idle => "idle",
            Self::CarrierError | Self::LegFailed { .. } => "error",
            Self::RefusedNoSlot => "refused",
        }
    }

    /// The stable code of the failure that ended the call, if one did.
    pub const fn code(self) -> Option<&'static str> {
        match self {
            Self::LegFailed { code } => Some(code),
            Self::CarrierError => Some("CARRIER_ERROR"),
            _ => None,
        }
    }

    /// Whether the call ended in failure (counted in `calls_failed`).
    pub const fn is_failure(self) -> bool {
        matches!(self, Self::CarrierError | Self::LegFailed { .. })
    }
}

impl std::fmt::Display for EndReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for EndReason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_words_and_codes() {
        let table = [
            (EndReason::Completed, "done", None),
            (EndReason::CallerHungUp, "hangup", None),
            (EndReason::AgentHungUp, "agent", None),
            (EndReason::Idle, "idle", None),
            (EndReason::CarrierError, "error", Some("CARRIER_ERROR")),
            (
                EndReason::LegFailed {
                    code: "WS_IDLE_TIMEOUT",
                },
                "error",
                Some("WS_IDLE_TIMEOUT"),
            ),
            (EndReason::RefusedNoSlot, "refused", None),
        ];
        for (reason, word, code) in table {
            assert_eq!(reason.as_str(), word);
            assert_eq!(reason.code(), code);
            assert_eq!(
                serde_json::to_string(&reason).expect("json"),
                format!("\"{word}\"")
            );
        }
    }
}
