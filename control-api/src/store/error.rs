//! [`StoreError`]: what can go wrong in storage, in storage's own terms.
//!
//! The store knows nothing of HTTP: it says the database failed (or holds something it
//! cannot read), or that a write was refused for a reason only the store can see (a slug
//! or number already taken, a lost update, a provider still in use), with the stable
//! [`ErrorCode`] the API will show. The API maps it to its answer with one `From`, in
//! `error/mod.rs`; a caller of the store outside the API (the recorder, bootstrap) needs no
//! HTTP type to handle it.

use crate::error::ErrorCode;

/// A storage failure or refusal.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed, or what it holds cannot be read back (`STORE_FAILED`, retryable).
    /// The cause is for the log only, never for the client.
    #[error("storage: {0}")]
    Backend(String),
    /// A write conflicts with what is stored: a taken slug or number, an update that lost
    /// a race, a reference still in use (409 with `code`).
    #[error("{message}")]
    Conflict {
        /// The stable code, e.g. `ELEMENT_SLUG_TAKEN`.
        code: ErrorCode,
        /// What conflicts.
        message: String,
    },
    /// What was given to the store cannot be stored: a store URL of an unknown scheme, text
    /// the database refuses (400 with `code`).
    #[error("{message}")]
    Invalid {
        /// The stable code, e.g. `STORE_URL_INVALID`.
        code: ErrorCode,
        /// What is wrong.
        message: String,
    },
}

impl StoreError {
    /// A failure of the database, or of reading back what it holds.
    pub fn backend(cause: impl Into<String>) -> Self {
        Self::Backend(cause.into())
    }

    /// A conflict with `code`.
    pub fn conflict(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            message: message.into(),
        }
    }

    /// Input the store cannot take, with `code`.
    pub fn invalid(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Invalid {
            code,
            message: message.into(),
        }
    }
}

impl StoreError {
    /// The stable code the API answers with.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            Self::Backend(_) => ErrorCode::StoreFailed,
            Self::Conflict { code, .. } | Self::Invalid { code, .. } => *code,
        }
    }

    /// The stable code as text, for logs.
    pub fn code(&self) -> &'static str {
        self.error_code().as_str()
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        // PostgreSQL's 22021 (character_not_in_repertoire): text with a NUL character got
        // past the doors' checks (`validate::refuse_nul_in_*`); it is the request's fault,
        // and nothing was stored.
        if let sqlx::Error::Database(d) = &e
            && d.code().as_deref() == Some("22021")
        {
            return Self::invalid(
                ErrorCode::InvalidBody,
                "text may not contain a NUL character (\\u0000, %00)",
            );
        }
        Self::Backend(e.to_string())
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Self::Backend(format!("migrations: {e}"))
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        Self::Backend(format!("stored JSON: {e}"))
    }
}
