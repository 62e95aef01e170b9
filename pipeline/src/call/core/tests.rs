//! Whole calls on a virtual clock, no models: each test runs in milliseconds and the same
//! inputs always give the same call (see `rig`).

mod rig;

use proptest::prelude::*;

use self::rig::{CallerScript, Engines, Rig, VadTiming, ms};
use crate::agent::AgentConfig;
use crate::call::EndReason;
use crate::events::CallEvent;

const FULL_REPLY: &str = "We open at nine. We close at five on weekdays.";

/// The greeting plays for about 2.6 s; the caller speaks after it.
fn caller(speech: &[(u64, u64)], hangup: Option<u64>) -> CallerScript {
    CallerScript {
        speech: speech.iter().map(|&(a, b)| (ms(a), ms(b))).collect(),
        digits: Vec::new(),
        hangup: hangup.map(ms),
    }
}

fn call(engines: Engines, vad: VadTiming, caller: CallerScript, until: u64) -> Rig {
    call_as(AgentConfig::default(), engines, vad, caller, until)
}

fn call_as(
    agent: AgentConfig,
    engines: Engines,
    vad: VadTiming,
    caller: CallerScript,
    until: u64,
) -> Rig {
    let mut rig = Rig::new(agent, engines, vad, caller);
    rig.run_until(ms(until));
    rig
}

/// What every call must hold, whatever happened on it.
fn check_invariants(rig: &Rig) {
    assert!(
        rig.carrier.violations.is_empty(),
        "{:?}",
        rig.carrier.violations
    );
    assert_eq!(rig.audio_after_interrupt, 0, "audio after interrupt");
    assert_eq!(rig.carrier.ignored, 0, "audio the carrier ignored");
    // The session's cap (1 s) plus the frame in flight.
    assert!(
        rig.carrier.max_buffered <= ms(1020),
        "{:?}",
        rig.carrier.max_buffered
    );
    if rig.closed {
        assert!(rig.ended().is_some(), "a closed call publishes its end");
        assert_eq!(rig.slots.in_use(), 0, "the slot went back");
        assert!(rig.core.is_ended());
    }
}

#[test]
fn greeting_then_a_turn_then_the_caller_hangs_up() {
    let rig = call(
        Engines::default(),
        VadTiming::Immediate,
        caller(&[(4000, 5000)], Some(12_000)),
        20_000,
    );
    check_invariants(&rig);
    let heard = Engines::default().heard;
    assert_eq!(rig.turns(), vec![(heard, FULL_REPLY.to_owned(), false)]);
    assert_eq!(rig.ended(), Some(EndReason::CallerHungUp));
    assert!(rig.closed);
    // Greeting (10 words) and reply (10 words) at 250 ms a word, in 20 ms frames.
    assert_eq!(rig.carrier.frames, 125 + 125);
    assert!(rig.carrier.interrupts.is_empty());
    let CallEvent::TurnCompleted { metrics, .. } = &rig.events[1] else {
        panic!("{:?}", rig.events);
    };
    // End of speech at 5.0 s, decided after 300 ms of silence (VAD windows of 32 ms).
    let eot = metrics.end_of_turn.expect("end of turn");
    assert!(eot >= ms(300) && eot < ms(340), "{eot:?}");
    // Ears 150 ms + brain 100 ms + mouth 50 ms after the decision; nothing added by the core.
    assert_eq!(metrics.server_added, Some(ms(300)));
    assert_eq!(
        rig.metrics.turns.load(std::sync::atomic::Ordering::Relaxed),
        1
    );
}

/// Barge-in at every phase of the reply: during transcription, the brain, the first
/// audio, and mid-sentence. The reply is cut, the transcript keeps what the caller heard,
/// no audio follows the interrupt, and the interrupting words are answered.
#[test]
fn barge_in_at_every_phase() {
    // Slow ears and brain, so that each phase outlasts the 200 ms a barge-in needs. The
    // first turn is decided at 5.344 s; transcription runs to 5.944 s, the brain to
    // 6.244 s, and the first audio leaves at 6.294 s (four words a second).
    let engines = Engines {
        ears: ms(600),
        brain: ms(300),
        ..Engines::default()
    };
    // (phase, onset of the barge-in, the cut turn as published, interrupts sent)
    type Case = (
        &'static str,
        u64,
        Option<(&'static str, &'static str)>,
        usize,
    );
    let cases: [Case; 4] = [
        ("transcription", 5_420, None, 0),
        ("brain", 5_980, Some(("what are your opening hours", "")), 0),
        (
            "first audio",
            6_150,
            Some(("what are your opening hours", "")),
            1,
        ),
        (
            "mid-sentence",
            6_900,
            Some(("what are your opening hours", "We open at")),
            1,
        ),
    ];
    for (phase, at, cut, interrupts) in cases {
        // Barge-in needs 200 ms of speech; the caller goes on for 800 ms.
        let speech = [(4_000, 5_000), (at, at + 800)];
        let rig = call(
            engines.clone(),
            VadTiming::Immediate,
            caller(&speech, Some(15_000)),
            20_000,
        );
        check_invariants(&rig);
        assert_eq!(rig.carrier.interrupts.len(), interrupts, "{phase}");
        let turns = rig.turns();
        let last = turns.last().expect("a turn");
        assert_eq!(
            last.1, FULL_REPLY,
            "{phase}: the interrupting words are answered"
        );
        let want: Vec<_> = cut
            .map(|(user, agent)| (user.to_owned(), agent.to_owned(), true))
            .into_iter()
            .chain([last.clone()])
            .collect();
        assert_eq!(turns, want, "{phase}");
        // What the caller heard is what the brain sees next.
        if let Some((_, agent)) = cut.filter(|(_, a)| !a.is_empty()) {
            assert!(
                rig.core.history.iter().any(|m| m.content == agent),
                "{phase}"
            );
        }
        // Mid-sentence the job has finished: only its audio is left to cut.
        let cancelled = usize::from(phase != "mid-sentence");
        assert_eq!(rig.replies_cancelled, cancelled, "{phase}");
        assert_eq!(rig.ended(), Some(EndReason::CallerHungUp), "{phase}");
    }
}

#[test]
fn a_caller_who_never_speaks_is_hung_up_on() {
    let mut agent = AgentConfig::default();
    agent.turn.idle_timeout = ms(5_000);
    let mut rig = Rig::new(
        agent,
        Engines::default(),
        VadTiming::Immediate,
        caller(&[], None),
    );
    rig.run_until(ms(30_000));
    check_invariants(&rig);
    assert_eq!(rig.ended(), Some(EndReason::Idle));
    assert!(rig.closed && rig.carrier.bye_received);
    // The greeting played out at about 2.6 s; 5 s of silence later the agent hangs up.
    assert!(rig.now - rig.t0 < ms(8_000), "{:?}", rig.now - rig.t0);
    assert!(rig.turns().is_empty());
}

#[test]
fn a_failing_brain_leaves_the_caller_heard_and_the_agent_listening() {
    let engines = Engines {
        brain_fails: true,
        ..Engines::default()
    };
    let rig = call(
        engines,
        VadTiming::Immediate,
        caller(&[(4_000, 5_000), (7_000, 8_000)], Some(10_000)),
        20_000,
    );
    check_invariants(&rig);
    let heard = Engines::default().heard;
    assert_eq!(
        rig.turns(),
        vec![
            (heard.clone(), String::new(), false),
            (heard, String::new(), false)
        ]
    );
    assert_eq!(rig.replies_started, 3, "greeting and two answers");
    assert_eq!(rig.ended(), Some(EndReason::CallerHungUp));
}

#[test]
fn a_stalled_mouth_is_given_up_and_what_it_said_plays() {
    let mut agent = AgentConfig::default();
    agent.turn.reply_timeout = ms(2_000);
    let engines = Engines {
        mouth_stalls: true,
        ..Engines::default()
    };
    let mut rig = Rig::new(
        agent,
        engines,
        VadTiming::Immediate,
        caller(&[(4_000, 5_000)], Some(15_000)),
    );
    rig.run_until(ms(20_000));
    check_invariants(&rig);
    let heard = Engines::default().heard;
    assert_eq!(
        rig.turns(),
        vec![(heard, "We open at nine.".to_owned(), false)]
    );
    assert_eq!(rig.replies_cancelled, 1, "the stalled job is stopped");
}

#[test]
fn a_long_reply_never_overfills_the_carrier() {
    let long = ["one two three four five six seven eight nine ten."; 4].join(" ");
    let engines = Engines {
        sentences: vec![long.clone()],
        per_word: ms(500),
        ..Engines::default()
    };
    let rig = call(
        engines,
        VadTiming::Immediate,
        caller(&[(6_000, 7_000)], Some(40_000)),
        50_000,
    );
    check_invariants(&rig);
    // The greeting's 10 and the reply's 40 words at 500 ms: 25 s of audio, sent as the
    // carrier plays it.
    assert_eq!(rig.carrier.frames, 250 + 1000);
    assert!(
        rig.carrier.max_buffered >= ms(980),
        "the cap is used: {:?}",
        rig.carrier.max_buffered
    );
    assert_eq!(rig.turns()[0].1, long);
}

#[test]
fn hanging_up_during_a_reply_records_what_was_heard() {
    let rig = call(
        Engines::default(),
        VadTiming::Immediate,
        caller(&[(4_000, 5_000)], Some(6_600)),
        20_000,
    );
    check_invariants(&rig);
    assert!(rig.closed);
    assert_eq!(rig.ended(), Some(EndReason::CallerHungUp));
    let turns = rig.turns();
    let (_, agent, interrupted) = &turns[0];
    assert!(*interrupted);
    assert!(
        agent.starts_with("We") && agent.len() < FULL_REPLY.len(),
        "{agent:?}"
    );
    assert_eq!(
        rig.replies_cancelled, 0,
        "the reply had finished: only its audio was left"
    );
}

#[test]
fn digits_are_published_and_reach_the_brain() {
    let mut c = caller(&[(4_000, 5_000)], Some(12_000));
    c.digits = vec![(ms(3_000), '5')];
    let rig = call(Engines::default(), VadTiming::Immediate, c, 20_000);
    check_invariants(&rig);
    assert!(
        rig.events
            .iter()
            .any(|e| matches!(e, CallEvent::Digit { digit: '5', .. }))
    );
    assert!(
        rig.core
            .history
            .iter()
            .any(|m| m.content == "[the caller pressed 5]")
    );
}

#[test]
fn the_agent_hangs_up_after_its_goodbye() {
    let engines = Engines {
        hangup: true,
        ..Engines::default()
    };
    let rig = call(
        engines,
        VadTiming::Immediate,
        caller(&[(4_000, 5_000)], None),
        20_000,
    );
    check_invariants(&rig);
    assert!(rig.closed && rig.carrier.bye_received);
    assert_eq!(rig.ended(), Some(EndReason::AgentHungUp));
    assert_eq!(
        rig.turns()[0].1,
        FULL_REPLY,
        "the goodbye plays in full first"
    );
}

#[test]
fn late_and_uneven_vad_answers_give_the_same_turns() {
    let speech = [(4_000, 5_000), (6_400, 7_200)];
    let reference = call(
        Engines::default(),
        VadTiming::Immediate,
        caller(&speech, Some(15_000)),
        20_000,
    );
    for timing in [VadTiming::Late(ms(60)), VadTiming::Uneven(ms(10), ms(90))] {
        let rig = call(
            Engines::default(),
            timing,
            caller(&speech, Some(15_000)),
            20_000,
        );
        check_invariants(&rig);
        let (want, got) = (reference.turns(), rig.turns());
        assert_eq!(want.len(), got.len(), "{timing:?}: {got:?}");
        // The late answers delay decisions, so the cut lands a little later.
        for ((wu, wa, wi), (gu, ga, gi)) in want.iter().zip(&got) {
            assert_eq!((wu, wi), (gu, gi), "{timing:?}");
            assert!(
                ga.starts_with(wa.trim_end_matches('.')) || wa.starts_with(ga.as_str()),
                "{timing:?}: {wa:?} vs {ga:?}"
            );
        }
    }
}

#[test]
fn the_same_call_twenty_times_is_the_same_call() {
    let run = || {
        let speech = [(4_000, 5_000), (6_400, 7_200), (9_000, 9_500)];
        call(
            Engines::default(),
            VadTiming::Uneven(ms(20), ms(70)),
            caller(&speech, Some(14_000)),
            20_000,
        )
        .trace
    };
    let first = run();
    assert!(first.len() > 10, "{first:?}");
    for _ in 0..19 {
        assert_eq!(run(), first);
    }
}

fn arb_timing() -> impl Strategy<Value = VadTiming> {
    prop_oneof![
        Just(VadTiming::Immediate),
        (0u64..200).prop_map(|d| VadTiming::Late(ms(d))),
        (0u64..150, 0u64..150).prop_map(|(a, b)| VadTiming::Uneven(ms(a), ms(b))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// For random callers, engines and VAD timing the core never panics, never sends
    /// audio after an interrupt before the next reply, never overfills the carrier, and
    /// the call always ends (the caller hangs up, or the idle timeout does it).
    #[test]
    fn any_call_ends_cleanly(
        spans in prop::collection::vec((0u64..20_000, 20u64..2_000), 0..8),
        hangup in prop::option::of(1_000u64..25_000),
        timing in arb_timing(),
        ears in 0u64..800,
        brain in 0u64..800,
        mouth in 0u64..400,
        brain_fails in any::<bool>(),
        mouth_stalls in any::<bool>(),
        hangs_up in any::<bool>(),
    ) {
        let mut agent = AgentConfig::default();
        agent.turn.idle_timeout = ms(8_000);
        agent.turn.reply_timeout = ms(3_000);
        let engines = Engines {
            ears: ms(ears), brain: ms(brain), mouth: ms(mouth),
            brain_fails, mouth_stalls, hangup: hangs_up,
            ..Engines::default()
        };
        let speech: Vec<(u64, u64)> = spans.iter().map(|&(a, len)| (a, a + len)).collect();
        // Speech ends by 22 s; then at most 8 s idle, a reply and a bye: 60 s is ample.
        let rig = call_as(agent, engines, timing, caller(&speech, hangup), 60_000);
        check_invariants(&rig);
        prop_assert!(rig.closed, "the call did not end: {:?}", rig.trace.last());
    }
}
