//! [`ImapSession`]: one logged-in IMAP connection and the mailbox operations on it.
//!
//! This is an IO edge. Every command runs under the session's timeout; after a
//! [`MailError::Timeout`] or [`MailError::Io`] the connection is in an unknown state and the
//! session should be dropped, not reused.
//!
//! Reads (`page`, `fetch`, `search`) open the folder with EXAMINE, read-only, so that they
//! cannot change it (no `\Seen`, no `\Recent` lost); writes open it with SELECT.

use std::future::Future;
use std::time::Duration;

use async_imap::Session;
use async_imap::error::Error as ImapError;
use futures::TryStreamExt;

use super::stream::{self, ImapStream};
use super::summary::summary;
use super::{FlagChange, Folder, FolderCounts, Page, Search, Summary, syntax};
use crate::tls::TlsSettings;
use crate::{Endpoint, Login, MailError, MailResult};

/// What a page and a fetch ask for, besides the body.
const SUMMARY_ITEMS: &str = "UID FLAGS RFC822.SIZE ENVELOPE";

/// One logged-in IMAP connection.
///
/// Folder names are IMAP's wire form (RFC 3501 modified UTF-7 for non-ASCII), as
/// [`ImapSession::folders`] gives them.
#[derive(Debug)]
pub struct ImapSession {
    session: Session<ImapStream>,
    timeout: Duration,
    /// The server has MOVE (RFC 6851).
    can_move: bool,
    /// The server has UIDPLUS (RFC 4315): `UID EXPUNGE` of given UIDs only.
    can_uid_expunge: bool,
    /// The server has LITERAL+ (RFC 7888): non-ASCII search text can be sent.
    literal_plus: bool,
}

impl ImapSession {
    /// Connects to `endpoint` (TLS, STARTTLS or plain as it says, trusting `tls`), logs in
    /// and reads the server's capabilities. `timeout` bounds the connection and every later
    /// command.
    ///
    /// # Errors
    ///
    /// [`MailError::Connect`], [`MailError::Tls`] (handshake, certificate, or no STARTTLS),
    /// [`MailError::Auth`] when the login is refused, [`MailError::Timeout`].
    pub async fn connect(
        endpoint: &Endpoint,
        login: &Login,
        tls: &TlsSettings,
        timeout: Duration,
    ) -> MailResult<Self> {
        let client = timed(timeout, "IMAP connect", stream::open(endpoint, tls)).await?;
        let login_step = client.login(&login.username, &login.password);
        let mut session = match tokio::time::timeout(timeout, login_step).await {
            Err(_) => return Err(MailError::Timeout { what: "IMAP login" }),
            Ok(Ok(session)) => session,
            Ok(Err((ImapError::No(reply) | ImapError::Bad(reply), _))) => {
                return Err(MailError::Auth {
                    reply: syntax::server_text(&reply),
                });
            }
            Ok(Err((error, _))) => return Err(imap_error(error)),
        };
        let capabilities = timed(timeout, "IMAP CAPABILITY", async {
            session.capabilities().await.map_err(imap_error)
        })
        .await?;
        Ok(Self {
            can_move: capabilities.has_str("MOVE"),
            can_uid_expunge: capabilities.has_str("UIDPLUS"),
            literal_plus: capabilities.has_str("LITERAL+"),
            session,
            timeout,
        })
    }

    /// Every folder (`LIST "" "*"`).
    ///
    /// # Errors
    ///
    /// [`MailError::Refused`], [`MailError::Protocol`], [`MailError::Timeout`].
    pub async fn folders(&mut self) -> MailResult<Vec<Folder>> {
        let timeout = self.timeout;
        timed(timeout, "IMAP LIST", async {
            let names = self.session.list(Some(""), Some("\"*\"")).await?;
            let names: Vec<_> = names.try_collect().await?;
            Ok::<_, ImapError>(
                names
                    .iter()
                    .map(|name| Folder {
                        name: name.name().to_owned(),
                        delimiter: name.delimiter().map(str::to_owned),
                        attributes: name.attributes().iter().map(|a| format!("{a:?}")).collect(),
                    })
                    .collect(),
            )
        })
        .await
    }

    /// Creates folder `name`. A folder that already exists is success: callers ask for a
    /// folder to be there, and it is.
    ///
    /// # Errors
    ///
    /// [`MailError::Refused`] when the server will not create it (bad name, no rights),
    /// [`MailError::InvalidArgument`] for a name with control characters.
    pub async fn create_folder(&mut self, name: &str) -> MailResult<()> {
        let name = syntax::folder(name)?;
        let timeout = self.timeout;
        let created = timed(timeout, "IMAP CREATE", async {
            self.session.create(name).await
        })
        .await;
        match created {
            Err(MailError::Refused(reason)) => {
                let exists = self.folders().await?.iter().any(|f| f.name == name);
                if exists {
                    Ok(())
                } else {
                    Err(MailError::Refused(reason))
                }
            }
            other => other,
        }
    }

    /// A folder's message and unseen counts (`STATUS folder (MESSAGES UNSEEN)`).
    ///
    /// # Errors
    ///
    /// [`MailError::Refused`] for a folder that does not exist.
    pub async fn counts(&mut self, folder: &str) -> MailResult<FolderCounts> {
        let folder = syntax::folder(folder)?;
        let timeout = self.timeout;
        let mailbox = timed(timeout, "IMAP STATUS", async {
            self.session.status(folder, "(MESSAGES UNSEEN)").await
        })
        .await?;
        Ok(FolderCounts {
            messages: mailbox.exists,
            unseen: mailbox.unseen.unwrap_or(0),
        })
    }

    /// Up to `limit` messages of `folder` with UIDs below `before_uid` (all when `None`),
    /// newest (highest UID) first. `next_before_uid` is the smallest UID of the page when
    /// older messages remain, else `None`. A `limit` of 0 gives an empty page.
    ///
    /// # Errors
    ///
    /// [`MailError::Refused`] for a folder that does not exist.
    pub async fn page(
        &mut self,
        folder: &str,
        before_uid: Option<u32>,
        limit: usize,
    ) -> MailResult<Page> {
        let empty = Page {
            messages: Vec::new(),
            next_before_uid: None,
        };
        let upper = match before_uid {
            Some(0 | 1) => return Ok(empty),
            Some(before) => Some(before - 1),
            None => None,
        };
        if limit == 0 {
            return Ok(empty);
        }
        self.examine(folder).await?;
        let query = upper.map_or_else(|| "ALL".to_owned(), |upper| format!("UID 1:{upper}"));
        let mut uids = self.uid_search(&query).await?;
        // `UID 1:n` also matches the highest UID when it is above n (RFC 3501 `seq-range`).
        uids.retain(|&uid| upper.is_none_or(|upper| uid <= upper));
        let more = uids.len() > limit;
        uids.truncate(limit);
        let mut messages = self.summaries(&uids).await?;
        messages.sort_by_key(|m| std::cmp::Reverse(m.uid));
        let next_before_uid = if more { uids.last().copied() } else { None };
        Ok(Page {
            messages,
            next_before_uid,
        })
    }

    /// Message `uid` of `folder` with its whole raw text, or `None` when there is none.
    /// Uses `BODY.PEEK[]` in a read-only (EXAMINE) folder: reading never sets `\Seen`.
    ///
    /// # Errors
    ///
    /// [`MailError::Refused`] for a folder that does not exist.
    pub async fn fetch(&mut self, folder: &str, uid: u32) -> MailResult<Option<super::Fetched>> {
        self.examine(folder).await?;
        let timeout = self.timeout;
        let fetches = timed(timeout, "IMAP UID FETCH", async {
            let stream = self
                .session
                .uid_fetch(uid.to_string(), format!("({SUMMARY_ITEMS} BODY.PEEK[])"))
                .await?;
            stream.try_collect::<Vec<_>>().await
        })
        .await?;
        // Servers may add unsolicited FETCHes of other messages: pick ours.
        Ok(fetches.iter().find(|f| f.uid == Some(uid)).and_then(|f| {
            let summary = summary(f)?;
            Some(super::Fetched {
                summary,
                raw: f.body().unwrap_or_default().to_vec(),
            })
        }))
    }

    /// UIDs of the messages of `folder` that match every criterion of `search`, newest
    /// first. Text criteria are checked before anything is sent: control characters are
    /// refused, non-ASCII goes as a UTF-8 literal (LITERAL+ servers only).
    ///
    /// # Errors
    ///
    /// [`MailError::InvalidArgument`] for text with CR/LF or a date that is not
    /// `YYYY-MM-DD`; [`MailError::Refused`] for a folder that does not exist.
    pub async fn search(&mut self, folder: &str, search: &Search) -> MailResult<Vec<u32>> {
        let query = syntax::search_query(search, self.literal_plus)?;
        self.examine(folder).await?;
        self.uid_search(&query).await
    }

    /// Adds or removes `flags` (system flags like `\Seen`, or keywords used as labels such
    /// as `$label`) on messages `uids` of `folder`, silently (`UID STORE +FLAGS.SILENT`).
    ///
    /// # Errors
    ///
    /// [`MailError::InvalidArgument`] for a flag that is not a system flag or an atom.
    pub async fn set_flags<S: AsRef<str>>(
        &mut self,
        folder: &str,
        uids: &[u32],
        change: FlagChange,
        flags: &[S],
    ) -> MailResult<()> {
        let list = syntax::flag_list(flags)?;
        let Some(set) = syntax::sequence_set(uids) else {
            return Ok(());
        };
        self.select(folder).await?;
        let item = match change {
            FlagChange::Add => "+FLAGS.SILENT",
            FlagChange::Remove => "-FLAGS.SILENT",
        };
        self.store(&set, &format!("{item} {list}")).await
    }

    /// Moves messages `uids` of `folder` into `target`: `UID MOVE` (RFC 6851) when the
    /// server has it, else `UID COPY`, `\Deleted` and `UID EXPUNGE` of those UIDs (RFC
    /// 4315). A server with neither leaves the originals marked `\Deleted` rather than
    /// expunge messages it was not asked to.
    ///
    /// # Errors
    ///
    /// [`MailError::Refused`] when either folder does not exist.
    pub async fn move_to(&mut self, folder: &str, uids: &[u32], target: &str) -> MailResult<()> {
        let target = syntax::folder(target)?;
        let Some(set) = syntax::sequence_set(uids) else {
            return Ok(());
        };
        self.select(folder).await?;
        let timeout = self.timeout;
        if self.can_move {
            return timed(timeout, "IMAP UID MOVE", async {
                self.session.uid_mv(&set, target).await
            })
            .await;
        }
        timed(timeout, "IMAP UID COPY", async {
            self.session.uid_copy(&set, target).await
        })
        .await?;
        self.expunge(&set).await
    }

    /// Deletes messages `uids` of `folder` for good: `\Deleted`, then `UID EXPUNGE` of
    /// those UIDs only (other messages marked `\Deleted` stay). Without UIDPLUS they stay
    /// marked `\Deleted`.
    ///
    /// # Errors
    ///
    /// [`MailError::Refused`] for a folder that does not exist.
    pub async fn delete(&mut self, folder: &str, uids: &[u32]) -> MailResult<()> {
        let Some(set) = syntax::sequence_set(uids) else {
            return Ok(());
        };
        self.select(folder).await?;
        self.expunge(&set).await
    }

    /// Says goodbye (`LOGOUT`) and closes the connection.
    ///
    /// # Errors
    ///
    /// [`MailError::Timeout`] or IO errors; the connection is gone either way.
    pub async fn logout(mut self) -> MailResult<()> {
        let timeout = self.timeout;
        timed(timeout, "IMAP LOGOUT", async {
            self.session.logout().await
        })
        .await
    }

    /// Opens `folder` read-only.
    async fn examine(&mut self, folder: &str) -> MailResult<()> {
        let folder = syntax::folder(folder)?;
        let timeout = self.timeout;
        timed(timeout, "IMAP EXAMINE", async {
            self.session.examine(folder).await.map(drop)
        })
        .await
    }

    /// Opens `folder` read-write.
    async fn select(&mut self, folder: &str) -> MailResult<()> {
        let folder = syntax::folder(folder)?;
        let timeout = self.timeout;
        timed(timeout, "IMAP SELECT", async {
            self.session.select(folder).await.map(drop)
        })
        .await
    }

    /// `UID SEARCH query` in the open folder, highest UID first.
    async fn uid_search(&mut self, query: &str) -> MailResult<Vec<u32>> {
        let timeout = self.timeout;
        let uids = timed(timeout, "IMAP UID SEARCH", async {
            self.session.uid_search(query).await
        })
        .await?;
        let mut uids: Vec<u32> = uids.into_iter().collect();
        uids.sort_unstable_by_key(|&uid| std::cmp::Reverse(uid));
        self.drain_unsolicited();
        Ok(uids)
    }

    /// Summaries of messages `uids` of the open folder, in the server's order.
    async fn summaries(&mut self, uids: &[u32]) -> MailResult<Vec<Summary>> {
        let Some(set) = syntax::sequence_set(uids) else {
            return Ok(Vec::new());
        };
        let timeout = self.timeout;
        let fetches = timed(timeout, "IMAP UID FETCH", async {
            let stream = self
                .session
                .uid_fetch(&set, format!("({SUMMARY_ITEMS})"))
                .await?;
            stream.try_collect::<Vec<_>>().await
        })
        .await?;
        Ok(fetches
            .iter()
            .filter(|f| f.uid.is_some_and(|uid| uids.contains(&uid)))
            .filter_map(summary)
            .collect())
    }

    /// `UID STORE set item` in the open folder, its answers read and dropped.
    async fn store(&mut self, set: &str, item: &str) -> MailResult<()> {
        let timeout = self.timeout;
        timed(timeout, "IMAP UID STORE", async {
            let stream = self.session.uid_store(set, item).await?;
            stream.try_collect::<Vec<_>>().await.map(drop)
        })
        .await?;
        self.drain_unsolicited();
        Ok(())
    }

    /// Marks `set` `\Deleted` and expunges exactly those UIDs (when the server can).
    async fn expunge(&mut self, set: &str) -> MailResult<()> {
        self.store(set, "+FLAGS.SILENT (\\Deleted)").await?;
        if !self.can_uid_expunge {
            return Ok(());
        }
        let timeout = self.timeout;
        timed(timeout, "IMAP UID EXPUNGE", async {
            let stream = self.session.uid_expunge(set).await?;
            stream.try_collect::<Vec<_>>().await.map(drop)
        })
        .await?;
        self.drain_unsolicited();
        Ok(())
    }

    /// Forgets the unsolicited responses `async-imap` keeps (EXISTS, EXPUNGE, ...): this
    /// session re-opens its folder for each operation and needs none of them.
    fn drain_unsolicited(&mut self) {
        while self.session.unsolicited_responses.try_recv().is_ok() {}
    }
}

/// Runs an `async-imap` step under `timeout`, mapping its errors.
async fn timed<T, E>(
    timeout: Duration,
    what: &'static str,
    step: impl Future<Output = Result<T, E>>,
) -> MailResult<T>
where
    E: Into<MailError>,
{
    match tokio::time::timeout(timeout, step).await {
        Ok(result) => result.map_err(Into::into),
        Err(_) => Err(MailError::Timeout { what }),
    }
}

impl From<ImapError> for MailError {
    fn from(error: ImapError) -> Self {
        imap_error(error)
    }
}

/// NO is a refusal, BAD and unreadable answers are protocol errors.
fn imap_error(error: ImapError) -> MailError {
    match error {
        ImapError::No(text) => MailError::Refused(syntax::server_text(&text)),
        ImapError::Bad(text) => MailError::Protocol(syntax::server_text(&text)),
        ImapError::Io(e) => MailError::Io(e),
        ImapError::ConnectionLost => MailError::Io(std::io::ErrorKind::UnexpectedEof.into()),
        ImapError::Validate(e) => MailError::InvalidArgument(e.to_string()),
        ImapError::Append => MailError::Refused("APPEND refused".into()),
        other => MailError::Protocol(other.to_string()),
    }
}
