//! A DNS server for tests: Debian's `dnsmasq` (package `dnsmasq-base`) answering fixed TXT
//! records on 127.0.0.1, UDP and TCP, on a free port; killed when dropped.
//!
//! It is authoritative for everything (`local=/#/`) and has no upstream, no hosts file and
//! no resolv.conf, so a name without records is NXDOMAIN (or an empty NOERROR answer for a
//! name that has records of other types) rather than a refusal: exactly what a real zone
//! gives a domain-verification lookup.

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{free_port, free_udp_port};
use crate::TestdataError;

/// How long dnsmasq may take to accept connections.
const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// A running dnsmasq.
#[derive(Debug)]
pub struct Dnsmasq {
    addr: SocketAddr,
    child: Child,
}

impl Dnsmasq {
    /// Starts dnsmasq with its config, pid file and log in `dir`, answering each
    /// `(name, text)` as one TXT record (several records may share a name).
    ///
    /// # Errors
    ///
    /// [`TestdataError::MissingProgram`] without `dnsmasq`, [`TestdataError::Io`] if it
    /// cannot be started or does not answer.
    pub fn start(dir: &Path, txt: &[(&str, &str)]) -> Result<Self, TestdataError> {
        let program = find_dnsmasq()?;
        let conf = dir.join("dnsmasq.conf");
        std::fs::write(&conf, config(txt)).map_err(|e| io(&conf, e))?;
        let port = port_free_for_both();
        let mut command = Command::new(&program);
        command
            .arg("--keep-in-foreground")
            .arg(format!("--conf-file={}", conf.display()))
            .arg(format!("--port={port}"))
            .arg(format!("--pid-file={}", dir.join("dnsmasq.pid").display()))
            .arg(format!(
                "--log-facility={}",
                dir.join("dnsmasq.log").display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // As root, dnsmasq would switch to the user `nobody`, who cannot write the pid file
        // in a test folder; stay root. As anyone else it cannot switch and does not try.
        if is_root() {
            command.args(["--user=root", "--group=root"]);
        }
        let mut child = command.spawn().map_err(|e| io(&program, e))?;
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        if let Err(reason) = wait_listening(&mut child, addr) {
            let _ = child.kill();
            let _ = child.wait();
            let log = std::fs::read_to_string(dir.join("dnsmasq.log")).unwrap_or_default();
            return Err(io(
                &program,
                std::io::Error::other(format!("{reason}; log: {log}")),
            ));
        }
        Ok(Self { addr, child })
    }

    /// Where it answers (UDP and TCP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The config file: loopback only, nothing from the machine, the TXT records.
fn config(txt: &[(&str, &str)]) -> String {
    let mut conf =
        String::from("no-resolv\nno-hosts\nbind-interfaces\nlisten-address=127.0.0.1\nlocal=/#/\n");
    for (name, text) in txt {
        // In a config file dnsmasq reads a quoted string with backslash escapes, so commas
        // stay inside one string.
        let escaped = text.replace('\\', "\\\\").replace('"', "\\\"");
        conf.push_str(&format!("txt-record={name},\"{escaped}\"\n"));
    }
    conf
}

/// `dnsmasq` lives in `/usr/sbin`, which is not on every user's `PATH`.
fn find_dnsmasq() -> Result<PathBuf, TestdataError> {
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    on_path
        .into_iter()
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|dir| dir.join("dnsmasq"))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| TestdataError::MissingProgram {
            program: "dnsmasq (Debian package dnsmasq-base)".into(),
        })
}

/// A port free for both TCP and UDP on 127.0.0.1 (a few tries: the two spaces are
/// separate).
fn port_free_for_both() -> u16 {
    for _ in 0..20 {
        let port = free_udp_port();
        if std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return port;
        }
    }
    free_port()
}

/// Whether this process runs as root (`id -u` says 0).
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

/// Polls the TCP port until dnsmasq accepts (it binds UDP and TCP together).
fn wait_listening(child: &mut Child, addr: SocketAddr) -> Result<(), String> {
    let deadline = Instant::now() + READY_TIMEOUT;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("dnsmasq exited with {status}"));
        }
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!(
        "dnsmasq did not listen on {addr} within {READY_TIMEOUT:?}"
    ))
}

fn io(path: impl Into<PathBuf>, source: std::io::Error) -> TestdataError {
    TestdataError::Io {
        path: path.into(),
        source,
    }
}
