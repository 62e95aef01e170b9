//! The media primitives on real recorded speech: Asterisk's telephone prompts (8 kHz) and
//! LibriVox read speech (16 kHz), installed by `scripts/setup`.

use voxgate_media::g711::Law;
use voxgate_media::resample::Resampler;
use voxgate_media::{SampleRate, file};
use voxgate_testdata::{asterisk, librivox};

/// SNR in dB of `got` against `want`, over the samples both have.
fn snr_db(want: &[i16], got: &[i16]) -> f64 {
    let (mut s, mut n) = (0.0, 0.0);
    for (w, g) in want.iter().zip(got) {
        s += f64::from(*w).powi(2);
        n += (f64::from(*w) - f64::from(*g)).powi(2);
    }
    10.0 * (s / n).log10()
}

fn run(r: &mut Resampler, input: &[i16]) -> Vec<i16> {
    let mut out = vec![0; input.len() / r.input_len() * r.output_len()];
    for (i, o) in input
        .chunks_exact(r.input_len())
        .zip(out.chunks_exact_mut(r.output_len()))
    {
        r.process_into(i, o).expect("sized");
    }
    out
}

#[test]
fn prompt_survives_g711_at_toll_quality() {
    let prompt = asterisk::prompt("agent-pass").expect("asterisk prompts (run scripts/setup)");
    let pcm = file::read_samples(&prompt.path, SampleRate::HZ_8000).expect("decodes");
    assert!(pcm.len() > 8000, "at least a second of speech");
    for law in [Law::Ulaw, Law::Alaw] {
        let mut codes = vec![0u8; pcm.len()];
        let mut back = vec![0i16; pcm.len()];
        law.encode(&pcm, &mut codes).expect("sized");
        law.decode(&codes, &mut back).expect("sized");
        // G.711's signal-to-quantization noise on speech is about 35-38 dB.
        let snr = snr_db(&pcm, &back);
        assert!(snr > 30.0, "{law:?}: SNR {snr:.1} dB");
    }
}

#[test]
fn prompt_survives_8k_16k_8k() {
    let prompt = asterisk::prompt("agent-pass").expect("asterisk prompts (run scripts/setup)");
    let pcm = file::read_samples(&prompt.path, SampleRate::HZ_8000).expect("decodes");
    let mut up = Resampler::new(SampleRate::HZ_8000, SampleRate::HZ_16000).expect("builds");
    let mut down = Resampler::new(SampleRate::HZ_16000, SampleRate::HZ_8000).expect("builds");
    let out = run(&mut down, &run(&mut up, &pcm));
    let delay = up.delay_samples() / 2 + down.delay_samples();
    let snr = snr_db(&pcm[..out.len() - delay], &out[delay..]);
    assert!(snr > 30.0, "SNR {snr:.1} dB");
}

#[test]
fn librivox_clip_frames_at_16k_and_8k() {
    let clips = librivox::clips().expect("librivox clips (run scripts/setup)");
    let clip = clips.first().expect("at least one clip");
    let frames16 = file::read_frames(&clip.path, SampleRate::HZ_16000).expect("decodes");
    let frames8 = file::read_frames(&clip.path, SampleRate::HZ_8000).expect("decodes");
    assert!(frames16.len() > 50, "more than a second");
    assert!(frames16.len().abs_diff(frames8.len()) <= 1);
    let loud = frames16.iter().filter(|f| f.level_dbfs() > -40.0).count();
    assert!(
        loud > frames16.len() / 3,
        "{loud} of {} frames carry speech",
        frames16.len()
    );
}
