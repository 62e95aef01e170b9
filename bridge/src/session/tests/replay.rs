//! Recorded sessions (JSONL in `testdata/sessions/`) replayed through the session.
//!
//! Each line is one step at `at` ms on the virtual clock: a `carrier` text frame, or an
//! `agent` command (`audio` with `frames` of silence, `interrupt`, `hangup`), and the
//! outputs it must produce, in order (`expect`, in the [`describe`] notation).

use serde::Deserialize;

use super::*;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    at: u64,
    #[serde(default)]
    carrier: Option<String>,
    #[serde(default)]
    agent: Option<String>,
    #[serde(default)]
    frames: usize,
    expect: Vec<String>,
}

fn replay(name: &str, config: &SessionConfig) {
    let path = format!("{}/../testdata/sessions/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("recorded session");
    let clock = Clock::new();
    let mut s = Session::new(config.clone());
    s.start(clock.at(0));
    for (n, line) in text.lines().enumerate() {
        let step: Step = serde_json::from_str(line).unwrap_or_else(|e| panic!("line {n}: {e}"));
        let now = clock.at(step.at);
        match (&step.carrier, step.agent.as_deref()) {
            (Some(text), None) => s.handle_text(now, text),
            (None, Some("audio")) => {
                let silence = vec![0i16; config.send_format.samples_per_frame()];
                for _ in 0..step.frames {
                    s.send_audio(now, &silence).expect("fits");
                }
            }
            (None, Some("interrupt")) => s.interrupt(now),
            (None, Some("hangup")) => s.hangup(now),
            other => panic!("line {n}: not a step: {other:?}"),
        }
        let got: Vec<String> = drain(&mut s)
            .into_iter()
            .map(|o| {
                let d = describe(&o);
                if let Output::Event(Event::CallerAudio(f)) = o {
                    s.recycle(f);
                }
                d
            })
            .collect();
        assert_eq!(got, step.expect, "{name} line {n} (at {} ms)", step.at);
    }
    assert!(s.is_ended(), "{name}: the recording ends the call");
    assert_eq!(s.frame_allocations(), 0, "recycled frames are reused");
}

#[test]
fn ulaw_call_with_sync_interrupt_and_hangup() {
    replay("ulaw_call.jsonl", &config(Format::Ulaw, Format::Ulaw));
}
