//! Criterion benches of the per-call engines and the 46elks message codec, with budgets.
//!
//! What one call costs per unit of work, on this machine:
//! - VAD per window: Silero (32 ms; 512 samples at 16 kHz, 256 at 8 kHz) and earshot
//!   (256 samples = 16 ms at 16 kHz). Silero answers from a batching thread: one call alone
//!   waits up to 4 ms for company (budget 5 ms), 64 calls' windows are answered in shared
//!   runs (budget 5 ms per 64 at 16 kHz, 4 ms at 8 kHz). earshot: 20 us.
//! - Whisper tiny.en per utterance (`agent-pass`, a 3.3 s Asterisk prompt). Budget: under the
//!   utterance's own length (real-time factor < 1 on 2 threads).
//! - espeak-ng per sentence (process start, synthesis, the whole stream). Budget: 100 ms.
//! - The 46elks `audio` message per 20 ms frame, both ways (parse + base64 decode of a
//!   caller frame, base64 encode + JSON of an agent frame). Budget: 2 us each.
//!
//! Run: `cargo bench -p voxgate-benches --bench engines` (needs `scripts/setup`'s models).

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use futures::StreamExt as _;
use voxgate_bridge::message::{Incoming, write_audio_json};
use voxgate_media::SampleRate;
use voxgate_pipeline::engines::{EarshotVadFactory, EspeakMouth, SileroVadFactory, WhisperEars};
use voxgate_pipeline::providers::{Ears, Mouth, VadFactory};

const MODELS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../models");

/// A real utterance at 16 kHz: an Asterisk prompt, resampled.
fn utterance() -> Vec<i16> {
    let prompt = voxgate_testdata::asterisk::prompt("agent-pass").expect("prompts installed");
    let audio = prompt.audio().expect("readable");
    voxgate_bridge::caller::convert(&audio.samples, SampleRate::HZ_8000, SampleRate::HZ_16000)
        .expect("resamples")
}

fn vad(c: &mut Criterion) {
    let wide = utterance();
    let prompt = voxgate_testdata::asterisk::prompt("agent-pass").expect("prompts installed");
    let narrow = prompt.audio().expect("readable").samples;
    let models = Path::new(MODELS);
    let silero = SileroVadFactory::new(
        &models.join("onnxruntime/libonnxruntime.so.1.22.1"),
        &models.join("silero/silero_vad.onnx"),
    )
    .expect("ONNX Runtime and Silero installed by scripts/setup");
    let earshot = EarshotVadFactory::new();
    let cases: [(&str, &dyn VadFactory, SampleRate, &[i16]); 3] = [
        (
            "silero/16k_window_alone [budget 5ms: 4ms batching wait + a run]",
            &silero,
            SampleRate::HZ_16000,
            &wide,
        ),
        (
            "silero/8k_window_alone [budget 5ms: 4ms batching wait + a run]",
            &silero,
            SampleRate::HZ_8000,
            &narrow,
        ),
        (
            "earshot/window_16ms [budget 20us]",
            &earshot,
            SampleRate::HZ_16000,
            &wide,
        ),
    ];
    for (name, factory, rate, speech) in cases {
        // One call alone: submit, wait for the inference thread's answer (the batch waits
        // up to 4 ms for company, so this is the worst-case latency, not the cost).
        let mut vad = factory.make(rate).expect("detector");
        let chunks: Vec<&[i16]> = speech.chunks_exact(vad.chunk_len()).collect();
        let mut i = 0;
        c.bench_function(&format!("vad/{name}"), |b| {
            b.iter(|| {
                i = (i + 1) % chunks.len();
                black_box(vad.predict(black_box(chunks[i])).expect("predicts"))
            });
        });
    }
    // 64 calls at once: one window each, answered in shared runs. Reported per run of 64.
    for (name, rate, speech) in [
        (
            "silero/16k_64_calls [budget 5ms per 64]",
            SampleRate::HZ_16000,
            &wide,
        ),
        (
            "silero/8k_64_calls [budget 4ms per 64]",
            SampleRate::HZ_8000,
            &narrow,
        ),
    ] {
        let mut calls: Vec<_> = (0..64)
            .map(|_| silero.make(rate).expect("detector"))
            .collect();
        let n = calls[0].chunk_len();
        let chunks: Vec<&[i16]> = speech.chunks_exact(n).collect();
        let mut i = 0;
        c.bench_function(&format!("vad/{name}"), |b| {
            b.iter(|| {
                i = (i + 1) % chunks.len();
                for vad in &mut calls {
                    vad.submit(chunks[i]).expect("submit");
                }
                let mut sum = 0.0;
                for vad in &mut calls {
                    let p =
                        futures::executor::block_on(std::future::poll_fn(|cx| vad.poll_result(cx)));
                    sum += p.expect("answer");
                }
                black_box(sum)
            });
        });
    }
}

fn whisper(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let ears: Arc<dyn Ears> = Arc::new(
        WhisperEars::load(&Path::new(MODELS).join("whisper-tiny.en"), 2, 1)
            .expect("Whisper installed by scripts/setup"),
    );
    let speech = utterance();
    let seconds = speech.len() as f64 / 16_000.0;
    let mut group = c.benchmark_group("whisper");
    group.sample_size(10);
    group.bench_function(
        format!("tiny.en/utterance_{seconds:.1}s [budget {seconds:.1}s]"),
        |b| {
            b.iter(|| {
                runtime
                    .block_on(ears.transcribe(speech.clone()))
                    .expect("transcribes")
            });
        },
    );
    group.finish();
}

fn espeak(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mouth = EspeakMouth::new("en-us", 175).expect("espeak-ng installed by scripts/setup");
    let sentence = "We are open from nine to five, Monday to Friday.";
    let mut group = c.benchmark_group("espeak");
    group.sample_size(20);
    group.bench_function("sentence [budget 100ms]", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let mut stream = mouth.speak(sentence);
                let mut samples = 0;
                while let Some(piece) = stream.next().await {
                    samples += piece.expect("speaks").samples.len();
                }
                black_box(samples)
            })
        });
    });
    group.finish();
}

fn message(c: &mut Criterion) {
    let frame: Vec<u8> = (0..160u8).collect();
    let mut text = String::with_capacity(512);
    write_audio_json(&frame, &mut text);
    let inbound = text.clone();
    let mut bytes = Vec::with_capacity(256);
    c.bench_function("46elks/parse_audio_frame [budget 2us]", |b| {
        b.iter(|| {
            let Ok(Incoming::Audio(data)) = Incoming::parse(black_box(&inbound)) else {
                panic!("an audio message");
            };
            data.decode_into(&mut bytes).expect("base64");
            black_box(bytes.len())
        });
    });
    c.bench_function("46elks/write_audio_frame [budget 2us]", |b| {
        b.iter(|| {
            text.clear();
            write_audio_json(black_box(&frame), &mut text);
            black_box(text.len())
        });
    });
}

criterion_group!(benches, message, vad, espeak, whisper);
criterion_main!(benches);
