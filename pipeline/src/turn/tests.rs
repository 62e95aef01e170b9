//! Turn-taking tables: a VAD probability per 20 ms chunk in, decisions out.

use super::*;

const CHUNK: Duration = Duration::from_millis(20);

/// Feeds `pattern` (one char per 20 ms chunk: `#` speech, `.` silence, `A` = the agent
/// starts speaking before this chunk, `D` = the agent is done) and returns the outputs
/// with the chunk index at which each appeared.
fn run(pattern: &str) -> Vec<(usize, TurnOutput)> {
    let mut tc = TurnController::new(TurnConfig::default());
    let mut out = Vec::new();
    let mut i = 0;
    for c in pattern.chars() {
        match c {
            'A' => tc.handle_agent_speaking(),
            'D' => tc.handle_agent_done(),
            '#' | '.' => {
                i += 1;
                let p = if c == '#' { 0.9 } else { 0.1 };
                tc.handle_vad(CHUNK * i as u32, CHUNK, p);
                while let Some(o) = tc.poll() {
                    out.push((i, o));
                }
            }
            _ => {}
        }
    }
    out
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn utterance_then_end_of_turn_after_300ms_silence() {
    // 10 chunks of silence, 25 of speech (500 ms), then silence.
    let pattern = format!("{}{}{}", ".".repeat(10), "#".repeat(25), ".".repeat(20));
    let out = run(&pattern);
    assert_eq!(
        out,
        vec![
            // 5 chunks (100 ms) of speech confirm the onset at 200 ms.
            (15, TurnOutput::SpeechStarted { onset: ms(200) }),
            // 15 chunks (300 ms) after the last speech chunk ended at 700 ms.
            (
                50,
                TurnOutput::EndOfTurn {
                    onset: ms(200),
                    end: ms(700)
                }
            ),
        ]
    );
}

#[test]
fn short_pauses_do_not_end_the_turn() {
    let pattern = format!(
        "{}{}{}{}",
        "#".repeat(10),
        ".".repeat(14),
        "#".repeat(10),
        ".".repeat(15)
    );
    let out = run(&pattern);
    assert_eq!(out.len(), 2, "{out:?}");
    assert_eq!(
        out[1],
        (
            49,
            TurnOutput::EndOfTurn {
                onset: ms(0),
                end: ms(680)
            }
        )
    );
}

#[test]
fn blips_shorter_than_min_speech_are_ignored() {
    let out = run(&format!("{}{}{}", "####", ".".repeat(30), "#"));
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn barge_in_after_200ms_of_speech_while_agent_talks() {
    // A turn, the agent answers, the caller talks over it.
    let pattern = format!(
        "{}{}A{}{}{}",
        "#".repeat(10),
        ".".repeat(15),
        ".".repeat(5),
        "#".repeat(12),
        ".".repeat(15)
    );
    let out = run(&pattern);
    let kinds: Vec<_> = out.iter().map(|(i, o)| (*i, *o)).collect();
    assert_eq!(kinds[0].1, TurnOutput::SpeechStarted { onset: ms(0) });
    assert_eq!(
        kinds[1].1,
        TurnOutput::EndOfTurn {
            onset: ms(0),
            end: ms(200)
        }
    );
    // Speech starts at chunk 30 (600 ms); 10 chunks = 200 ms later it is a barge-in.
    assert_eq!(kinds[2], (40, TurnOutput::BargeIn { onset: ms(600) }));
    // The interrupting speech is then a normal turn.
    assert_eq!(
        kinds[3].1,
        TurnOutput::EndOfTurn {
            onset: ms(600),
            end: ms(840)
        }
    );
}

#[test]
fn speech_shorter_than_barge_in_min_does_not_interrupt() {
    let pattern = format!(
        "{}{}A{}{}",
        "#".repeat(10),
        ".".repeat(15),
        "#".repeat(9),
        ".".repeat(20)
    );
    let out = run(&pattern);
    assert_eq!(out.len(), 2, "{out:?}");
}

#[test]
fn after_the_agent_is_done_speech_is_a_new_turn() {
    let pattern = format!(
        "{}{}AD{}{}",
        "#".repeat(10),
        ".".repeat(15),
        "#".repeat(6),
        ".".repeat(15)
    );
    let out: Vec<_> = run(&pattern).into_iter().map(|(_, o)| o).collect();
    assert_eq!(
        out[2..],
        [
            TurnOutput::SpeechStarted { onset: ms(500) },
            TurnOutput::EndOfTurn {
                onset: ms(500),
                end: ms(620)
            }
        ]
    );
}

#[test]
fn config_reads_milliseconds() {
    let c: TurnConfig = toml::from_str("end_silence = 500\nthreshold = 0.6").expect("parses");
    assert_eq!(c.end_silence, ms(500));
    assert_eq!(c.min_speech, ms(100));
    assert!((c.threshold - 0.6).abs() < 1e-6);
}

#[test]
fn barge_in_counts_the_pauses_between_words() {
    // The agent talks; the caller says two words with a 60 ms pause: 100 ms, gap, 100 ms.
    let words = format!(
        "A{}{}{}{}",
        "#".repeat(5),
        ".".repeat(3),
        "#".repeat(5),
        ".".repeat(20)
    );
    let out = run(&words);
    // 200 ms after the onset (chunk 10 ends at 200 ms) with 140 ms voiced: a barge-in.
    assert_eq!(
        out[0],
        (10, TurnOutput::BargeIn { onset: ms(0) }),
        "{out:?}"
    );
    // Two clicks 200 ms apart are not speech: too little of the span is voiced.
    let clicks = format!("A#{}#{}", ".".repeat(9), ".".repeat(20));
    assert!(run(&clicks).is_empty(), "{:?}", run(&clicks));
}

#[test]
fn settings_that_would_break_turn_taking_are_refused() {
    assert!(TurnConfig::default().validate().is_ok());
    for (config, key) in [
        (
            TurnConfig {
                threshold: 0.0,
                ..TurnConfig::default()
            },
            "turn.threshold",
        ),
        (
            TurnConfig {
                threshold: 1.5,
                ..TurnConfig::default()
            },
            "turn.threshold",
        ),
        (
            TurnConfig {
                silence_floor_dbfs: -10.0,
                ..TurnConfig::default()
            },
            "turn.silence_floor_dbfs",
        ),
        (
            TurnConfig {
                silence_floor_dbfs: f32::NAN,
                ..TurnConfig::default()
            },
            "turn.silence_floor_dbfs",
        ),
    ] {
        match config.validate() {
            Err(PipelineError::Config { key: got, .. }) => assert_eq!(got, key),
            other => panic!("{key}: {other:?}"),
        }
    }
}
