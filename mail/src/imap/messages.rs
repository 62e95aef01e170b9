//! The message operations of an [`ImapSession`]: paging, peeking, search, flags, moves
//! and deletes. Reads open the folder with EXAMINE (read-only), changes with SELECT.

use futures::TryStreamExt;

use super::session::{ImapSession, timed};
use super::summary::summary;
use super::{Fetched, FlagChange, Page, Search, Summary, syntax};
use crate::{MailError, MailResult};

/// What a page and a fetch ask for, besides the body.
const SUMMARY_ITEMS: &str = "UID FLAGS RFC822.SIZE ENVELOPE";

impl ImapSession {
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
        // Only UIDs below the cursor, whatever the server answered.
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
    pub async fn fetch(&mut self, folder: &str, uid: u32) -> MailResult<Option<Fetched>> {
        self.examine(folder).await?;
        if uid == 0 {
            // Not a UID (RFC 3501 `nz-number`); servers answer BAD.
            return Ok(None);
        }
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
        let Some(ours) = fetches.iter().find(|f| f.uid == Some(uid)) else {
            return Ok(None);
        };
        let raw = ours
            .body()
            .ok_or_else(|| MailError::Protocol(format!("FETCH of UID {uid} without BODY[]")))?;
        Ok(summary(ours).map(|summary| Fetched {
            summary,
            raw: raw.to_vec(),
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
                self.session.uid_mv(&set, &target).await
            })
            .await;
        }
        timed(timeout, "IMAP UID COPY", async {
            self.session.uid_copy(&set, &target).await
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
}
