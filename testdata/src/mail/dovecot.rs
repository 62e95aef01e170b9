//! A real Dovecot IMAP server (Debian's `dovecot-imapd`, 2.3) for the mailbox tests.
//!
//! [`Dovecot::start`] writes a `dovecot.conf` into a test folder and runs `dovecot -F` as a
//! child process, killed when the [`Dovecot`] is dropped. Everything lives in that folder:
//! the runtime and state directories, the log (`dovecot.log`), the users' password file and
//! their Maildirs under `<dir>/mail/<address>/` (`cur`, `new`, `tmp`), where the test SMTP
//! server and [`Dovecot::deliver`] drop messages.
//!
//! It listens on two free loopback ports: `imap` (plain, with STARTTLS) and `imaps`
//! (implicit TLS), both with the certificate of a [`TestCerts`].
//!
//! Who runs what: Dovecot refuses to run its login processes or to open mailboxes as root.
//! Started as root (CI containers), its internal and login processes run as the `dovecot`
//! and `dovenull` users the package creates and mail is owned by the `dovecot` user, so the
//! Maildirs are made world-writable for whoever else delivers into them; started as
//! anyone else, everything runs as that user.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::certs::TestCerts;
use super::free_port;
use crate::TestdataError;

/// How long Dovecot may take to greet on its IMAP port.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// A running Dovecot, stopped when dropped.
#[derive(Debug)]
pub struct Dovecot {
    child: Child,
    dir: PathBuf,
    imap_port: u16,
    imaps_port: u16,
    owner: Owner,
}

/// The system user that owns the mail and runs the Dovecot services.
#[derive(Debug, Clone)]
struct Owner {
    /// Its user name (for `default_internal_user` when not root).
    name: String,
    /// The name of its group `gid` (for `default_internal_group`).
    group: String,
    uid: u32,
    gid: u32,
    /// Whether this process runs as root.
    root: bool,
}

impl Dovecot {
    /// Starts Dovecot in `dir` with `users` as (address, password) pairs, and waits until
    /// its plain IMAP port greets.
    ///
    /// # Errors
    ///
    /// [`TestdataError::MissingProgram`] without `dovecot`; [`TestdataError::Io`] when the
    /// files cannot be written or Dovecot does not come up (the error carries its log).
    pub fn start(
        dir: &Path,
        certs: &TestCerts,
        users: &[(&str, &str)],
    ) -> Result<Self, TestdataError> {
        Self::start_with(dir, certs, users, "")
    }

    /// [`Dovecot::start`] with `extra` appended to the configuration, e.g.
    /// `imap_capability = IMAP4rev1 UIDPLUS` to play an older server without MOVE.
    ///
    /// # Errors
    ///
    /// As [`Dovecot::start`].
    pub fn start_with(
        dir: &Path,
        certs: &TestCerts,
        users: &[(&str, &str)],
        extra: &str,
    ) -> Result<Self, TestdataError> {
        let owner = Owner::detect(dir)?;
        if owner.root {
            // The `dovenull` login processes must reach `<dir>/run/login`.
            set_mode(dir, 0o755)?;
        }
        let (imap_port, imaps_port) = (free_port(), free_port());
        let passwd = dir.join("users");
        let lines: String = users
            .iter()
            .map(|(user, password)| format!("{user}:{{PLAIN}}{password}\n"))
            .collect();
        write(&passwd, lines.as_bytes())?;
        for sub in ["run", "state"] {
            create_dir(&dir.join(sub))?;
        }
        let conf = dir.join("dovecot.conf");
        write(
            &conf,
            format!(
                "{}{extra}\n",
                config(dir, certs, &owner, imap_port, imaps_port)
            )
            .as_bytes(),
        )?;
        let mut dovecot = Self {
            child: spawn(&conf, dir)?,
            dir: dir.to_path_buf(),
            imap_port,
            imaps_port,
            owner,
        };
        for (user, _) in users {
            dovecot.make_maildir(user)?;
        }
        dovecot.wait_for_greeting()?;
        Ok(dovecot)
    }

    /// The plain IMAP port (STARTTLS offered) on 127.0.0.1.
    pub fn imap_port(&self) -> u16 {
        self.imap_port
    }

    /// The implicit-TLS IMAP port on 127.0.0.1.
    pub fn imaps_port(&self) -> u16 {
        self.imaps_port
    }

    /// `<dir>/mail`: the folder holding every user's Maildir.
    pub fn maildir_root(&self) -> PathBuf {
        self.dir.join("mail")
    }

    /// `<dir>/mail/<user>`: a user's Maildir (its INBOX).
    pub fn maildir(&self, user: &str) -> PathBuf {
        self.maildir_root().join(user)
    }

    /// The server's log so far (empty when unreadable).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("dovecot.log")).unwrap_or_default()
    }

    /// Drops `raw` into `user`'s INBOX the Maildir way (written in `tmp/`, renamed into
    /// `new/`), as a delivery agent would. Returns the file's name.
    ///
    /// # Errors
    ///
    /// [`TestdataError::Io`] when the file cannot be written.
    pub fn deliver(&self, user: &str, raw: &[u8]) -> Result<String, TestdataError> {
        self.make_maildir(user)?;
        let maildir = self.maildir(user);
        let name = unique_name();
        let tmp = maildir.join("tmp").join(&name);
        write(&tmp, raw)?;
        self.own(&tmp, 0o666)?;
        let new = maildir.join("new").join(&name);
        std::fs::rename(&tmp, &new).map_err(|source| TestdataError::Io { path: new, source })?;
        Ok(name)
    }

    /// The Maildir flag letters of every message of `user`'s INBOX (`S` seen, `F` flagged,
    /// `T` deleted, ... after `:2,` in the file name), one string per message, read from
    /// disk: an independent check of what the IMAP server stored.
    ///
    /// # Errors
    ///
    /// [`TestdataError::Io`] when the folders cannot be read.
    pub fn maildir_flags(&self, user: &str) -> Result<Vec<String>, TestdataError> {
        let mut flags = Vec::new();
        for sub in ["new", "cur"] {
            let path = self.maildir(user).join(sub);
            let entries = std::fs::read_dir(&path).map_err(|e| TestdataError::io(&path, e))?;
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let letters = name.split_once(":2,").map(|(_, f)| f).unwrap_or("");
                flags.push(letters.to_owned());
            }
        }
        Ok(flags)
    }

    /// Makes `user`'s Maildir (`cur`, `new`, `tmp`), owned by the mail user.
    fn make_maildir(&self, user: &str) -> Result<(), TestdataError> {
        let root = self.maildir_root();
        let maildir = self.maildir(user);
        for path in [
            root,
            maildir.clone(),
            maildir.join("cur"),
            maildir.join("new"),
            maildir.join("tmp"),
        ] {
            if !path.exists() {
                create_dir(&path)?;
                self.own(&path, 0o777)?;
            }
        }
        Ok(())
    }

    /// Gives `path` to the mail user (when running as root) with `mode`.
    fn own(&self, path: &Path, mode: u32) -> Result<(), TestdataError> {
        if self.owner.root {
            std::os::unix::fs::chown(path, Some(self.owner.uid), Some(self.owner.gid)).map_err(
                |source| TestdataError::Io {
                    path: path.to_path_buf(),
                    source,
                },
            )?;
        }
        set_mode(path, mode)
    }

    /// Waits until the plain port answers `* OK`, or the process dies, or time runs out.
    fn wait_for_greeting(&mut self) -> Result<(), TestdataError> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if greets(self.imap_port) {
                return Ok(());
            }
            let exited = matches!(self.child.try_wait(), Ok(Some(_)));
            if exited || Instant::now() >= deadline {
                let stderr =
                    std::fs::read_to_string(self.dir.join("dovecot.stderr")).unwrap_or_default();
                return Err(TestdataError::Io {
                    path: self.dir.join("dovecot.conf"),
                    source: std::io::Error::other(format!(
                        "dovecot did not greet on port {}: {stderr}{}",
                        self.imap_port,
                        self.log()
                    )),
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        // Its children notice the master is gone and exit on their own.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Owner {
    /// Who this process is, from a file it creates in `dir`, and who the mail belongs to.
    fn detect(dir: &Path) -> Result<Self, TestdataError> {
        let probe = dir.join(".owner");
        write(&probe, b"")?;
        let meta = std::fs::metadata(&probe).map_err(|e| TestdataError::io(&probe, e))?;
        let (uid, gid) = (meta.uid(), meta.gid());
        if uid != 0 {
            let name = name_of("/etc/passwd", uid)
                .or_else(|| std::env::var("USER").ok())
                .unwrap_or_else(|| uid.to_string());
            let group = name_of("/etc/group", gid).unwrap_or_else(|| name.clone());
            return Ok(Self {
                name,
                group,
                uid,
                gid,
                root: false,
            });
        }
        let fields = entry("/etc/passwd", |fields| fields.first() == Some(&"dovecot")).ok_or(
            TestdataError::MissingProgram {
                program: "dovecot (its `dovecot` system user)".into(),
            },
        )?;
        let number = |i: usize| fields.get(i).and_then(|f| f.parse().ok()).unwrap_or(0);
        Ok(Self {
            name: "dovecot".into(),
            group: "dovecot".into(),
            uid: number(2),
            gid: number(3),
            root: true,
        })
    }
}

/// The name of user or group `id` in `/etc/passwd` or `/etc/group`.
fn name_of(file: &str, id: u32) -> Option<String> {
    let id = id.to_string();
    entry(file, |fields| fields.get(2) == Some(&id.as_str()))?
        .into_iter()
        .next()
}

/// The line of `file` (`/etc/passwd`, `/etc/group`) whose fields `matches` accepts, as its
/// fields.
fn entry(file: &str, matches: impl Fn(&[&str]) -> bool) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        matches(&fields).then(|| fields.iter().map(|f| (*f).to_owned()).collect())
    })
}

/// The `dovecot.conf` of a test server.
fn config(dir: &Path, certs: &TestCerts, owner: &Owner, imap: u16, imaps: u16) -> String {
    let d = dir.display();
    let (internal, group, login) = if owner.root {
        ("dovecot", "dovecot", "dovenull")
    } else {
        (
            owner.name.as_str(),
            owner.group.as_str(),
            owner.name.as_str(),
        )
    };
    // Without root there is nothing to chroot with.
    let chroot = if owner.root { "" } else { "  chroot =\n" };
    format!(
        "base_dir = {d}/run\n\
         state_dir = {d}/state\n\
         instance_name = voxgate-test-{imap}\n\
         protocols = imap\n\
         listen = 127.0.0.1\n\
         default_internal_user = {internal}\n\
         default_internal_group = {group}\n\
         default_login_user = {login}\n\
         log_path = {d}/dovecot.log\n\
         ssl = yes\n\
         ssl_cert = <{cert}\n\
         ssl_key = <{key}\n\
         auth_mechanisms = plain login\n\
         auth_failure_delay = 0\n\
         first_valid_uid = 0\n\
         first_valid_gid = 0\n\
         passdb {{\n  driver = passwd-file\n\
         \x20 args = scheme=PLAIN username_format=%u {d}/users\n}}\n\
         userdb {{\n  driver = static\n  args = uid={uid} gid={gid} home={d}/mail/%u\n}}\n\
         mail_location = maildir:{d}/mail/%u\n\
         service imap-login {{\n{chroot}\
         \x20 inet_listener imap {{\n    address = 127.0.0.1\n    port = {imap}\n  }}\n\
         \x20 inet_listener imaps {{\n    address = 127.0.0.1\n    port = {imaps}\n\
         \x20   ssl = yes\n  }}\n\
         }}\n",
        cert = certs.cert_pem.display(),
        key = certs.key_pem.display(),
        uid = owner.uid,
        gid = owner.gid,
    )
}

/// Runs `dovecot -F -c conf`, its standard error into `<dir>/dovecot.stderr`.
fn spawn(conf: &Path, dir: &Path) -> Result<Child, TestdataError> {
    let stderr_path = dir.join("dovecot.stderr");
    let stderr = std::fs::File::create(&stderr_path).map_err(|source| TestdataError::Io {
        path: stderr_path,
        source,
    })?;
    Command::new("dovecot")
        .arg("-F")
        .arg("-c")
        .arg(conf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                TestdataError::MissingProgram {
                    program: "dovecot".into(),
                }
            } else {
                TestdataError::Io {
                    path: "dovecot".into(),
                    source,
                }
            }
        })
}

/// Whether 127.0.0.1:`port` answers with an IMAP `* OK` greeting.
fn greets(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut greeting = [0_u8; 5];
    let ok = stream.read_exact(&mut greeting).is_ok() && &greeting == b"* OK ";
    let _ = stream.write_all(b"z LOGOUT\r\n");
    ok
}

/// A Maildir file name unique within this process run (`<secs>.<pid>_<n>.voxgate`).
fn unique_name() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{secs}.P{}Q{n}.voxgate", std::process::id())
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), TestdataError> {
    std::fs::write(path, bytes).map_err(|source| TestdataError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn create_dir(path: &Path) -> Result<(), TestdataError> {
    std::fs::create_dir_all(path).map_err(|source| TestdataError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn set_mode(path: &Path, mode: u32) -> Result<(), TestdataError> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|source| {
        TestdataError::Io {
            path: path.to_path_buf(),
            source,
        }
    })
}
