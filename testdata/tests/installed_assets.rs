//! The loaders against the assets that `scripts/setup` installs.

use std::path::Path;
use std::time::Duration;

use voxgate_testdata::{TestdataError, asterisk, espeak, librivox};

#[test]
fn asterisk_prompts_have_transcripts_and_audio() {
    let prompts = asterisk::prompts().expect("asterisk prompts");
    assert!(prompts.len() >= 500, "only {} prompts", prompts.len());
    for p in &prompts {
        assert!(
            !p.transcript.is_empty(),
            "{} has an empty transcript",
            p.name
        );
        assert!(p.path.is_file(), "{} is missing", p.path.display());
    }
    let speech = prompts.iter().filter(|p| p.is_speech).count();
    assert!(speech >= 500, "only {speech} speech prompts");
    let beep = prompts
        .iter()
        .find(|p| p.name == "beep")
        .expect("beep prompt");
    assert!(!beep.is_speech);
    assert!(prompts.iter().any(|p| p.name == "digits/1"), "no digits/1");
}

#[test]
fn asterisk_agent_pass_is_a_password_prompt() {
    let p = asterisk::prompt("agent-pass").expect("agent-pass");
    assert_eq!(
        p.transcript,
        "Please enter your password followed by the pound key."
    );
    assert!(p.is_speech);
    let audio = p.audio().expect("agent-pass audio");
    assert_eq!(audio.sample_rate, asterisk::SAMPLE_RATE);
    assert!(
        audio.duration() > Duration::from_secs(2),
        "{:?}",
        audio.duration()
    );
    assert!(audio.peak() > 1000, "peak {}", audio.peak());
}

#[test]
fn asterisk_prompt_in_a_subfolder() {
    let p = asterisk::prompt("digits/7").expect("digits/7");
    assert_eq!(p.spoken_text(), "seven");
    assert!(p.path.ends_with("digits/7.wav"), "{}", p.path.display());
    assert_eq!(p.audio().expect("digits/7 audio").sample_rate, 8000);
}

#[test]
fn asterisk_unknown_prompt_is_an_error() {
    let err = asterisk::prompt("no-such-prompt").expect_err("unknown prompt");
    assert!(
        matches!(err, TestdataError::UnknownPrompt { .. }),
        "{err:?}"
    );
}

#[test]
fn asterisk_missing_sounds_dir_says_to_run_setup() {
    let empty = tempfile::tempdir().expect("tempdir");
    let dir = empty.path().join("en_US_f_Allison");
    let err = asterisk::prompts_in(&dir, Path::new(asterisk::DEFAULT_TRANSCRIPTS))
        .expect_err("missing dir");
    assert!(matches!(err, TestdataError::MissingAsset { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("scripts/setup"), "{message}");
    assert!(message.contains(&dir.display().to_string()), "{message}");
}

#[test]
fn asterisk_missing_transcripts_say_to_run_setup() {
    let empty = tempfile::tempdir().expect("tempdir");
    let transcripts = empty.path().join("core-sounds-en.txt.gz");
    let err =
        asterisk::prompt_in(empty.path(), &transcripts, "agent-pass").expect_err("no transcripts");
    let message = err.to_string();
    assert!(message.contains("core-sounds-en.txt.gz"), "{message}");
    assert!(message.contains("scripts/setup"), "{message}");
}

#[test]
fn librivox_clips_load_at_16_khz() {
    let clips = librivox::clips().expect("librivox clips");
    assert!(clips.len() >= 5, "only {} clips", clips.len());
    for clip in &clips {
        assert!(
            !clip.transcript.is_empty(),
            "{} has an empty transcript",
            clip.id
        );
        assert!(
            !clip.transcript.contains('<'),
            "{}: {}",
            clip.id,
            clip.transcript
        );
        let audio = clip.audio().expect("clip audio");
        assert_eq!(audio.sample_rate, librivox::SAMPLE_RATE, "{}", clip.id);
        assert!(audio.duration() > Duration::from_secs(1), "{}", clip.id);
        assert!(audio.peak() > 1000, "{} is silent", clip.id);
    }
    let clip = clips
        .iter()
        .find(|c| c.id.ends_with("-0880"))
        .expect("clip 0880");
    assert_eq!(clip.transcript, "he was not an ill disposed young man");
}

#[test]
fn librivox_missing_dir_says_to_run_setup() {
    let empty = tempfile::tempdir().expect("tempdir");
    let err = librivox::clips_in(empty.path()).expect_err("empty dir");
    assert!(matches!(err, TestdataError::MissingAsset { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("scripts/setup"), "{message}");
    assert!(message.contains("transcription"), "{message}");
}

#[test]
fn espeak_says_hello_world() {
    let audio = espeak::speak("hello world").expect("espeak-ng");
    assert_eq!(audio.sample_rate, espeak::SAMPLE_RATE);
    assert!(
        audio.duration() > Duration::from_millis(500),
        "{:?}",
        audio.duration()
    );
    assert!(audio.peak() > 1000, "peak {}", audio.peak());
    assert!(audio.rms() > 100.0, "rms {}", audio.rms());
    // Deterministic: the same text gives the same samples.
    assert_eq!(
        espeak::speak("hello world").expect("espeak-ng again"),
        audio
    );
}

#[test]
fn espeak_options_change_the_speech() {
    let normal = espeak::speak("one two three four five").expect("espeak-ng");
    let slow = espeak::speak_with(
        "one two three four five",
        &espeak::Options::default().words_per_minute(90),
    )
    .expect("slow espeak-ng");
    assert!(
        slow.duration() > normal.duration(),
        "{:?} vs {:?}",
        slow.duration(),
        normal.duration()
    );
    let dashed = espeak::speak("-v is not an option here").expect("text starting with a dash");
    assert!(dashed.duration() > Duration::from_millis(500));
}

#[test]
fn espeak_unknown_voice_is_an_error() {
    let err = espeak::speak_with("hi", &espeak::Options::default().voice("nosuchvoice"))
        .expect_err("unknown voice");
    assert!(matches!(err, TestdataError::Espeak { .. }), "{err:?}");
}

#[test]
fn asterisk_every_prompt_loads_at_8_khz() {
    let prompts = asterisk::prompts().expect("asterisk prompts");
    assert_eq!(prompts.len(), 568, "the Debian package has 568 recordings");
    for p in &prompts {
        let audio = p.audio().expect("prompt audio");
        assert_eq!(audio.sample_rate, asterisk::SAMPLE_RATE, "{}", p.name);
        assert!(!audio.samples.is_empty(), "{} is empty", p.name);
        if p.is_speech {
            assert!(audio.peak() > 500, "{} is silent: {audio:?}", p.name);
        }
    }
}

#[test]
fn espeak_streamed_output_matches_a_file_written_by_espeak() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("hello.wav");
    let status = std::process::Command::new(espeak::PROGRAM)
        .args(["-v", "en-us", "-w"])
        .arg(&path)
        .arg("hello world")
        .status()
        .expect("run espeak-ng");
    assert!(status.success(), "{status}");
    let from_file = voxgate_testdata::wav::read(&path).expect("espeak-ng file");
    assert_eq!(espeak::speak("hello world").expect("espeak-ng"), from_file);
}
