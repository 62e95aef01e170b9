//! Real mail servers for tests, started on loopback in a temporary folder and stopped when
//! dropped: Dovecot (IMAP, from Debian's `dovecot-imapd`), an SMTP submission server with
//! AUTH and STARTTLS (`aiosmtpd` from PyPI, `testdata/mail/submission.py`) that delivers
//! into Dovecot's Maildirs, and dnsmasq (Debian's `dnsmasq-base`) answering TXT records.
//! [`certs`] makes the test CA and server certificate they share.
//!
//! `scripts/setup` installs all of them; a missing program is
//! [`crate::TestdataError::MissingProgram`].

pub mod certs;
pub mod dkim;
pub mod dnsmasq;
pub mod dovecot;
pub mod submission;

/// A free TCP port on 127.0.0.1 (bound, read, released: good enough for a test server
/// started right after).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

/// A free UDP port on 127.0.0.1.
pub fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}
