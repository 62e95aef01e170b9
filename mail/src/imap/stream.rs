//! The byte stream under an IMAP session, and opening it up to the point of LOGIN: TCP,
//! then TLS from the first byte ([`Security::Tls`]), or the greeting, `STARTTLS` and TLS
//! ([`Security::StartTls`], RFC 3501 section 6.2.1), or nothing ([`Security::None`]).
//!
//! This is an IO edge: it connects sockets. Timeouts are the caller's (`ImapSession`).

use std::pin::Pin;
use std::task::{Context, Poll};

use async_imap::Client;
use async_imap::imap_proto::{Response, Status};
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::tls::TlsSettings;
use crate::{Endpoint, MailError, MailResult, Security};

/// A plain or TLS-wrapped TCP connection to an IMAP server.
#[derive(Debug)]
pub(super) enum ImapStream {
    /// No TLS ([`Security::None`]).
    Plain(TcpStream),
    /// TLS, from the start or after STARTTLS.
    Tls(Box<TlsStream<TcpStream>>),
}

/// Connects to `endpoint` and brings the connection to where LOGIN may be sent: the
/// greeting read and, as the endpoint says, TLS set up.
pub(super) async fn open(endpoint: &Endpoint, tls: &TlsSettings) -> MailResult<Client<ImapStream>> {
    let tcp = TcpStream::connect((endpoint.host.as_str(), endpoint.port))
        .await
        .map_err(|e| MailError::Connect {
            host: endpoint.host.clone(),
            port: endpoint.port,
            reason: e.to_string(),
        })?;
    match endpoint.security {
        Security::None => {
            let mut client = Client::new(ImapStream::Plain(tcp));
            read_greeting(&mut client).await?;
            Ok(client)
        }
        Security::Tls => {
            let mut client = Client::new(wrap(tcp, endpoint, tls).await?);
            read_greeting(&mut client).await?;
            Ok(client)
        }
        Security::StartTls => {
            let mut client = Client::new(tcp);
            read_greeting(&mut client).await?;
            // A server without STARTTLS answers BAD or NO: an error, never a downgrade.
            client
                .run_command_and_check_ok("STARTTLS", None)
                .await
                .map_err(|e| tls_error(endpoint, format!("STARTTLS refused: {e}")))?;
            // No greeting follows the handshake (RFC 3501 section 6.2.1).
            Ok(Client::new(wrap(client.into_inner(), endpoint, tls).await?))
        }
    }
}

/// The TLS handshake on `tcp`, checking the certificate against `endpoint.host`.
async fn wrap(tcp: TcpStream, endpoint: &Endpoint, tls: &TlsSettings) -> MailResult<ImapStream> {
    let name = ServerName::try_from(endpoint.host.clone())
        .map_err(|e| tls_error(endpoint, format!("not a TLS server name: {e}")))?;
    let stream = TlsConnector::from(tls.client_config())
        .connect(name, tcp)
        .await
        .map_err(|e| tls_error(endpoint, e.to_string()))?;
    Ok(ImapStream::Tls(Box::new(stream)))
}

/// Reads the server greeting: `* OK` (or `* PREAUTH`) goes on, `* BYE` is a refusal.
async fn read_greeting<S>(client: &mut Client<S>) -> MailResult<()>
where
    S: AsyncRead + AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    let greeting = client
        .read_response()
        .await?
        .ok_or_else(|| MailError::Protocol("connection closed before the greeting".into()))?;
    match greeting.parsed() {
        Response::Data {
            status: Status::Ok | Status::PreAuth,
            ..
        } => Ok(()),
        Response::Data {
            status: Status::Bye,
            outcome,
            ..
        } => Err(MailError::Refused(
            outcome.information.as_deref().unwrap_or("BYE").to_owned(),
        )),
        other => Err(MailError::Protocol(format!(
            "unexpected greeting {other:?}"
        ))),
    }
}

fn tls_error(endpoint: &Endpoint, reason: String) -> MailError {
    MailError::Tls {
        host: endpoint.host.clone(),
        reason,
    }
}

impl AsyncRead for ImapStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Self::Tls(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for ImapStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Self::Tls(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_flush(cx),
            Self::Tls(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Self::Tls(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}
