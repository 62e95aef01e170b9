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
use super::{Folder, FolderCounts, folder, syntax};
use crate::tls::TlsSettings;
use crate::{Endpoint, Login, MailError, MailResult};

/// One logged-in IMAP connection.
///
/// Folder names are plain Unicode (`Räkningar`), full names with the server's hierarchy
/// delimiter (see [`Folder::delimiter`]); the session writes them in IMAP's modified UTF-7
/// on the wire. A name the server gives that is not valid modified UTF-7 is kept as given.
#[derive(Debug)]
pub struct ImapSession {
    pub(super) session: Session<ImapStream>,
    pub(super) timeout: Duration,
    /// The server has MOVE (RFC 6851).
    pub(super) can_move: bool,
    /// The server has UIDPLUS (RFC 4315): `UID EXPUNGE` of given UIDs only.
    pub(super) can_uid_expunge: bool,
    /// The server has LITERAL+ (RFC 7888): non-ASCII search text can be sent.
    pub(super) literal_plus: bool,
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
            Ok(Err((ImapError::No(reply), _))) => {
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
            Ok::<_, ImapError>(names.iter().map(folder::from_list).collect())
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
        let wire = syntax::folder(name)?;
        let timeout = self.timeout;
        let created = timed(timeout, "IMAP CREATE", async {
            self.session.create(&wire).await
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
            self.session.status(&folder, "(MESSAGES UNSEEN)").await
        })
        .await?;
        Ok(FolderCounts {
            messages: mailbox.exists,
            unseen: mailbox.unseen.unwrap_or(0),
        })
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
    pub(super) async fn examine(&mut self, folder: &str) -> MailResult<()> {
        let folder = syntax::folder(folder)?;
        let timeout = self.timeout;
        timed(timeout, "IMAP EXAMINE", async {
            self.session.examine(&folder).await.map(drop)
        })
        .await
    }

    /// Opens `folder` read-write.
    pub(super) async fn select(&mut self, folder: &str) -> MailResult<()> {
        let folder = syntax::folder(folder)?;
        let timeout = self.timeout;
        timed(timeout, "IMAP SELECT", async {
            self.session.select(&folder).await.map(drop)
        })
        .await
    }

    /// Forgets the unsolicited responses `async-imap` keeps (EXISTS, EXPUNGE, ...): this
    /// session re-opens its folder for each operation and needs none of them.
    pub(super) fn drain_unsolicited(&mut self) {
        while self.session.unsolicited_responses.try_recv().is_ok() {}
    }
}

/// Runs an `async-imap` step under `timeout`, mapping its errors.
pub(super) async fn timed<T, E>(
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
