//! The send grid, timestamps, sequence numbers, marker bits and the outbound queue.

use std::time::Instant;

use voxgate_media::g711::Law;

use super::{B, Sent, drain_transmit, ms, ramp, run_alone, session};
use crate::SipError;
use crate::codec::AudioCodec;
use crate::rtp::{RtpConfig, RtpSessionErrorKind};

/// (sequence, timestamp, marker, first payload byte) of each RTP packet.
fn headers<'a>(sent: impl Iterator<Item = &'a Sent>) -> Vec<(u16, u32, bool, u8)> {
    sent.map(|s| {
        let p = s.rtp();
        let first = p.payload.first().copied().unwrap_or(0);
        (
            p.header.sequence,
            p.header.timestamp,
            p.header.marker,
            first,
        )
    })
    .collect()
}

#[test]
fn no_drift_under_a_jittery_driver() {
    let t0 = Instant::now();
    let mut s = session(RtpConfig::default(), AudioCodec::Pcmu, B, 1, t0);
    let end = t0 + ms(10_000);
    let mut sent = Vec::new();
    let mut rng = 12345u32;
    let mut now = t0;
    while now < end {
        sent.extend(drain_transmit(&mut s, now));
        // Wake 0-15 ms after the deadline asked for, pseudo-randomly.
        rng = rng.wrapping_mul(1_103_515_245).wrapping_add(12345);
        let lateness = ms(u64::from(rng >> 16) % 16);
        now = s.poll_timeout().expect("a slot is always due") + lateness;
        s.handle_timeout(now);
    }
    let rtp: Vec<&Sent> = sent.iter().filter(|s| !s.is_rtcp() && s.at < end).collect();
    assert!(
        (499..=501).contains(&rtp.len()),
        "{} packets in 10 s",
        rtp.len()
    );
    for (n, p) in rtp.iter().enumerate() {
        let due = t0 + ms(20 * n as u64);
        assert!(
            p.at >= due && p.at < due + ms(16),
            "packet {n} at {:?}",
            p.at - t0
        );
    }
    let h = headers(rtp.into_iter());
    assert!(
        h.windows(2)
            .all(|w| w[1].0 == w[0].0.wrapping_add(1) && w[1].1 == w[0].1 + 160)
    );
    assert_eq!(s.stats().skipped_slots, 0);
}

#[test]
fn a_late_driver_skips_slots_rather_than_bursting() {
    let t0 = Instant::now();
    let mut s = session(RtpConfig::default(), AudioCodec::Pcmu, B, 1, t0);
    // (wake at, the timestamps (in frames from the first) of the packets sent then)
    let table: &[(u64, &[u32])] = &[
        (0, &[0]),
        (150, &[5, 6, 7]), // slots 1-7 due: 1-4 skipped, the last three sent
        (160, &[8]),
        (219, &[9, 10]),      // 39 ms after slot 9: both due slots, nothing skipped
        (300, &[13, 14, 15]), // slots 11-15 due: 11 and 12 skipped
    ];
    let mut sequence = 1000u16;
    for &(at, want) in table {
        let sent = drain_transmit(&mut s, t0 + ms(at));
        let h = headers(sent.iter());
        let frames: Vec<u32> = h.iter().map(|x| (x.1 - 50_000) / 160).collect();
        assert_eq!(frames, want, "at {at} ms");
        for x in &h {
            assert_eq!(x.0, sequence, "one sequence number per packet");
            sequence = sequence.wrapping_add(1);
        }
    }
    assert_eq!(s.stats().skipped_slots, 6);
}

#[test]
fn timestamps_sequence_and_markers_across_speech_silence_and_interrupt() {
    let t0 = Instant::now();
    let mut s = session(RtpConfig::default(), AudioCodec::Pcmu, B, 1, t0);
    let mut sent = run_alone(&mut s, t0, t0 + ms(99)).sent;
    for n in 0..3 {
        s.send_audio(t0 + ms(100), &ramp(n, 160)).expect("fits");
    }
    sent.extend(run_alone(&mut s, t0 + ms(100), t0 + ms(199)).sent);
    for n in 3..8 {
        s.send_audio(t0 + ms(200), &ramp(n, 160)).expect("fits");
    }
    sent.extend(run_alone(&mut s, t0 + ms(200), t0 + ms(230)).sent);
    s.interrupt(t0 + ms(230));
    assert_eq!(
        (s.buffered(t0 + ms(230)), s.can_send(t0 + ms(230))),
        (ms(0), true)
    );
    sent.extend(run_alone(&mut s, t0 + ms(230), t0 + ms(299)).sent);
    for n in 8..10 {
        s.send_audio(t0 + ms(300), &ramp(n, 160)).expect("fits");
    }
    sent.extend(run_alone(&mut s, t0 + ms(300), t0 + ms(400)).sent);

    let h = headers(sent.iter().filter(|s| !s.is_rtcp()));
    assert_eq!(h.len(), 21, "one packet per slot from 0 to 400 ms");
    for (n, w) in h.windows(2).enumerate() {
        assert_eq!(w[1].0, w[0].0.wrapping_add(1), "sequence after packet {n}");
        assert_eq!(w[1].1, w[0].1 + 160, "timestamp after packet {n}");
    }
    let silence = Law::Ulaw.silence();
    let speech: Vec<bool> = h.iter().map(|x| x.3 != silence).collect();
    // Slots: 0-4 silence, 5-7 speech, 8-9 silence, 10-11 speech (interrupted at 230 ms),
    // 12-14 silence, 15-16 speech, then silence.
    let want_speech: Vec<bool> = (0..21)
        .map(|n| matches!(n, 5..=7 | 10..=11 | 15..=16))
        .collect();
    assert_eq!(speech, want_speech);
    let markers: Vec<usize> = (0..21).filter(|&n| h[n].2).collect();
    assert_eq!(markers, [0, 5, 10, 15], "stream start and each talkspurt");
}

#[test]
fn the_queue_caps_at_max_queued() {
    let t0 = Instant::now();
    let mut s = session(RtpConfig::default(), AudioCodec::Pcmu, B, 1, t0);
    let frame = ramp(0, 160);
    for n in 0..10 {
        assert!(s.can_send(t0), "frame {n}");
        s.send_audio(t0, &frame).expect("fits");
    }
    assert!(!s.can_send(t0));
    assert_eq!(s.buffered(t0), ms(200));
    assert_eq!(s.next_send_at(t0), t0, "slot 0 is due and takes a frame");
    let full = s.send_audio(t0, &frame).map_err(|e| e.code());
    assert_eq!(full, Err(RtpSessionErrorKind::QueueFull.code()));
    assert_eq!(drain_transmit(&mut s, t0 + ms(5)).len(), 1);
    assert!(s.can_send(t0 + ms(5)));
    s.send_audio(t0 + ms(5), &frame).expect("room again");
    assert_eq!(s.next_send_at(t0 + ms(5)), t0 + ms(20));
    let short = s.send_audio(t0 + ms(5), &frame[..100]);
    assert!(matches!(short, Err(SipError::Media(_))), "{short:?}");
    s.interrupt(t0 + ms(6));
    assert_eq!(s.buffered(t0 + ms(6)), ms(0));
}

#[test]
fn without_idle_silence_talkspurts_stand_alone() {
    let t0 = Instant::now();
    let config = RtpConfig {
        idle_silence: false,
        ..RtpConfig::default()
    };
    let mut s = session(config, AudioCodec::Pcmu, B, 1, t0);
    assert!(run_alone(&mut s, t0, t0 + ms(1000)).sent.is_empty());
    let mut sent = Vec::new();
    for (at, n) in [(1007, 0), (1007, 1), (2013, 2)] {
        s.send_audio(t0 + ms(at), &ramp(n, 160)).expect("fits");
        sent.extend(run_alone(&mut s, t0 + ms(at), t0 + ms(at + 100)).sent);
    }
    let h = headers(sent.iter());
    let want = [
        (1000, 50_000 + 50 * 160, true),  // at once, on the 1000 ms slot
        (1001, 50_000 + 51 * 160, false), // the next slot
        (1002, 50_000 + 100 * 160, true), // a new talkspurt, time has passed
    ];
    let got: Vec<(u16, u32, bool)> = h.iter().map(|x| (x.0, x.1, x.2)).collect();
    assert_eq!(got, want);
    assert_eq!(sent[0].at, t0 + ms(1007));
}
