//! Tables of play-out on a clean link: order, reordering, duplicates, losses, late packets
//! and stream restarts, all at the default config.

use super::*;
use crate::jitter::ResyncReason;

#[test]
fn plays_in_order_at_the_initial_depth() {
    let mut rig = Rig::l16(JitterConfig::default());
    assert_eq!(
        rig.jb.poll_timeout(),
        None,
        "nothing is due before the first packet"
    );
    rig.run(&[
        (0, Push(1, 0, Stored), &[]),
        (20, Push(2, 160, Stored), &[]),
        (39, Tick, &[]),
        (40, Push(3, 320, Stored), &[Play(1)]),
        (60, Push(4, 480, Stored), &[Play(2)]),
        (99, Tick, &[Play(3)]),
        (100, Tick, &[Play(4)]),
    ]);
    assert_eq!(rig.jb.poll_timeout(), Some(rig.at(120)));
    let s = rig.jb.stats();
    assert_eq!((s.played, s.concealed, s.buffered), (4, 0, 0));
    assert_eq!((s.depth, s.target_depth), (ms(40), ms(20)));
}

#[test]
fn reordered_packets_play_in_timestamp_order() {
    Rig::l16(JitterConfig::default()).run(&[
        (0, Push(2, 160, Stored), &[]),
        // Sent before the first packet received: before frame 0 of the schedule.
        (1, Push(1, 0, Late), &[]),
        (20, Push(4, 480, Stored), &[]),
        (30, Push(3, 320, Stored), &[]),
        (40, Tick, &[Play(2)]),
        (60, Tick, &[Play(3)]),
        (80, Tick, &[Play(4)]),
        (100, Tick, &[Fade(4, 1)]),
    ]);
}

#[test]
fn duplicates_play_once() {
    let mut rig = Rig::l16(JitterConfig::default());
    rig.run(&[
        (0, Push(1, 0, Stored), &[]),
        (5, Push(1, 0, Duplicate), &[]),
        (20, Push(2, 160, Stored), &[]),
        (30, Push(2, 160, Duplicate), &[]),
        (40, Tick, &[Play(1)]),
        // A copy of a frame already played is late, not a duplicate.
        (45, Push(1, 0, Late), &[]),
        (60, Tick, &[Play(2)]),
        (80, Tick, &[Fade(2, 1)]),
    ]);
    let s = rig.jb.stats();
    assert_eq!((s.duplicates, s.late, s.played), (2, 1, 2));
}

#[test]
fn losses_fade_then_fall_silent() {
    let mut rig = Rig::l16(JitterConfig::default());
    rig.run(&[
        (0, Push(1, 0, Stored), &[]),
        (20, Push(2, 160, Stored), &[]),
        (40, Tick, &[Play(1)]),
        (60, Tick, &[Play(2)]),
        (80, Tick, &[Fade(2, 1)]),
        (100, Tick, &[Fade(2, 2)]),
        (120, Push(7, 960, Stored), &[Fade(2, 3)]),
        (140, Tick, &[Silence]),
        (160, Tick, &[Play(7)]),
        (180, Tick, &[Fade(7, 1)]),
    ]);
    let s = rig.jb.stats();
    assert_eq!((s.played, s.concealed, s.inserted), (3, 5, 0));
}

#[test]
fn late_packet_is_dropped_and_grows_the_depth() {
    let mut rig = Rig::l16(JitterConfig::default());
    rig.run(&[
        (0, Push(1, 0, Stored), &[]),
        (40, Push(3, 320, Stored), &[Play(1)]),
        (60, Tick, &[Fade(1, 1)]),
        // 40 ms behind its schedule: the target is the next whole frame above, 60 ms.
        (60, Push(2, 160, Late), &[]),
        // The last frame was concealed, a safe point: one frame is inserted.
        (80, Tick, &[Fade(1, 2)]),
        (100, Tick, &[Play(3)]),
    ]);
    let s = rig.jb.stats();
    assert_eq!((s.late, s.inserted, s.concealed, s.played), (1, 1, 2, 2));
    assert_eq!((s.depth, s.target_depth), (ms(60), ms(60)));
}

#[test]
fn new_ssrc_resyncs_on_the_same_tick_grid() {
    let mut rig = Rig::l16(JitterConfig::default());
    rig.run(&[
        (0, Push(1, 0, Stored), &[]),
        (20, Push(2, 160, Stored), &[]),
        (40, Push(3, 320, Stored), &[Play(1)]),
        (
            50,
            PushFrom(0xb, 9, 90_000, Resynced(ResyncReason::SsrcChanged)),
            &[],
        ),
        // The old ticks go on (60, 80) until the new stream is 40 ms deep.
        (60, Tick, &[Fade(1, 1)]),
        (70, PushFrom(0xb, 10, 90_160, Stored), &[]),
        (80, Tick, &[Fade(1, 2)]),
        (100, Tick, &[Play(9)]),
        (120, Tick, &[Play(10)]),
    ]);
    let s = rig.jb.stats();
    assert_eq!((s.resyncs, s.dropped, s.played), (1, 2, 3));
}

#[test]
fn timestamp_jump_resyncs() {
    let jump = 160 * 1000;
    let mut rig = Rig::l16(JitterConfig::default());
    rig.run(&[
        (0, Push(1, 0, Stored), &[]),
        (20, Push(2, 160, Stored), &[]),
        (40, Tick, &[Play(1)]),
        (
            50,
            Push(3, jump, Resynced(ResyncReason::TimestampJump)),
            &[],
        ),
        (60, Tick, &[Fade(1, 1)]),
        (80, Tick, &[Fade(1, 2)]),
        (100, Tick, &[Play(3)]),
        // Capacity is 50 frames: 49 ahead of the next frame is held, 50 ahead is a restart.
        (105, Push(4, jump + 160 * 50, Stored), &[]),
        (
            106,
            Push(5, jump + 160 * 51, Resynced(ResyncReason::TimestampJump)),
            &[],
        ),
    ]);
    let s = rig.jb.stats();
    assert_eq!((s.resyncs, s.dropped, s.buffered), (2, 2, 1));
}
