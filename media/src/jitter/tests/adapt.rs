//! How the depth follows the jitter: growing at once, shrinking after the window and only
//! at safe points, and a long lossy run that must keep order and never allocate.

use super::*;
use crate::g711::{Law, ulaw_decode};

#[test]
fn target_depth_grows_under_jitter_and_shrinks_after_the_window() {
    const WINDOW: usize = 10;
    let config = JitterConfig {
        window: WINDOW,
        ..JitterConfig::default()
    };
    let mut rig = Rig::l16(config);
    // On time, then packets 60..80 with every odd one 70 ms behind, then on time again.
    let delayed = |k: u16| (60..80).contains(&k) && k % 2 == 1;
    let mut arrivals: Vec<(u64, u16)> = (0..300u16)
        .map(|k| (20 * u64::from(k) + if delayed(k) { 70 } else { 0 }, k))
        .collect();
    arrivals.sort_unstable();
    // Pushes since the last delayed packet.
    let mut since: Option<usize> = None;
    let mut deepest = Duration::ZERO;
    for (at, k) in arrivals {
        rig.drain(at);
        let outcome = rig.push(at, SSRC, k, u32::from(k) * 160, &l16(5000));
        let s = rig.jb.stats();
        deepest = deepest.max(s.depth);
        since = if delayed(k) {
            Some(0)
        } else {
            since.map(|n| n + 1)
        };
        if k == 59 {
            // The clean start shrank the initial 40 ms to the minimum by dropping a packet.
            assert_eq!((s.depth, s.target_depth, s.dropped), (ms(20), ms(20), 1));
        }
        if k == 61 {
            assert_eq!(outcome, Late, "frame 61 was due 50 ms before it came");
        }
        if let Some(n) = since {
            let want = if n < WINDOW { ms(80) } else { ms(20) };
            assert_eq!(
                s.target_depth, want,
                "{n} pushes after the last delayed packet"
            );
        }
    }
    let s = rig.jb.stats();
    assert_eq!(deepest, ms(80));
    assert_eq!((s.depth, s.target_depth), (ms(20), ms(20)));
    assert_eq!((s.late, s.inserted, s.concealed, s.dropped), (2, 3, 5, 4));
}

#[test]
fn shrinks_at_safe_points_but_never_into_an_empty_buffer() {
    let config = JitterConfig {
        window: 4,
        initial_depth: ms(80),
        ..JitterConfig::default()
    };
    let mut rig = Rig::l16(config);
    rig.run(&[
        (0, Push(1, 0, Stored), &[]),
        (20, Push(2, 160, Stored), &[]),
        (40, Push(3, 320, Stored), &[]),
        // The window is full and says 20 ms: 60 ms too deep.
        (60, Push(4, 480, Stored), &[]),
        // Nothing played yet is a safe point: packet 1 is dropped.
        (80, Tick, &[Play(2)]),
        // Loud frames are not: the depth waits.
        (100, Tick, &[Play(3)]),
        (120, Tick, &[Play(4)]),
        // A missing frame is, but nothing is held after it, so no frame is skipped.
        (140, Tick, &[Fade(4, 1)]),
        // 50 ms behind the sender's clock, still in time for the 60 ms depth.
        (150, Push(6, 800, Stored), &[]),
        (150, Push(7, 960, Stored), &[]),
        (160, Tick, &[Play(6)]),
        (180, Tick, &[Play(7)]),
    ]);
    let s = rig.jb.stats();
    assert_eq!((s.dropped, s.depth, s.target_depth), (1, ms(60), ms(60)));
}

#[test]
fn long_lossy_run_keeps_order_and_never_allocates() {
    let law = Law::Ulaw;
    let mut rig = Rig::new(
        JitterConfig::default(),
        PayloadDecoder::G711(law),
        SampleRate::HZ_8000,
    );
    // Packet k holds μ-law code k mod 64: loud, and each code decodes to a distinct value.
    let code = |k: u64| (k % 64) as u8;
    let id_of = |v: i16| (0..64u8).find(|&c| ulaw_decode(c) == v);
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut random = move |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    // (arrival ms, k): 3 % lost, 2 % sent twice, up to 60 ms of jitter.
    let mut arrivals = Vec::new();
    for k in 0..3000u64 {
        let roll = random(100);
        if roll >= 3 {
            arrivals.push((20 * k + random(61), k));
        }
        if (3..5).contains(&roll) {
            arrivals.push((20 * k + random(200), k));
        }
    }
    arrivals.sort_unstable();
    let mut frames = Vec::new();
    for &(at, k) in &arrivals {
        frames.extend(rig.drain(at));
        rig.push(at, SSRC, k as u16, k as u32 * 160, &[code(k); 160]);
    }
    frames.extend(rig.drain(20 * 3000 + 1000));
    let s = rig.jb.stats();
    assert_eq!(s.allocations, 0, "{s:?}");
    assert_eq!(s.received, arrivals.len() as u64);
    assert_eq!(s.played + s.concealed, frames.len() as u64);
    assert!(s.played > 2850 && s.depth <= ms(200), "{s:?}");
    // Played frames come in timestamp order: each id a few packets after the last.
    let played = frames
        .iter()
        .filter(|f| f.iter().all(|&x| x == f[0]) && f[0] != 0);
    let ids: Vec<u8> = played
        .map(|f| id_of(f[0]).expect("a packet's code"))
        .collect();
    assert_eq!(ids.len() as u64, s.played);
    for pair in ids.windows(2) {
        let step = (pair[1] + 64 - pair[0]) % 64;
        assert!((1..8).contains(&step), "{pair:?}");
    }
    // The counter is real: frames kept instead of recycled make the pool allocate.
    let far = rig.at(20 * 3000 + 2000);
    let kept: Vec<_> = (0..5).filter_map(|_| rig.jb.poll(far)).collect();
    assert_eq!((kept.len(), rig.jb.stats().allocations), (5, 1));
}
