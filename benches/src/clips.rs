//! The callers' words: real recorded speech, with where the speech starts and ends.
//!
//! Callers speak Asterisk prompts (8 kHz, a professional voice) and LibriVox clips (16 kHz,
//! read books), as installed by `scripts/setup`. Each clip's speech onset and end are found
//! once, from 20 ms frame energy, so that every measurement can start at the moment the
//! caller really started or stopped talking rather than at the clip's edges.

use std::time::Duration;

use voxgate_media::SampleRate;

/// A frame counts as speech above this level (dBFS RMS): above line noise and breaths.
const SPEECH_DBFS: f64 = -35.0;
/// Clips outside these lengths make poor turns (a word, or a monologue).
const LENGTHS: std::ops::RangeInclusive<Duration> =
    Duration::from_millis(700)..=Duration::from_millis(6_500);
/// Most clips kept.
const MAX_CLIPS: usize = 24;
/// Longest pause inside a clip's speech: shorter than the 300 ms endpointing silence, so
/// that each clip is one turn and voice-to-voice is measured from a well-defined end.
const MAX_PAUSE: Duration = Duration::from_millis(200);

/// One recorded utterance.
#[derive(Debug, Clone)]
pub struct Clip {
    /// Where it comes from (`asterisk:agent-pass`, `librivox:...`).
    pub name: String,
    /// Mono samples.
    pub samples: Vec<i16>,
    /// Their rate.
    pub rate: SampleRate,
    /// Offset of the first speech frame's start.
    pub onset: Duration,
    /// Offset of the last speech frame's end.
    pub end: Duration,
    /// The longest pause between onset and end.
    pub longest_pause: Duration,
}

impl Clip {
    /// A clip of `samples`, with onset and end found from 20 ms frame energy; `None` when
    /// nothing in it is loud enough to be speech.
    pub fn new(name: String, samples: Vec<i16>, rate: SampleRate) -> Option<Self> {
        let frame = rate.samples_per_frame();
        let loud: Vec<usize> = samples
            .chunks(frame)
            .enumerate()
            .filter(|(_, f)| dbfs(f) > SPEECH_DBFS)
            .map(|(i, _)| i)
            .collect();
        let (&first, &last) = (loud.first()?, loud.last()?);
        let at = |frames: usize| Duration::from_millis(20 * frames as u64);
        let longest_pause = loud
            .windows(2)
            .map(|w| at(w[1] - w[0] - 1))
            .max()
            .unwrap_or_default();
        Some(Self {
            name,
            longest_pause,
            onset: at(first),
            end: at(last + 1).min(duration(samples.len(), rate)),
            samples,
            rate,
        })
    }

    /// Whether the clip makes one caller turn: a useful length, no pause that would end
    /// the turn.
    pub fn is_one_turn(&self) -> bool {
        LENGTHS.contains(&self.duration()) && self.longest_pause <= MAX_PAUSE
    }

    /// How long the clip lasts.
    pub fn duration(&self) -> Duration {
        duration(self.samples.len(), self.rate)
    }
}

fn duration(samples: usize, rate: SampleRate) -> Duration {
    Duration::from_secs_f64(samples as f64 / f64::from(rate.hz()))
}

/// RMS level of `frame` in dBFS (-inf for digital silence).
pub fn dbfs(frame: &[i16]) -> f64 {
    if frame.is_empty() {
        return f64::NEG_INFINITY;
    }
    let energy: f64 = frame.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    let rms = (energy / frame.len() as f64).sqrt();
    20.0 * (rms / 32_768.0).log10()
}

/// The installed speech clips of a useful length: Asterisk prompts first, then LibriVox.
///
/// # Errors
///
/// When no clip is installed (run `scripts/setup`).
pub fn load() -> anyhow::Result<Vec<Clip>> {
    let mut clips = Vec::new();
    let mut prompts = voxgate_testdata::asterisk::prompts()?;
    prompts.sort_by(|a, b| a.name.cmp(&b.name));
    for p in prompts
        .iter()
        .filter(|p| p.is_speech && !p.name.contains('/'))
    {
        let audio = p.audio()?;
        let Some(clip) = Clip::new(
            format!("asterisk:{}", p.name),
            audio.samples,
            SampleRate::HZ_8000,
        ) else {
            continue;
        };
        if clip.is_one_turn() {
            clips.push(clip);
        }
        if clips.len() >= MAX_CLIPS - 4 {
            break;
        }
    }
    for c in voxgate_testdata::librivox::clips()? {
        let audio = c.audio()?;
        if let Some(clip) = Clip::new(
            format!("librivox:{}", c.id),
            audio.samples,
            SampleRate::HZ_16000,
        ) && clip.is_one_turn()
        {
            clips.push(clip);
        }
    }
    anyhow::ensure!(
        !clips.is_empty(),
        "no speech clips installed (run scripts/setup)"
    );
    Ok(clips)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn onset_and_end_are_found_from_energy() {
        let rate = SampleRate::HZ_8000;
        let mut samples = vec![0i16; 8000];
        // Speech from 300 ms to 700 ms: a loud square wave.
        for (i, s) in samples[2400..5600].iter_mut().enumerate() {
            *s = if i % 16 < 8 { 8000 } else { -8000 };
        }
        let clip = Clip::new("t".into(), samples, rate).expect("speech");
        assert_eq!(clip.onset, Duration::from_millis(300));
        assert_eq!(clip.end, Duration::from_millis(700));
        assert_eq!(clip.duration(), Duration::from_secs(1));
        assert_eq!(clip.longest_pause, Duration::ZERO);
        assert!(clip.is_one_turn());
        assert!(Clip::new("quiet".into(), vec![10; 8000], rate).is_none());
    }

    #[test]
    fn a_long_pause_makes_two_turns() {
        let rate = SampleRate::HZ_8000;
        let mut samples = vec![0i16; 16000];
        for range in [800..4000, 8000..12000] {
            for (i, s) in samples[range].iter_mut().enumerate() {
                *s = if i % 16 < 8 { 8000 } else { -8000 };
            }
        }
        let clip = Clip::new("t".into(), samples, rate).expect("speech");
        assert_eq!(clip.longest_pause, Duration::from_millis(500));
        assert!(!clip.is_one_turn());
    }

    #[test]
    fn installed_clips_hold_speech() {
        let clips = load().expect("clips installed by scripts/setup");
        assert!(clips.len() >= 8, "{} clips", clips.len());
        for c in &clips {
            assert!(c.onset < c.end && c.end <= c.duration(), "{}", c.name);
            assert!(c.is_one_turn(), "{}: {:?}", c.name, c.longest_pause);
        }
    }
}
