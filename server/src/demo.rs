//! `voxgate demo`: the server on its embedded defaults, one simulated 46elks call that
//! plays real recorded telephone prompts, the conversation printed with per-turn
//! latencies, the agent's voice written to a WAV file; then the server keeps running.
//!
//! The caller is the bridge's simulated 46elks (feature `caller`): it connects to the real
//! WebSocket endpoint with the real token, streams each prompt in real time in 20 ms chunks
//! followed by silence (an open phone line), and waits for the agent's answer to finish
//! playing before it speaks again. Everything the server does is what it does on a live
//! call.

#![allow(clippy::print_stdout)] // The demo's output is for a person at a terminal.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use tokio::sync::broadcast;
use voxgate_bridge::caller::{Chunking, SimulatedCall};
use voxgate_bridge::ws;
use voxgate_media::SampleRate;
use voxgate_pipeline::events::CallEvent;
use voxgate_pipeline::metrics::TurnMetrics;

use crate::app::App;
use crate::config::Config;
use crate::http;

/// Where Debian's `asterisk-core-sounds-en-wav` puts the prompts (8 kHz WAV).
const SOUNDS_DIR: &str = "/usr/share/asterisk/sounds/en_US_f_Allison";
/// What the caller says, in order: the built-in rules greet back, then say goodbye and
/// hang up.
const PROMPTS: [&str; 2] = ["hello-world", "goodbye"];
/// Silence after the agent's answer before the caller speaks again.
const PAUSE: Duration = Duration::from_millis(600);
/// The longest the caller waits for an answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs the demo, then serves until SIGINT or SIGTERM.
pub(crate) async fn run(config: Config) -> anyhow::Result<()> {
    let app = {
        let config = config.clone();
        tokio::task::spawn_blocking(move || App::build(&config)).await??
    };
    let control = crate::control::Control::open(&config, &app.ws.token).await?;
    control.attach(&app);
    // SIP calls are answered too, as by `serve`, while the demo keeps serving.
    let _sip = control.start_sip(&config, &app).await?;
    let _email = control.start_email(&config).await?;
    let listener = http::bind(config.http.listen).await?;
    let addr = listener.local_addr()?;
    let events = app.bus.subscribe();
    let url = format!("ws://{addr}{}?token={}", ws::PATH, app.ws.token);
    let router = http::router(Some(&app), Some(&control));
    let server = tokio::spawn(http::serve(listener, router));

    println!(
        "\nvoxgate demo: a simulated 46elks call to ws://{addr}{}\n",
        ws::PATH
    );
    let wav = config.data_dir.join("demo-agent.wav");
    match call(&url, events, &wav).await {
        Ok(()) => println!("\nThe agent's side of the call: {}", wav.display()),
        Err(e) => println!("\nThe demo call failed: {e:#}"),
    }
    println!(
        "The call is recorded: GET http://{addr}/api/v1/calls with the admin key \
         (every route: /api/openapi.json)."
    );
    println!("voxgate keeps running at http://{addr} (GET /healthz, /metrics); Ctrl-C stops it.");
    server.await?
}

/// Places the call, prints the conversation, writes the agent's audio to `wav`.
async fn call(
    url: &str,
    mut events: broadcast::Receiver<CallEvent>,
    wav: &Path,
) -> anyhow::Result<()> {
    let mut caller = SimulatedCall::connect(url).await?;
    let (_, send) = caller
        .hello("demo-call", "+46700000001", "+46766860000")
        .await?;
    caller
        .listen_until_greeted(PAUSE, ANSWER_TIMEOUT)
        .await
        .context("waiting for the greeting")?;
    for name in PROMPTS {
        let path = PathBuf::from(SOUNDS_DIR).join(format!("{name}.wav"));
        let speech = voxgate_media::file::read_samples(&path, SampleRate::HZ_8000)
            .with_context(|| format!("{} (run scripts/setup)", path.display()))?;
        let spoken = caller
            .stream(
                &speech,
                SampleRate::HZ_8000,
                Chunking::Duration(Duration::from_millis(20)),
            )
            .await?;
        caller
            .listen_until_answered_since(spoken.start, PAUSE, ANSWER_TIMEOUT)
            .await
            .context("waiting for the answer")?;
    }
    caller
        .wait_closed()
        .await
        .context("waiting for the agent to hang up")?;
    while let Ok(event) = events.try_recv() {
        print_event(&event);
    }
    write_wav(wav, &caller.agent_audio(), send.rate())?;
    caller.close().await;
    Ok(())
}

fn print_event(event: &CallEvent) {
    match event {
        CallEvent::Started {
            from, to, agent, ..
        } => {
            println!("call from {from} to {to}, answered by agent {agent:?}");
        }
        CallEvent::TurnCompleted {
            turn,
            user,
            agent,
            interrupted,
            metrics,
            ..
        } => {
            println!("\n[turn {turn}] caller: {user}");
            let cut = if *interrupted { " (interrupted)" } else { "" };
            println!("[turn {turn}] agent:  {agent}{cut}");
            println!("[turn {turn}] {}", latencies(metrics));
        }
        CallEvent::Ended { reason, turns, .. } => {
            println!("\ncall ended ({reason}) after {turns} turns");
        }
        CallEvent::Refused { .. } => println!("call refused: no free slot"),
        CallEvent::Digit { digit, .. } => println!("caller pressed {digit}"),
    }
}

/// "end of turn 300 ms, transcript 712 ms, ..." from the end of the caller's speech.
fn latencies(m: &TurnMetrics) -> String {
    let stages = [
        ("end of turn", m.end_of_turn),
        ("transcript", m.stt_final),
        ("first token", m.first_token),
        ("first audio", m.first_audio),
        ("first frame sent", m.first_frame_sent),
    ];
    let parts: Vec<String> = stages
        .iter()
        .filter_map(|(name, d)| d.map(|d| format!("{name} {} ms", d.as_millis())))
        .collect();
    format!("after the caller stopped: {}", parts.join(", "))
}

fn write_wav(path: &Path, samples: &[i16], rate: SampleRate) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate.hz(),
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec)
        .with_context(|| format!("creating {}", path.display()))?;
    for &s in samples {
        writer.write_sample(s)?;
    }
    writer.finalize()?;
    Ok(())
}
