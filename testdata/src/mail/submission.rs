//! An SMTP submission server for tests: `testdata/mail/submission.py` on `aiosmtpd` (PyPI,
//! installed by `scripts/setup`), started on two loopback ports and killed when dropped.
//!
//! - [`Submission::starttls_port`]: plain text with STARTTLS; AUTH only after STARTTLS.
//! - [`Submission::tls_port`]: TLS from the first byte.
//!
//! Both need AUTH before `MAIL`. Recipients `reject-*@...` are refused with
//! `550 5.1.1` and `defer-*@...` with `451 4.3.0` at `RCPT`; every other recipient gets the
//! message in its Maildir under `maildir_root/<address lower-cased>/new/` (the layout the
//! Dovecot test server reads), and each accepted message adds one JSON line to the log
//! ([`Submission::log_entries`]). The server's certificate comes from a [`TestCerts`].

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::certs::TestCerts;
use super::free_port;
use crate::TestdataError;

/// How long the server may take to print "ready".
const READY_TIMEOUT: Duration = Duration::from_secs(15);

/// A running submission server.
#[derive(Debug)]
pub struct Submission {
    /// The STARTTLS port (RFC 6409 style, like 587).
    pub starttls_port: u16,
    /// The implicit-TLS port (RFC 8314, like 465).
    pub tls_port: u16,
    child: Child,
    log: PathBuf,
    maildir_root: PathBuf,
}

impl Submission {
    /// Starts the server with its files in `dir`, TLS from `certs`, the logins `users`
    /// (user, password), delivering into Maildirs under `maildir_root`.
    ///
    /// # Errors
    ///
    /// [`TestdataError::MissingProgram`] without `python3` or its `aiosmtpd` module,
    /// [`TestdataError::Io`] if the server cannot be started or does not become ready.
    pub fn start(
        dir: &Path,
        certs: &TestCerts,
        users: &[(&str, &str)],
        maildir_root: &Path,
    ) -> Result<Self, TestdataError> {
        Self::start_on(dir, certs, users, maildir_root, free_port())
    }

    /// [`Submission::start`] with the STARTTLS port chosen by the caller (a test that must
    /// tell its app the address before the server's users are known).
    ///
    /// # Errors
    ///
    /// As [`Submission::start`].
    pub fn start_on(
        dir: &Path,
        certs: &TestCerts,
        users: &[(&str, &str)],
        maildir_root: &Path,
        starttls_port: u16,
    ) -> Result<Self, TestdataError> {
        check_aiosmtpd()?;
        let script = script();
        let users_file = dir.join("submission-users");
        let lines: String = users.iter().map(|(u, p)| format!("{u}:{p}\n")).collect();
        std::fs::write(&users_file, lines).map_err(|e| io(&users_file, e))?;
        std::fs::create_dir_all(maildir_root).map_err(|e| io(maildir_root, e))?;
        let log = dir.join("submission-log.jsonl");
        let stderr_path = dir.join("submission.stderr");
        let stderr = std::fs::File::create(&stderr_path).map_err(|e| io(&stderr_path, e))?;
        // Two released ports in a row can be the same one.
        let tls_port = std::iter::repeat_with(free_port)
            .take(20)
            .find(|p| *p != starttls_port)
            .unwrap_or_default();
        let mut child = Command::new("python3")
            .arg(&script)
            .args(["--host", "127.0.0.1"])
            .args(["--starttls-port", &starttls_port.to_string()])
            .args(["--tls-port", &tls_port.to_string()])
            .arg("--cert")
            .arg(&certs.cert_pem)
            .arg("--key")
            .arg(&certs.key_pem)
            .arg("--users")
            .arg(&users_file)
            .arg("--maildir-root")
            .arg(maildir_root)
            .arg("--log")
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(|e| io(&script, e))?;
        if let Err(reason) = wait_ready(&mut child) {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
            return Err(io(
                &script,
                std::io::Error::other(format!("{reason}; stderr: {stderr}")),
            ));
        }
        Ok(Self {
            starttls_port,
            tls_port,
            child,
            log,
            maildir_root: maildir_root.to_path_buf(),
        })
    }

    /// The log's lines, one JSON object per accepted message, oldest first:
    /// `{"auth_user", "mail_from", "message_id", "rcpt_tos", "size"}`.
    pub fn log_entries(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .map(|text| text.lines().map(str::to_owned).collect())
            .unwrap_or_default()
    }

    /// Every message delivered to `address` (its Maildir's `new/` and `cur/`), oldest
    /// first by file name.
    pub fn delivered(&self, address: &str) -> Vec<Vec<u8>> {
        let folder = self.maildir_root.join(address.to_lowercase());
        let mut files: Vec<PathBuf> = ["new", "cur"]
            .iter()
            .filter_map(|sub| std::fs::read_dir(folder.join(sub)).ok())
            .flatten()
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .collect();
        files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
        files
            .iter()
            .filter_map(|path| std::fs::read(path).ok())
            .collect()
    }
}

impl Drop for Submission {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `testdata/mail/submission.py` in this crate's folder.
fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("mail/submission.py")
}

/// Whether `python3` can import `aiosmtpd`.
fn check_aiosmtpd() -> Result<(), TestdataError> {
    let output = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .output()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                TestdataError::MissingProgram {
                    program: "python3".into(),
                }
            } else {
                io("python3", e)
            }
        })?;
    if output.status.success() {
        Ok(())
    } else {
        Err(TestdataError::MissingProgram {
            program: "the python3 module aiosmtpd (PyPI aiosmtpd 1.4.6)".into(),
        })
    }
}

/// Waits for the child's "ready" line on stdout.
fn wait_ready(child: &mut Child) -> Result<(), String> {
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let (tx, rx) = mpsc::channel();
    // The reader thread ends when the child closes stdout (it exits, or is killed on drop).
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let ready = lines.any(|line| line.is_ok_and(|l| l.trim() == "ready"));
        let _ = tx.send(ready);
        // Keep draining so the child never blocks on a full pipe.
        lines.for_each(drop);
    });
    match rx.recv_timeout(READY_TIMEOUT) {
        Ok(true) => Ok(()),
        Ok(false) => Err("the server exited before it was ready".into()),
        Err(_) => Err(format!("not ready within {READY_TIMEOUT:?}")),
    }
}

fn io(path: impl Into<PathBuf>, source: std::io::Error) -> TestdataError {
    TestdataError::Io {
        path: path.into(),
        source,
    }
}
