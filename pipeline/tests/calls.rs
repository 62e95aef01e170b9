//! Whole calls through the real pipeline: a simulated 46elks caller on a real WebSocket,
//! real recorded telephone prompts in, Silero VAD, Whisper tiny.en, the scripted brain and
//! espeak-ng out. Whisper runs again on what the caller received to check that the agent
//! said the reply.
//!
//! Needs `--features whisper` and `scripts/setup` (models, Asterisk prompts, espeak-ng).
#![cfg(feature = "whisper")]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::broadcast;
use voxgate_bridge::caller::{Chunking, ReceivedMsg, SimulatedCall};
use voxgate_bridge::ws::{self, CallHandler, WsConfig};
use voxgate_bridge::{Format, SessionConfig};
use voxgate_media::SampleRate;
use voxgate_media::file::read_samples;
use voxgate_pipeline::agent::AgentConfig;
use voxgate_pipeline::engines::{EspeakMouth, ScriptedBrain, SileroVadFactory, WhisperEars};
use voxgate_pipeline::events::{BroadcastBus, CallEvent};
use voxgate_pipeline::{Engines, Pipeline, PipelineConfig};
use voxgate_testdata::asterisk;
use voxgate_testdata::text::wer;

const TOKEN: &str = "test-token";
const RULES: &str = r#"
fallback = "Sorry, I did not catch that."
[[rule]]
when = ["password"]
reply = "Your password has been accepted. Welcome back."
[[rule]]
when = ["conference"]
reply = "The conference room is on the top floor."
[[rule]]
when = ["patience"]
reply = "You are welcome."
"#;
const CHUNK_20MS: Chunking = Chunking::Duration(Duration::from_millis(20));
const QUIET: Duration = Duration::from_millis(500);
const MAX_WAIT: Duration = Duration::from_secs(30);

fn models() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models")
}

/// The engines, loaded once per test process (nextest runs each test in its own).
fn engines() -> Engines {
    let models = models();
    let vad = SileroVadFactory::new(
        &models.join("onnxruntime/libonnxruntime.so.1.22.1"),
        &models.join("silero/silero_vad.onnx"),
    )
    .expect("ONNX Runtime and the Silero model (run scripts/setup)");
    let ears = WhisperEars::load(&models.join("whisper-tiny.en"), 2, 1).expect("whisper model");
    Engines {
        vad: Arc::new(vad),
        ears: Arc::new(ears),
        brain: Arc::new(ScriptedBrain::from_toml_str(RULES).expect("rules")),
        mouth: Arc::new(EspeakMouth::new("en-us", 175).expect("espeak-ng")),
    }
}

/// A server on a loopback port answering with `agent`.
struct Server {
    url: String,
    bus: BroadcastBus,
    pipeline: Pipeline,
    engines: Engines,
}

impl Server {
    async fn start(agent: AgentConfig, slots: usize) -> Self {
        let engines = engines();
        let bus = BroadcastBus::new(256);
        let config = PipelineConfig { slots };
        let pipeline = Pipeline::new(
            agent,
            SessionConfig::default(),
            &config,
            engines.clone(),
            Arc::new(bus.clone()),
        )
        .expect("pipeline");
        let ws_config = WsConfig {
            token: TOKEN.to_owned(),
            ..WsConfig::default()
        };
        let handler: Arc<dyn CallHandler> = Arc::new(pipeline.clone());
        let app = ws::router(ws_config, handler);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        let url = format!("ws://{addr}{}?token={TOKEN}", ws::PATH);
        Self {
            url,
            bus,
            pipeline,
            engines,
        }
    }

    async fn call(&self, callid: &str) -> SimulatedCall {
        let mut caller = SimulatedCall::connect(&self.url).await.expect("connect");
        caller
            .hello(callid, "+46700000001", "+46766860000")
            .await
            .expect("hello");
        caller
    }

    /// Whisper on agent audio received at `rate`.
    async fn transcribe(&self, audio: &[i16], rate: SampleRate) -> String {
        let pcm =
            voxgate_bridge::caller::convert(audio, rate, SampleRate::HZ_16000).expect("16 kHz");
        self.engines.ears.transcribe(pcm).await.expect("transcribe")
    }
}

fn agent(listen: Format, send: Format, greeting: &str) -> AgentConfig {
    AgentConfig {
        listen_format: listen,
        send_format: send,
        greeting: greeting.to_owned(),
        ..AgentConfig::default()
    }
}

fn prompt(name: &str) -> (Vec<i16>, String) {
    let prompt = asterisk::prompt(name).expect("asterisk prompt (run scripts/setup)");
    let samples = read_samples(&prompt.path, SampleRate::HZ_8000).expect("read prompt");
    (samples, prompt.spoken_text())
}

/// The next `TurnCompleted` of `call_id`.
async fn next_turn(events: &mut broadcast::Receiver<CallEvent>, call_id: &str) -> CallEvent {
    let wait = async {
        loop {
            match events.recv().await.expect("bus") {
                e @ CallEvent::TurnCompleted { .. } if event_call(&e) == call_id => return e,
                _ => {}
            }
        }
    };
    tokio::time::timeout(MAX_WAIT, wait)
        .await
        .expect("a completed turn")
}

fn event_call(e: &CallEvent) -> &str {
    match e {
        CallEvent::Started { call_id, .. }
        | CallEvent::Refused { call_id, .. }
        | CallEvent::TurnCompleted { call_id, .. }
        | CallEvent::Digit { call_id, .. }
        | CallEvent::Ended { call_id, .. } => call_id,
    }
}

/// One turn: the caller says `name`, the agent's transcript of it is within 10 % WER, the
/// reply is the rule's, and Whisper hears the reply in the audio the caller received.
async fn one_turn(format: Format, name: &str, reply: &str) {
    let server = Server::start(agent(format, format, ""), 2).await;
    let mut events = server.bus.subscribe();
    let caller = server.call(name).await;
    let (speech, reference) = prompt(name);
    caller
        .stream(&speech, SampleRate::HZ_8000, CHUNK_20MS)
        .await
        .expect("stream");
    caller
        .listen_until_answered(QUIET, MAX_WAIT)
        .await
        .expect("answered");

    let CallEvent::TurnCompleted {
        user,
        agent,
        interrupted,
        metrics,
        ..
    } = next_turn(&mut events, name).await
    else {
        unreachable!()
    };
    let error = wer(&reference, &user);
    eprintln!(
        "{format:?}: heard {user:?} (WER {:.0} %), metrics {metrics:?}",
        error * 100.0
    );
    assert!(error <= 0.10, "{user:?} vs {reference:?}");
    assert_eq!(agent, reply);
    assert!(!interrupted);
    let first_frame = metrics.first_frame_sent.expect("first frame timed");
    assert!(first_frame >= metrics.stt_final.expect("stt timed"));

    let received = server
        .transcribe(&caller.agent_audio(), format.rate())
        .await;
    let error = wer(reply, &received);
    eprintln!("the caller heard {received:?} (WER {:.0} %)", error * 100.0);
    // espeak-ng through G.711 into Whisper tiny.en: a word in four may come back wrong.
    assert!(error <= 0.25, "{received:?} vs {reply:?}");
    assert!(
        caller.recording().violations.is_empty(),
        "{:?}",
        caller.recording().violations
    );
    caller.hangup().expect("bye");
    caller.wait_closed().await.expect("closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ulaw_prompt_is_transcribed_and_answered_in_speech() {
    one_turn(
        Format::Ulaw,
        "conf-waitforleader",
        "The conference room is on the top floor.",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pcm_16000_prompt_is_transcribed_and_answered_in_speech() {
    one_turn(
        Format::Pcm16000,
        "agent-pass",
        "Your password has been accepted. Welcome back.",
    )
    .await;
}

/// Where speech starts in `samples`: the first 20 ms with an RMS above -30 dBFS (speech
/// level; the prompt's lead-in breath reaches -34 dBFS 20 ms earlier).
fn speech_onset(samples: &[i16], rate: SampleRate) -> Duration {
    let n = rate.samples_per_frame();
    let frame = samples
        .chunks(n)
        .position(|c| {
            let energy: f64 = c.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / n as f64;
            energy.sqrt() > 32768.0 * 0.0316
        })
        .expect("the prompt has speech");
    Duration::from_millis(20 * frame as u64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn barge_in_interrupts_the_greeting_within_300_ms() {
    let greeting = "Welcome to the voxgate test line. This greeting is long on purpose, so that \
                    the caller has plenty of time to interrupt it while it is still playing.";
    let server = Server::start(agent(Format::Ulaw, Format::Ulaw, greeting), 2).await;
    let mut events = server.bus.subscribe();
    let caller = server.call("barge-in").await;
    caller
        .wait_for("greeting audio", |r| r.agent_samples() > 8000)
        .await
        .expect("the greeting plays");

    let (speech, _) = prompt("queue-thankyou");
    let onset = speech_onset(&speech, SampleRate::HZ_8000);
    let streamed = caller
        .stream(&speech, SampleRate::HZ_8000, CHUNK_20MS)
        .await
        .expect("stream");
    caller
        .listen_until_answered(QUIET, MAX_WAIT)
        .await
        .expect("answered");

    let recording = caller.recording();
    let interrupt = recording
        .messages
        .iter()
        .position(|m| matches!(m.msg, ReceivedMsg::Interrupt { .. }))
        .expect("an interrupt");
    let at = recording.messages[interrupt].at;
    let reaction = at.saturating_duration_since(streamed.start + onset);
    eprintln!("interrupt {reaction:?} after the caller's speech onset");
    assert!(at >= streamed.start + onset, "not before the caller spoke");
    assert!(reaction <= Duration::from_millis(300), "{reaction:?}");

    // After the interrupt: `sending` before any audio, and no audio before the caller's
    // utterance has ended (the next turn's reply).
    let after = &recording.messages[interrupt + 1..];
    let first_audio = after
        .iter()
        .position(|m| matches!(m.msg, ReceivedMsg::Audio { .. }));
    let first_sending = after
        .iter()
        .position(|m| matches!(m.msg, ReceivedMsg::Sending(_)));
    let (audio, sending) = (
        first_audio.expect("a reply"),
        first_sending.expect("sending"),
    );
    assert!(sending < audio, "sending must come before new audio");
    assert!(
        after[audio].at > streamed.end,
        "no agent audio until the next turn"
    );

    let CallEvent::TurnCompleted { user, agent, .. } = next_turn(&mut events, "barge-in").await
    else {
        unreachable!()
    };
    assert!(
        wer("Thank you for your patience", &user) <= 0.10,
        "{user:?}"
    );
    assert_eq!(agent, "You are welcome.");
    assert_eq!(
        server
            .pipeline
            .metrics()
            .barge_ins
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    caller.hangup().expect("bye");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_third_call_is_refused_at_once_while_two_keep_talking() {
    let server = Server::start(agent(Format::Ulaw, Format::Ulaw, ""), 2).await;
    let mut events = server.bus.subscribe();
    let first = server.call("first").await;
    let second = server.call("second").await;
    assert_eq!(server.pipeline.slots_in_use(), 2);

    let started = Instant::now();
    let third = server.call("third").await;
    third
        .wait_for("bye", |r| r.count("bye") == 1)
        .await
        .expect("refused with bye");
    third.wait_closed().await.expect("closed");
    let refused_in = started.elapsed();
    eprintln!("third call refused in {refused_in:?}");
    assert!(refused_in < Duration::from_secs(2), "{refused_in:?}");
    assert!(third.recording().agent_samples() == 0);

    let (speech, _) = prompt("conf-waitforleader");
    let (a, b) = tokio::join!(
        first.stream(&speech, SampleRate::HZ_8000, CHUNK_20MS),
        second.stream(&speech, SampleRate::HZ_8000, CHUNK_20MS),
    );
    a.expect("first streams");
    b.expect("second streams");
    let (a, b) = tokio::join!(
        first.listen_until_answered(QUIET, MAX_WAIT),
        second.listen_until_answered(QUIET, MAX_WAIT),
    );
    a.expect("first answered");
    b.expect("second answered");
    let mut answered = Vec::new();
    while answered.len() < 2 {
        let e = tokio::time::timeout(MAX_WAIT, events.recv())
            .await
            .expect("event")
            .expect("bus");
        if let CallEvent::TurnCompleted { call_id, agent, .. } = e {
            assert_eq!(agent, "The conference room is on the top floor.");
            answered.push(call_id);
        }
    }
    answered.sort();
    assert_eq!(answered, ["first", "second"]);
    let metrics = server.pipeline.render_metrics();
    assert!(
        metrics.contains("voxgate_calls_refused_total 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("voxgate_calls_started_total 2"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_ends_only_its_own_call() {
    let server = Server::start(agent(Format::Ulaw, Format::Ulaw, ""), 8).await;
    let healthy = server.call("healthy").await;
    let (speech, _) = prompt("conf-waitforleader");
    let talk = healthy.stream(&speech, SampleRate::HZ_8000, CHUNK_20MS);

    let bad = async {
        let cases: [(&str, Vec<String>); 4] = [
            ("invalid json", vec!["{nope".to_owned()]),
            (
                "bad base64",
                vec![r#"{"t":"audio","data":"***"}"#.to_owned()],
            ),
            ("second hello", vec![hello("x")]),
            ("huge", vec!["x".repeat(2 << 20)]),
        ];
        for (case, messages) in cases {
            let mut caller = SimulatedCall::connect(&server.url).await.expect("connect");
            caller
                .hello(case, "+46700000002", "+46766860000")
                .await
                .expect("hello");
            for m in messages {
                let _ = caller.send_text(m);
            }
            caller
                .wait_closed()
                .await
                .unwrap_or_else(|e| panic!("{case}: not closed: {e}"));
        }
        let caller = SimulatedCall::connect(&server.url).await.expect("connect");
        caller
            .send_text(r#"{"t":"audio","data":"AAAA"}"#.to_owned())
            .expect("send");
        caller
            .wait_closed()
            .await
            .expect("audio before hello closes");
        let mut caller = SimulatedCall::connect(&server.url).await.expect("connect");
        caller
            .hello("binary", "+46700000002", "+46766860000")
            .await
            .expect("hello");
        caller.send_binary(vec![0; 160]).expect("send");
        caller.wait_closed().await.expect("binary closes");
    };
    let (streamed, ()) = tokio::join!(talk, bad);
    streamed.expect("the healthy call streams on");
    healthy
        .listen_until_answered(QUIET, MAX_WAIT)
        .await
        .expect("the healthy call is answered");
    let metrics = server.pipeline.render_metrics();
    assert!(
        metrics.contains("voxgate_calls_failed_total 5"),
        "{metrics}"
    );
    assert!(metrics.contains("voxgate_turns_total 1"), "{metrics}");
    healthy.hangup().expect("bye");
}

fn hello(callid: &str) -> String {
    format!(r#"{{"t":"hello","callid":"{callid}","from":"+46700000002","to":"+46766860000"}}"#)
}

/// A call-context source: a fixed answer, or none ever (a store that hangs).
struct Contexts(Option<voxgate_pipeline::context::CallContext>);

impl voxgate_pipeline::context::CallContexts for Contexts {
    fn lookup(
        &self,
        _callid: &str,
        _from: &str,
        _to: &str,
    ) -> futures::future::BoxFuture<'static, voxgate_pipeline::context::CallContext> {
        use futures::FutureExt as _;
        match self.0.clone() {
            Some(context) => futures::future::ready(context).boxed(),
            None => futures::future::pending().boxed(),
        }
    }
}

/// Time from `hello` to the first agent audio, and what Whisper hears in the greeting.
async fn greeted_after(contexts: Contexts) -> (Duration, String) {
    let greeting = "Thank you for calling the weather line.";
    let server = Server::start(agent(Format::Ulaw, Format::Ulaw, greeting), 1).await;
    server.pipeline.set_contexts(Arc::new(contexts));
    let hello = Instant::now();
    let caller = server.call("ctx").await;
    caller
        .listen_until_greeted(QUIET, MAX_WAIT)
        .await
        .expect("greeting");
    let first = caller
        .agent_audio_arrivals()
        .first()
        .expect("agent audio")
        .0;
    let heard = server
        .transcribe(&caller.agent_audio(), SampleRate::HZ_8000)
        .await;
    caller.close().await;
    (first.saturating_duration_since(hello), heard)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_call_context_greets_and_a_hung_lookup_falls_back_in_time() {
    let context = voxgate_pipeline::context::CallContext {
        greeting: Some("Welcome back to the conference line.".to_owned()),
        ..Default::default()
    };
    let (_, heard) = greeted_after(Contexts(Some(context))).await;
    assert!(
        heard.to_lowercase().contains("conference line"),
        "the context's greeting, not the agent's: {heard:?}"
    );
    let (after, heard) = greeted_after(Contexts(None)).await;
    assert!(
        heard.to_lowercase().contains("weather"),
        "the agent's greeting: {heard:?}"
    );
    assert!(
        after >= voxgate_pipeline::context::LOOKUP_TIMEOUT,
        "the greeting waited for the lookup: {after:?}"
    );
    assert!(after < Duration::from_secs(10), "{after:?}");
}
