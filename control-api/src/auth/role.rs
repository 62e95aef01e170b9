//! [`Role`]: what a key may do, ordered read < write < execute < admin.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ErrorCode};

/// A key's role. Each operation declares the least role it needs; a key with a higher role
/// may do everything a lower one may.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Read elements, agents, numbers, calls and threads.
    Read,
    /// Create, update and delete them.
    Write,
    /// Run operations with effects outside voxgate (send SMS, place calls).
    Execute,
    /// Everything, including keys and carrier credentials.
    Admin,
}

impl Role {
    /// Every role, lowest first.
    pub const ALL: [Self; 4] = [Self::Read, Self::Write, Self::Execute, Self::Admin];

    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Execute => "execute",
            Self::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = ApiError;

    /// A role name; `INVALID_ROLE` for anything else.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                ApiError::invalid(
                    ErrorCode::InvalidRole,
                    format!("unknown role {s:?}: expected read, write, execute or admin"),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_and_round_trip() {
        assert!(Role::Read < Role::Write && Role::Write < Role::Execute);
        assert!(Role::Execute < Role::Admin);
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().ok(), Some(role));
        }
        let err = "root".parse::<Role>().expect_err("not a role");
        assert_eq!(err.code(), "INVALID_ROLE");
        assert!("Admin".parse::<Role>().is_err(), "names are lower-case");
    }
}
