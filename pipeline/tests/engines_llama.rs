//! SmolLM2-135M-Instruct on llama.cpp: it loads, streams text for a greeting, and stops
//! generating when the stream is dropped.
//!
//! Every test loads its own brain (about 0.2 s) and drops it at the end: dropping joins the
//! worker, so no llama.cpp call runs while the test process exits.
//!
//! Needs `--features llama` and `scripts/setup` (the GGUF file in `models/smollm2`). The
//! model is too small to assert on what it says; only that it says something.
#![cfg(feature = "llama")]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use voxgate_pipeline::engines::LlamaBrain;
use voxgate_pipeline::providers::{Brain, BrainEvent, Message, Role};

/// Tokens per reply at most.
const MAX_TOKENS: u32 = 400;

fn brain() -> LlamaBrain {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf");
    let started = Instant::now();
    let brain = LlamaBrain::load(&path, 2, MAX_TOKENS).expect("llama (run scripts/setup)");
    eprintln!("SmolLM2-135M loaded in {:?}", started.elapsed());
    brain
}

fn conversation(user: &str) -> Vec<Message> {
    vec![
        Message::new(
            Role::System,
            "You are a friendly phone assistant. Answer briefly.",
        ),
        Message::new(Role::User, user),
    ]
}

fn text_of(event: BrainEvent) -> String {
    match event {
        BrainEvent::Text(text) => text,
        BrainEvent::Hangup => panic!("llama never hangs up"),
    }
}

#[tokio::test]
async fn streams_a_reply_to_a_greeting() {
    let brain = brain();
    let started = Instant::now();
    let mut stream = brain.reply(&conversation("Hello! How are you today?"));
    let mut pieces = Vec::new();
    let mut first = None;
    while let Some(event) = stream.next().await {
        first.get_or_insert_with(|| started.elapsed());
        pieces.push(text_of(event.expect("event")));
    }
    let elapsed = started.elapsed();
    let reply = pieces.concat();
    eprintln!(
        "llama: {} pieces in {elapsed:?} (first after {:?}), {:.0} pieces/s: {reply:?}",
        pieces.len(),
        first.expect("a piece"),
        pieces.len() as f64 / elapsed.as_secs_f64()
    );
    assert!(pieces.len() >= 3, "{pieces:?}");
    assert!(reply.chars().any(char::is_alphabetic), "{reply:?}");
    assert!(
        !reply.contains("<|im_end|>") && !reply.contains("<|im_start|>"),
        "{reply:?}"
    );
}

#[tokio::test]
async fn dropping_the_stream_stops_generation() {
    let brain = brain();
    let long = conversation("Write a long story about a dragon who lives in a castle.");
    // The full reply (greedy, so the same every time) and how long it takes.
    let started = Instant::now();
    let full = brain.reply(&long).count().await;
    let full_time = started.elapsed();
    eprintln!(
        "llama: full story {full} pieces in {full_time:?} ({:.0} pieces/s)",
        full as f64 / full_time.as_secs_f64()
    );
    assert!(
        full >= 100,
        "the story must be long enough to cut: {full} pieces"
    );

    // Take three pieces, drop, and ask again: the worker must be free almost at once.
    let started = Instant::now();
    let taken = brain.reply(&long).take(3).count().await;
    assert_eq!(taken, 3);
    let mut next = brain.reply(&conversation("Hi"));
    next.next().await.expect("a piece").expect("text");
    let cut_time = started.elapsed();
    eprintln!("llama: 3 pieces, drop, and the next reply's first piece in {cut_time:?}");
    assert!(
        cut_time < full_time / 2 && cut_time < Duration::from_secs(5),
        "{cut_time:?} vs {full_time:?}: the dropped reply kept generating"
    );
}

#[tokio::test]
async fn dropping_the_brain_stops_the_reply_and_the_worker() {
    let brain = brain();
    let long = conversation("Write a long story about a dragon who lives in a castle.");
    let mut stream = brain.reply(&long);
    stream.next().await.expect("a piece").expect("text");
    // The reader stops reading: the worker fills the channel and waits on it. Dropping the
    // brain must still stop it and join it, and the stream must then end.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let started = Instant::now();
    tokio::task::spawn_blocking(move || drop(brain))
        .await
        .expect("drop");
    let dropped_in = started.elapsed();
    eprintln!("llama: brain dropped mid-reply in {dropped_in:?}");
    assert!(dropped_in < Duration::from_secs(2), "{dropped_in:?}");
    let rest = tokio::time::timeout(Duration::from_secs(5), stream.count())
        .await
        .expect("the stream ends once the worker is gone");
    assert!(rest < MAX_TOKENS as usize, "{rest} pieces after the drop");
}
