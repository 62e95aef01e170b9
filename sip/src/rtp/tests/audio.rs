//! Agent audio from A reaches B as caller frames.

use std::time::Instant;

use voxgate_media::SampleRate;
use voxgate_media::g711::Law;

use super::link::{Net, Peer};
use super::{A, B, addr, ms, params, ramp, session};
use crate::codec::AudioCodec;
use crate::rtp::RtpConfig;

/// A and B on `codec`, no NAT.
fn pair(t0: Instant, codec: AudioCodec) -> Net {
    let config = RtpConfig::default();
    let a = Peer::new(session(config, codec, B, 0xa, t0), addr(A));
    let b = Peer::new(session(config, codec, A, 0xb, t0), addr(B));
    Net::new(t0, a, b)
}

/// What G.711 makes of `pcm`: encoded, then decoded.
fn through(law: Law, pcm: &[i16]) -> Vec<i16> {
    let mut codes = vec![0u8; pcm.len()];
    let mut out = vec![0i16; pcm.len()];
    law.encode(pcm, &mut codes).expect("same length");
    law.decode(&codes, &mut out).expect("same length");
    out
}

/// Where `want` appears in `frames` as consecutive frames, if it does.
fn find_run(frames: &[&[i16]], want: &[Vec<i16>]) -> Option<usize> {
    let first = want.first()?;
    let start = frames.iter().position(|f| f == first)?;
    let run = frames.get(start..start + want.len())?;
    run.iter()
        .zip(want)
        .all(|(got, want)| got == want)
        .then_some(start)
}

#[test]
fn g711_audio_arrives_as_sent() {
    for (codec, law) in [(AudioCodec::Pcmu, Law::Ulaw), (AudioCodec::Pcma, Law::Alaw)] {
        let t0 = Instant::now();
        let mut net = pair(t0, codec);
        let frames: Vec<Vec<i16>> = (0..50).map(|n| ramp(n, 160)).collect();
        net.a.to_send.extend(frames.iter().cloned());
        net.run_until(t0 + ms(3000));

        let want: Vec<Vec<i16>> = frames.iter().map(|f| through(law, f)).collect();
        let got = net.b.audio();
        assert!(
            find_run(&got, &want).is_some(),
            "{codec:?}: the 50 frames, in order"
        );
        // One frame per 20 ms from the first packet's play-out on, nothing concealed.
        assert!(
            (140..=150).contains(&got.len()),
            "{codec:?}: {} frames",
            got.len()
        );
        let stats = net.b.s.stats();
        assert_eq!(
            (stats.lost, stats.concealed, stats.late),
            (0, 0, 0),
            "{codec:?}"
        );
        let arrived = net.a.rtp_sent().filter(|s| s.at + ms(30) <= t0 + ms(3000));
        assert_eq!(stats.packets_received, arrived.count() as u64, "{codec:?}");
    }
}

#[test]
fn opus_audio_arrives_at_16_khz() {
    let t0 = Instant::now();
    let mut net = pair(t0, AudioCodec::Opus);
    // A 440 Hz tone at half scale, 1 s of it.
    let tone: Vec<i16> = (0..16_000)
        .map(|i| {
            (16_000.0 * (f64::from(i) * 440.0 * std::f64::consts::TAU / 16_000.0).sin()) as i16
        })
        .collect();
    net.a.to_send.extend(tone.chunks(320).map(<[i16]>::to_vec));
    net.run_until(t0 + ms(2000));

    let got = net.b.audio();
    assert!(got.iter().all(|f| f.len() == 320), "16 kHz frames");
    let loud = got
        .iter()
        .filter(|f| f.iter().map(|&s| i64::from(s).abs()).max() > Some(8000))
        .count();
    assert!(
        (45..=52).contains(&loud),
        "about 1 s of tone: {loud} frames"
    );
    let rtp_ts: Vec<u32> = net.a.rtp_sent().map(|s| s.rtp().header.timestamp).collect();
    assert!(
        rtp_ts.windows(2).all(|w| w[1].wrapping_sub(w[0]) == 960),
        "48 kHz clock"
    );
}

#[test]
fn lossy_jittery_link_keeps_order() {
    let t0 = Instant::now();
    let mut net = pair(t0, AudioCodec::Pcmu);
    net.ab.loss = |n| n % 10 == 7;
    net.ab.jitter = |n| ms(n % 3 * 10);
    let frames: Vec<Vec<i16>> = (0..100).map(|n| ramp(n, 160)).collect();
    net.a.to_send.extend(frames.iter().cloned());
    net.run_until(t0 + ms(4000));

    let want: Vec<Vec<i16>> = frames.iter().map(|f| through(Law::Ulaw, f)).collect();
    let got = net.b.audio();
    // Each sent frame that arrived is found after the previous one found.
    let mut at = 0;
    let mut found = 0;
    for frame in &want {
        if let Some(i) = got.iter().skip(at).position(|g| g == frame) {
            at += i + 1;
            found += 1;
        }
    }
    assert!(
        (85..=92).contains(&found),
        "about 90% arrive, in order: {found}"
    );
    let stats = net.b.s.stats();
    assert!(stats.lost > 0 && stats.concealed > 0, "{stats:?}");
    assert!(stats.jitter > ms(1), "jitter measured: {:?}", stats.jitter);
}

#[test]
fn a_new_codec_mid_call() {
    let t0 = Instant::now();
    let mut net = pair(t0, AudioCodec::Pcmu);
    net.run_until(t0 + ms(1000));
    net.a
        .s
        .update(&params(AudioCodec::Opus, B), t0 + ms(1000))
        .expect("valid");
    net.b
        .s
        .update(&params(AudioCodec::Opus, A), t0 + ms(1000))
        .expect("valid");
    assert_eq!(net.a.s.audio_rate(), SampleRate::HZ_16000);
    let wrong = net.a.s.send_audio(t0 + ms(1000), &ramp(0, 160));
    assert!(wrong.is_err(), "8 kHz frames no longer fit");
    net.a.to_send.extend((0..25).map(|n| ramp(n, 320)));
    net.run_until(t0 + ms(2000));

    let headers: Vec<_> = net.a.rtp_sent().map(|s| (s.at, s.rtp().header)).collect();
    let switch = headers
        .iter()
        .position(|(_, h)| h.payload_type == 111)
        .expect("Opus sent");
    assert_eq!(headers[switch].0, t0 + ms(1020), "from the next slot on");
    for (n, w) in headers.windows(2).enumerate() {
        // Packet n's timestamp advances by its own frame, in the clock it was sent with.
        let step = if n < switch { 160 } else { 960 };
        assert_eq!(
            w[1].1.timestamp.wrapping_sub(w[0].1.timestamp),
            step,
            "packet {n}"
        );
        assert_eq!(
            w[1].1.sequence,
            w[0].1.sequence.wrapping_add(1),
            "packet {n}"
        );
    }
    let wide = net.b.audio().into_iter().filter(|f| f.len() == 320).count();
    assert!(
        (40..=50).contains(&wide),
        "16 kHz frames after the switch: {wide}"
    );
}

#[test]
fn sessions_move_between_threads() {
    fn send<T: Send>() {}
    send::<crate::rtp::RtpSession>();
}
