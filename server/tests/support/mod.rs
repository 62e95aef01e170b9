//! What the binary's tests share: a free port, a child process that is killed when the test
//! ends, and where `scripts/setup` put the models.

#![allow(dead_code, unreachable_pub)]

pub mod media;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Child;

/// A loopback port nobody listens on now, below Linux's ephemeral range (32768-60999), so
/// that no `:0` listener of the server (SIP, SMTP) can be handed it before the server
/// binds it (a port from `bind(":0")` could be, and was).
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let seed = std::process::id().wrapping_mul(7919) ^ nanos;
    for _ in 0..10_000 {
        let n = seed.wrapping_add(NEXT.fetch_add(7, Ordering::Relaxed));
        let port = 20_000 + u16::try_from(n % 12_000).expect("below 12000");
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in 20000-31999");
}

/// The repository's `models/`.
pub fn models_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models")
}

/// Kills the child if the test fails before it is stopped.
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A `voxgate serve` child, with everything it prints kept for failure messages.
pub struct Running {
    /// The process (killed on drop).
    pub server: Server,
    /// stdout and stderr so far.
    pub printed: std::sync::Arc<std::sync::Mutex<String>>,
    /// The admin key printed on first start, when it was.
    pub key: Option<String>,
}

impl Running {
    /// What the server printed so far.
    pub fn output(&self) -> String {
        self.printed.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

/// Starts `voxgate serve --config config` on `port` with its data in `data`, plus `env`;
/// waits until it listens (and, when `first_start`, until it printed the admin key).
pub fn serve(
    config: &std::path::Path,
    data: &std::path::Path,
    port: u16,
    env: &[(&str, String)],
    first_start: bool,
) -> Running {
    use std::io::BufRead as _;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    let mut command = Command::new(env!("CARGO_BIN_EXE_voxgate"));
    command
        .args(["serve", "--config"])
        .arg(config)
        .env("VOXGATE_HTTP_LISTEN", format!("127.0.0.1:{port}"))
        .env("VOXGATE_SIP_LISTEN", "127.0.0.1:0")
        .env("VOXGATE_EMAIL_SMTP_LISTEN", "127.0.0.1:0")
        .env("VOXGATE_DATA_DIR", data)
        .env("VOXGATE_MODELS_DIR", models_dir())
        .env("VOXGATE_PIPELINE_SLOTS", "2")
        .env_remove("VOXGATE_STORE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut server = Server(command.spawn().expect("spawn voxgate"));
    let printed = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let (key_tx, key_rx) = std::sync::mpsc::channel();
    let stdout = server.0.stdout.take().expect("stdout");
    let stderr = server.0.stderr.take().expect("stderr");
    for (stream, key_tx) in [
        (
            Box::new(stdout) as Box<dyn std::io::Read + Send>,
            Some(key_tx),
        ),
        (Box::new(stderr), None),
    ] {
        let printed = std::sync::Arc::clone(&printed);
        // Read to the end, so the server never writes into a closed pipe.
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stream)
                .lines()
                .map_while(Result::ok)
            {
                if let (Some(tx), Some(key)) = (&key_tx, line.trim().strip_prefix("vgk_")) {
                    let _ = tx.send(format!("vgk_{key}"));
                }
                let mut out = printed
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                out.push_str(&line);
                out.push('\n');
            }
        });
    }
    let mut running = Running {
        server,
        printed,
        key: None,
    };
    if first_start {
        running.key = Some(
            key_rx
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| panic!("no admin key printed:\n{}", running.output())),
        );
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = running.server.0.try_wait() {
            panic!("voxgate exited ({status}):\n{}", running.output());
        }
        assert!(
            Instant::now() < deadline,
            "voxgate never listened:\n{}",
            running.output()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    running
}
