//! A small example driver: a [`CallHandler`] that runs a [`Session`] in the call task's
//! `select!` loop, as the pipeline does, with an agent that echoes caller audio (or talks
//! until the caller barges in, then echoes). Used by the integration tests.

#![allow(dead_code, unreachable_pub)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use tokio::sync::mpsc;
use voxgate_bridge::ws::{self, CallHandler, WsConfig, WsLeg};
use voxgate_bridge::{BridgeError, Event, Output, Session, SessionConfig};
use voxgate_media::SampleRate;

pub const TOKEN: &str = "t0ken-for-tests";

/// What the agent does.
#[derive(Debug, Clone)]
pub enum Agent {
    /// Plays every caller frame straight back.
    Echo,
    /// Plays this prompt (at the send rate) from `hello` on; the first caller frame is a
    /// barge-in: `interrupt`, drop the rest of the prompt, then echo.
    TalkThenEcho(Arc<Vec<i16>>),
    /// Plays this prompt, then hangs up (our `bye`) and waits for the carrier's.
    TalkThenHangup(Arc<Vec<i16>>),
}

/// How one call ended, as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub callid: Option<String>,
    pub ended: Event,
}

impl Report {
    pub fn code(&self) -> Option<&'static str> {
        match &self.ended {
            Event::Ended { error, .. } => error.as_ref().map(BridgeError::code),
            _ => None,
        }
    }
}

pub struct TestHandler {
    pub config: SessionConfig,
    pub agent: Agent,
    pub reports: mpsc::UnboundedSender<Report>,
}

impl CallHandler for TestHandler {
    fn handle(&self, leg: WsLeg) -> BoxFuture<'static, ()> {
        let session = Session::new(self.config.clone());
        Box::pin(run_call(
            leg,
            session,
            self.agent.clone(),
            self.reports.clone(),
        ))
    }
}

/// The call task: owns the leg, the session and the agent's queue.
async fn run_call(
    mut leg: WsLeg,
    mut session: Session,
    agent: Agent,
    reports: mpsc::UnboundedSender<Report>,
) {
    let send_frame = session.config().send_format.samples_per_frame();
    let (mut queue, mut talking): (VecDeque<Vec<i16>>, bool) = match &agent {
        Agent::Echo => (VecDeque::new(), false),
        Agent::TalkThenEcho(prompt) | Agent::TalkThenHangup(prompt) => {
            let frames = prompt
                .chunks_exact(send_frame)
                .map(<[i16]>::to_vec)
                .collect();
            (frames, true)
        }
    };
    let hangs_up = matches!(agent, Agent::TalkThenHangup(_));
    let mut hello = false;
    session.start(Instant::now());
    loop {
        let now = Instant::now();
        while hello && session.can_send(now) {
            let Some(frame) = queue.pop_front() else {
                break;
            };
            session.send_audio(now, &frame).expect("paced by can_send");
        }
        if hangs_up && hello && queue.is_empty() {
            session.hangup(now);
        }
        while let Some(output) = session.poll_output() {
            match output {
                Output::Transmit(text) => {
                    if leg.send(text).await.is_err() {
                        session.handle_closed(Instant::now());
                    }
                }
                Output::Event(Event::Hello { .. }) => hello = true,
                Output::Event(Event::CallerAudio(frame)) => {
                    if talking && !hangs_up {
                        talking = false;
                        queue.clear();
                        session.interrupt(Instant::now());
                    }
                    queue.push_back(frame.samples().to_vec());
                    session.recycle(frame);
                }
                Output::Event(ended) => {
                    let callid = session.callid().map(str::to_owned);
                    let _ = reports.send(Report { callid, ended });
                }
                Output::Close => return leg.close().await,
            }
        }
        let mut wake = session.poll_timeout();
        if hello && !queue.is_empty() && !session.is_ended() {
            let send_at = session.next_send_at(Instant::now());
            wake = Some(wake.map_or(send_at, |w| w.min(send_at)));
        }
        tokio::select! {
            input = leg.recv() => session.handle(Instant::now(), input.as_input()),
            () = sleep_until(wake) => session.handle_timeout(Instant::now()),
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// A server on 127.0.0.1:0 running `agent` on every call; returns its `ws://` URL and the
/// stream of end-of-call reports.
pub async fn serve(
    config: SessionConfig,
    agent: Agent,
) -> (String, mpsc::UnboundedReceiver<Report>) {
    let ws_config = WsConfig {
        token: TOKEN.into(),
        max_message_bytes: config.max_message_bytes,
    };
    let (reports, rx) = mpsc::unbounded_channel();
    let handler = TestHandler {
        config,
        agent,
        reports,
    };
    let app = ws::router(ws_config, Arc::new(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("ws://{addr}{}?token={TOKEN}", ws::PATH), rx)
}

/// The next report, or a panic after 10 s.
pub async fn next_report(rx: &mut mpsc::UnboundedReceiver<Report>) -> Report {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a report within 10 s")
        .expect("server running")
}

/// An Asterisk prompt at 8 kHz.
pub fn prompt(name: &str) -> Vec<i16> {
    let prompt = voxgate_testdata::asterisk::prompt(name).expect("asterisk prompt installed");
    voxgate_media::file::read_samples(&prompt.path, SampleRate::HZ_8000).expect("readable WAV")
}

/// `samples` after a trip through G.711 μ-law.
pub fn ulaw_round_trip(samples: &[i16]) -> Vec<i16> {
    samples
        .iter()
        .map(|&s| voxgate_media::g711::ulaw_decode(voxgate_media::g711::ulaw_encode(s)))
        .collect()
}

/// `samples` cut to whole 20 ms frames at `rate`.
pub fn whole_frames(samples: &[i16], rate: SampleRate) -> &[i16] {
    let n = rate.samples_per_frame();
    &samples[..samples.len() / n * n]
}
