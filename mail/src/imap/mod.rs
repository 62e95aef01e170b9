//! Mailbox operations over IMAP4rev1 (RFC 3501) with `async-imap`.
//!
//! [`ImapSession`] is one logged-in connection (implicit TLS, STARTTLS or plain, as the
//! [`crate::Endpoint`] says; a server without STARTTLS is an error, never a downgrade). Its
//! operations each name their folder and open it themselves, read-only (EXAMINE) for
//! reads and read-write (SELECT) for changes, so a session holds no "current folder" a
//! caller could forget about:
//!
//! - [`ImapSession::folders`], [`ImapSession::create_folder`] (an existing folder is
//!   success), [`ImapSession::counts`] (STATUS);
//! - [`ImapSession::page`]: newest first by UID, with a `before_uid` cursor;
//! - [`ImapSession::fetch`]: the raw message with `BODY.PEEK[]`, which never sets `\Seen`;
//! - [`ImapSession::search`]: `UID SEARCH` by text, sender and dates;
//! - [`ImapSession::set_flags`], [`ImapSession::move_to`] (MOVE, RFC 6851, else COPY +
//!   `\Deleted` + UID EXPUNGE), [`ImapSession::delete`], [`ImapSession::logout`].
//!
//! Errors: a `NO` answer is [`crate::MailError::Refused`], `BAD` or an unreadable answer
//! [`crate::MailError::Protocol`]; caller text that cannot go on the wire safely (CR/LF in
//! a search, a flag that is not an atom) is [`crate::MailError::InvalidArgument`] and is
//! never sent. The command syntax lives in `syntax` (pure, unit-tested); the stream and
//! the STARTTLS upgrade in `stream`; envelope decoding in `summary`; folder names in
//! modified UTF-7 (RFC 3501 section 5.1.3) in `folder`, so callers use plain Unicode.

/// A folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder {
    /// Its full name.
    pub name: String,
    /// The hierarchy delimiter.
    pub delimiter: Option<String>,
    /// Its attributes (`\Noselect`, `\Sent`, ...).
    pub attributes: Vec<String>,
}

/// A folder's counts (STATUS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FolderCounts {
    /// Messages.
    pub messages: u32,
    /// Messages without `\Seen`.
    pub unseen: u32,
}

/// A message's summary (envelope, flags, size).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The UID in its folder.
    pub uid: u32,
    /// `Message-ID`, without angle brackets.
    pub message_id: Option<String>,
    /// The sender's address.
    pub from: Option<String>,
    /// `To` addresses.
    pub to: Vec<String>,
    /// `Subject`, decoded.
    pub subject: Option<String>,
    /// `Date`, as the header gave it.
    pub date: Option<String>,
    /// Flags and keywords (`\Seen`, `$label`, ...).
    pub flags: Vec<String>,
    /// RFC822.SIZE.
    pub size: u32,
}

/// One page of a folder, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The messages.
    pub messages: Vec<Summary>,
    /// The cursor of the next (older) page: pass it as `before_uid`.
    pub next_before_uid: Option<u32>,
}

/// A fetched message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// Its summary.
    pub summary: Summary,
    /// The whole message.
    pub raw: Vec<u8>,
}

/// What to search for (all given criteria must match).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Search {
    /// Text anywhere in the message (`TEXT`).
    pub text: Option<String>,
    /// In `From` (`FROM`).
    pub from: Option<String>,
    /// Internal date on or after, `YYYY-MM-DD` (`SINCE`).
    pub since: Option<String>,
    /// Internal date before, `YYYY-MM-DD` (`BEFORE`).
    pub before: Option<String>,
}

/// Adding or removing flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagChange {
    /// `+FLAGS.SILENT`.
    Add,
    /// `-FLAGS.SILENT`.
    Remove,
}

mod folder;
mod messages;
mod session;
mod stream;
mod summary;
mod syntax;

pub use session::ImapSession;
