//! Quality tests: a tone through the resampler keeps its shape, and frame edges add no clicks.

use super::*;

const RATES: [SampleRate; 4] = [
    SampleRate::HZ_8000,
    SampleRate::HZ_16000,
    SampleRate::HZ_24000,
    SampleRate::HZ_48000,
];
const AMPLITUDE: f64 = 16_000.0;

fn tone(rate: SampleRate, hz: f64, n: usize, delay: usize) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let t = (i as f64 - delay as f64) / f64::from(rate.hz());
            if i < delay {
                0.0
            } else {
                AMPLITUDE * (2.0 * std::f64::consts::PI * hz * t).sin()
            }
        })
        .collect()
}

/// Runs `input` through `r` frame by frame.
fn run(r: &mut Resampler, input: &[i16]) -> Vec<i16> {
    let mut out = Vec::new();
    let mut frame = vec![0i16; r.output_len()];
    for chunk in input.chunks_exact(r.input_len()) {
        r.process_into(chunk, &mut frame).expect("sized");
        out.extend_from_slice(&frame);
    }
    out
}

/// SNR in dB of `got` against `want`, skipping the first `skip` samples (filter start-up).
fn snr_db(got: &[i16], want: &[f64], skip: usize) -> f64 {
    let (mut signal, mut noise) = (0.0, 0.0);
    for (g, w) in got.iter().zip(want).skip(skip) {
        signal += w * w;
        noise += (f64::from(*g) - w).powi(2);
    }
    10.0 * (signal / noise).log10()
}

fn to_i16(x: &[f64]) -> Vec<i16> {
    x.iter().map(|v| v.round() as i16).collect()
}

#[test]
fn tone_through_8k_16k_8k_keeps_40db_snr() {
    let n = 8000; // one second
    let input = to_i16(&tone(SampleRate::HZ_8000, 1000.0, n, 0));
    let mut up = Resampler::new(SampleRate::HZ_8000, SampleRate::HZ_16000).expect("builds");
    let mut down = Resampler::new(SampleRate::HZ_16000, SampleRate::HZ_8000).expect("builds");
    let out = run(&mut down, &run(&mut up, &input));
    assert_eq!(out.len(), n);
    // The reported delays, in 8 kHz samples, must line the output up with the input.
    assert_eq!(up.delay_samples() % 2, 0);
    let delay = up.delay_samples() / 2 + down.delay_samples();
    assert_eq!(delay, 160, "10 ms up, 10 ms down");
    let want = tone(SampleRate::HZ_8000, 1000.0, n, delay);
    let snr = snr_db(&out, &want, delay + 160);
    assert!(snr >= 40.0, "SNR {snr:.1} dB");
}

#[test]
fn every_pair_passes_a_tone_with_the_reported_delay() {
    for from in RATES {
        for to in RATES {
            let mut r = Resampler::new(from, to).expect("builds");
            let n = from.samples_per_frame() * 50;
            let out = run(&mut r, &to_i16(&tone(from, 1000.0, n, 0)));
            assert_eq!(out.len(), to.samples_per_frame() * 50);
            let delay = r.delay_samples();
            assert!(
                r.delay() <= Duration::from_millis(10),
                "{from}->{to} {:?}",
                r.delay()
            );
            let want = tone(to, 1000.0, out.len(), delay);
            let snr = snr_db(&out, &want, delay + to.samples_per_frame());
            assert!(snr >= 40.0, "{from} -> {to}: SNR {snr:.1} dB");
        }
    }
}

#[test]
fn frame_boundaries_add_no_clicks() {
    // A click is a sample far off the ideal tone; at frame edges it would show as a spike in
    // the error. Compare the worst error at frame edges with the worst error anywhere else.
    let (from, to) = (SampleRate::HZ_8000, SampleRate::HZ_16000);
    let mut r = Resampler::new(from, to).expect("builds");
    let out = run(&mut r, &to_i16(&tone(from, 1000.0, 8000, 0)));
    let want = tone(to, 1000.0, out.len(), r.delay_samples());
    let frame = to.samples_per_frame();
    let (mut at_edges, mut inside) = (0.0f64, 0.0f64);
    for (i, (g, w)) in out.iter().zip(&want).enumerate().skip(2 * frame) {
        let err = (f64::from(*g) - w).abs();
        let from_edge = (i % frame).min(frame - i % frame);
        if from_edge <= 2 {
            at_edges = at_edges.max(err);
        } else {
            inside = inside.max(err);
        }
    }
    assert!(
        at_edges <= inside * 1.5 + 2.0,
        "edge error {at_edges:.1} vs {inside:.1}"
    );
    assert!(at_edges < AMPLITUDE * 0.01, "edge error {at_edges:.1}");
}

#[test]
fn same_rate_is_a_copy_and_lengths_are_checked() {
    let mut r = Resampler::new(SampleRate::HZ_16000, SampleRate::HZ_16000).expect("builds");
    assert_eq!(r.delay(), Duration::ZERO);
    let input: Vec<i16> = (0..320).map(|i| i as i16).collect();
    let mut out = vec![0; 320];
    r.process_into(&input, &mut out).expect("sized");
    assert_eq!(out, input);
    let mut r = Resampler::new(SampleRate::HZ_8000, SampleRate::HZ_16000).expect("builds");
    assert_eq!(
        r.process_into(&[0; 100], &mut out),
        Err(MediaError::BufferLength {
            expected: 160,
            actual: 100
        })
    );
}

#[test]
fn frames_keep_their_media_time() {
    use crate::time::MediaTime;
    let mut r = Resampler::new(SampleRate::HZ_8000, SampleRate::HZ_48000).expect("builds");
    let input = AudioFrame::silent(MediaTime::new(1600, SampleRate::HZ_8000));
    let mut output = AudioFrame::silent(MediaTime::zero(SampleRate::HZ_48000));
    r.process_frame(&input, &mut output).expect("rates match");
    assert_eq!(output.time().samples(), 9600);
    let mut wrong = AudioFrame::silent(MediaTime::zero(SampleRate::HZ_16000));
    assert!(matches!(
        r.process_frame(&input, &mut wrong),
        Err(MediaError::RateMismatch { .. })
    ));
}

#[test]
fn odd_rates_still_frame_cleanly() {
    // espeak-ng and Piper speak at 22.05 kHz; the pipeline wants 16 kHz. With a fractional
    // ratio the true delay is fractional too: the reported delay is within one sample of it.
    let mut r = Resampler::new(SampleRate::HZ_22050, SampleRate::HZ_16000).expect("builds");
    let out = run(
        &mut r,
        &to_i16(&tone(SampleRate::HZ_22050, 1000.0, 22050, 0)),
    );
    let reported = r.delay_samples() as f64;
    let best = (-100..=100)
        .map(|k| {
            let lag = reported + f64::from(k) / 100.0;
            let want: Vec<f64> = (0..out.len())
                .map(|i| {
                    let t = (i as f64 - lag) / 16_000.0;
                    AMPLITUDE * (2.0 * std::f64::consts::PI * 1000.0 * t).sin()
                })
                .collect();
            snr_db(&out, &want, 640)
        })
        .fold(f64::MIN, f64::max);
    assert!(best >= 40.0, "SNR {best:.1} dB");
}

#[test]
fn telephone_band_is_flat_from_8k() {
    // (tone Hz, lowest acceptable gain dB, highest): flat through 300-3400 Hz, and what lies
    // near 4 kHz (aliasing territory at 8 kHz) is suppressed.
    let table = [
        (300.0, -0.5, 0.5),
        (1000.0, -0.5, 0.5),
        (3000.0, -0.5, 0.5),
        (3400.0, -0.5, 0.5),
        (3900.0, -200.0, -40.0),
    ];
    for (hz, low, high) in table {
        let mut r = Resampler::new(SampleRate::HZ_8000, SampleRate::HZ_16000).expect("builds");
        let input = to_i16(&tone(SampleRate::HZ_8000, hz, 8000, 0));
        let out = run(&mut r, &input);
        let rms = |x: &[i16]| {
            (x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
        };
        let gain = 20.0 * (rms(&out[4000..]) / rms(&input[2000..])).log10();
        assert!((low..=high).contains(&gain), "{hz} Hz: {gain:.2} dB");
    }
}
