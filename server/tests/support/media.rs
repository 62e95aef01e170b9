//! The caller's media in SIP tests: a UDP socket that hears every RTP packet voxgate sends
//! and, given words, speaks them as A-law RTP on a 20 ms grid, then silence.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use voxgate_media::g711::Law;
use voxgate_media::rtp::{RtpHeader, RtpPacket, Ssrc};

/// One RTP packet voxgate sent the caller.
pub struct Received {
    pub at: Instant,
    /// Some sample of it is above [`LOUD`]: speech, not the idle silence voxgate sends
    /// when it has nothing to say.
    pub loud: bool,
}

/// A sample louder than this (about -30 dBFS) is speech.
pub const LOUD: i16 = 1000;

/// The caller's end of the media: a UDP socket the SIPp offer names (`-key rtp_port`), on
/// a thread that records every RTP packet voxgate sends and, when given words, says them
/// (A-law, 20 ms a packet, then silence) from the moment voxgate's first packet shows where
/// it listens. voxgate latches its RTP to where the caller's comes from: the same socket.
pub struct CallerMedia {
    pub port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<Vec<Received>>>,
}

impl CallerMedia {
    /// A caller that listens and sends nothing.
    pub fn listening() -> Self {
        Self::start(None)
    }

    /// A caller that says the Asterisk prompt `name` (8 kHz, fetched by `scripts/setup`),
    /// then silence.
    pub fn saying_prompt(name: &str) -> Self {
        let prompt = voxgate_testdata::asterisk::prompt(name)
            .and_then(|p| p.audio())
            .expect("asterisk prompt (run scripts/setup)");
        assert_eq!(prompt.sample_rate, 8000, "{name}");
        let mut words = vec![0u8; prompt.samples.len()];
        Law::Alaw
            .encode(&prompt.samples, &mut words)
            .expect("a-law");
        Self::saying(words)
    }

    /// A caller that says `words` (A-law code words), then silence.
    pub fn saying(words: Vec<u8>) -> Self {
        Self::start(Some(Mouth::new(words)))
    }

    fn start(mut mouth: Option<Mouth>) -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
        socket
            .set_read_timeout(Some(Duration::from_millis(5)))
            .expect("timeout");
        let port = socket.local_addr().expect("addr").port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut received = Vec::new();
            let mut buf = [0u8; 1500];
            while !stopped.load(Ordering::Relaxed) {
                if let Some(mouth) = mouth.as_mut() {
                    mouth.speak(&socket);
                }
                let Ok((len, from)) = socket.recv_from(&mut buf) else {
                    continue;
                };
                let Ok(packet) = RtpPacket::parse(&buf[..len]) else {
                    continue;
                };
                let law = match packet.header.payload_type {
                    0 => Law::Ulaw,
                    8 => Law::Alaw,
                    _ => continue,
                };
                let mut pcm = [0i16; 1500];
                let pcm = &mut pcm[..packet.payload.len()];
                let loud = law.decode(packet.payload, pcm).is_ok()
                    && pcm.iter().any(|s| s.unsigned_abs() > LOUD.unsigned_abs());
                received.push(Received {
                    at: Instant::now(),
                    loud,
                });
                if let Some(mouth) = mouth.as_mut() {
                    mouth.to.get_or_insert(from);
                }
            }
            received
        });
        Self {
            port,
            stop,
            thread: Some(thread),
        }
    }

    /// Stops the thread; every packet voxgate sent.
    pub fn finish(mut self) -> Vec<Received> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .take()
            .map(|t| t.join().expect("media thread"))
            .unwrap_or_default()
    }
}

impl Drop for CallerMedia {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// What the caller says, as 20 ms A-law RTP packets on a 20 ms grid.
pub struct Mouth {
    words: Vec<u8>,
    /// Where voxgate's RTP comes from; nothing is said before it is known.
    to: Option<SocketAddr>,
    next: Option<Instant>,
    /// Packets sent so far.
    sent: usize,
}

/// Samples (and A-law code words) in a 20 ms packet at 8 kHz.
pub const PACKET: usize = 160;

impl Mouth {
    fn new(words: Vec<u8>) -> Self {
        Self {
            words,
            to: None,
            next: None,
            sent: 0,
        }
    }

    /// Sends the packets that are due.
    fn speak(&mut self, socket: &UdpSocket) {
        let Some(to) = self.to else { return };
        let next = self.next.get_or_insert_with(Instant::now);
        while *next <= Instant::now() {
            let mut payload = [Law::Alaw.silence(); PACKET];
            if let Some(words) = self.words.get(self.sent * PACKET..) {
                let n = words.len().min(PACKET);
                payload[..n].copy_from_slice(&words[..n]);
            }
            // Wrapping, as RTP's sequence numbers and timestamps do.
            let sequence = 1000u16.wrapping_add(self.sent as u16);
            let timestamp = (self.sent * PACKET) as u32;
            let header = RtpHeader::new(8, sequence, timestamp, Ssrc(0x5eed));
            let mut datagram = [0u8; 12 + PACKET];
            let len = header.write(&payload, &mut datagram).expect("rtp");
            let _ = socket.send_to(&datagram[..len], to);
            self.sent += 1;
            *next += Duration::from_millis(20);
        }
    }
}
