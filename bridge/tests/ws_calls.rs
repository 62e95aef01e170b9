//! Real calls over a real socket: an axum server on 127.0.0.1:0 running the example driver
//! (tests/common), and the simulated 46elks carrier from the `caller` feature.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{Agent, Report, TOKEN, next_report, prompt, serve, ulaw_round_trip, whole_frames};
use voxgate_bridge::caller::{Chunking, SimulatedCall, convert};
use voxgate_bridge::message::ByeReason;
use voxgate_bridge::ws::PATH;
use voxgate_bridge::{BridgeError, Event, Format, SessionConfig};
use voxgate_media::SampleRate;

fn formats(listen: Format, send: Format) -> SessionConfig {
    SessionConfig {
        listen_format: listen,
        send_format: send,
        ..SessionConfig::default()
    }
}

fn ended(reason: ByeReason, message: Option<&str>) -> Event {
    Event::Ended {
        reason,
        message: message.map(str::to_owned),
        error: None,
    }
}

#[tokio::test]
async fn wrong_or_missing_token_is_refused_with_401() {
    let (url, _reports) = serve(SessionConfig::default(), Agent::Echo).await;
    let base = url.split('?').next().expect("url");
    for bad in [
        base.to_owned(),
        format!("{base}?token=nope"),
        format!("{base}?token={TOKEN}x"),
    ] {
        match SimulatedCall::connect(&bad).await {
            Err(BridgeError::ConnectFailed(reason)) => assert!(reason.contains("401"), "{reason}"),
            other => panic!("{bad}: expected a 401, got {other:?}"),
        }
    }
    assert!(url.contains(PATH));
    let ok = SimulatedCall::connect(&url)
        .await
        .expect("right token connects");
    ok.close().await;
}

/// Streams a real prompt through an echoing agent and checks what comes back, frame-exact.
async fn echo_call(format: Format, chunking: Chunking) {
    let (url, mut reports) = serve(formats(format, format), Agent::Echo).await;
    let mut caller = SimulatedCall::connect(&url).await.expect("connect");
    let formats = caller.hello("echo-1", "+46701234567", "+46766861234").await;
    assert_eq!(formats.expect("hello answered"), (format, format));

    let speech = prompt("agent-pass");
    let streamed = caller
        .stream(&speech, SampleRate::HZ_8000, chunking)
        .await
        .expect("stream");
    // What the server could decode: the caller's wire samples, whole frames only.
    let wire = convert(&speech, SampleRate::HZ_8000, format.rate()).expect("convert");
    let wire = match format {
        Format::Ulaw => ulaw_round_trip(&wire),
        _ => wire,
    };
    assert_eq!(streamed.samples, wire.len());
    let expected = whole_frames(&wire, format.rate());
    caller
        .wait_for("the whole echo", |r| r.agent_samples() >= expected.len())
        .await
        .expect("echo arrives");
    caller.hangup().expect("bye");
    caller
        .wait_closed()
        .await
        .expect("server closes after our bye");

    let rec = caller.recording();
    assert_eq!(rec.agent_audio(), expected, "echo is sample-exact");
    assert_eq!(rec.kinds(), ["listening", "sending", "audio"]);
    assert!(rec.violations.is_empty(), "{:?}", rec.violations);
    assert!(rec.syncs_answered >= 10, "a checkpoint per 200 ms of 3.3 s");
    let report = next_report(&mut reports).await;
    let expected_end = ended(ByeReason::Hangup, Some("the caller hung up"));
    assert_eq!(
        report,
        Report {
            callid: Some("echo-1".into()),
            ended: expected_end
        }
    );
}

#[tokio::test]
async fn echo_call_in_ulaw_with_7_ms_chunks() {
    echo_call(Format::Ulaw, Chunking::Duration(Duration::from_millis(7))).await;
}

#[tokio::test]
async fn echo_call_in_pcm_16000_with_odd_byte_chunks() {
    echo_call(Format::Pcm16000, Chunking::Bytes(333)).await;
}

#[tokio::test]
async fn echo_call_in_pcm_16000_with_1_s_chunks() {
    echo_call(Format::Pcm16000, Chunking::Duration(Duration::from_secs(1))).await;
}

#[tokio::test]
async fn barge_in_interrupts_the_agent_and_resumes_with_sending() {
    let talk = ulaw_round_trip(&prompt("agent-alreadyon"));
    let agent = Agent::TalkThenEcho(talk.clone().into());
    let (url, mut reports) = serve(formats(Format::Ulaw, Format::Ulaw), agent).await;
    let mut caller = SimulatedCall::connect(&url).await.expect("connect");
    caller
        .hello("barge-1", "+46701234567", "+46766861234")
        .await
        .expect("hello");

    // The agent talks; once 300 ms of it have arrived, the caller talks over it.
    caller
        .wait_for("agent speech", |r| r.agent_samples() >= 2_400)
        .await
        .expect("agent talks");
    let speech = prompt("agent-loginok");
    caller
        .stream(
            &speech,
            SampleRate::HZ_8000,
            Chunking::Duration(Duration::from_millis(20)),
        )
        .await
        .expect("stream");
    let echo = ulaw_round_trip(whole_frames(&speech, SampleRate::HZ_8000));
    caller
        .wait_for("the echo after the barge-in", |r| {
            r.agent_audio_since_interrupt().len() >= echo.len()
        })
        .await
        .expect("echo arrives");
    caller.hangup().expect("bye");
    caller.wait_closed().await.expect("closed");

    let rec = caller.recording();
    assert!(rec.violations.is_empty(), "{:?}", rec.violations);
    assert_eq!(
        rec.kinds(),
        [
            "listening",
            "sending",
            "audio",
            "interrupt",
            "sending",
            "audio"
        ]
    );
    let before = rec.agent_audio().len() - echo.len();
    assert!(
        before >= 2_400 && before < talk.len(),
        "cut short: {before}"
    );
    assert_eq!(
        rec.agent_audio()[..before],
        talk[..before],
        "a prefix of the talk"
    );
    assert_eq!(rec.agent_audio_since_interrupt(), echo);
    let cleared = rec.messages.iter().find_map(|m| match m.msg {
        voxgate_bridge::caller::ReceivedMsg::Interrupt { cleared } => Some(cleared),
        _ => None,
    });
    assert!(
        cleared.is_some_and(|c| c > Duration::ZERO),
        "queued talk was cleared: {cleared:?}"
    );
    let report = next_report(&mut reports).await;
    assert_eq!(report.callid.as_deref(), Some("barge-1"));
    assert_eq!(report.code(), None);
}

/// One misbehaving carrier connection: what it sends, and the code it must end with.
async fn bad_call(url: String, case: &'static str) -> (&'static str, bool) {
    let mut caller = SimulatedCall::connect(&url).await.expect("connect");
    if case != "audio-before-hello" {
        caller
            .hello(case, "+46700000000", "+46766861234")
            .await
            .expect("hello");
    }
    let sent = match case {
        "invalid-json" => caller.send_text("{\"t\":\"audio\",".into()),
        "bad-base64" => caller.send_text(r#"{"t":"audio","data":"@@@@"}"#.into()),
        "audio-before-hello" => caller.send_text(r#"{"t":"audio","data":"//8="}"#.into()),
        "second-hello" => caller.send_text(
            r#"{"t":"hello","callid":"again","from":"+46700000000","to":"+46766861234"}"#.into(),
        ),
        "oversized" => caller.send_text(format!(
            r#"{{"t":"audio","data":"{}"}}"#,
            "A".repeat(100_000)
        )),
        "binary" => caller.send_binary(vec![1, 2, 3]),
        _ => unreachable!("{case}"),
    };
    sent.expect("sent");
    let closed = caller.wait_closed().await.is_ok();
    (case, closed)
}

#[tokio::test]
async fn bad_input_ends_only_its_own_session() {
    let config = SessionConfig {
        max_message_bytes: 64 * 1024,
        ..formats(Format::Ulaw, Format::Ulaw)
    };
    let (url, mut reports) = serve(config, Agent::Echo).await;
    let mut healthy = SimulatedCall::connect(&url).await.expect("connect");
    healthy
        .hello("healthy", "+46701234567", "+46766861234")
        .await
        .expect("hello");
    let speech = prompt("agent-pass");
    let echo = ulaw_round_trip(whole_frames(&speech, SampleRate::HZ_8000));

    let cases = [
        ("invalid-json", "WS_INVALID_JSON"),
        ("bad-base64", "WS_BAD_BASE64"),
        ("audio-before-hello", "WS_AUDIO_BEFORE_HELLO"),
        ("second-hello", "WS_DUPLICATE_HELLO"),
        ("oversized", "WS_MESSAGE_TOO_LARGE"),
        ("binary", "WS_BINARY_FRAME"),
    ];
    let bad_calls = futures::future::join_all(cases.map(|(case, _)| bad_call(url.clone(), case)));
    let chunks = Chunking::Duration(Duration::from_millis(20));
    let (streamed, closed) = tokio::join!(
        healthy.stream(&speech, SampleRate::HZ_8000, chunks),
        bad_calls
    );
    streamed.expect("the healthy call streams throughout");
    for (case, closed) in closed {
        assert!(closed, "{case}: server closed the socket");
    }

    let mut codes = HashMap::new();
    for _ in cases {
        let report = next_report(&mut reports).await;
        let Event::Ended { reason, .. } = &report.ended else {
            panic!("{report:?}")
        };
        assert_eq!(*reason, ByeReason::Error);
        codes.insert(
            report
                .callid
                .clone()
                .unwrap_or_else(|| "audio-before-hello".into()),
            report.code(),
        );
    }
    for (case, code) in cases {
        assert_eq!(codes.get(case).copied().flatten(), Some(code), "{case}");
    }

    // The healthy call never noticed.
    healthy
        .wait_for("the whole echo", |r| r.agent_samples() >= echo.len())
        .await
        .expect("echo arrives");
    healthy.hangup().expect("bye");
    healthy.wait_closed().await.expect("closed");
    let rec = healthy.recording();
    assert_eq!(rec.agent_audio(), echo);
    assert!(rec.violations.is_empty(), "{:?}", rec.violations);
    let report = next_report(&mut reports).await;
    assert_eq!(report.callid.as_deref(), Some("healthy"));
    assert_eq!(report.code(), None);
}

#[tokio::test]
async fn our_hangup_waits_for_the_carrier_bye() {
    let talk = ulaw_round_trip(&prompt("agent-loginok"));
    let agent = Agent::TalkThenHangup(talk.clone().into());
    let (url, mut reports) = serve(formats(Format::Ulaw, Format::Ulaw), agent).await;
    let mut caller = SimulatedCall::connect(&url).await.expect("connect");
    caller
        .hello("bye-1", "+46701234567", "+46766861234")
        .await
        .expect("hello");
    caller.wait_closed().await.expect("closed");

    let rec = caller.recording();
    assert!(rec.violations.is_empty(), "{:?}", rec.violations);
    assert_eq!(rec.kinds(), ["listening", "sending", "audio", "bye"]);
    assert_eq!(rec.agent_audio(), whole_frames(&talk, SampleRate::HZ_8000));
    // The carrier answered only once everything queued had played: 1.7 s after the first
    // audio arrived, although the agent sent it up to 1 s ahead.
    let first = rec.agent_audio_arrivals()[0].0;
    let closed = rec.closed_at.expect("closed");
    assert!(
        closed - first >= Duration::from_millis(1_700),
        "{:?}",
        closed - first
    );
    let report = next_report(&mut reports).await;
    assert_eq!(report.callid.as_deref(), Some("bye-1"));
    assert_eq!(
        report.ended,
        ended(ByeReason::Done, Some("the application hung up"))
    );
}
