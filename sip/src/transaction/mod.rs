//! RFC 3261 §17 transactions.

/// Why a transaction refused an input; a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransactionErrorKind {
    /// A message that does not belong to this transaction.
    NotMine,
}

impl TransactionErrorKind {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::NotMine => "SIP_TRANSACTION_NOT_MINE",
        }
    }
}
crate::error::display_as_code!(TransactionErrorKind);
