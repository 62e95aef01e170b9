//! Criterion benches of the media primitives, each per 20 ms frame, with its budget.
//!
//! A call spends 20 ms of wall time per frame; one core must carry hundreds of calls, and
//! each frame passes several of these stages in each direction. The budgets below are what
//! a stage may cost per frame so that the media path of one call stays well under 0.1 % of
//! a core. Run: `cargo bench -p voxgate-benches --bench media`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use voxgate_media::SampleRate;
use voxgate_media::g711::Law;
use voxgate_media::jitter::{JitterBuffer, JitterConfig, PayloadDecoder};
use voxgate_media::opus::{MAX_PACKET, OpusDecoder, OpusEncoder};
use voxgate_media::resample::Resampler;
use voxgate_media::rtp::{RtpHeader, RtpPacket, Ssrc};

/// A speech-like test frame: a few harmonics of 180 Hz.
fn voice_frame(rate: SampleRate) -> Vec<i16> {
    let fs = f64::from(rate.hz());
    (0..rate.samples_per_frame())
        .map(|i| {
            let t = i as f64 / fs;
            let v: f64 = [(1.0, 1.0), (2.0, 0.5), (3.0, 0.3)]
                .iter()
                .map(|(k, a)| a * (2.0 * std::f64::consts::PI * 180.0 * k * t).sin())
                .sum();
            (9000.0 * v) as i16
        })
        .collect()
}

/// Budget: G.711 encode or decode of one 8 kHz frame (160 samples) under 1 µs.
fn g711(c: &mut Criterion) {
    let pcm = voice_frame(SampleRate::HZ_8000);
    let mut codes = vec![0u8; pcm.len()];
    let mut back = vec![0i16; pcm.len()];
    for (name, law) in [("ulaw", Law::Ulaw), ("alaw", Law::Alaw)] {
        c.bench_function(&format!("g711/{name}/encode_frame [budget 1us]"), |b| {
            b.iter(|| law.encode(black_box(&pcm), black_box(&mut codes)))
        });
        law.encode(&pcm, &mut codes).expect("sized");
        c.bench_function(&format!("g711/{name}/decode_frame [budget 1us]"), |b| {
            b.iter(|| law.decode(black_box(&codes), black_box(&mut back)))
        });
    }
}

/// Budget: one 20 ms frame through any resampling pair under 20 µs.
fn resample(c: &mut Criterion) {
    let rates = [
        SampleRate::HZ_8000,
        SampleRate::HZ_16000,
        SampleRate::HZ_24000,
        SampleRate::HZ_48000,
    ];
    for from in rates {
        for to in rates.into_iter().filter(|&to| to != from) {
            let mut r = Resampler::new(from, to).expect("builds");
            let input = voice_frame(from);
            let mut output = vec![0i16; r.output_len()];
            let name = format!(
                "resample/{}k_to_{}k [budget 20us]",
                from.hz() / 1000,
                to.hz() / 1000
            );
            c.bench_function(&name, |b| {
                b.iter(|| r.process_into(black_box(&input), black_box(&mut output)))
            });
        }
    }
}

/// Budget: Opus encode of one frame under 300 µs, decode under 60 µs (libopus' own speed
/// on one core; Opus legs are rarer than G.711 ones).
fn opus(c: &mut Criterion) {
    for rate in [
        SampleRate::HZ_8000,
        SampleRate::HZ_16000,
        SampleRate::HZ_48000,
    ] {
        let pcm = voice_frame(rate);
        let mut enc = OpusEncoder::new(rate).expect("encoder");
        let mut dec = OpusDecoder::new(rate).expect("decoder");
        let mut packet = [0u8; MAX_PACKET];
        let mut out = vec![0i16; pcm.len()];
        let k = rate.hz() / 1000;
        c.bench_function(&format!("opus/{k}k/encode_frame [budget 300us]"), |b| {
            b.iter(|| enc.encode(black_box(&pcm), black_box(&mut packet)))
        });
        let len = enc.encode(&pcm, &mut packet).expect("encodes");
        c.bench_function(&format!("opus/{k}k/decode_frame [budget 60us]"), |b| {
            b.iter(|| dec.decode(black_box(&packet[..len]), black_box(&mut out)))
        });
    }
}

/// Budget: one 20 ms G.711 frame through the jitter buffer in steady state under 2 µs: the
/// packet's push (a 160-byte copy), the poll that decodes the frame due, and its recycle.
/// Packets arrive on time on a virtual clock, so every poll plays a packet (none concealed)
/// and the pool never allocates; both are checked after the run.
fn jitter(c: &mut Criterion) {
    let law = Law::Ulaw;
    let decoder = PayloadDecoder::G711(law);
    let config = JitterConfig::default();
    let mut jitter = JitterBuffer::new(config, decoder, SampleRate::HZ_8000).expect("8 kHz");
    let mut payload = [0u8; 160];
    law.encode(&voice_frame(SampleRate::HZ_8000), &mut payload)
        .expect("sized");
    let t0 = Instant::now();
    let mut k: u32 = 0;
    c.bench_function("jitter/g711/push_poll_recycle [budget 2us]", |b| {
        b.iter(|| {
            let now = t0 + Duration::from_millis(20 * u64::from(k));
            let header = RtpHeader::new(0, k as u16, k.wrapping_mul(160), Ssrc(7));
            let packet = RtpPacket {
                header,
                extension: None,
                payload: &payload,
            };
            black_box(jitter.push(now, black_box(&packet)));
            while let Some(frame) = jitter.poll(now) {
                black_box(frame.samples());
                jitter.recycle(frame);
            }
            k += 1;
        })
    });
    let stats = jitter.stats();
    assert_eq!((stats.concealed, stats.allocations), (0, 0), "{stats:?}");
}

criterion_group!(benches, g711, resample, opus, jitter);
criterion_main!(benches);
