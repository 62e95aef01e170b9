//! The listener's IO edge: the tokio accept loop and one task per connection driving a
//! [`Session`]. Everything SMTP-specific is in the session; this file owns sockets,
//! timeouts, the connection limit and shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::timeout;

use super::reply::Reply;
use super::session::{Output, Session};
use super::{Delivery, ListenerConfig};
use crate::MailResult;

/// How long in-flight sessions may take to finish after shutdown is asked for.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// How long a refused connection gets to read its `421`.
const REFUSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Pause after a failed `accept` (out of file descriptors, ...), so that the loop does
/// not spin while the condition lasts.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Bytes read from the socket at a time.
const READ_CHUNK: usize = 16 * 1024;

/// Serves SMTP on `listener` until `shutdown` completes: one task per connection, at most
/// `config.max_connections` at once (more are told `421 4.3.2` and closed).
///
/// On shutdown it stops accepting, tells idle sessions `421 4.3.2`, lets sessions in the
/// middle of a message finish for up to ten seconds, then drops the rest.
pub async fn serve(
    listener: TcpListener,
    config: ListenerConfig,
    delivery: Arc<dyn Delivery>,
    shutdown: impl Future<Output = ()> + Send,
) -> MailResult<()> {
    let config = Arc::new(config);
    let permits = Arc::new(Semaphore::new(config.max_connections));
    let (stop, stopped) = watch::channel(false);
    let mut tasks = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        tracing::warn!(%error, "SMTP accept failed");
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                        continue;
                    }
                };
                match Arc::clone(&permits).try_acquire_owned() {
                    Ok(permit) => {
                        let connection = Connection {
                            stream,
                            session: Session::new(&config, peer),
                            idle_timeout: config.idle_timeout,
                            deadline: tokio::time::Instant::now() + config.max_session,
                            delivery: Arc::clone(&delivery),
                            _permit: permit,
                        };
                        tasks.spawn(connection.run(peer, stopped.clone()));
                    }
                    Err(_) => {
                        tasks.spawn(refuse(stream, peer));
                    }
                }
            }
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    drop(listener);
    let _ = stop.send(true);
    let drained = timeout(SHUTDOWN_GRACE, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::info!(left = tasks.len(), "SMTP sessions cut off at shutdown");
        tasks.shutdown().await;
    }
    Ok(())
}

/// Over the connection limit: `421` (RFC 5321 §3.8) and close.
async fn refuse(mut stream: TcpStream, peer: SocketAddr) {
    let reply = Reply::new(421, "4.3.2", "Too many connections, try again later");
    let said = timeout(REFUSE_TIMEOUT, async {
        stream.write_all(&reply.to_bytes()).await?;
        stream.shutdown().await
    })
    .await;
    tracing::debug!(%peer, ?said, "SMTP connection refused: limit reached");
}

/// One accepted connection and its session.
struct Connection {
    stream: TcpStream,
    session: Session,
    idle_timeout: Duration,
    /// When the session ends however busy it is: a client dripping a byte just inside
    /// the idle timeout cannot hold a slot for ever.
    deadline: tokio::time::Instant,
    delivery: Arc<dyn Delivery>,
    /// Held for the connection's life: its slot under `max_connections`.
    _permit: OwnedSemaphorePermit,
}

impl Connection {
    async fn run(mut self, peer: SocketAddr, stopped: watch::Receiver<bool>) {
        match self.converse(stopped).await {
            Ok(()) => tracing::debug!(%peer, "SMTP session ended"),
            Err(error) => tracing::debug!(%peer, %error, "SMTP session failed"),
        }
    }

    /// Reads, feeds the session and carries out what it asks until it closes or the
    /// client goes away.
    async fn converse(&mut self, mut stopped: watch::Receiver<bool>) -> std::io::Result<()> {
        let mut buf = vec![0; READ_CHUNK];
        let mut stopping = *stopped.borrow();
        loop {
            if !self.carry_out().await? {
                return self.stream.shutdown().await;
            }
            // Stopping: an idle session is closed now (its 421 goes out on the next turn);
            // one in the middle of a message reads on until it is idle.
            if stopping && self.session.handle_shutdown() {
                continue;
            }
            let left = self
                .deadline
                .saturating_duration_since(tokio::time::Instant::now());
            tokio::select! {
                read = timeout(self.idle_timeout.min(left), self.stream.read(&mut buf)) => match read {
                    Err(_) => self.session.handle_idle_timeout(),
                    Ok(Ok(0)) => return Ok(()),
                    Ok(Ok(n)) => self.session.handle_input(&buf[..n]),
                    Ok(Err(error)) => return Err(error),
                },
                _ = stopped.changed(), if !stopping => stopping = true,
            }
        }
    }

    /// Does what the session asks, writing its replies in batches (pipelined replies go
    /// out together). Returns `false` once the session closed.
    async fn carry_out(&mut self) -> std::io::Result<bool> {
        let mut out = Vec::new();
        while let Some(output) = self.session.poll_output() {
            match output {
                Output::Reply(reply) => out.extend_from_slice(&reply.to_bytes()),
                Output::CheckRecipient(address) => {
                    self.flush(&mut out).await?;
                    let verdict = self.delivery.recipient(&address).await;
                    self.session.handle_recipient(verdict);
                }
                Output::Deliver { envelope, raw } => {
                    self.flush(&mut out).await?;
                    let verdict = self.delivery.deliver(&envelope, raw).await;
                    self.session.handle_delivered(verdict);
                }
                Output::Close => {
                    self.flush(&mut out).await?;
                    return Ok(false);
                }
            }
        }
        self.flush(&mut out).await?;
        Ok(true)
    }

    /// Writes the pending replies; a client that does not read them in time is gone.
    async fn flush(&mut self, out: &mut Vec<u8>) -> std::io::Result<()> {
        if out.is_empty() {
            return Ok(());
        }
        match timeout(self.idle_timeout, self.stream.write_all(out)).await {
            Ok(written) => {
                out.clear();
                written
            }
            Err(_) => Err(std::io::ErrorKind::TimedOut.into()),
        }
    }
}
