//! `ImapSession` against a real Dovecot (Debian's `dovecot-imapd`) on loopback, with a test
//! CA: connecting (implicit TLS, STARTTLS, wrong password, untrusted CA), paging, peeking,
//! flags and labels, search, folders, moves and deletes.
//!
//! Messages are seeded straight into the Maildir, and the Maildir file names (`:2,S`) are
//! checked as an independent witness of what the server stored.

use std::path::Path;
use std::time::{Duration, SystemTime};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use voxgate_mail::imap::{FlagChange, ImapSession, Search};
use voxgate_mail::tls::TlsSettings;
use voxgate_mail::{Endpoint, Login, MailError, Security};
use voxgate_testdata::mail::certs::TestCerts;
use voxgate_testdata::mail::dovecot::Dovecot;

const USER: &str = "alice@example.com";
const PASSWORD: &str = "correct horse";
const TIMEOUT: Duration = Duration::from_secs(10);

/// A Dovecot with one user, in its own folder, and the TLS settings trusting its CA.
struct Rig {
    dovecot: Dovecot,
    tls: TlsSettings,
    _dir: tempfile::TempDir,
}

impl Rig {
    fn start() -> Self {
        Self::start_with("")
    }

    /// A rig whose Dovecot has `extra` configuration.
    fn start_with(extra: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let certs = TestCerts::create(dir.path()).expect("test certificates");
        let dovecot =
            Dovecot::start_with(dir.path(), &certs, &[(USER, PASSWORD)], extra).expect("dovecot");
        let ca = std::fs::read(&certs.ca_pem).expect("CA file");
        let tls = TlsSettings::with_extra_ca_pem(&ca).expect("TLS settings");
        Self {
            dovecot,
            tls,
            _dir: dir,
        }
    }

    fn endpoint(&self, security: Security) -> Endpoint {
        let port = match security {
            Security::Tls => self.dovecot.imaps_port(),
            _ => self.dovecot.imap_port(),
        };
        Endpoint {
            host: "127.0.0.1".into(),
            port,
            security,
        }
    }

    async fn session(&self) -> ImapSession {
        ImapSession::connect(
            &self.endpoint(Security::Tls),
            &login(PASSWORD),
            &self.tls,
            TIMEOUT,
        )
        .await
        .expect("IMAP session")
    }

    /// Seeds a message into the INBOX with its internal date (the file's mtime) at `date`.
    fn deliver(&self, raw: &[u8], date: SystemTime) {
        let name = self.dovecot.deliver(USER, raw).expect("deliver");
        let path = self.dovecot.maildir(USER).join("new").join(name);
        set_mtime(&path, date);
    }

    /// The Maildir flag letters of every INBOX message.
    fn maildir_flags(&self) -> Vec<String> {
        self.dovecot.maildir_flags(USER).expect("maildir flags")
    }
}

fn login(password: &str) -> Login {
    Login {
        username: USER.into(),
        password: password.into(),
    }
}

fn set_mtime(path: &Path, time: SystemTime) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .and_then(|f| f.set_modified(time))
        .expect("set mtime");
}

/// Noon UTC of November `day`, 2026 (noon, so that the server's time zone keeps the day).
fn nov_2026(day: u64) -> SystemTime {
    let base = 1_793_534_400; // 2026-11-01T12:00:00Z
    SystemTime::UNIX_EPOCH + Duration::from_secs(base + (day - 1) * 86_400)
}

fn message(from: &str, subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {USER}\r\nSubject: {subject}\r\n\
         Message-ID: <{}@example.com>\r\nDate: Sun, 01 Nov 2026 10:00:00 +0000\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n",
        subject.len() * 31 + body.len()
    )
    .into_bytes()
}

fn with_attachment() -> Vec<u8> {
    concat!(
        "From: carol@example.org\r\nTo: alice@example.com\r\n",
        "Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=\r\n",
        "Message-ID: <attach-1@example.org>\r\nDate: Sun, 01 Nov 2026 10:00:00 +0000\r\n",
        "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n",
        "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee the attached report.\r\n",
        "--b1\r\nContent-Type: application/pdf; name=\"report.pdf\"\r\n",
        "Content-Disposition: attachment; filename=\"report.pdf\"\r\n",
        "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJcTl8uXrCg==\r\n--b1--\r\n",
    )
    .as_bytes()
    .to_vec()
}

#[tokio::test]
async fn connects_over_implicit_tls_and_starttls() {
    let rig = Rig::start();
    // Dovecot counts loopback as secure, so plain text works here too.
    for security in [Security::Tls, Security::StartTls, Security::None] {
        let endpoint = rig.endpoint(security);
        let mut session = ImapSession::connect(&endpoint, &login(PASSWORD), &rig.tls, TIMEOUT)
            .await
            .unwrap_or_else(|e| panic!("{security:?}: {e}\n{}", rig.dovecot.log()));
        let folders = session.folders().await.expect("LIST");
        assert!(folders.iter().any(|f| f.name == "INBOX"), "{folders:?}");
        let inbox = folders.iter().find(|f| f.name == "INBOX").expect("INBOX");
        assert_eq!(inbox.delimiter.as_deref(), Some("."));
        assert!(
            inbox.attributes.iter().all(|a| a.starts_with('\\')),
            "{inbox:?}"
        );
        session.logout().await.expect("LOGOUT");
    }
}

#[tokio::test]
async fn wrong_password_is_auth_and_untrusted_ca_is_tls() {
    let rig = Rig::start();
    // Once only: Dovecot delays every further failure from the same address (auth penalty).
    let endpoint = rig.endpoint(Security::StartTls);
    let refused = ImapSession::connect(&endpoint, &login("wrong"), &rig.tls, TIMEOUT).await;
    assert!(
        matches!(refused, Err(MailError::Auth { .. })),
        "{refused:?}"
    );
    for security in [Security::Tls, Security::StartTls] {
        let endpoint = rig.endpoint(security);
        let web_pki = TlsSettings::web_pki();
        let untrusted = ImapSession::connect(&endpoint, &login(PASSWORD), &web_pki, TIMEOUT).await;
        assert!(
            matches!(untrusted, Err(MailError::Tls { .. })),
            "{security:?}: {untrusted:?}"
        );
    }
}

#[tokio::test]
async fn pages_newest_first_with_a_cursor() {
    let rig = Rig::start();
    for i in 0..7 {
        let raw = message("bob@example.net", &format!("note {i}"), "hello");
        rig.deliver(&raw, nov_2026(2));
    }
    let mut session = rig.session().await;
    let mut seen = Vec::new();
    let mut cursor = None;
    let mut sizes = Vec::new();
    loop {
        let page = session.page("INBOX", cursor, 3).await.expect("page");
        sizes.push(page.messages.len());
        let uids: Vec<u32> = page.messages.iter().map(|m| m.uid).collect();
        assert!(
            uids.windows(2).all(|w| w[0] > w[1]),
            "newest first: {uids:?}"
        );
        if let (Some(&last_seen), Some(&first)) = (seen.last(), uids.first()) {
            assert!(first < last_seen, "pages do not overlap");
        }
        seen.extend(uids);
        match page.next_before_uid {
            Some(next) => {
                assert_eq!(
                    Some(&next),
                    seen.last(),
                    "cursor is the page's smallest UID"
                );
                cursor = Some(next);
            }
            None => break,
        }
    }
    assert_eq!(sizes, [3, 3, 1]);
    assert_eq!(seen.len(), 7);
    let first = session.page("INBOX", None, 1).await.expect("page");
    let summary = &first.messages[0];
    assert_eq!(summary.from.as_deref(), Some("bob@example.net"));
    assert_eq!(summary.to, [USER]);
    assert!(summary.size > 0);
    assert!(
        summary
            .subject
            .as_deref()
            .is_some_and(|s| s.starts_with("note "))
    );
}

#[tokio::test]
async fn fetch_peeks_and_decodes_without_setting_seen() {
    let rig = Rig::start();
    let raw = with_attachment();
    rig.deliver(&raw, nov_2026(3));
    let mut session = rig.session().await;
    let page = session.page("INBOX", None, 10).await.expect("page");
    let uid = page.messages[0].uid;
    assert_eq!(page.messages[0].subject.as_deref(), Some("Grüße aus Köln"));

    let fetched = session
        .fetch("INBOX", uid)
        .await
        .expect("fetch")
        .expect("message");
    assert_eq!(fetched.raw, raw);
    assert_eq!(
        fetched.summary.message_id.as_deref(),
        Some("attach-1@example.org")
    );
    assert_eq!(fetched.summary.subject.as_deref(), Some("Grüße aus Köln"));
    assert!(!fetched.summary.flags.iter().any(|f| f == "\\Seen"));
    assert!(
        session
            .fetch("INBOX", uid + 100)
            .await
            .expect("fetch")
            .is_none()
    );
    assert!(session.fetch("INBOX", 0).await.expect("fetch").is_none());

    // Neither IMAP nor the Maildir file name shows \Seen afterwards.
    let again = session.page("INBOX", None, 10).await.expect("page");
    assert!(!again.messages[0].flags.iter().any(|f| f == "\\Seen"));
    session.logout().await.expect("LOGOUT");
    assert!(
        rig.maildir_flags().iter().all(|f| !f.contains('S')),
        "{:?}",
        rig.maildir_flags()
    );
    let counts = rig.session().await.counts("INBOX").await.expect("STATUS");
    assert_eq!((counts.messages, counts.unseen), (1, 1));
}

#[tokio::test]
async fn flags_and_labels_are_added_and_removed() {
    let rig = Rig::start();
    rig.deliver(&message("bob@example.net", "flag me", "body"), nov_2026(2));
    rig.deliver(&message("bob@example.net", "leave me", "body"), nov_2026(2));
    let mut session = rig.session().await;
    let page = session.page("INBOX", None, 10).await.expect("page");
    let target = page
        .messages
        .iter()
        .find(|m| m.subject.as_deref() == Some("flag me"))
        .expect("seeded")
        .uid;
    let flags = ["\\Seen", "$label"];
    session
        .set_flags("INBOX", &[target], FlagChange::Add, &flags)
        .await
        .expect("add flags");
    let flags_of = |page: &voxgate_mail::imap::Page, uid: u32| {
        page.messages
            .iter()
            .find(|m| m.uid == uid)
            .map(|m| m.flags.clone())
            .unwrap_or_default()
    };
    let page = session.page("INBOX", None, 10).await.expect("page");
    let set = flags_of(&page, target);
    assert!(
        set.contains(&"\\Seen".to_owned()) && set.contains(&"$label".to_owned()),
        "{set:?}"
    );
    assert_eq!(session.counts("INBOX").await.expect("STATUS").unseen, 1);
    assert_eq!(
        rig.maildir_flags()
            .iter()
            .filter(|f| f.contains('S'))
            .count(),
        1
    );

    session
        .set_flags("INBOX", &[target], FlagChange::Remove, &flags)
        .await
        .expect("remove flags");
    let page = session.page("INBOX", None, 10).await.expect("page");
    let set = flags_of(&page, target);
    assert!(
        !set.iter().any(|f| f == "\\Seen" || f == "$label"),
        "{set:?}"
    );
    assert_eq!(session.counts("INBOX").await.expect("STATUS").unseen, 2);

    let bad = session
        .set_flags("INBOX", &[target], FlagChange::Add, &["two words"])
        .await;
    assert!(matches!(bad, Err(MailError::InvalidArgument(_))), "{bad:?}");
}

#[tokio::test]
async fn searches_by_text_from_and_dates() {
    let rig = Rig::start();
    rig.deliver(
        &message("bob@example.net", "invoice", "pay 42 kronor"),
        nov_2026(2),
    );
    rig.deliver(
        &message(
            "carol@example.org",
            "lunch",
            "pizza at noon, or a smörgåsbord",
        ),
        nov_2026(20),
    );
    let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_791_000_000); // 2026-10-03
    rig.deliver(&message("bob@example.net", "old news", "archived"), old);
    let mut session = rig.session().await;
    let page = session.page("INBOX", None, 10).await.expect("page");
    let uid_of = |subject: &str| {
        page.messages
            .iter()
            .find(|m| m.subject.as_deref() == Some(subject))
            .map(|m| m.uid)
            .expect("seeded")
    };
    let (invoice, lunch, old_news) = (uid_of("invoice"), uid_of("lunch"), uid_of("old news"));
    let search = |text: Option<&str>,
                  from: Option<&str>,
                  since: Option<&str>,
                  before: Option<&str>| Search {
        text: text.map(str::to_owned),
        from: from.map(str::to_owned),
        since: since.map(str::to_owned),
        before: before.map(str::to_owned),
    };
    let cases = [
        (search(Some("pizza"), None, None, None), vec![lunch]),
        (
            search(Some("kronor"), Some("bob@"), None, None),
            vec![invoice],
        ),
        (search(None, Some("bob@example.net"), None, None), {
            let mut v = vec![invoice, old_news];
            v.sort_unstable_by(|a, b| b.cmp(a));
            v
        }),
        (search(None, None, Some("2026-11-01"), None), {
            let mut v = vec![invoice, lunch];
            v.sort_unstable_by(|a, b| b.cmp(a));
            v
        }),
        (search(None, None, None, Some("2026-11-01")), vec![old_news]),
        (
            search(None, None, Some("2026-11-10"), Some("2026-11-30")),
            vec![lunch],
        ),
        (search(Some("nothing like it"), None, None, None), vec![]),
        (search(Some("smörgåsbord"), None, None, None), vec![lunch]),
    ];
    for (query, expected) in cases {
        let got = session.search("INBOX", &query).await.expect("search");
        assert_eq!(got, expected, "{query:?}");
    }

    let injection = search(Some("x\r\nA1 DELETE INBOX"), None, None, None);
    let refused = session.search("INBOX", &injection).await;
    assert!(
        matches!(refused, Err(MailError::InvalidArgument(_))),
        "{refused:?}"
    );
    let bad_date = search(None, None, Some("1 Nov 2026"), None);
    let refused = session.search("INBOX", &bad_date).await;
    assert!(
        matches!(refused, Err(MailError::InvalidArgument(_))),
        "{refused:?}"
    );
    // The session is intact and the INBOX still there.
    assert_eq!(session.counts("INBOX").await.expect("STATUS").messages, 3);
}

#[tokio::test]
async fn folders_counts_moves_and_deletes() {
    let rig = Rig::start();
    for subject in ["one", "two", "three", "four"] {
        rig.deliver(&message("bob@example.net", subject, "body"), nov_2026(2));
    }
    let mut session = rig.session().await;
    session.create_folder("Archive").await.expect("CREATE");
    session
        .create_folder("Archive")
        .await
        .expect("CREATE of an existing folder");
    let folders = session.folders().await.expect("LIST");
    let names: Vec<&str> = folders.iter().map(|f| f.name.as_str()).collect();
    assert!(
        names.contains(&"INBOX") && names.contains(&"Archive"),
        "{names:?}"
    );
    // Non-ASCII names are plain Unicode to callers (modified UTF-7 on the wire).
    session
        .create_folder("Räkningar & kvitton")
        .await
        .expect("CREATE");
    session
        .create_folder("Räkningar & kvitton")
        .await
        .expect("CREATE again");
    let folders = session.folders().await.expect("LIST");
    assert!(
        folders.iter().any(|f| f.name == "Räkningar & kvitton"),
        "{folders:?}"
    );

    let counts = session.counts("INBOX").await.expect("STATUS");
    assert_eq!((counts.messages, counts.unseen), (4, 4));
    let page = session.page("INBOX", None, 10).await.expect("page");
    let uids: Vec<u32> = page.messages.iter().map(|m| m.uid).collect();

    session
        .move_to("INBOX", &uids[..1], "Archive")
        .await
        .expect("MOVE");
    assert_eq!(session.counts("INBOX").await.expect("STATUS").messages, 3);
    assert_eq!(session.counts("Archive").await.expect("STATUS").messages, 1);
    let archived = session.page("Archive", None, 10).await.expect("page");
    assert_eq!(archived.messages[0].subject, page.messages[0].subject);

    session.delete("INBOX", &uids[1..2]).await.expect("delete");
    let left = session.page("INBOX", None, 10).await.expect("page");
    let left: Vec<u32> = left.messages.iter().map(|m| m.uid).collect();
    assert_eq!(left, uids[2..]);
    assert!(
        session
            .fetch("INBOX", uids[1])
            .await
            .expect("fetch")
            .is_none()
    );

    session
        .move_to("INBOX", &uids[3..4], "Räkningar & kvitton")
        .await
        .expect("MOVE");
    let counts = session.counts("Räkningar & kvitton").await.expect("STATUS");
    assert_eq!(counts.messages, 1);
    let moved = session
        .page("Räkningar & kvitton", None, 10)
        .await
        .expect("page");
    assert_eq!(moved.messages[0].subject, page.messages[3].subject);

    let bogus = session.counts("No such folder").await;
    assert!(matches!(bogus, Err(MailError::Refused(_))), "{bogus:?}");
    let bogus = session.page("No such folder", None, 10).await;
    assert!(matches!(bogus, Err(MailError::Refused(_))), "{bogus:?}");
    let bogus = session
        .move_to("INBOX", &uids[2..3], "No such folder")
        .await;
    assert!(matches!(bogus, Err(MailError::Refused(_))), "{bogus:?}");
    assert_eq!(session.counts("INBOX").await.expect("STATUS").messages, 1);
    session.logout().await.expect("LOGOUT");
}

#[tokio::test]
async fn moves_by_copy_and_expunge_without_the_move_capability() {
    // An older server: no MOVE, no LITERAL+ (but UIDPLUS).
    let rig = Rig::start_with("imap_capability = IMAP4rev1 UIDPLUS");
    for subject in ["keep", "move me", "stay"] {
        rig.deliver(&message("bob@example.net", subject, "body"), nov_2026(2));
    }
    let mut session = rig.session().await;
    session.create_folder("Later").await.expect("CREATE");
    let page = session.page("INBOX", None, 10).await.expect("page");
    let moving = page
        .messages
        .iter()
        .find(|m| m.subject.as_deref() == Some("move me"))
        .expect("seeded")
        .uid;
    // Another message already marked \Deleted must not be expunged with ours.
    let other = page
        .messages
        .iter()
        .find(|m| m.uid != moving)
        .expect("seeded")
        .uid;
    session
        .set_flags("INBOX", &[other], FlagChange::Add, &["\\Deleted"])
        .await
        .expect("flag");
    session
        .move_to("INBOX", &[moving], "Later")
        .await
        .expect("COPY + EXPUNGE");
    assert_eq!(session.counts("INBOX").await.expect("STATUS").messages, 2);
    assert_eq!(session.counts("Later").await.expect("STATUS").messages, 1);
    let moved = session.page("Later", None, 10).await.expect("page");
    assert_eq!(moved.messages[0].subject.as_deref(), Some("move me"));

    let utf8 = Search {
        text: Some("Grüße".into()),
        ..Search::default()
    };
    let refused = session.search("INBOX", &utf8).await;
    assert!(
        matches!(refused, Err(MailError::InvalidArgument(_))),
        "{refused:?}"
    );
}

/// A one-connection fake IMAP server: sends `greeting` (if any), then answers every
/// command with `<tag> BAD unknown command`.
async fn fake_server(greeting: Option<&'static str>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move {
        let Ok((socket, _)) = listener.accept().await else {
            return;
        };
        let (read, mut write) = socket.into_split();
        let Some(greeting) = greeting else {
            // Say nothing, keep the connection open.
            tokio::time::sleep(Duration::from_secs(30)).await;
            return;
        };
        let _ = write.write_all(greeting.as_bytes()).await;
        let mut lines = BufReader::new(read).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let tag = line.split(' ').next().unwrap_or("*");
            let reply = format!("{tag} BAD unknown command\r\n");
            let _ = write.write_all(reply.as_bytes()).await;
        }
    });
    port
}

#[tokio::test]
async fn no_starttls_silence_and_bye_are_errors() {
    let tls = TlsSettings::web_pki();
    let endpoint = |port, security| Endpoint {
        host: "127.0.0.1".into(),
        port,
        security,
    };
    let short = Duration::from_millis(300);

    let port = fake_server(Some("* OK [CAPABILITY IMAP4rev1] fake\r\n")).await;
    let result = ImapSession::connect(
        &endpoint(port, Security::StartTls),
        &login(PASSWORD),
        &tls,
        short,
    )
    .await;
    assert!(
        matches!(result, Err(MailError::Tls { .. })),
        "no STARTTLS: {result:?}"
    );

    let port = fake_server(None).await;
    let result = ImapSession::connect(
        &endpoint(port, Security::None),
        &login(PASSWORD),
        &tls,
        short,
    )
    .await;
    assert!(
        matches!(result, Err(MailError::Timeout { .. })),
        "silent: {result:?}"
    );

    let port = fake_server(Some("* BYE too busy\r\n")).await;
    let result = ImapSession::connect(
        &endpoint(port, Security::None),
        &login(PASSWORD),
        &tls,
        short,
    )
    .await;
    assert!(
        matches!(result, Err(MailError::Refused(_))),
        "BYE: {result:?}"
    );

    let closed = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = closed.local_addr().expect("address").port();
    drop(closed);
    let result = ImapSession::connect(
        &endpoint(port, Security::Tls),
        &login(PASSWORD),
        &tls,
        short,
    )
    .await;
    assert!(
        matches!(result, Err(MailError::Connect { .. })),
        "closed port: {result:?}"
    );
}
