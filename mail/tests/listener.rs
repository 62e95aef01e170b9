//! The inbound SMTP listener on a real loopback socket, spoken to by real clients: `swaks`
//! and Python's `smtplib` (run as subprocesses) and raw TCP for what no polite client sends
//! (pipelined bursts, garbage, 100 KB lines, idle silence, too many connections).
//!
//! The test [`Delivery`] accepts `*@voxgate.test`, refuses every other recipient with
//! `550 5.1.1` and hands delivered messages to the test through a channel.

use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::timeout;
use voxgate_mail::MailResult;
use voxgate_mail::listener::{Delivery, Envelope, ListenerConfig, Verdict, serve};

/// How long anything in these tests may take before it counts as hung.
const PATIENCE: Duration = Duration::from_secs(15);

struct TestDelivery {
    delivered: mpsc::UnboundedSender<(Envelope, Vec<u8>)>,
}

#[async_trait::async_trait]
impl Delivery for TestDelivery {
    async fn recipient(&self, address: &str) -> Verdict {
        if address.ends_with("@voxgate.test") {
            Verdict::Accept
        } else {
            Verdict::Reject {
                code: 550,
                status: "5.1.1".into(),
                text: "No such user here".into(),
            }
        }
    }

    async fn deliver(&self, envelope: &Envelope, raw: Vec<u8>) -> Verdict {
        let _ = self.delivered.send((envelope.clone(), raw));
        Verdict::Accept
    }
}

/// A running listener.
struct Server {
    addr: SocketAddr,
    delivered: mpsc::UnboundedReceiver<(Envelope, Vec<u8>)>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<MailResult<()>>,
}

impl Server {
    async fn start(config: ListenerConfig) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local address");
        let (tx, delivered) = mpsc::unbounded_channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let delivery = Arc::new(TestDelivery { delivered: tx });
        let task = tokio::spawn(serve(listener, config, delivery, async {
            let _ = stopped.await;
        }));
        Self {
            addr,
            delivered,
            stop: Some(stop),
            task,
        }
    }

    async fn next_message(&mut self) -> (Envelope, Vec<u8>) {
        timeout(PATIENCE, self.delivered.recv())
            .await
            .expect("a message in time")
            .expect("the listener is running")
    }

    fn nothing_delivered(&mut self) -> bool {
        self.delivered.try_recv().is_err()
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let served = timeout(PATIENCE, self.task)
            .await
            .expect("serve returns in time");
        served
            .expect("serve did not panic")
            .expect("serve ended cleanly");
    }
}

fn config() -> ListenerConfig {
    ListenerConfig {
        hostname: "mx.voxgate.test".into(),
        max_message_bytes: 64 * 1024,
        ..ListenerConfig::default()
    }
}

/// Runs a program off the runtime; returns its exit status and its output (both streams).
async fn run(program: &'static str, args: Vec<String>) -> (i32, String) {
    let output = tokio::task::spawn_blocking(move || Command::new(program).args(&args).output())
        .await
        .expect("the blocking task ran")
        .unwrap_or_else(|error| panic!("{program} runs: {error}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap_or(-1), text)
}

/// `swaks` against the server, from `sender@example.test`, with `extra` arguments.
async fn swaks(addr: SocketAddr, extra: &[&str]) -> (i32, String) {
    let mut args: Vec<String> = [
        "--server",
        "127.0.0.1",
        "--port",
        &addr.port().to_string(),
        "--helo",
        "client.test",
        "--from",
        "sender@example.test",
        "--timeout",
        "10",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    run("swaks", args).await
}

/// A message file for `swaks --data @file`. `swaks` ends the content with its own CRLF
/// before the final `.`, so the file leaves out the message's last line end.
fn data_file(content: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().expect("a temporary file");
    let content = content.strip_suffix("\r\n").unwrap_or(content);
    std::io::Write::write_all(&mut file, content.as_bytes()).expect("write the message");
    file
}

/// A raw SMTP client for what `swaks` will not send.
struct Raw {
    reader: BufReader<TcpStream>,
}

impl Raw {
    async fn connect(addr: SocketAddr) -> Self {
        let stream = timeout(PATIENCE, TcpStream::connect(addr))
            .await
            .expect("connect in time")
            .expect("connect");
        Self {
            reader: BufReader::new(stream),
        }
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.reader.get_mut().write_all(bytes).await.expect("write");
    }

    /// One whole reply (all its lines), or `None` at the end of the connection.
    async fn reply(&mut self) -> Option<String> {
        let mut reply = String::new();
        loop {
            let mut line = String::new();
            let read = timeout(PATIENCE, self.reader.read_line(&mut line))
                .await
                .expect("a reply in time");
            if !matches!(read, Ok(n) if n > 0) {
                return (!reply.is_empty()).then_some(reply);
            }
            reply.push_str(&line);
            if line.as_bytes().get(3) != Some(&b'-') {
                return Some(reply);
            }
        }
    }

    /// Replies until the server closes.
    async fn replies_to_the_end(&mut self) -> Vec<String> {
        let mut replies = Vec::new();
        while let Some(reply) = self.reply().await {
            replies.push(reply);
        }
        replies
    }
}

fn code(reply: &str) -> &str {
    reply.get(..3).unwrap_or(reply)
}

const MESSAGE: &str = "From: Sender <sender@example.test>\r
To: agent@voxgate.test\r
Subject: Booking\r
Message-ID: <booking-1@example.test>\r
\r
Hello agent.\r
.A line that starts with a dot.\r
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swaks_delivers_a_message_with_its_envelope() {
    let mut server = Server::start(config()).await;
    let file = data_file(MESSAGE);
    let path = format!("@{}", file.path().display());
    let (status, out) = swaks(
        server.addr,
        &[
            "--to",
            "agent@voxgate.test,other@voxgate.test",
            "--data",
            &path,
        ],
    )
    .await;
    assert_eq!(status, 0, "{out}");
    assert!(
        out.contains("250-SIZE 65536") || out.contains("SIZE 65536"),
        "{out}"
    );

    let (envelope, raw) = server.next_message().await;
    assert_eq!(envelope.helo, "client.test");
    assert_eq!(envelope.mail_from, "sender@example.test");
    assert_eq!(
        envelope.rcpt_to,
        ["agent@voxgate.test", "other@voxgate.test"]
    );
    assert!(envelope.peer.ip().is_loopback());
    assert_eq!(String::from_utf8_lossy(&raw), MESSAGE);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swaks_unknown_recipient_is_refused() {
    let mut server = Server::start(config()).await;
    let (status, out) = swaks(server.addr, &["--to", "nobody@elsewhere.test"]).await;
    assert_ne!(status, 0, "{out}");
    assert!(out.contains("550 5.1.1"), "{out}");
    assert!(server.nothing_delivered());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swaks_message_over_the_size_limit_gets_552() {
    let mut server = Server::start(config()).await;
    let big = format!(
        "Subject: big\r\n\r\n{}\r\n",
        "0123456789abcdef\r\n".repeat(8192)
    );
    let file = data_file(&big);
    let path = format!("@{}", file.path().display());
    let (status, out) = swaks(
        server.addr,
        &["--to", "agent@voxgate.test", "--data", &path],
    )
    .await;
    assert_ne!(status, 0, "{out}");
    assert!(out.contains("552 5.3.4"), "{out}");
    assert!(server.nothing_delivered());

    // The same connection's next message, and the next client, are still served.
    let (status, out) = swaks(server.addr, &["--to", "agent@voxgate.test"]).await;
    assert_eq!(status, 0, "{out}");
    server.next_message().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swaks_pipelining() {
    let mut server = Server::start(config()).await;
    let (status, out) = swaks(
        server.addr,
        &["--pipeline", "--to", "a@voxgate.test,b@voxgate.test"],
    )
    .await;
    assert_eq!(status, 0, "{out}");
    assert!(out.contains("PIPELINING"), "{out}");
    let (envelope, _) = server.next_message().await;
    assert_eq!(envelope.rcpt_to, ["a@voxgate.test", "b@voxgate.test"]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_mime_is_accepted_as_it_came() {
    let mut server = Server::start(config()).await;
    let broken = "From: x@example.test\r\nSubject: broken\r\nContent-Type: multipart/mixed; boundary=\"nope\"\r\nContent-Transfer-Encoding: base64\r\n\r\n--other\r\n!!! not base64 ÿ\r\n";
    let file = data_file(broken);
    let path = format!("@{}", file.path().display());
    let (status, out) = swaks(
        server.addr,
        &["--to", "agent@voxgate.test", "--data", &path],
    )
    .await;
    assert_eq!(status, 0, "{out}");
    let (_, raw) = server.next_message().await;
    assert_eq!(raw, broken.as_bytes());
    server.stop().await;
}

const PYTHON_SEND: &str = r#"
import json, smtplib, sys
port = int(sys.argv[1])
big = int(sys.argv[2])
s = smtplib.SMTP("127.0.0.1", port, timeout=10)
s.ehlo("python.test")
features = sorted(s.esmtp_features)
body = "Subject: from python\r\n\r\n" + ("x" * big) + "\r\n"
try:
    refused = s.sendmail("py@example.test", ["agent@voxgate.test", "ghost@nowhere.test"], body)
    result = {"refused": {k: [v[0], v[1].decode()] for k, v in refused.items()}}
except smtplib.SMTPSenderRefused as e:
    result = {"sender_refused": [e.smtp_code, e.smtp_error.decode()]}
s.quit()
print(json.dumps({"features": features, **result}))
"#;

async fn python_send(addr: SocketAddr, body_bytes: usize) -> String {
    let args = vec![
        "-c".to_owned(),
        PYTHON_SEND.to_owned(),
        addr.port().to_string(),
        body_bytes.to_string(),
    ];
    let (status, out) = run("python3", args).await;
    assert_eq!(status, 0, "{out}");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_smtplib_sends_and_learns_the_refusals() {
    let mut server = Server::start(config()).await;
    let out = python_send(server.addr, 100).await;
    for feature in [
        "8bitmime",
        "enhancedstatuscodes",
        "pipelining",
        "size",
        "smtputf8",
    ] {
        assert!(out.contains(&format!("\"{feature}\"")), "{feature}: {out}");
    }
    assert!(
        out.contains(r#""ghost@nowhere.test": [550, "5.1.1 No such user here"]"#),
        "{out}"
    );
    let (envelope, raw) = server.next_message().await;
    assert_eq!(envelope.rcpt_to, ["agent@voxgate.test"]);
    assert_eq!(envelope.helo, "python.test");
    assert!(raw.starts_with(b"Subject: from python\r\n\r\nxxx"));

    // smtplib sends SIZE= because the server advertises it: refused at MAIL FROM.
    let out = python_send(server.addr, 100 * 1024).await;
    assert!(out.contains(r#""sender_refused": [552, "5.3.4"#), "{out}");
    assert!(server.nothing_delivered());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_pipelined_burst_is_answered_in_order() {
    let mut server = Server::start(config()).await;
    let mut client = Raw::connect(server.addr).await;
    assert_eq!(code(&client.reply().await.expect("greeting")), "220");
    client
        .send(b"EHLO raw.test\r\nMAIL FROM:<>\r\nRCPT TO:<a@voxgate.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\nSubject: dsn\r\n\r\n..hi\r\n.\r\nQUIT\r\n")
        .await;
    let replies = client.replies_to_the_end().await;
    let codes: Vec<&str> = replies.iter().map(|r| code(r)).collect();
    assert_eq!(
        codes,
        ["250", "250", "250", "550", "354", "250", "221"],
        "{replies:?}"
    );
    let (envelope, raw) = server.next_message().await;
    assert_eq!(envelope.mail_from, "");
    assert_eq!(raw, b"Subject: dsn\r\n\r\n.hi\r\n");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_and_long_lines_get_errors_and_the_next_client_is_served() {
    let server = Server::start(config()).await;

    let mut client = Raw::connect(server.addr).await;
    client.reply().await;
    let mut input = b"EHLO raw.test\r\n".to_vec();
    input.extend(std::iter::repeat_n(b'A', 100 * 1024));
    input.extend_from_slice(b"\r\nNOOP\r\n");
    client.send(&input).await;
    let codes: Vec<String> = [
        client.reply().await,
        client.reply().await,
        client.reply().await,
    ]
    .into_iter()
    .map(|r| r.expect("a reply"))
    .collect();
    assert_eq!(code(&codes[0]), "250");
    assert!(codes[1].starts_with("500 5.5.6"), "{codes:?}");
    assert_eq!(code(&codes[2]), "250");

    let mut client = Raw::connect(server.addr).await;
    client.reply().await;
    client.send(&b"\x01\x02 garbage \xff\r\n".repeat(20)).await;
    let replies = client.replies_to_the_end().await;
    assert_eq!(replies.len(), 11, "{replies:?}");
    assert!(
        replies[..10].iter().all(|r| r.starts_with("500 5.5.2")),
        "{replies:?}"
    );
    assert!(replies[10].starts_with("421"), "{replies:?}");

    // A megabyte of noise; whatever happens to that connection, the server lives on.
    let mut client = Raw::connect(server.addr).await;
    client.reply().await;
    let mut seed: u32 = 12345;
    let noise: Vec<u8> = (0..1 << 20)
        .map(|_| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (seed >> 16) as u8
        })
        .collect();
    let _ = client.reader.get_mut().write_all(&noise).await;
    let mut sink = Vec::new();
    let _ = timeout(PATIENCE, client.reader.read_to_end(&mut sink)).await;

    let (status, out) = swaks(server.addr, &["--to", "agent@voxgate.test"]).await;
    assert_eq!(status, 0, "{out}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_limit_get_421() {
    let server = Server::start(ListenerConfig {
        max_connections: 2,
        ..config()
    })
    .await;
    let mut first = Raw::connect(server.addr).await;
    let mut second = Raw::connect(server.addr).await;
    assert_eq!(code(&first.reply().await.expect("greeting")), "220");
    assert_eq!(code(&second.reply().await.expect("greeting")), "220");

    let mut third = Raw::connect(server.addr).await;
    let refused = third.replies_to_the_end().await;
    assert!(refused[0].starts_with("421 4.3.2"), "{refused:?}");

    first.send(b"QUIT\r\n").await;
    assert_eq!(first.replies_to_the_end().await.len(), 1);
    drop(first);
    // The slot frees when the session's task ends: poll for it, boundedly.
    let mut served = false;
    for _ in 0..100 {
        let mut next = Raw::connect(server.addr).await;
        if next.reply().await.is_some_and(|r| r.starts_with("220")) {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(served, "a freed slot serves the next client");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_client_is_timed_out() {
    let server = Server::start(ListenerConfig {
        idle_timeout: Duration::from_millis(200),
        ..config()
    })
    .await;
    let mut client = Raw::connect(server.addr).await;
    client.reply().await;
    let replies = client.replies_to_the_end().await;
    assert!(replies[0].starts_with("421 4.4.2"), "{replies:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_dripping_commands_is_cut_off_at_the_session_deadline() {
    let server = Server::start(ListenerConfig {
        idle_timeout: Duration::from_millis(400),
        max_session: Duration::from_millis(900),
        ..config()
    })
    .await;
    let mut client = Raw::connect(server.addr).await;
    client.reply().await;
    let started = std::time::Instant::now();
    let mut last = String::new();
    // A NOOP every 150 ms never lets the idle timeout fire; the deadline still does.
    while started.elapsed() < Duration::from_secs(5) {
        client.send(b"NOOP\r\n").await;
        match client.reply().await {
            Some(reply) if reply.starts_with("250") => {
                tokio::time::sleep(Duration::from_millis(150)).await;
            }
            Some(reply) => {
                last = reply;
                break;
            }
            None => break,
        }
    }
    assert!(last.starts_with("421 4.4.2"), "{last:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "cut off near the deadline"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_tells_idle_clients_and_stops_accepting() {
    let server = Server::start(config()).await;
    let addr = server.addr;
    let mut client = Raw::connect(addr).await;
    client.reply().await;
    client.send(b"EHLO raw.test\r\n").await;
    client.reply().await;
    server.stop().await;
    let replies = client.replies_to_the_end().await;
    assert!(replies[0].starts_with("421 4.3.2"), "{replies:?}");
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "no longer listening"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_a_message_in_flight_finish() {
    let mut server = Server::start(config()).await;
    let addr = server.addr;
    let mut client = Raw::connect(addr).await;
    client.reply().await;
    client
        .send(
            b"EHLO raw.test\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<x@voxgate.test>\r\nDATA\r\n",
        )
        .await;
    for _ in 0..4 {
        client.reply().await;
    }
    let stop = server.stop.take().expect("running");
    let _ = stop.send(());
    // Bounded polling until the listener has stopped accepting.
    for _ in 0..100 {
        if TcpStream::connect(addr).await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    client
        .send(b"Subject: late\r\n\r\nstill here\r\n.\r\n")
        .await;
    let replies = client.replies_to_the_end().await;
    let codes: Vec<&str> = replies.iter().map(|r| code(r)).collect();
    assert_eq!(codes, ["250", "421"], "{replies:?}");
    let (_, raw) = server.next_message().await;
    assert_eq!(raw, b"Subject: late\r\n\r\nstill here\r\n");
    server.stop().await;
}
