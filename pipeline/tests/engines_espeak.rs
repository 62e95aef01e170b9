//! espeak-ng as a streaming mouth: chunks as synthesized, the right audio, and a process that
//! dies with its stream. Needs `espeak-ng` (`scripts/setup`).
//!
//! Every test holds [`SERIAL`]: the kill test looks for this process's espeak-ng children,
//! so no other test may start one meanwhile.

use std::time::{Duration, Instant};

use futures::StreamExt as _;
use voxgate_media::SampleRate;
use voxgate_pipeline::PipelineError;
use voxgate_pipeline::engines::EspeakMouth;
use voxgate_pipeline::providers::{Mouth, Speech};

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const TEN_WORDS: &str = "The quick brown fox jumps over the lazy dog by the river.";

#[tokio::test]
async fn streams_several_chunks_of_plausible_speech() {
    let _serial = SERIAL.lock().await;
    let mouth = EspeakMouth::new("en-us", 175).expect("espeak-ng (run scripts/setup)");
    let started = Instant::now();
    let mut stream = mouth.speak(TEN_WORDS);
    let mut chunks: Vec<Speech> = Vec::new();
    let mut first_chunk = None;
    while let Some(chunk) = stream.next().await {
        first_chunk.get_or_insert_with(|| started.elapsed());
        chunks.push(chunk.expect("chunk"));
    }
    let total = started.elapsed();
    let samples: usize = chunks.iter().map(|c| c.samples.len()).sum();
    let seconds = samples as f64 / 22_050.0;
    eprintln!(
        "espeak-ng: {} chunks, {seconds:.2} s of speech; first chunk after {:?}, all after {total:?}",
        chunks.len(),
        first_chunk.expect("some chunk"),
    );
    assert!(chunks.len() > 1, "{} chunks", chunks.len());
    assert!(chunks.iter().all(|c| c.rate == SampleRate::HZ_22050));
    assert!(
        chunks.iter().all(|c| c.samples.len() <= 2205),
        "chunks of at most 100 ms"
    );
    assert!(
        chunks[..chunks.len() - 1]
            .iter()
            .all(|c| c.samples.len() >= 441)
    );
    assert!((1.0..10.0).contains(&seconds), "{seconds} s for ten words");
    let peak = chunks
        .iter()
        .flat_map(|c| &c.samples)
        .map(|s| s.unsigned_abs())
        .max();
    assert!(peak > Some(3_000), "audible: peak {peak:?}");
}

#[tokio::test]
async fn same_samples_as_espeak_writing_a_whole_file() {
    let _serial = SERIAL.lock().await;
    let mouth = EspeakMouth::new("en-us", 175).expect("espeak-ng");
    let streamed: Vec<i16> = mouth
        .speak(TEN_WORDS)
        .map(|chunk| chunk.expect("chunk").samples)
        .concat()
        .await;
    let whole = voxgate_testdata::espeak::speak(TEN_WORDS).expect("espeak-ng");
    assert_eq!(whole.sample_rate, 22_050);
    assert_eq!(streamed, whole.samples);
}

#[tokio::test]
async fn dropping_the_stream_kills_the_process() {
    let _serial = SERIAL.lock().await;
    let mouth = EspeakMouth::new("en-us", 175).expect("espeak-ng");
    let long_text = TEN_WORDS.repeat(300); // minutes of speech
    let mut stream = mouth.speak(&long_text);
    let first = stream.next().await.expect("a chunk").expect("audio");
    assert!(!first.samples.is_empty());
    let children = espeak_children();
    assert_eq!(children.len(), 1, "one espeak-ng child: {children:?}");
    let started = Instant::now();
    drop(stream);
    assert!(
        started.elapsed() < Duration::from_millis(100),
        "drop returns at once"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while is_running(children[0]) {
        assert!(
            Instant::now() < deadline,
            "espeak-ng {} still runs",
            children[0]
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    eprintln!("espeak-ng killed {:?} after the drop", started.elapsed());
}

#[tokio::test]
async fn empty_text_is_no_audio() {
    let _serial = SERIAL.lock().await;
    let mouth = EspeakMouth::new("en-us", 175).expect("espeak-ng");
    assert_eq!(mouth.speak("  ").count().await, 0);
}

#[test]
fn unknown_voice_and_bad_speed_are_config_errors() {
    let _serial = SERIAL.blocking_lock();
    let cases = [
        ("xx-nonexistent", 175, "espeak.voice"),
        ("-x", 175, "espeak.voice"),
        ("en-us", 20, "espeak.words_per_minute"),
        ("en-us", 1_000, "espeak.words_per_minute"),
    ];
    for (voice, wpm, expected_key) in cases {
        let err = EspeakMouth::new(voice, wpm).expect_err(voice);
        assert!(
            matches!(&err, PipelineError::Config { key, .. } if key == expected_key),
            "{voice} {wpm}: {err:?}"
        );
    }
}

/// The pids of this process's children named espeak-ng (zombies excluded).
fn espeak_children() -> Vec<u32> {
    let me = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| {
            proc_stat(pid).is_some_and(|(comm, state, ppid)| {
                comm == "espeak-ng" && state != 'Z' && ppid == me
            })
        })
        .collect()
}

/// Whether `pid` exists and is not a zombie.
fn is_running(pid: u32) -> bool {
    proc_stat(pid).is_some_and(|(_, state, _)| state != 'Z')
}

/// `(comm, state, ppid)` from `/proc/PID/stat`.
fn proc_stat(pid: u32) -> Option<(String, char, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat[open + 1..close].to_owned();
    let mut rest = stat[close + 1..].split_whitespace();
    let state = rest.next()?.chars().next()?;
    let ppid = rest.next()?.parse().ok()?;
    Some((comm, state, ppid))
}
