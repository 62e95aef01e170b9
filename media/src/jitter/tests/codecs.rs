//! Payload checks for each codec, and the Opus path with libopus' own concealment.

use super::*;
use crate::error::MediaError;
use crate::g711::Law;
use crate::jitter::RejectReason;
use crate::opus::{OpusDecoder, OpusEncoder};

#[test]
fn payloads_of_the_wrong_length_are_rejected() {
    let length = |n| Rejected(RejectReason::PayloadLength(n));
    let mut rig = Rig::l16(JitterConfig::default());
    for len in [0, 2, 160, 319, 321, 640] {
        assert_eq!(
            rig.push(0, SSRC, 1, 0, &vec![0; len]),
            length(len),
            "L16 {len}"
        );
    }
    assert_eq!(
        rig.jb.poll_timeout(),
        None,
        "a rejected packet starts no stream"
    );
    assert_eq!(rig.jb.stats().rejected, 6);

    let mut g711 = Rig::new(
        JitterConfig::default(),
        PayloadDecoder::G711(Law::Alaw),
        SampleRate::HZ_8000,
    );
    assert_eq!(g711.push(0, SSRC, 1, 0, &[0xd5; 320]), length(320));
    assert_eq!(g711.push(0, SSRC, 1, 0, &[0xd5; 160]), Stored);

    let rate = SampleRate::HZ_16000;
    let opus = PayloadDecoder::Opus(OpusDecoder::new(rate).expect("decoder"));
    let mut opus = Rig::new(JitterConfig::default(), opus, rate);
    // (payload, outcome): TOC config 0 is 10 ms SILK, config 1 is 20 ms (RFC 6716 §3.1).
    let table: &[(&[u8], PushOutcome)] = &[
        (&[], length(0)),
        (&[0x08; MAX_PACKET + 1], length(MAX_PACKET + 1)),
        (&[0x00, 0], Rejected(RejectReason::FrameDuration)),
        (&[0x03], Rejected(RejectReason::FrameDuration)),
        (&[0x03, 0x03], Rejected(RejectReason::FrameDuration)),
        (&[0x01, 0], Stored),
        (&[0x08, 0], Stored),
    ];
    for (seq, &(payload, outcome)) in (0u16..).zip(table) {
        let got = opus.push(0, SSRC, seq, u32::from(seq) * 960, payload);
        assert_eq!(got, outcome, "opus {payload:?}");
    }
    let mismatch = JitterBuffer::new(
        JitterConfig::default(),
        PayloadDecoder::G711(Law::Ulaw),
        rate,
    );
    let want = MediaError::RateMismatch {
        expected: SampleRate::HZ_8000,
        actual: rate,
    };
    assert_eq!(mismatch.err(), Some(want));
}

/// 20 ms `k` of a continuous 200 Hz tone with two harmonics at `rate`.
fn tone(rate: SampleRate, k: u16) -> Vec<i16> {
    let n = rate.samples_per_frame();
    let fs = f64::from(rate.hz());
    (0..n)
        .map(|i| {
            let t = (usize::from(k) * n + i) as f64 / fs;
            let w = 2.0 * std::f64::consts::PI * 200.0 * t;
            (8000.0 * (w.sin() + 0.5 * (2.0 * w).sin() + 0.3 * (3.0 * w).sin())) as i16
        })
        .collect()
}

#[test]
fn opus_plays_conceals_with_plc_and_counts_decode_errors() {
    let rate = SampleRate::HZ_16000;
    let decoder = PayloadDecoder::Opus(OpusDecoder::new(rate).expect("decoder"));
    let mut rig = Rig::new(JitterConfig::default(), decoder, rate);
    let mut encoder = OpusEncoder::new(rate).expect("encoder");
    let mut packet = [0u8; MAX_PACKET];
    let mut frames = Vec::new();
    for k in 0..40u16 {
        let len = encoder
            .encode(&tone(rate, k), &mut packet)
            .expect("encodes");
        let at = 20 * u64::from(k);
        frames.extend(rig.drain(at));
        // Packets 20..25 are lost; 30 passes the TOC check but its padding overruns.
        let payload = match k {
            20..25 => continue,
            30 => &[0xfb, 0x41, 0xff][..],
            _ => &packet[..len],
        };
        let ts = u32::from(k) * 960; // 48 kHz RTP clock (RFC 7587 §4.1)
        assert_eq!(rig.push(at, SSRC, k, ts, payload), Stored, "packet {k}");
    }
    frames.extend(rig.drain(40 * 20 + 40));
    assert_eq!(frames.len(), 41);
    let peak = |f: &[i16]| f.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
    assert!(frames[5..20].iter().all(|f| peak(f) > 4000), "decoded tone");
    for (k, frame) in frames.iter().enumerate().take(25).skip(20) {
        let plc = k < 20 + FADE as usize;
        assert_eq!(
            peak(frame) > 0,
            plc,
            "frame {k}: PLC for {FADE} frames, then silence"
        );
    }
    let s = rig.jb.stats();
    assert_eq!((s.played, s.decode_errors, s.concealed), (34, 1, 7));
}
