//! Reading received mail: RFC 5322 bytes into an [`Inbound`] (`mail-parser`), within
//! [`Limits`], and delivery status notifications (RFC 3464) into a [`Bounce`].
//!
//! - `parse`: [`parse`] a message into an [`Inbound`]; [`attachment`] fetches one
//!   attachment's bytes by its index.
//! - `bounce`: a `multipart/report; report-type=delivery-status` message's per-recipient
//!   fields (RFC 3464 §2.3) and the bounced message's `Message-ID`.
//!
//! Pure functions over bytes: no IO. Nothing here panics on any input (fuzzed).

mod bounce;
mod parse;

pub use parse::{attachment, parse};

/// What a received message may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The whole message. Default 25 MiB.
    pub max_bytes: usize,
    /// The header section. Default 256 KiB.
    pub max_header_bytes: usize,
    /// MIME parts. Default 256.
    pub max_parts: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 25 * 1024 * 1024,
            max_header_bytes: 256 * 1024,
            max_parts: 256,
        }
    }
}

/// An attachment's description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentInfo {
    /// Its position among the message's attachments (0-based); `attachment` takes it.
    pub index: usize,
    /// The file name, if it has one.
    pub filename: Option<String>,
    /// The MIME type.
    pub content_type: String,
    /// The decoded size in bytes.
    pub size: usize,
}

/// One recipient a bounce reports on (RFC 3464 §2.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BouncedRecipient {
    /// `Final-Recipient` (or `Original-Recipient`), the bare address.
    pub address: String,
    /// `Action`: `failed`, `delayed`, `delivered`, `relayed`, `expanded`.
    pub action: String,
    /// `Status`: the enhanced status code (`5.1.1`).
    pub status: String,
    /// `Action: failed` with a 5.x.x status: the address is dead.
    pub permanent: bool,
    /// `Diagnostic-Code`, without its type prefix (`smtp; `).
    pub diagnostic: Option<String>,
    /// `Remote-MTA`.
    pub remote_mta: Option<String>,
}

/// A delivery status notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bounce {
    /// The recipients reported on.
    pub recipients: Vec<BouncedRecipient>,
    /// The bounced message's `Message-ID`, from the returned headers, when present.
    pub original_message_id: Option<String>,
}

/// A received message, read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Inbound {
    /// `Message-ID`, without angle brackets.
    pub message_id: Option<String>,
    /// `In-Reply-To`, without angle brackets.
    pub in_reply_to: Option<String>,
    /// `References`, oldest first, without angle brackets.
    pub references: Vec<String>,
    /// The `From` address.
    pub from: Option<String>,
    /// The `From` display name.
    pub from_name: Option<String>,
    /// `To` addresses.
    pub to: Vec<String>,
    /// `Cc` addresses.
    pub cc: Vec<String>,
    /// `Subject` (empty when missing).
    pub subject: String,
    /// `Date`, as Unix milliseconds.
    pub date_ms: Option<i64>,
    /// The text body (from HTML when there is only HTML).
    pub text: Option<String>,
    /// The HTML body.
    pub html: Option<String>,
    /// Attachments.
    pub attachments: Vec<AttachmentInfo>,
    /// What was wrong but readable (a bad encoding, a broken part); empty for clean mail.
    pub problems: Vec<String>,
    /// The delivery status notification, when this is one.
    pub bounce: Option<Bounce>,
    /// `Auto-Submitted` other than `no` (RFC 3834): never answer it automatically.
    pub auto_submitted: bool,
}
